/*
 * scram_exchange.h - the last step of a SCRAM exchange checked by strait
 * itself, for the client-final-message form librdkafka before 2.6.1 sends:
 * its nonce is the client nonce followed by the server's whole nonce (which
 * already starts with the client nonce). Cyrus SASL compares the nonce
 * strictly (RFC 5802) and refuses it; Apache Kafka 3.x accepted it (the
 * nonce had to end with the server's). strait accepts exactly that one form,
 * verifies the proof over the messages as they were sent, and answers the
 * server signature; every other client-final-message goes to Cyrus.
 */
#ifndef STRAIT_SECURITY_SCRAM_EXCHANGE_H
#define STRAIT_SECURITY_SCRAM_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>

#include "security/scram_store.h"

/* The user name of a client-first-message ("n,,n=alice,r=..."), unescaped
 * (=2C and =3D) into user; the bare message (without the GS2 header) is
 * client_first[*bare_offset..]. 0 or ST_ECORRUPT. */
int scram_client_first_parse(const char *client_first, size_t len, char *user, size_t userlen,
                             size_t *bare_offset, char *nonce, size_t noncelen);

/* True when client_final's nonce is client_nonce followed by the nonce of
 * server_first (the librdkafka form above). */
bool scram_final_is_doubled_nonce(const char *client_nonce, const char *server_first,
                                  size_t server_first_len, const char *client_final,
                                  size_t client_final_len);

/* Verifies client_final's proof against c over AuthMessage =
 * client_first_bare "," server_first "," client-final-without-proof; on
 * success writes "v=<ServerSignature>" into server_final (NUL-terminated).
 * 0, ST_EINVAL (wrong proof) or ST_ECORRUPT (malformed). */
int scram_final_verify(const scram_credential *c, const char *client_first_bare,
                       size_t client_first_bare_len, const char *server_first,
                       size_t server_first_len, const char *client_final, size_t client_final_len,
                       char *server_final, size_t server_final_len);

#endif
