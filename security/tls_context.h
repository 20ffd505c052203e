/*
 * tls_context.h - the OpenSSL server context of a Kafka listener (SSL://):
 * a PEM keystore (certificate chain, leaf first, and the unencrypted private
 * key in one file), an optional PEM truststore (the CAs client certificates
 * must chain to), client authentication none / requested / required, TLS 1.2
 * and/or 1.3 only, and forward-secret AEAD ciphers unless cipher suites are
 * named. The control plane's HTTPS contexts are security/control_tls.h.
 */
#ifndef STRAIT_SECURITY_TLS_CONTEXT_H
#define STRAIT_SECURITY_TLS_CONTEXT_H

#include <stddef.h>

#include <openssl/ssl.h>

typedef struct tls_server_settings {
    const char *keystore;          /* PEM: chain then key */
    const char *truststore;        /* PEM CAs, "" = none (client_auth must be none) */
    const char *client_auth;       /* "none" | "requested" | "required" */
    const char *enabled_protocols; /* "TLSv1.2,TLSv1.3" or one of them */
    const char *cipher_suites;     /* comma-separated; "" = the defaults */
    /* Called by OpenSSL for every certificate of a client's chain that fails
     * verification (the handshake then fails); NULL = none. */
    int (*verify_callback)(int preverify_ok, X509_STORE_CTX *store);
} tls_server_settings;

/* A new server context. 0 or ST_ECONFIG with err naming the file and
 * OpenSSL's reason. */
int tls_context_server(const tls_server_settings *settings, SSL_CTX **out, char *err,
                       size_t errlen);

/* The subject of ssl's verified peer certificate in RFC 2253 form
 * ("CN=alice,OU=eng,O=acme", most specific first, as Kafka's default
 * principal has it). 0, ST_ENOTFOUND (no certificate) or ST_ETOOBIG. */
int tls_context_peer_subject(SSL *ssl, char *out, size_t outlen);

/* The subject of cert, RFC 2253, for log lines ("" on failure). */
void tls_context_subject_of(X509 *cert, char *out, size_t outlen);

#endif
