/*
 * kafka_client.c - strait's own Kafka client (kafka_client.h): the bootstrap
 * list, request and response frames encoded and decoded with the broker's
 * field tables, the version negotiation with ApiVersions, and the SASL
 * login (SaslHandshake v1, then SaslAuthenticate carrying PLAIN's token or
 * the SCRAM messages of security/scram_client.h).
 */
#include "kafka_client/kafka_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/proto/api.h"
#include "broker/proto/api_versions.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/sasl_apis.h"
#include "common/error.h"
#include "common/reader.h"
#include "kafka_client/transport.h"
#include "security/scram_client.h"
#include "security/scram_store.h"

#define API_KEY_SASL_HANDSHAKE 17
#define API_KEY_API_VERSIONS 18
#define API_KEY_SASL_AUTHENTICATE 36
/* The ApiVersions version asked: v0, which every broker answers in the
 * same form (a broker answers an ApiVersions version it does not know with a
 * v0 body), so one request is enough. */
#define API_VERSIONS_ASKED 0
/* API keys whose version ranges are remembered (Kafka's keys are below). */
#define API_KEYS_MAX 128
/* Largest request frame built, bytes: a few users' credentials. */
#define REQUEST_BYTES_MAX (1024 * 1024)
/* The bootstrap list: at most this many addresses of at most this length. */
#define BOOTSTRAP_ADDRESS_MAX 300

struct kafka_client {
    kafka_transport *transport;
    char address[BOOTSTRAP_ADDRESS_MAX];
    char client_id[128];
    int32_t next_correlation_id;
    bool versions_known;
    bool logged_in;                   /* SASL done (false on a connection without SASL) */
    int16_t broker_min[API_KEYS_MAX]; /* -1: the broker does not offer the key */
    int16_t broker_max[API_KEYS_MAX];
};

__attribute__((format(printf, 4, 5)))
static enum kafka_client_failure fail(enum kafka_client_failure f, char *err, size_t errlen,
                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return f;
}

static bool flexible_at(const proto_api *api, int16_t version)
{
    return version >= api->flexible_min;
}

/* ---- frames ----------------------------------------------------------------- */

int kafka_client_encode_request(proto_out *out, int16_t api_key, int16_t version,
                                int32_t correlation_id, const char *client_id,
                                const void *request)
{
    const proto_api *api = proto_api_find(api_key);
    if (!api || version < api->min_version || version > api->max_version)
        return ST_EUNSUPPORTED;
    bool flexible = flexible_at(api, version);
    size_t id_len = strlen(client_id);
    if (id_len > INT16_MAX)
        return ST_ETOOBIG;
    size_t start = out->mem.len;
    buf_put_i32(&out->mem, 0); /* the size, patched below */
    buf_put_i16(&out->mem, api_key);
    buf_put_i16(&out->mem, version);
    buf_put_i32(&out->mem, correlation_id);
    buf_put_i16(&out->mem, (int16_t)id_len);
    buf_put(&out->mem, client_id, id_len);
    if (flexible)
        buf_put_uvarint(&out->mem, 0); /* request header v2: no tagged fields */
    proto_encode(out, api->request, version, flexible, request);
    if (!buf_ok(&out->mem))
        return out->mem.err;
    size_t size = out->mem.len - start - 4;
    if (size > INT32_MAX)
        return ST_ETOOBIG;
    buf_patch_i32(&out->mem, start, (int32_t)size);
    return 0;
}

/* An empty struct: proto_decode of it in a flexible version reads exactly
 * one tagged-field section (the response header v1's). */
static const proto_struct header_tags = {.name = "response_header_tags", .size = 1,
                                         .fields = NULL, .field_count = 0};

int kafka_client_decode_response(int16_t api_key, int16_t version, int32_t correlation_id,
                                 const uint8_t *frame, size_t len, void *response,
                                 proto_arena *arena, char *err, size_t errlen)
{
    const proto_api *api = proto_api_find(api_key);
    if (!api || version < api->min_version || version > api->max_version) {
        snprintf(err, errlen, "API %d v%d is not in strait's tables", api_key, version);
        return ST_EUNSUPPORTED;
    }
    bool flexible = flexible_at(api, version);
    reader r;
    reader_init(&r, frame, len);
    int32_t got = reader_i32(&r);
    if (reader_ok(&r) && got != correlation_id) {
        snprintf(err, errlen, "%s v%d: the answer is for request %d, not %d", api->name, version,
                 got, correlation_id);
        return ST_ECORRUPT;
    }
    uint8_t tags;
    int rc = 0;
    if (reader_ok(&r) && flexible && api_key != API_KEY_API_VERSIONS)
        rc = proto_decode(&r, &header_tags, version, true, &tags, arena);
    if (rc == 0 && reader_ok(&r))
        rc = proto_decode(&r, api->response, version, flexible, response, arena);
    if (rc == 0 && !reader_ok(&r))
        rc = r.err;
    if (rc == 0 && reader_remaining(&r) > 0) {
        snprintf(err, errlen, "%s v%d: %zu bytes after the end of the answer", api->name, version,
                 reader_remaining(&r));
        return ST_ECORRUPT;
    }
    if (rc != 0)
        snprintf(err, errlen, "%s v%d: malformed answer (%s at byte %zu: %s)", api->name, version,
                 r.what ? r.what : "decoding", r.error_offset, strait_strerror(rc));
    return rc;
}

/* ---- one request ---------------------------------------------------------------- */

/* The version of api_key to send: the highest both sides speak, or -1. */
static int16_t pick_version(const kafka_client *c, const proto_api *api)
{
    if (!c->versions_known || api->key < 0 || api->key >= API_KEYS_MAX ||
        c->broker_min[api->key] < 0)
        return -1;
    int16_t high = api->max_version < c->broker_max[api->key] ? api->max_version
                                                               : c->broker_max[api->key];
    int16_t low = api->min_version > c->broker_min[api->key] ? api->min_version
                                                              : c->broker_min[api->key];
    return high >= low ? high : -1;
}

/* Sends request at version and decodes the answer. */
static enum kafka_client_failure exchange(kafka_client *c, const proto_api *api, int16_t version,
                                          const void *request, void *response, proto_arena *arena,
                                          char *err, size_t errlen)
{
    char why[512];
    proto_out out;
    proto_out_init(&out, REQUEST_BYTES_MAX);
    int32_t correlation_id = c->next_correlation_id++;
    int rc = kafka_client_encode_request(&out, api->key, version, correlation_id, c->client_id,
                                         request);
    if (rc != 0) {
        proto_out_free(&out);
        return fail(KAFKA_CLIENT_CONFIG, err, errlen, "%s v%d: cannot encode the request: %s",
                    api->name, version, strait_strerror(rc));
    }
    rc = kafka_transport_write(c->transport, out.mem.data, out.mem.len, why, sizeof why);
    proto_out_free(&out);
    if (rc != 0)
        return fail(KAFKA_CLIENT_UNREACHABLE, err, errlen, "%s: %s", api->name, why);
    uint8_t size_bytes[4];
    rc = kafka_transport_read(c->transport, size_bytes, sizeof size_bytes, why, sizeof why);
    bool before_login = !c->logged_in && api->key != API_KEY_API_VERSIONS &&
                        api->key != API_KEY_SASL_HANDSHAKE && api->key != API_KEY_SASL_AUTHENTICATE;
    if (rc != 0)
        return fail(KAFKA_CLIENT_UNREACHABLE, err, errlen, "%s: %s%s", api->name, why,
                    before_login ? " (a SASL listener closes a connection that sends a request "
                                   "before authenticating: does the command config set "
                                   "security.protocol=sasl_plaintext or sasl_ssl?)" : "");
    int32_t size = load_i32(size_bytes);
    if (size < 4 || size > KAFKA_CLIENT_RESPONSE_BYTES_MAX)
        return fail(KAFKA_CLIENT_PROTOCOL, err, errlen, "%s: %s answered a frame of %d bytes "
                    "(4..%d expected)", api->name, c->address, size,
                    KAFKA_CLIENT_RESPONSE_BYTES_MAX);
    uint8_t *frame = proto_arena_alloc(arena, (size_t)size);
    if (!frame)
        return fail(KAFKA_CLIENT_PROTOCOL, err, errlen, "%s: no memory for an answer of %d bytes",
                    api->name, size);
    rc = kafka_transport_read(c->transport, frame, (size_t)size, why, sizeof why);
    if (rc != 0)
        return fail(KAFKA_CLIENT_UNREACHABLE, err, errlen, "%s: %s", api->name, why);
    rc = kafka_client_decode_response(api->key, version, correlation_id, frame, (size_t)size,
                                      response, arena, why, sizeof why);
    if (rc != 0)
        return fail(KAFKA_CLIENT_PROTOCOL, err, errlen, "%s: %s", c->address, why);
    return KAFKA_CLIENT_OK;
}

enum kafka_client_failure kafka_client_call(kafka_client *c, int16_t api_key, const void *request,
                                            void *response, proto_arena *arena, int16_t *version,
                                            char *err, size_t errlen)
{
    const proto_api *api = proto_api_find(api_key);
    if (!api)
        return fail(KAFKA_CLIENT_CONFIG, err, errlen, "API %d is not in strait's tables",
                    api_key);
    int16_t v = pick_version(c, api);
    if (v < 0)
        return fail(KAFKA_CLIENT_UNSUPPORTED, err, errlen, "%s does not offer %s (API %d) at "
                    "a version strait speaks (v%d-%d)", c->address, api->name, api_key,
                    api->min_version, api->max_version);
    if (version)
        *version = v;
    return exchange(c, api, v, request, response, arena, err, errlen);
}

/* ---- ApiVersions ----------------------------------------------------------------- */

static enum kafka_client_failure negotiate(kafka_client *c, char *err, size_t errlen)
{
    const proto_api *api = proto_api_find(API_KEY_API_VERSIONS);
    api_versions_request request = {proto_str_null(), proto_str_null()};
    api_versions_response response = {0};
    proto_arena arena;
    proto_arena_init(&arena, KAFKA_CLIENT_ARENA_BYTES);
    enum kafka_client_failure f = exchange(c, api, API_VERSIONS_ASKED, &request, &response,
                                           &arena, err, errlen);
    if (f == KAFKA_CLIENT_OK && response.error_code != KERR_NONE)
        f = fail(KAFKA_CLIENT_PROTOCOL, err, errlen, "ApiVersions: %s answered %s", c->address,
                 kafka_error_name(response.error_code));
    for (int k = 0; f == KAFKA_CLIENT_OK && k < API_KEYS_MAX; k++)
        c->broker_min[k] = c->broker_max[k] = -1;
    const api_versions_key *keys = response.api_keys.items;
    for (int32_t i = 0; f == KAFKA_CLIENT_OK && i < response.api_keys.count; i++) {
        if (keys[i].api_key >= 0 && keys[i].api_key < API_KEYS_MAX) {
            c->broker_min[keys[i].api_key] = keys[i].min_version;
            c->broker_max[keys[i].api_key] = keys[i].max_version;
        }
    }
    c->versions_known = f == KAFKA_CLIENT_OK;
    proto_arena_free(&arena);
    return f;
}

/* ---- SASL ------------------------------------------------------------------------ */

/* One SaslAuthenticate round: sends token, returns the server's bytes in
 * arena (*answer, *answer_len). */
static enum kafka_client_failure authenticate_round(kafka_client *c, const char *mechanism,
                                                    const void *token, size_t token_len,
                                                    proto_arena *arena, const uint8_t **answer,
                                                    size_t *answer_len, char *err, size_t errlen)
{
    sasl_authenticate_request request = {{token, (int32_t)token_len}};
    sasl_authenticate_response response = {0};
    enum kafka_client_failure f = kafka_client_call(c, API_KEY_SASL_AUTHENTICATE, &request,
                                                    &response, arena, NULL, err, errlen);
    if (f != KAFKA_CLIENT_OK)
        return f;
    if (response.error_code != KERR_NONE) {
        int shown = response.error_message.len > 0 ? response.error_message.len : 0;
        return fail(KAFKA_CLIENT_AUTHENTICATION, err, errlen,
                    "%s: %s authentication failed: %s%s%.*s", c->address, mechanism,
                    kafka_error_name(response.error_code), shown ? ": " : "", shown > 512 ? 512
                    : shown, response.error_message.ptr ? response.error_message.ptr : "");
    }
    *answer = response.auth_bytes.ptr;
    *answer_len = response.auth_bytes.len > 0 ? (size_t)response.auth_bytes.len : 0;
    return KAFKA_CLIENT_OK;
}

static enum kafka_client_failure handshake(kafka_client *c, const char *mechanism, char *err,
                                           size_t errlen)
{
    const proto_api *api = proto_api_find(API_KEY_SASL_HANDSHAKE);
    int16_t version = pick_version(c, api);
    if (version < 1)
        return fail(KAFKA_CLIENT_UNSUPPORTED, err, errlen, "%s does not offer SaslHandshake v1 "
                    "(is its listener SASL_PLAINTEXT or SASL_SSL?)", c->address);
    if (pick_version(c, proto_api_find(API_KEY_SASL_AUTHENTICATE)) < 0)
        return fail(KAFKA_CLIENT_UNSUPPORTED, err, errlen, "%s does not offer SaslAuthenticate",
                    c->address);
    sasl_handshake_request request = {proto_str_c(mechanism)};
    sasl_handshake_response response = {0};
    proto_arena arena;
    proto_arena_init(&arena, KAFKA_CLIENT_ARENA_BYTES);
    enum kafka_client_failure f = exchange(c, api, version, &request, &response, &arena, err,
                                           errlen);
    if (f == KAFKA_CLIENT_OK && response.error_code != KERR_NONE) {
        char enabled[256] = "";
        const proto_string *names = response.mechanisms.items;
        for (int32_t i = 0; i < response.mechanisms.count; i++) {
            size_t used = strlen(enabled);
            snprintf(enabled + used, sizeof enabled - used, "%s%.*s", i ? ", " : "",
                     names[i].value.len > 64 ? 64 : (names[i].value.len > 0 ? names[i].value.len
                                                                             : 0),
                     names[i].value.ptr ? names[i].value.ptr : "");
        }
        f = fail(KAFKA_CLIENT_AUTHENTICATION, err, errlen, "%s: SaslHandshake %s: %s (the "
                 "listener enables: %s)", c->address, mechanism,
                 kafka_error_name(response.error_code), enabled[0] ? enabled : "nothing");
    }
    proto_arena_free(&arena);
    return f;
}

static enum kafka_client_failure login_plain(kafka_client *c, const kafka_client_settings *s,
                                             char *err, size_t errlen)
{
    size_t user_len = strlen(s->sasl_username), password_len = strlen(s->sasl_password);
    size_t len = 1 + user_len + 1 + password_len;
    char *token = malloc(len);
    if (!token)
        return fail(KAFKA_CLIENT_CONFIG, err, errlen, "out of memory");
    token[0] = '\0';
    memcpy(token + 1, s->sasl_username, user_len);
    token[1 + user_len] = '\0';
    memcpy(token + 2 + user_len, s->sasl_password, password_len);
    proto_arena arena;
    proto_arena_init(&arena, KAFKA_CLIENT_ARENA_BYTES);
    const uint8_t *answer;
    size_t answer_len;
    enum kafka_client_failure f = authenticate_round(c, "PLAIN", token, len, &arena, &answer,
                                                     &answer_len, err, errlen);
    proto_arena_free(&arena);
    memset(token, 0, len);
    free(token);
    return f;
}

static enum kafka_client_failure login_scram(kafka_client *c, const kafka_client_settings *s,
                                             scram_mechanism mechanism, char *err, size_t errlen)
{
    const char *name = scram_mechanism_name(mechanism);
    scram_client scram;
    char message[SCRAM_CLIENT_MESSAGE_MAX], why[256];
    size_t len = 0;
    int rc = scram_client_first(&scram, mechanism, s->sasl_username, NULL, message,
                                sizeof message, &len);
    if (rc != 0)
        return fail(KAFKA_CLIENT_CONFIG, err, errlen, "sasl.username cannot start %s: %s", name,
                    strait_strerror(rc));
    proto_arena arena;
    proto_arena_init(&arena, KAFKA_CLIENT_ARENA_BYTES);
    const uint8_t *answer;
    size_t answer_len;
    enum kafka_client_failure f = authenticate_round(c, name, message, len, &arena, &answer,
                                                     &answer_len, err, errlen);
    if (f == KAFKA_CLIENT_OK &&
        scram_client_final(&scram, s->sasl_password, strlen(s->sasl_password),
                           (const char *)answer, answer_len, message, sizeof message, &len, why,
                           sizeof why) != 0)
        f = fail(KAFKA_CLIENT_PROTOCOL, err, errlen, "%s: %s server-first-message: %s",
                 c->address, name, why);
    if (f == KAFKA_CLIENT_OK)
        f = authenticate_round(c, name, message, len, &arena, &answer, &answer_len, err, errlen);
    if (f == KAFKA_CLIENT_OK &&
        scram_client_verify(&scram, (const char *)answer, answer_len, why, sizeof why) != 0)
        f = fail(KAFKA_CLIENT_AUTHENTICATION, err, errlen, "%s: %s server-final-message: %s",
                 c->address, name, why);
    proto_arena_free(&arena);
    scram_client_clear(&scram);
    memset(message, 0, sizeof message);
    return f;
}

static enum kafka_client_failure login(kafka_client *c, const kafka_client_settings *s,
                                       char *err, size_t errlen)
{
    const char *mechanism = s->sasl_mechanism;
    int scram = scram_mechanism_parse(mechanism);
    if (strcmp(mechanism, "PLAIN") != 0 && scram < 0)
        return fail(KAFKA_CLIENT_CONFIG, err, errlen, "sasl.mechanism %s: strait's client "
                    "speaks PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512", mechanism);
    if (!s->sasl_username || !s->sasl_username[0] || !s->sasl_password)
        return fail(KAFKA_CLIENT_CONFIG, err, errlen, "sasl.mechanism %s needs sasl.username "
                    "and sasl.password", mechanism);
    enum kafka_client_failure f = handshake(c, mechanism, err, errlen);
    if (f != KAFKA_CLIENT_OK)
        return f;
    f = scram < 0 ? login_plain(c, s, err, errlen)
                  : login_scram(c, s, (scram_mechanism)scram, err, errlen);
    c->logged_in = f == KAFKA_CLIENT_OK;
    return f;
}

/* ---- connecting ------------------------------------------------------------------ */

int kafka_client_split_address(const char *address, size_t len, char *host, size_t hostlen,
                               char *port, size_t portlen)
{
    const char *end = address + len, *colon = NULL;
    const char *host_start = address, *host_end;
    if (len > 0 && address[0] == '[') {
        const char *close = memchr(address, ']', len);
        if (!close || close + 1 >= end || close[1] != ':')
            return ST_EINVAL;
        host_start = address + 1;
        host_end = close;
        colon = close + 1;
    } else {
        for (const char *p = address; p < end; p++)
            if (*p == ':')
                colon = p;
        if (!colon)
            return ST_EINVAL;
        host_end = colon;
        if (memchr(address, ':', (size_t)(colon - address)))
            return ST_EINVAL; /* an IPv6 address needs brackets */
    }
    size_t host_len = (size_t)(host_end - host_start), port_len = (size_t)(end - colon - 1);
    if (host_len == 0 || host_len >= hostlen || port_len == 0 || port_len > 5 ||
        port_len >= portlen)
        return ST_EINVAL;
    long number = 0;
    for (size_t i = 0; i < port_len; i++) {
        if (colon[1 + i] < '0' || colon[1 + i] > '9')
            return ST_EINVAL;
        number = number * 10 + (colon[1 + i] - '0');
    }
    if (number < 1 || number > 65535)
        return ST_EINVAL;
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';
    memcpy(port, colon + 1, port_len);
    port[port_len] = '\0';
    return 0;
}

/* Connects to one address and logs in. */
static enum kafka_client_failure open_one(kafka_client *c, const kafka_client_settings *s,
                                          const char *host, const char *port, char *err,
                                          size_t errlen)
{
    kafka_tls_settings tls = {s->ca_location, s->certificate_location, s->key_location};
    int timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : KAFKA_CLIENT_TIMEOUT_MS_DEFAULT;
    int rc = kafka_transport_open(host, port, s->tls ? &tls : NULL, timeout_ms, &c->transport,
                                  err, errlen);
    if (rc == ST_ECONFIG || rc == ST_ENOMEM)
        return KAFKA_CLIENT_CONFIG;
    if (rc != 0)
        return KAFKA_CLIENT_UNREACHABLE;
    enum kafka_client_failure f = negotiate(c, err, errlen);
    if (f == KAFKA_CLIENT_OK && s->sasl_mechanism && s->sasl_mechanism[0])
        f = login(c, s, err, errlen);
    if (f != KAFKA_CLIENT_OK) {
        kafka_transport_close(c->transport);
        c->transport = NULL;
    }
    return f;
}

enum kafka_client_failure kafka_client_open(const kafka_client_settings *settings,
                                            kafka_client **out, char *err, size_t errlen)
{
    const char *list = settings->bootstrap ? settings->bootstrap : "";
    kafka_client *c = calloc(1, sizeof *c);
    if (!c)
        return fail(KAFKA_CLIENT_CONFIG, err, errlen, "out of memory");
    snprintf(c->client_id, sizeof c->client_id, "%s",
             settings->client_id ? settings->client_id : "strait");
    c->next_correlation_id = 1;
    enum kafka_client_failure f = fail(KAFKA_CLIENT_CONFIG, err, errlen, "--bootstrap is empty");
    for (const char *at = list; *at;) {
        const char *comma = strchr(at, ',');
        size_t len = comma ? (size_t)(comma - at) : strlen(at);
        char host[256], port[8];
        if (kafka_client_split_address(at, len, host, sizeof host, port, sizeof port) != 0) {
            f = fail(KAFKA_CLIENT_CONFIG, err, errlen, "--bootstrap: '%.*s' is not HOST:PORT "
                     "(an IPv6 address in brackets: [::1]:9092)", (int)(len > 200 ? 200 : len),
                     at);
            break;
        }
        snprintf(c->address, sizeof c->address, "%s:%s", host, port);
        char why[1024] = "";
        f = open_one(c, settings, host, port, why, sizeof why);
        /* the next broker is tried only when this one could not be reached;
         * the message names every broker tried */
        size_t used = at == list ? 0 : strlen(err);
        snprintf(err + used, errlen - used, "%s%s", used ? "; " : "", why);
        if (f != KAFKA_CLIENT_UNREACHABLE)
            break;
        at = comma ? comma + 1 : at + len;
    }
    if (f != KAFKA_CLIENT_OK) {
        free(c);
        return f;
    }
    *out = c;
    return KAFKA_CLIENT_OK;
}

void kafka_client_close(kafka_client *c)
{
    if (!c)
        return;
    kafka_transport_close(c->transport);
    free(c);
}
