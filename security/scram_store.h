/*
 * scram_store.h - the broker's SASL users: per user and SCRAM mechanism the
 * salt, iteration count, StoredKey and ServerKey of RFC 5802 (never the
 * password), the SCRAM key derivation, the check of a PLAIN password against
 * a stored SCRAM credential, the RFC 5803 authPassword form Cyrus SASL's
 * SCRAM plugin reads, and the users file (`user mechanism password` lines)
 * the broker loads at start.
 */
#ifndef STRAIT_SECURITY_SCRAM_STORE_H
#define STRAIT_SECURITY_SCRAM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRAM_USER_MAX 256        /* longest user name, bytes (Kafka allows any; a bound for us) */
#define SCRAM_SALT_MAX 64         /* longest salt kept, bytes */
#define SCRAM_KEY_MAX 64          /* SHA-512 digest size */
#define SCRAM_ITERATIONS_MIN 4096 /* Kafka's minimum for SCRAM-SHA-256/512 */
#define SCRAM_ITERATIONS_MAX 16384 /* Kafka's maximum */
#define SCRAM_SALT_DEFAULT_BYTES 24

typedef enum scram_mechanism {
    SCRAM_SHA_256 = 0,
    SCRAM_SHA_512 = 1,
    SCRAM_MECHANISM_COUNT = 2,
} scram_mechanism;

typedef struct scram_credential {
    scram_mechanism mechanism;
    int32_t iterations;
    uint8_t salt[SCRAM_SALT_MAX];
    size_t salt_len;
    uint8_t stored_key[SCRAM_KEY_MAX];
    uint8_t server_key[SCRAM_KEY_MAX];
} scram_credential;

typedef struct scram_store scram_store;

/* "SCRAM-SHA-256" -> SCRAM_SHA_256; -1 when not a SCRAM mechanism strait has. */
int scram_mechanism_parse(const char *name);
const char *scram_mechanism_name(scram_mechanism mechanism);
/* Digest size of the mechanism's hash, bytes. */
size_t scram_mechanism_key_bytes(scram_mechanism mechanism);

/* SaltedPassword = Hi(password, salt, i) = PBKDF2 with the mechanism's HMAC,
 * key-size bytes into salted (SCRAM_KEY_MAX is enough). What a client
 * computes for AlterUserScramCredentials and for its SCRAM proof. salt_len
 * 1..SCRAM_SALT_MAX, iterations >= 1. 0 or ST_EINVAL / ST_EIO. */
int scram_salted_password(scram_mechanism mechanism, const char *password, size_t password_len,
                          const uint8_t *salt, size_t salt_len, int32_t iterations,
                          uint8_t *salted);
/* SaltedPassword = Hi(password, salt, i); ClientKey = HMAC(SaltedPassword,
 * "Client Key"); StoredKey = H(ClientKey); ServerKey = HMAC(SaltedPassword,
 * "Server Key") (RFC 5802 section 3). 0 or ST_EINVAL / ST_EIO. */
int scram_credential_derive(scram_mechanism mechanism, const char *password, size_t password_len,
                            const uint8_t *salt, size_t salt_len, int32_t iterations,
                            scram_credential *out);
/* As derive, from SaltedPassword (Hi(password, salt, i), key-size bytes) as
 * AlterUserScramCredentials sends it. 0 or ST_EINVAL / ST_EIO. */
int scram_credential_from_salted(scram_mechanism mechanism, const uint8_t *salted,
                                 size_t salted_len, const uint8_t *salt, size_t salt_len,
                                 int32_t iterations, scram_credential *out);
/* As derive, with a fresh random salt of SCRAM_SALT_DEFAULT_BYTES. */
int scram_credential_make(scram_mechanism mechanism, const char *password, size_t password_len,
                          int32_t iterations, scram_credential *out);

/* RFC 5803: "SCRAM-SHA-256$<i>:<b64 salt>$<b64 StoredKey>:<b64 ServerKey>".
 * 0 or ST_ETOOBIG when it does not fit. */
int scram_credential_auth_password(const scram_credential *c, char *out, size_t outlen);

scram_store *scram_store_new(void);
void scram_store_free(scram_store *s);
size_t scram_store_user_count(const scram_store *s);
/* Adds or replaces user's credential for c->mechanism. 0, ST_EINVAL (bad
 * name) or ST_ENOMEM. */
int scram_store_set(scram_store *s, const char *user, const scram_credential *c);
/* Removes user's credential for mechanism (the user when none is left).
 * 0 or ST_ENOTFOUND. */
int scram_store_delete(scram_store *s, const char *user, scram_mechanism mechanism);
/* Calls fn for every credential, users in insertion order. */
void scram_store_each(const scram_store *s,
                      void (*fn)(void *arg, const char *user, const scram_credential *c),
                      void *arg);
/* Exchanges the contents of a and b. */
void scram_store_swap(scram_store *a, scram_store *b);
/* True when user has a credential. */
bool scram_store_has_user(const scram_store *s, const char *user);
/* user's credential for mechanism, or NULL. */
const scram_credential *scram_store_find(const scram_store *s, const char *user,
                                         scram_mechanism mechanism);
/* True when password derives, with the salt and iterations of one of user's
 * stored credentials, that credential's StoredKey and ServerKey (how PLAIN
 * logs a SCRAM user in; constant-time comparison). */
bool scram_store_check_password(const scram_store *s, const char *user, const char *password,
                                size_t password_len);

/*
 * Parses a users file: lines "user mechanism password" (blank lines and
 * lines starting with # skipped; the password is the rest of the line after
 * one space and may contain spaces), deriving each credential with
 * iterations and a fresh salt into s. 0, or ST_ECONFIG with why naming the
 * line (the password never appears in why).
 */
int scram_store_parse_users(scram_store *s, const char *text, size_t len, int32_t iterations,
                            char *why, size_t whylen);
/* Reads and parses the users file at path. */
int scram_store_load_users_file(scram_store *s, const char *path, int32_t iterations, char *why,
                                size_t whylen);

#endif
