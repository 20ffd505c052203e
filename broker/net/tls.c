/*
 * tls.c - TLS on a broker listener (tls.h).
 *
 * Why libevent's bufferevent_openssl and not a layer of our own: the
 * connection code (server.c) already speaks bufferevents (watermarks,
 * back-pressure, deferred frees); the OpenSSL filter gives the same
 * interface with the handshake, partial writes and renegotiation refusals
 * handled, so a TLS connection differs from a plaintext one only where it
 * must: responses carry file ranges as memory (no sendfile through TLS).
 */
#include "broker/net/tls.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/config/broker_config.h"
#include "broker/config/listeners.h"
#include "broker/proto/responder.h"
#include "common/error.h"
#include "common/log.h"
#include "security/principal_rules.h"
#include "security/tls_context.h"

struct net_tls {
    char name[LISTENER_NAME_MAX];
    listener_tls_settings settings;
    SSL_CTX *ctx;             /* new connections; each SSL holds its own reference */
    principal_rules *rules;
};

/* Logs each certificate of a client's chain that fails verification: who
 * (the connection's peer, kept as the SSL's app data), which certificate
 * and OpenSSL's reason (expired, unknown CA, ...). */
static int verify_callback(int preverify_ok, X509_STORE_CTX *store)
{
    if (preverify_ok)
        return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    const char *peer = ssl ? SSL_get_app_data(ssl) : NULL;
    char subject[512];
    tls_context_subject_of(X509_STORE_CTX_get_current_cert(store), subject, sizeof subject);
    int error = X509_STORE_CTX_get_error(store);
    log_warn("net", "refusing client certificate peer=%s reason=\"%s\" subject=\"%s\"",
             peer ? peer : "?", X509_verify_cert_error_string(error), subject);
    return 0;
}

static int build_context(net_tls *tls, SSL_CTX **out)
{
    const listener_tls_settings *s = &tls->settings;
    tls_server_settings settings = {
        .keystore = s->keystore_location,
        .truststore = s->truststore_location,
        .client_auth = s->client_auth,
        .enabled_protocols = s->enabled_protocols,
        .cipher_suites = s->cipher_suites,
        .verify_callback = verify_callback,
    };
    char err[512];
    int rc = tls_context_server(&settings, out, err, sizeof err);
    if (rc != 0)
        log_error("net", "listener %s: TLS: %s", tls->name, err);
    return rc;
}

int net_tls_open(const broker_config *c, const char *name, net_tls **out)
{
    *out = NULL;
    net_tls *tls = calloc(1, sizeof *tls);
    if (!tls)
        return ST_ENOMEM;
    snprintf(tls->name, sizeof tls->name, "%s", name);
    listeners_tls_settings(c, name, &tls->settings);
    char msg[256];
    int rc = principal_rules_parse(tls->settings.principal_mapping_rules, &tls->rules, msg,
                                   sizeof msg);
    if (rc != 0)
        log_error("net", "listener %s: ssl.principal.mapping.rules: %s", name, msg);
    if (rc == 0)
        rc = build_context(tls, &tls->ctx);
    if (rc != 0) {
        net_tls_close(tls);
        return rc;
    }
    *out = tls;
    return 0;
}

void net_tls_close(net_tls *tls)
{
    if (!tls)
        return;
    SSL_CTX_free(tls->ctx);
    principal_rules_free(tls->rules);
    free(tls);
}

int net_tls_reload(net_tls *tls)
{
    SSL_CTX *next = NULL;
    int rc = build_context(tls, &next);
    if (rc != 0) {
        log_error("net", "listener %s: certificates not reloaded; still using the previous ones",
                  tls->name);
        return rc;
    }
    SSL_CTX_free(tls->ctx); /* open connections hold their own references */
    tls->ctx = next;
    log_info("net", "listener %s: certificates reloaded keystore=%s truststore=%s", tls->name,
             tls->settings.keystore_location,
             tls->settings.truststore_location[0] ? tls->settings.truststore_location : "none");
    return 0;
}

struct bufferevent *net_tls_accept(net_tls *tls, struct event_base *base, evutil_socket_t fd,
                                   const char *peer)
{
    SSL *ssl = SSL_new(tls->ctx);
    if (!ssl) {
        evutil_closesocket(fd);
        return NULL;
    }
    SSL_set_app_data(ssl, (void *)peer);
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        evutil_closesocket(fd);
        return NULL;
    }
    /* clients often close without close_notify: an end, not an error */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

int net_tls_principal(net_tls *tls, struct bufferevent *bev, const char *peer, char *out,
                      size_t outlen)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    char subject[PROTO_PRINCIPAL_MAX], name[PROTO_PRINCIPAL_MAX];
    int rc = ssl ? tls_context_peer_subject(ssl, subject, sizeof subject) : ST_ENOTFOUND;
    if (rc == ST_ENOTFOUND) {
        snprintf(out, outlen, "%s", PROTO_PRINCIPAL_ANONYMOUS);
        return 0;
    }
    if (rc == 0)
        rc = principal_rules_apply(tls->rules, subject, name, sizeof name);
    if (rc != 0) {
        log_warn("net", "refusing client certificate peer=%s reason=\"%s\" subject=\"%s\"", peer,
                 rc == ST_ENOTFOUND ? "no ssl.principal.mapping.rules rule matches the subject"
                                    : "principal too long",
                 subject);
        return ST_ENOTFOUND;
    }
    if ((size_t)snprintf(out, outlen, "User:%s", name) >= outlen)
        return ST_ENOTFOUND;
    log_debug("net", "TLS client authenticated peer=%s principal=%s", peer, out);
    return 0;
}

void net_tls_log_failure(struct bufferevent *bev, const char *peer)
{
    unsigned long code = bufferevent_get_openssl_error(bev);
    if (!code) { /* a port probe or a client that gave up: nothing to explain */
        log_debug("net", "TLS connection closed before the handshake ended peer=%s", peer);
        return;
    }
    char reason[256];
    ERR_error_string_n(code, reason, sizeof reason);
    log_warn("net", "TLS handshake failed peer=%s reason=\"%s\"", peer, reason);
}
