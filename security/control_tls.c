/*
 * control_tls.c - OpenSSL contexts and peer identities of the control
 * plane's HTTP (control_tls.h).
 */
#include "security/control_tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

/* err = "what FILE: OpenSSL's last reason". */
static int tls_fail(const char *what, const char *path, char *err, size_t errlen)
{
    unsigned long code = ERR_peek_last_error();
    char reason[256] = "unknown reason";
    if (code)
        ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    snprintf(err, errlen, "%s %s: %s", what, path ? path : "", reason);
    return ST_ECONFIG;
}

static SSL_CTX *new_context(const SSL_METHOD *method)
{
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* No renegotiation (a client-driven CPU sink), no compression (CRIME). */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    return ctx;
}

static int load_pair(SSL_CTX *ctx, const char *certificate, const char *key, char *err,
                     size_t errlen)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, certificate) != 1)
        return tls_fail("cannot load the certificate", certificate, err, errlen);
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        return tls_fail("cannot load the private key", key, err, errlen);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return tls_fail("the private key does not match the certificate", key, err, errlen);
    return 0;
}

int control_tls_server_context(const char *certificate, const char *key, const char *ca,
                               SSL_CTX **out, char *err, size_t errlen)
{
    *out = NULL;
    SSL_CTX *ctx = new_context(TLS_server_method());
    if (!ctx)
        return tls_fail("cannot create a TLS context", NULL, err, errlen);
    int rc = load_pair(ctx, certificate, key, err, errlen);
    if (rc == 0 && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
        rc = tls_fail("cannot load the CA", ca, err, errlen);
    if (rc == 0) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names); /* tells clients which CA to use */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        /* Sessions are not resumed: every connection shows its certificate. */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx, 0);
    }
    if (rc != 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

int control_tls_client_context(const char *ca, const char *certificate, const char *key,
                               SSL_CTX **out, char *err, size_t errlen)
{
    *out = NULL;
    SSL_CTX *ctx = new_context(TLS_client_method());
    if (!ctx)
        return tls_fail("cannot create a TLS context", NULL, err, errlen);
    int rc = 0;
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
        rc = tls_fail("cannot load the CA", ca, err, errlen);
    if (rc == 0 && certificate && key)
        rc = load_pair(ctx, certificate, key, err, errlen);
    if (rc != 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    *out = ctx;
    return 0;
}

bool control_tls_peer_is(SSL *ssl, const char *identity)
{
    X509 *peer = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
    if (!peer || SSL_get_verify_result(ssl) != X509_V_OK)
        return false;
    return X509_check_host(peer, identity, strlen(identity), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                           NULL) == 1;
}

void control_tls_peer_subject(SSL *ssl, char *out, size_t outlen)
{
    out[0] = '\0';
    X509 *peer = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
    if (peer && outlen > 0)
        X509_NAME_oneline(X509_get_subject_name(peer), out, (int)outlen);
}
