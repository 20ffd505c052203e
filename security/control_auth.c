/*
 * control_auth.c - the credential check of the control plane's routes
 * (control_auth.h).
 */
#include "security/control_auth.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>

#include "common/http_listen.h"
#include "common/log.h"
#include "security/control_tls.h"

bool control_auth_decide(const control_auth *auth, const char *authorization, SSL *tls,
                         char *principal, size_t principal_len, const char **reason)
{
    principal[0] = '\0';
    *reason = "no credentials";
    if (auth->insecure) {
        snprintf(principal, principal_len, "insecure");
        return true;
    }
    if (tls) {
        for (int i = 0; i < auth->identity_count; i++) {
            if (control_tls_peer_is(tls, auth->identities[i])) {
                snprintf(principal, principal_len, "certificate:%s", auth->identities[i]);
                return true;
            }
        }
        if (SSL_get0_peer_certificate(tls) && !authorization)
            *reason = "the client certificate names no control-plane identity";
    }
    if (!authorization)
        return false;
    if (!auth->have_token) {
        *reason = "no token is configured here (certificates only)";
        return false;
    }
    if (!control_token_check_header(&auth->token, authorization, reason))
        return false;
    snprintf(principal, principal_len, "token");
    return true;
}

/* "host:port" of the request's peer. */
static const char *peer_of(struct evhttp_request *req, char *out, size_t outlen)
{
    char *peer = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *connection = evhttp_request_get_connection(req);
    if (connection)
        evhttp_connection_get_peer(connection, &peer, &port);
    snprintf(out, outlen, "%s:%u", peer ? peer : "?", (unsigned)port);
    return out;
}

static const char *method_of(struct evhttp_request *req)
{
    return evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET";
}

/* The credential an admitted request presented (decided again: cheap). */
static void caller_of(const control_auth *auth, struct evhttp_request *req, char *out,
                      size_t outlen)
{
    struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
    const char *reason = NULL;
    if (!control_auth_decide(auth, evhttp_find_header(headers, "Authorization"),
                             http_listen_request_tls(req), out, outlen, &reason) ||
        !out[0])
        snprintf(out, outlen, "-");
}

void control_auth_audit(const control_auth *auth, struct evhttp_request *req, const char *route,
                        int code, const char *result)
{
    char principal[CONTROL_AUTH_IDENTITY_MAX + 16], peer[96];
    caller_of(auth, req, principal, sizeof principal);
    int result_len = 0;
    while (result && result[result_len] && result[result_len] != '\n' && result_len < 300)
        result_len++;
    if (code >= 200 && code < 300)
        log_info("audit", "control-plane request principal=%s peer=%s service=%s method=%s "
                 "route=%s outcome=%d%s%.*s", principal, peer_of(req, peer, sizeof peer),
                 auth->service, method_of(req), route, code, result_len ? " result=" : "",
                 result_len, result ? result : "");
    else
        log_warn("audit", "control-plane request principal=%s peer=%s service=%s method=%s "
                 "route=%s outcome=%d%s%.*s", principal, peer_of(req, peer, sizeof peer),
                 auth->service, method_of(req), route, code, result_len ? " result=" : "",
                 result_len, result ? result : "");
}

bool control_auth_admit(const control_auth *auth, struct evhttp_request *req, const char *route)
{
    struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
    const char *authorization = evhttp_find_header(headers, "Authorization");
    SSL *tls = http_listen_request_tls(req);
    char principal[CONTROL_AUTH_IDENTITY_MAX + 16];
    const char *reason = NULL;
    if (control_auth_decide(auth, authorization, tls, principal, sizeof principal, &reason))
        return true;
    char subject[256] = "", peer[96];
    control_tls_peer_subject(tls, subject, sizeof subject);
    log_warn("audit", "control-plane request refused principal=- peer=%s service=%s method=%s "
             "route=%s outcome=401 reason=%s%s%s", peer_of(req, peer, sizeof peer), auth->service,
             method_of(req), route, reason, subject[0] ? " certificate=" : "", subject);
    struct evbuffer *body = evbuffer_new();
    if (body)
        evbuffer_add_printf(body, "error=unauthorized: %s\n", reason);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", "text/plain; charset=utf-8");
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "WWW-Authenticate", "Bearer realm=\"strait\"");
    evhttp_send_reply(req, 401, "Unauthorized", body);
    if (body)
        evbuffer_free(body);
    return false;
}
