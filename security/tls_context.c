/*
 * tls_context.c - OpenSSL server contexts of the Kafka listeners and the
 * RFC 2253 subject of a client certificate (tls_context.h).
 */
#include "security/tls_context.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* TLS 1.2 ciphers when ssl.cipher.suites is empty: forward secrecy (ECDHE,
 * DHE) and AEAD only; TLS 1.3 keeps OpenSSL's suites (all AEAD). */
#define TLS_DEFAULT_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL"

static int tls_fail(const char *what, const char *path, char *err, size_t errlen)
{
    unsigned long code = ERR_peek_last_error();
    char reason[256] = "unknown reason";
    if (code)
        ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    snprintf(err, errlen, "%s%s%s: %s", what, path ? " " : "", path ? path : "", reason);
    return ST_ECONFIG;
}

static int set_protocols(SSL_CTX *ctx, const char *enabled, char *err, size_t errlen)
{
    bool v12 = strstr(enabled, "TLSv1.2") != NULL, v13 = strstr(enabled, "TLSv1.3") != NULL;
    if (!v12 && !v13) {
        snprintf(err, errlen, "ssl.enabled.protocols names neither TLSv1.2 nor TLSv1.3");
        return ST_ECONFIG;
    }
    SSL_CTX_set_min_proto_version(ctx, v12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, v13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    return 0;
}

/* ssl.cipher.suites: TLS_* names are TLS 1.3 suites, the rest OpenSSL
 * cipher names for TLS 1.2. */
static int set_ciphers(SSL_CTX *ctx, const char *suites, char *err, size_t errlen)
{
    if (!suites[0])
        return SSL_CTX_set_cipher_list(ctx, TLS_DEFAULT_CIPHERS) == 1
                   ? 0
                   : tls_fail("cannot set the default ciphers", NULL, err, errlen);
    size_t len = strlen(suites) + 1;
    char *v12 = calloc(1, len), *v13 = calloc(1, len);
    int rc = 0;
    if (!v12 || !v13) {
        rc = ST_ENOMEM;
        goto out;
    }
    for (const char *c = suites;;) {
        size_t n = strcspn(c, ", ");
        if (n > 0) {
            char *list = strncmp(c, "TLS_", 4) == 0 ? v13 : v12;
            if (list[0])
                strcat(list, ":");
            strncat(list, c, n);
        }
        if (!c[n])
            break;
        c += n + 1;
    }
    if (v12[0] && SSL_CTX_set_cipher_list(ctx, v12) != 1)
        rc = tls_fail("ssl.cipher.suites: no usable TLS 1.2 cipher in", v12, err, errlen);
    else if (!v12[0] && SSL_CTX_set_cipher_list(ctx, TLS_DEFAULT_CIPHERS) != 1)
        rc = tls_fail("cannot set the default ciphers", NULL, err, errlen);
    if (rc == 0 && v13[0] && SSL_CTX_set_ciphersuites(ctx, v13) != 1)
        rc = tls_fail("ssl.cipher.suites: no usable TLS 1.3 suite in", v13, err, errlen);
out:
    free(v12);
    free(v13);
    return rc;
}

static int set_client_auth(SSL_CTX *ctx, const tls_server_settings *s, char *err, size_t errlen)
{
    if (strcmp(s->client_auth, "none") == 0) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return 0;
    }
    if (!s->truststore || !s->truststore[0]) {
        snprintf(err, errlen, "ssl.client.auth=%s needs ssl.truststore.location", s->client_auth);
        return ST_ECONFIG;
    }
    if (SSL_CTX_load_verify_locations(ctx, s->truststore, NULL) != 1)
        return tls_fail("cannot load the truststore", s->truststore, err, errlen);
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(s->truststore);
    if (names)
        SSL_CTX_set_client_CA_list(ctx, names); /* tells clients which CA to use */
    int mode = SSL_VERIFY_PEER;
    if (strcmp(s->client_auth, "required") == 0)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, s->verify_callback);
    return 0;
}

int tls_context_server(const tls_server_settings *s, SSL_CTX **out, char *err, size_t errlen)
{
    *out = NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return tls_fail("cannot create a TLS context", NULL, err, errlen);
    /* No renegotiation (a client-driven CPU sink), no compression (CRIME). */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* resumed sessions keep the client's verified certificate */
    static const unsigned char session_context[] = "strait-kafka";
    SSL_CTX_set_session_id_context(ctx, session_context, sizeof session_context - 1);
    int rc = set_protocols(ctx, s->enabled_protocols, err, errlen);
    if (rc == 0)
        rc = set_ciphers(ctx, s->cipher_suites, err, errlen);
    if (rc == 0 && SSL_CTX_use_certificate_chain_file(ctx, s->keystore) != 1)
        rc = tls_fail("cannot load the certificate chain of the keystore", s->keystore, err, errlen);
    if (rc == 0 && SSL_CTX_use_PrivateKey_file(ctx, s->keystore, SSL_FILETYPE_PEM) != 1)
        rc = tls_fail("cannot load the private key of the keystore", s->keystore, err, errlen);
    if (rc == 0 && SSL_CTX_check_private_key(ctx) != 1)
        rc = tls_fail("the private key does not match the certificate in", s->keystore, err, errlen);
    if (rc == 0)
        rc = set_client_auth(ctx, s, err, errlen);
    if (rc != 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

void tls_context_subject_of(X509 *cert, char *out, size_t outlen)
{
    out[0] = '\0';
    BIO *bio = BIO_new(BIO_s_mem());
    if (!cert || !bio || outlen == 0) {
        BIO_free(bio);
        return;
    }
    /* RFC 2253 order and escaping; UTF-8 kept as is (as Java's getName) */
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    int n = BIO_read(bio, out, (int)outlen - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(bio);
}

int tls_context_peer_subject(SSL *ssl, char *out, size_t outlen)
{
    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (!peer || SSL_get_verify_result(ssl) != X509_V_OK)
        return ST_ENOTFOUND;
    char subject[1024];
    tls_context_subject_of(peer, subject, sizeof subject);
    if (strlen(subject) >= outlen || strlen(subject) + 1 >= sizeof subject)
        return ST_ETOOBIG;
    memcpy(out, subject, strlen(subject) + 1);
    return 0;
}
