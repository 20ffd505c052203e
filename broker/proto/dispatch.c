/*
 * dispatch.c - request header decoding, API/version checks, body decoding,
 * handler call, response encoding (parking of long-poll requests is in
 * request_park.c).
 *
 * Request header (header v1; v2 adds a tagged-field section when the API
 * version is flexible):
 *   OFFSET SIZE FIELD
 *        0    2 request_api_key
 *        2    2 request_api_version
 *        4    4 correlation_id
 *        8  2+n client_id (nullable string, int16 length even in v2)
 *      ...    - tagged fields (v2 only)
 * Response header: correlation_id int32 (v0), plus a tagged-field section
 * (v1) for flexible versions - except ApiVersions, always header v0.
 */
#include "broker/proto/dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "broker/metrics/metrics.h"
#include "broker/proto/api.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/request_park.h"
#include "broker/proto/responder.h"
#include "broker/proto/sasl_apis.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"

#define API_KEY_API_VERSIONS 18

static const proto_struct header_tags = {.name = "request_header_tags", .size = 1, .fields = NULL,
                                         .field_count = 0};

void *broker_request_alloc(broker_request *req, size_t size)
{
    return proto_arena_alloc(&req->arena, size);
}

proto_str broker_request_strdup(broker_request *req, const char *s, bool *failed)
{
    if (!s)
        return proto_str_null();
    size_t len = strlen(s);
    char *copy = proto_arena_alloc(&req->arena, len + 1);
    if (!copy) {
        if (failed)
            *failed = true;
        return proto_str_null();
    }
    memcpy(copy, s, len + 1);
    return (proto_str){copy, (int32_t)len};
}

proto_bytes broker_request_bytesdup(broker_request *req, const uint8_t *data, int32_t len,
                                    bool *failed)
{
    if (!data || len <= 0)
        return (proto_bytes){NULL, 0};
    uint8_t *copy = proto_arena_alloc(&req->arena, (size_t)len);
    if (!copy) {
        if (failed)
            *failed = true;
        return (proto_bytes){NULL, 0};
    }
    memcpy(copy, data, (size_t)len);
    return (proto_bytes){copy, len};
}

static void request_free(broker_request *req)
{
    broker_request_unpark(req);
    proto_arena_free(&req->arena);
    free(req->frame);
    free(req);
}

/* Encodes header + response and queues it on the connection. */
static int request_respond(broker_request *req)
{
    const proto_api *api = req->api;
    proto_out out;
    proto_out_init(&out, LIMIT_CONNECTION_OUTPUT_BYTES);
    buf_put_i32(&out.mem, req->correlation_id);
    if (req->flexible && api->key != API_KEY_API_VERSIONS)
        buf_put_uvarint(&out.mem, 0); /* response header v1: no tagged fields */
    proto_encode(&out, api->response, req->api_version, req->flexible, req->response);
    int rc = out.mem.err;
    if (rc == 0)
        rc = req->responder->ops->send(req->responder, &out);
    if (rc != 0)
        log_error("proto", "cannot encode response api=%s version=%d error=%s", api->name,
                  req->api_version, strait_strerror(rc));
    proto_out_free(&out);
    return rc;
}

void broker_request_finish(broker_request *req)
{
    proto_responder *responder = req->responder;
    int rc = request_respond(req);
    bool close = rc != 0 || req->close_after_response;
    request_free(req);
    responder->current = NULL;
    if (close) {
        responder->ops->close_after_flush(responder);
        return;
    }
    responder->ops->request_done(responder);
}

void proto_dispatch_abandon(broker_request *req)
{
    if (req->on_abandon)
        req->on_abandon(req);
    request_free(req);
}

/* ApiVersions at a version we do not support: header v0 and a v0 body with
 * error 35 and our ApiVersions range, so the client retries lower (KIP-511). */
static void respond_api_versions_unsupported(proto_responder *responder, int32_t correlation_id)
{
    const proto_api *api = proto_api_find(API_KEY_API_VERSIONS);
    proto_out out;
    proto_out_init(&out, 1024);
    buf_put_i32(&out.mem, correlation_id);
    buf_put_i16(&out.mem, KERR_UNSUPPORTED_VERSION);
    buf_put_i32(&out.mem, 1);
    buf_put_i16(&out.mem, API_KEY_API_VERSIONS);
    buf_put_i16(&out.mem, api->min_version);
    buf_put_i16(&out.mem, api->max_version);
    responder->ops->send(responder, &out);
    proto_out_free(&out);
}

/* Fills failure from the reader that stopped. */
static int decode_failed(const reader *r, const char *field, proto_decode_failure *failure)
{
    failure->field = field;
    failure->error = r->err;
    failure->offset_bytes = r->error_offset;
    return PROTO_DECODE_MALFORMED;
}

int proto_request_decode(const uint8_t *frame, size_t len, proto_arena *arena,
                         proto_request_header *h, const proto_api **api_out, void **body,
                         proto_decode_failure *failure)
{
    reader r;
    reader_init(&r, frame, len);
    h->flexible = false; /* also for requests that fail before the version is known */
    h->client_id = proto_str_null();
    h->api_key = reader_i16(&r);
    h->api_version = reader_i16(&r);
    h->correlation_id = reader_i32(&r);
    *body = NULL;
    *failure = (proto_decode_failure){.field = NULL, .error = 0, .offset_bytes = 0};
    const proto_api *api = proto_api_find(h->api_key);
    *api_out = api;
    if (!reader_ok(&r))
        return decode_failed(&r, "request header", failure);
    if (!api)
        return PROTO_DECODE_UNKNOWN_API;
    if (h->api_version < api->min_version || h->api_version > api->max_version)
        return PROTO_DECODE_UNSUPPORTED_VERSION;
    h->flexible = h->api_version >= api->flexible_min;
    int16_t client_id_len = reader_i16(&r);
    if (reader_ok(&r) && client_id_len < -1) /* -1 is null; below is no length (as codec.c) */
        reader_fail(&r, ST_ECORRUPT, "client_id");
    const uint8_t *client_id = client_id_len > 0 ? reader_bytes(&r, (size_t)client_id_len) : NULL;
    if (!reader_ok(&r))
        return decode_failed(&r, "client_id", failure);
    h->client_id = client_id_len >= 0 ? (proto_str){(const char *)client_id, client_id_len}
                                      : proto_str_null();
    uint8_t tags_sink;
    if (h->flexible) /* request header v2: tagged fields */
        proto_decode(&r, &header_tags, h->api_version, true, &tags_sink, arena);
    void *request = reader_ok(&r) ? proto_arena_alloc(arena, api->request->size) : NULL;
    if (request)
        proto_decode(&r, api->request, h->api_version, h->flexible, request, arena);
    else
        reader_fail(&r, ST_ENOMEM, "request arena");
    if (!reader_ok(&r))
        return decode_failed(&r, r.what ? r.what : "?", failure);
    *body = request;
    return PROTO_DECODE_OK;
}

int proto_dispatch_frame(broker *b, proto_responder *responder, uint8_t *frame, size_t len)
{
    if (proto_sasl_expects_raw_token(responder)) /* after SaslHandshake v0 */
        return proto_sasl_raw_token(b, responder, frame, len);
    broker_request *req = calloc(1, sizeof *req);
    if (!req) {
        free(frame);
        return -1;
    }
    req->broker = b;
    req->responder = responder;
    req->frame = frame;
    proto_arena_init(&req->arena, LIMIT_DECODE_ARENA_BYTES);
    proto_request_header h;
    const proto_api *api;
    proto_decode_failure failure;
    int decoded = proto_request_decode(frame, len, &req->arena, &h, &api, &req->request, &failure);
    req->api = api;
    req->api_version = h.api_version;
    req->correlation_id = h.correlation_id;
    req->client_id = h.client_id;
    req->flexible = h.flexible;
    switch (decoded) {
    case PROTO_DECODE_UNKNOWN_API:
        metrics_count_request_error(b->metrics, METRICS_REQUEST_ERROR_UNKNOWN_API);
        log_warn("proto", "closing connection: unknown api key peer=%s api_key=%d", responder->peer,
                 h.api_key);
        request_free(req);
        return -1;
    case PROTO_DECODE_UNSUPPORTED_VERSION:
        metrics_count_request_error(b->metrics, METRICS_REQUEST_ERROR_UNSUPPORTED_VERSION);
        request_free(req);
        if (h.api_key == API_KEY_API_VERSIONS) {
            respond_api_versions_unsupported(responder, h.correlation_id);
            return 0;
        }
        log_warn("proto", "closing connection: unsupported version peer=%s api=%s version=%d "
                 "supported=%d-%d", responder->peer, api->name, h.api_version, api->min_version,
                 api->max_version);
        return -1;
    case PROTO_DECODE_MALFORMED:
        metrics_count_request_error(b->metrics, METRICS_REQUEST_ERROR_MALFORMED);
        log_warn("proto", "closing connection: malformed request peer=%s api=%s version=%d "
                 "error=%s field=%s offset=%zu", responder->peer, api ? api->name : "?",
                 h.api_version, strait_strerror(failure.error), failure.field, failure.offset_bytes);
        request_free(req);
        return -1;
    default: break;
    }
    if (!proto_sasl_authenticated(responder) && !proto_sasl_allowed_before_authentication(api->key)) {
        metrics_count_request_error(b->metrics, METRICS_REQUEST_ERROR_UNAUTHENTICATED);
        log_warn("proto", "closing connection: request before SASL authentication peer=%s api=%s",
                 responder->peer, api->name);
        request_free(req);
        return -1;
    }
    metrics_count_request(b->metrics, api->key);
    req->response = proto_arena_alloc(&req->arena, api->response->size);
    if (!req->response) {
        request_free(req);
        return -1;
    }
    responder->current = req;
    int result = api->handle(req);
    switch (result) {
    case PROTO_PARKED: return 0;
    case PROTO_RESPOND: {
        int rc = request_respond(req);
        bool close = req->close_after_response;
        responder->current = NULL;
        request_free(req);
        if (rc == 0 && close)
            responder->ops->close_after_flush(responder);
        return rc == 0 ? 0 : -1;
    }
    case PROTO_NO_RESPONSE:
        responder->current = NULL;
        request_free(req);
        return 0;
    default:
        responder->current = NULL;
        request_free(req);
        return -1;
    }
}
