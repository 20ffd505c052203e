/*
 * control_tls.h - the TLS contexts of the control plane's HTTP (the sidecars'
 * admin routes, the witness, the CLI's calls): OpenSSL, TLS 1.2 or newer,
 * OpenSSL's default cipher list for those versions, PEM files.
 *
 * Identities are names in certificates: a certificate names a control-plane
 * identity ("sidecar-east", "witness") when X509_check_host accepts that name
 * for it, i.e. a subjectAltName DNS entry equal to it or, for a certificate
 * without DNS names, a subject CN equal to it. A client checks the server it
 * called this way (it knows whom it called); a server learns who called it
 * the same way (control_tls_peer_is).
 */
#ifndef STRAIT_SECURITY_CONTROL_TLS_H
#define STRAIT_SECURITY_CONTROL_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/*
 * A server context: certificate (PEM chain, leaf first) and key, and the CA
 * bundle that signs peers. A client may present a certificate: it must then
 * chain to ca or the handshake fails; one that presents none is let in (the
 * HTTP layer asks for a bearer token then). 0 or ST_ECONFIG with err naming
 * the file and OpenSSL's reason.
 */
int control_tls_server_context(const char *certificate, const char *key, const char *ca,
                               SSL_CTX **out, char *err, size_t errlen);

/*
 * A client context that verifies the server against ca; certificate and key
 * (both or neither, NULL for none) are presented to the server (mTLS).
 * 0 or ST_ECONFIG with err.
 */
int control_tls_client_context(const char *ca, const char *certificate, const char *key,
                               SSL_CTX **out, char *err, size_t errlen);

/* True when ssl's peer presented a certificate that verified and names
 * identity (see above). */
bool control_tls_peer_is(SSL *ssl, const char *identity);

/* The peer certificate's subject, one line, for log lines ("" if none). */
void control_tls_peer_subject(SSL *ssl, char *out, size_t outlen);

#endif
