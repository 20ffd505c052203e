/*
 * scram_client.h - the client side of a SCRAM exchange (RFC 5802, with the
 * SHA-256 and SHA-512 hashes of RFC 7677 and Kafka's KIP-84), for strait's
 * own Kafka client (kafka_client/): the client-first-message, the
 * client-final-message computed from the server-first-message, and the check
 * of the server's signature in the server-final-message. The key derivation
 * is scram_store.h's; the password is used for the proof and then dropped.
 *
 * Messages (no channel binding, no authzid):
 *   client-first   "n,," "n=" saslname ",r=" client-nonce
 *   server-first   "r=" client-nonce server-nonce ",s=" base64(salt) ",i=" iterations
 *   client-final   "c=biws,r=" nonce ",p=" base64(ClientKey XOR ClientSignature)
 *   server-final   "v=" base64(ServerSignature)  |  "e=" server-error-value
 * A saslname writes ',' as "=2C" and '=' as "=3D".
 */
#ifndef STRAIT_SECURITY_SCRAM_CLIENT_H
#define STRAIT_SECURITY_SCRAM_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "security/scram_store.h"

/* Longest message either side sends here, bytes (a user name escaped three
 * times over, nonces, a salt and a proof fit well within it). */
#define SCRAM_CLIENT_MESSAGE_MAX 2048

typedef struct scram_client {
    scram_mechanism mechanism;
    char client_first_bare[SCRAM_CLIENT_MESSAGE_MAX]; /* "n=...,r=..." */
    size_t client_first_bare_len;
    char nonce[64];                                    /* the client nonce */
    uint8_t server_signature[SCRAM_KEY_MAX];           /* expected in server-final */
    int step;                                          /* 0 new, 1 first sent, 2 final sent */
} scram_client;

/* Starts an exchange for user: writes the client-first-message into out
 * (NUL-terminated, *out_len bytes). nonce NULL draws 24 random bytes
 * (base64); tests pass a fixed printable one. 0, ST_EINVAL (empty or
 * oversized user, bad nonce), ST_ETOOBIG or ST_EIO (no randomness). */
int scram_client_first(scram_client *c, scram_mechanism mechanism, const char *user,
                       const char *nonce, char *out, size_t outlen, size_t *out_len);

/* Reads the server-first-message (len bytes, not NUL-terminated) and writes
 * the client-final-message into out. The server nonce must extend the
 * client's, the salt be 1..SCRAM_SALT_MAX bytes of base64 and the iteration
 * count within SCRAM_ITERATIONS_MIN..SCRAM_ITERATIONS_MAX (a hostile server
 * cannot make the client spin). 0, ST_ECORRUPT (malformed; why says which
 * part), ST_ETOOBIG or ST_EIO. */
int scram_client_final(scram_client *c, const char *password, size_t password_len,
                       const char *server_first, size_t len, char *out, size_t outlen,
                       size_t *out_len, char *why, size_t whylen);

/* Checks the server-final-message. 0 when its signature is the one the
 * server's key gives (the server knows the credential); ST_EINVAL when the
 * signature differs or the server sent "e=" (why quotes the error);
 * ST_ECORRUPT when malformed. */
int scram_client_verify(const scram_client *c, const char *server_final, size_t len, char *why,
                        size_t whylen);

/* Overwrites the exchange's keys. */
void scram_client_clear(scram_client *c);

#endif
