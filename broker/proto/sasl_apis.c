/*
 * sasl_apis.c - SaslHandshake (17) v0-1 and SaslAuthenticate (36) v0-2, and
 * the v0 raw-token exchange (sasl_apis.h).
 *
 * A SASL connection goes WAIT_HANDSHAKE -> (SaslHandshake names an enabled
 * mechanism) -> WAIT_AUTHENTICATE (v1) or RAW_TOKENS (v0) -> tokens through
 * Cyrus (security/sasl_server.h) -> AUTHENTICATED, principal User:<name>.
 * A failed exchange answers SASL_AUTHENTICATION_FAILED after
 * connection.failed.authentication.delay.ms (a parked request, so the event
 * loop never waits) and the connection accepts nothing more; a raw-token
 * failure closes the connection, as Kafka does (v0 has no error frame).
 * Every outcome is logged with the peer, mechanism and user (audit).
 */
#include "broker/proto/sasl_apis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/metrics/metrics.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/request_park.h"
#include "broker/proto/responder.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/log.h"
#include "security/sasl_server.h"

#define API_KEY_SASL_HANDSHAKE 17
#define API_KEY_API_VERSIONS 18
#define API_KEY_SASL_AUTHENTICATE 36

enum sasl_state {
    SASL_WAIT_HANDSHAKE,
    SASL_WAIT_AUTHENTICATE,
    SASL_RAW_TOKENS,
    SASL_AUTHENTICATED,
    SASL_FAILED,
};

struct proto_sasl {
    enum sasl_state state;
    char mechanisms[128]; /* enabled on the listener, comma-separated */
    char mechanism[32];   /* chosen by SaslHandshake */
    bool started;         /* the first token went to sasl_server_start */
    sasl_session *session;
    char peer[64];
};

static const proto_field handshake_request_fields[] = {
    PF_STR(sasl_handshake_request, mechanism, 0, PV_MAX),
};
static PROTO_STRUCT(handshake_request_schema, sasl_handshake_request, handshake_request_fields);

static const proto_field handshake_response_fields[] = {
    PF_I16(sasl_handshake_response, error_code, 0, PV_MAX, 0),
    PF_ARRAY(sasl_handshake_response, mechanisms, 0, PV_MAX, proto_string_element),
};
static PROTO_STRUCT(handshake_response_schema, sasl_handshake_response, handshake_response_fields);

static const proto_field authenticate_request_fields[] = {
    PF_BYTES(sasl_authenticate_request, auth_bytes, 0, PV_MAX),
};
static PROTO_STRUCT(authenticate_request_schema, sasl_authenticate_request,
                    authenticate_request_fields);

static const proto_field authenticate_response_fields[] = {
    PF_I16(sasl_authenticate_response, error_code, 0, PV_MAX, 0),
    PF_NSTR(sasl_authenticate_response, error_message, 0, PV_MAX, 0),
    PF_BYTES(sasl_authenticate_response, auth_bytes, 0, PV_MAX),
    PF_I64(sasl_authenticate_response, session_lifetime_ms, 1, PV_MAX, 0),
};
static PROTO_STRUCT(authenticate_response_schema, sasl_authenticate_response,
                    authenticate_response_fields);

proto_sasl *proto_sasl_new(const char *mechanisms, const char *peer)
{
    proto_sasl *sasl = calloc(1, sizeof *sasl);
    if (!sasl)
        return NULL;
    snprintf(sasl->mechanisms, sizeof sasl->mechanisms, "%s", mechanisms);
    snprintf(sasl->peer, sizeof sasl->peer, "%s", peer);
    return sasl;
}

void proto_sasl_free(proto_sasl *sasl)
{
    if (!sasl)
        return;
    sasl_session_free(sasl->session);
    free(sasl);
}

bool proto_sasl_authenticated(const proto_responder *responder)
{
    return !responder->sasl || responder->sasl->state == SASL_AUTHENTICATED;
}

bool proto_sasl_allowed_before_authentication(int16_t api_key)
{
    return api_key == API_KEY_API_VERSIONS || api_key == API_KEY_SASL_HANDSHAKE ||
           api_key == API_KEY_SASL_AUTHENTICATE;
}

bool proto_sasl_expects_raw_token(const proto_responder *responder)
{
    return responder->sasl && responder->sasl->state == SASL_RAW_TOKENS;
}

/* True when name (len bytes) is one of the comma-separated list. */
static bool list_has(const char *list, const char *name, size_t len)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, name, len) == 0)
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

static int handle_sasl_handshake(broker_request *req)
{
    const sasl_handshake_request *in = req->request;
    sasl_handshake_response *out = req->response;
    proto_sasl *sasl = req->responder ? req->responder->sasl : NULL;
    const char *mechanisms = sasl ? sasl->mechanisms : "";
    int count = 0;
    for (const char *p = mechanisms; *p; p += strcspn(p, ","), p += *p == ',')
        count++;
    if (proto_array_alloc(&req->arena, &out->mechanisms, &proto_string_element, count))
        return PROTO_CLOSE;
    proto_string *names = out->mechanisms.items;
    int i = 0;
    for (const char *p = mechanisms; *p && i < count; i++) {
        size_t n = strcspn(p, ",");
        names[i].value = (proto_str){p, (int32_t)n};
        p += n;
        if (*p == ',')
            p++;
    }
    if (!sasl || sasl->state != SASL_WAIT_HANDSHAKE) {
        out->error_code = KERR_ILLEGAL_SASL_STATE;
        return PROTO_RESPOND;
    }
    if (in->mechanism.len <= 0 || (size_t)in->mechanism.len >= sizeof sasl->mechanism ||
        !list_has(mechanisms, in->mechanism.ptr, (size_t)in->mechanism.len)) {
        log_warn("sasl", "authentication failed peer=%s mechanism=%.*s user= reason=mechanism "
                 "not enabled on this listener", sasl->peer,
                 in->mechanism.len > 0 ? (int)(in->mechanism.len > 64 ? 64 : in->mechanism.len) : 0,
                 in->mechanism.ptr ? in->mechanism.ptr : "");
        out->error_code = KERR_UNSUPPORTED_SASL_MECHANISM;
        return PROTO_RESPOND;
    }
    memcpy(sasl->mechanism, in->mechanism.ptr, (size_t)in->mechanism.len);
    sasl->mechanism[in->mechanism.len] = '\0';
    sasl->session = sasl_session_new(sasl->peer);
    if (!sasl->session)
        return PROTO_CLOSE;
    sasl->state = req->api_version == 0 ? SASL_RAW_TOKENS : SASL_WAIT_AUTHENTICATE;
    return PROTO_RESPOND;
}

/* One token through Cyrus; on DONE sets the principal. Returns the step result. */
static int sasl_step(broker *b, proto_responder *responder, const uint8_t *in, size_t inlen,
                     const uint8_t **out, size_t *outlen, char *why, size_t whylen)
{
    proto_sasl *sasl = responder->sasl;
    int result = sasl_session_step(sasl->session, sasl->started ? NULL : sasl->mechanism, in,
                                   inlen, out, outlen, why, whylen);
    sasl->started = true;
    if (result == SASL_STEP_DONE) {
        const char *user = sasl_session_user(sasl->session);
        snprintf(responder->principal, sizeof responder->principal, "User:%s", user);
        sasl->state = SASL_AUTHENTICATED;
        metrics_count_authentication(b->metrics, true);
        log_info("sasl", "authentication succeeded peer=%s mechanism=%s user=%s principal=%s",
                 sasl->peer, sasl->mechanism, user, responder->principal);
    } else if (result == SASL_STEP_FAILED) {
        sasl->state = SASL_FAILED;
        metrics_count_authentication(b->metrics, false);
        log_warn("sasl", "authentication failed peer=%s mechanism=%s user=%s reason=%s",
                 sasl->peer, sasl->mechanism, sasl_session_user(sasl->session), why);
    }
    return result;
}

typedef struct failure_delay {
    int64_t deadline_ms;
} failure_delay;

/* The failure answer waits out the delay; appends wake parked requests
 * early, and libevent's timer measures from the loop's cached time (which
 * lags the clock by however long the current callback has run), so the
 * timeout too can come a few milliseconds early: re-park for what is left
 * in both cases. */
static void failure_delay_wake(broker_request *req, bool timed_out)
{
    (void)timed_out;
    failure_delay *delay = req->handler_state;
    int64_t left = delay->deadline_ms - clock_mono_ms();
    if (left > 0 && broker_request_park(req, left, failure_delay_wake) == 0)
        return;
    broker_request_finish(req);
}

static int handle_sasl_authenticate(broker_request *req)
{
    const sasl_authenticate_request *in = req->request;
    sasl_authenticate_response *out = req->response;
    proto_sasl *sasl = req->responder ? req->responder->sasl : NULL;
    if (!sasl || sasl->state != SASL_WAIT_AUTHENTICATE) {
        out->error_code = KERR_ILLEGAL_SASL_STATE;
        out->error_message = broker_request_strdup(
            req, "SaslAuthenticate needs a SaslHandshake v1 first on a SASL listener", NULL);
        return PROTO_RESPOND;
    }
    const uint8_t *challenge = NULL;
    size_t challenge_len = 0;
    char why[256] = "";
    int result = sasl_step(req->broker, req->responder, in->auth_bytes.ptr,
                           in->auth_bytes.len > 0 ? (size_t)in->auth_bytes.len : 0, &challenge,
                           &challenge_len, why, sizeof why);
    if (result == SASL_STEP_FAILED) {
        char message[320];
        snprintf(message, sizeof message, "Authentication failed during authentication due to "
                 "%s (mechanism %s)", why, sasl->mechanism);
        out->error_code = KERR_SASL_AUTHENTICATION_FAILED;
        out->error_message = broker_request_strdup(req, message, NULL);
        int64_t delay_ms = req->broker->config.connection_failed_authentication_delay_ms;
        failure_delay *delay = broker_request_alloc(req, sizeof *delay);
        if (delay_ms <= 0 || !delay)
            return PROTO_RESPOND;
        delay->deadline_ms = clock_mono_ms() + delay_ms;
        req->handler_state = delay;
        if (broker_request_park(req, delay_ms, failure_delay_wake) != 0)
            return PROTO_RESPOND;
        return PROTO_PARKED;
    }
    if (challenge_len > INT32_MAX)
        return PROTO_CLOSE;
    bool failed = false;
    out->auth_bytes = broker_request_bytesdup(req, challenge, (int32_t)challenge_len, &failed);
    if (failed)
        return PROTO_CLOSE;
    if (out->auth_bytes.ptr == NULL)
        out->auth_bytes = (proto_bytes){(const uint8_t *)"", 0};
    return PROTO_RESPOND;
}

int proto_sasl_raw_token(broker *b, proto_responder *responder, uint8_t *frame, size_t len)
{
    const uint8_t *challenge = NULL;
    size_t challenge_len = 0;
    char why[256] = "";
    int result = sasl_step(b, responder, frame, len, &challenge, &challenge_len, why, sizeof why);
    free(frame);
    if (result == SASL_STEP_FAILED)
        return -1; /* v0 has no error frame: the client sees the connection close */
    proto_out out;
    proto_out_init(&out, LIMIT_PREAUTH_REQUEST_BYTES);
    if (challenge_len > 0)
        buf_put(&out.mem, challenge, challenge_len);
    int rc = out.mem.err == 0 ? responder->ops->send(responder, &out) : out.mem.err;
    proto_out_free(&out);
    return rc == 0 ? 0 : -1;
}

const proto_api api_sasl_handshake = {
    .key = API_KEY_SASL_HANDSHAKE,
    .name = "SaslHandshake",
    .min_version = 0,
    .max_version = 1,
    .flexible_min = PV_NEVER,
    .request = &handshake_request_schema,
    .response = &handshake_response_schema,
    .handle = handle_sasl_handshake,
};

const proto_api api_sasl_authenticate = {
    .key = API_KEY_SASL_AUTHENTICATE,
    .name = "SaslAuthenticate",
    .min_version = 0,
    .max_version = 2,
    .flexible_min = 2,
    .request = &authenticate_request_schema,
    .response = &authenticate_response_schema,
    .handle = handle_sasl_authenticate,
};
