/*
 * sasl_server.h - the server side of SASL through Cyrus SASL (libsasl2):
 * process-wide setup with strait's users (scram_store.h) served to Cyrus's
 * SCRAM plugin by an in-process auxprop plugin and to its PLAIN plugin by a
 * password-check callback (so one user store serves both, and no sasldb
 * file exists); and one authentication exchange per connection.
 *
 * Cyrus is process-global: sasl_server_setup runs once, on the event-loop
 * thread, before any session.
 */
#ifndef STRAIT_SECURITY_SASL_SERVER_H
#define STRAIT_SECURITY_SASL_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct scram_store;

/* Mechanisms strait serves, in the order SaslHandshake lists them. */
#define SASL_SERVER_MECHANISMS "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"

/* Initialises Cyrus with store as the user database (store must outlive
 * every session). 0 or ST_EIO with why. */
int sasl_server_setup(struct scram_store *store, char *why, size_t whylen);

typedef struct sasl_session sasl_session;

enum sasl_step_result {
    SASL_STEP_CONTINUE = 0, /* send the challenge, expect another token */
    SASL_STEP_DONE = 1,     /* authenticated: sasl_session_user names who */
    SASL_STEP_FAILED = 2,   /* refused: why says why (no secret in it) */
};

/* A session for one connection; peer "ip:port" for logs. NULL on failure. */
sasl_session *sasl_session_new(const char *peer);
void sasl_session_free(sasl_session *s);

/* First token (mechanism given) or a later one (mechanism NULL). *out and
 * *outlen: the challenge to send (valid until the next call). */
int sasl_session_step(sasl_session *s, const char *mechanism, const uint8_t *in, size_t inlen,
                      const uint8_t **out, size_t *outlen, char *why, size_t whylen);
/* The authenticated user (after SASL_STEP_DONE), or the user the client
 * claimed so far (for logs), or "". */
const char *sasl_session_user(const sasl_session *s);

#endif
