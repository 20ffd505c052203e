/*
 * control_token.h - the control plane's bearer token (docs/security.md,
 * "control plane"): the secret an operator's CLI (and, without TLS, a
 * sidecar or the witness) presents as `Authorization: Bearer <token>` to a
 * sidecar's or the witness's authenticated HTTP routes.
 *
 * The token lives in a file of one line: 16 to 256 printable ASCII
 * characters without blanks, a trailing newline allowed. A generated token
 * is 64 hex digits (32 random bytes from the kernel), written with mode 0600.
 * A file readable by every user is refused: anyone on the host could take it.
 */
#ifndef STRAIT_SECURITY_CONTROL_TOKEN_H
#define STRAIT_SECURITY_CONTROL_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define CONTROL_TOKEN_LENGTH_MIN 16
#define CONTROL_TOKEN_LENGTH_MAX 256
/* Random bytes of a generated token (written as twice as many hex digits). */
#define CONTROL_TOKEN_RANDOM_BYTES 32

typedef struct control_token {
    char text[CONTROL_TOKEN_LENGTH_MAX + 1]; /* NUL-terminated */
    size_t length;
} control_token;

/*
 * Reads the token in path. 0; ST_ENOTFOUND when the file does not exist;
 * ST_ECONFIG when its content is not a token or it is readable by every
 * user; ST_EIO when it cannot be read. err names the file and the reason.
 */
int control_token_load(const char *path, control_token *out, char *err, size_t errlen);

/*
 * Reads the token in path or, when there is none, generates one there:
 * written to a private temporary file (mode 0600) in the same directory,
 * fsynced, then hard-linked to path, so two processes starting at once
 * (the sidecars of a demo) both end up with the one token that won the
 * link. *created is true when this call's token was the one linked.
 * Errors as control_token_load, ST_EIO when it cannot be written.
 */
int control_token_load_or_create(const char *path, control_token *out, bool *created, char *err,
                                 size_t errlen);

/*
 * True when header (an Authorization header's value, NULL when absent) is
 * "Bearer <token>" with exactly this token. The comparison takes the same
 * time whatever the presented value shares with the token: both sides are
 * hashed (SHA-256) and the digests compared with CRYPTO_memcmp, so neither
 * a common prefix nor the length leaks through timing. *reason says why it
 * was refused ("no credentials", "not a Bearer token", "wrong token").
 */
bool control_token_check_header(const control_token *token, const char *header,
                                const char **reason);

#endif
