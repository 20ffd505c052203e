/*
 * sasl_server.c - Cyrus SASL server sessions over strait's user store
 * (sasl_server.h).
 *
 * Cyrus's SCRAM server plugin asks the auxprop layer for the authenticating
 * user's "*authPassword" (RFC 5803 text, one value per mechanism) or
 * "*userPassword" (a plaintext password, which strait never has); the
 * auxprop plugin below answers authPassword from the store. Its PLAIN plugin
 * checks the password through the SASL_CB_SERVER_USERDB_CHECKPASS callback,
 * answered by deriving the SCRAM keys with the stored salt and iterations.
 * The options callback pins Cyrus's choices (mechanisms, auxprop plugin), so
 * no /etc/sasl2 file changes what the broker does.
 */
#include "security/sasl_server.h"

#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "security/scram_exchange.h"
#include "security/scram_store.h"

#define AUXPROP_NAME "strait"

static struct scram_store *user_store; /* set once by sasl_server_setup */

/* Longest SCRAM first message kept for the librdkafka check, bytes. */
#define SCRAM_MESSAGE_MAX 1024

struct sasl_session {
    sasl_conn_t *conn;
    char peer[64];
    /* SCRAM: the first two messages, kept for scram_exchange.h */
    int scram;                 /* scram_mechanism, or -1 */
    int steps;
    char user[SCRAM_USER_MAX + 1];
    char client_nonce[256];
    char client_first[SCRAM_MESSAGE_MAX];
    size_t client_first_len, bare_offset;
    char server_first[SCRAM_MESSAGE_MAX];
    size_t server_first_len;
    char server_final[256];
    bool done_here;            /* authenticated by scram_exchange.c, not Cyrus */
};

/* auxprop lookup: "*authPassword" of user from the store. */
static int auxprop_lookup(void *context, sasl_server_params_t *params, unsigned flags,
                          const char *user, unsigned user_len)
{
    (void)context;
    if (flags & SASL_AUXPROP_AUTHZID)
        return SASL_OK; /* nothing is kept about authorization ids */
    char name[SCRAM_USER_MAX + 1];
    if (!user || user_len == 0 || user_len > SCRAM_USER_MAX)
        return SASL_NOUSER;
    memcpy(name, user, user_len);
    name[user_len] = '\0';
    const struct propval *wanted = params->utils->prop_get(params->propctx);
    if (!wanted)
        return SASL_OK;
    int found = 0;
    for (const struct propval *p = wanted; p->name; p++) {
        if (strcmp(p->name, "*authPassword") != 0)
            continue;
        if (p->values && !(flags & SASL_AUXPROP_OVERRIDE))
            continue;
        if (p->values)
            params->utils->prop_erase(params->propctx, p->name);
        for (int m = 0; m < SCRAM_MECHANISM_COUNT; m++) {
            const scram_credential *c = scram_store_find(user_store, name, (scram_mechanism)m);
            char text[512];
            if (c && scram_credential_auth_password(c, text, sizeof text) == 0) {
                params->utils->prop_set(params->propctx, p->name, text, (int)strlen(text));
                found++;
            }
        }
    }
    return found ? SASL_OK : SASL_NOUSER;
}

static sasl_auxprop_plug_t auxprop_plugin = {
    .features = 0,
    .auxprop_lookup = auxprop_lookup,
    .name = AUXPROP_NAME,
};

static int auxprop_init(const sasl_utils_t *utils, int max_version, int *out_version,
                        sasl_auxprop_plug_t **plug, const char *name)
{
    (void)utils;
    (void)name;
    if (max_version < SASL_AUXPROP_PLUG_VERSION)
        return SASL_BADVERS;
    *out_version = SASL_AUXPROP_PLUG_VERSION;
    *plug = &auxprop_plugin;
    return SASL_OK;
}

/* PLAIN: the password checked against the stored SCRAM credential. */
static int check_password(sasl_conn_t *conn, void *context, const char *user, const char *pass,
                          unsigned pass_len, struct propctx *propctx)
{
    (void)conn;
    (void)context;
    (void)propctx;
    if (user && scram_store_check_password(user_store, user, pass, pass_len))
        return SASL_OK;
    return SASL_BADAUTH;
}

static int get_option(void *context, const char *plugin, const char *option, const char **result,
                      unsigned *len)
{
    (void)context;
    (void)plugin;
    *result = NULL;
    if (strcmp(option, "mech_list") == 0)
        *result = "PLAIN SCRAM-SHA-256 SCRAM-SHA-512";
    else if (strcmp(option, "auxprop_plugin") == 0)
        *result = AUXPROP_NAME;
    else if (strcmp(option, "pwcheck_method") == 0)
        *result = "auxprop"; /* answered by check_password first */
    if (*result && len)
        *len = (unsigned)strlen(*result);
    return *result ? SASL_OK : SASL_FAIL;
}

static int log_message(void *context, int level, const char *message)
{
    (void)context;
    if (level <= SASL_LOG_ERR)
        log_warn("sasl", "cyrus: %s", message);
    else if (level <= SASL_LOG_NOTE)
        log_debug("sasl", "cyrus: %s", message);
    return SASL_OK;
}

/* Cyrus keeps callbacks as int (*)(void), cast back by the id; the detour
 * through void (*)(void) is the portable way to say so. */
#define CALLBACK(fn) ((int (*)(void))(void (*)(void))(fn))

static const sasl_callback_t callbacks[] = {
    {SASL_CB_GETOPT, CALLBACK(get_option), NULL},
    {SASL_CB_LOG, CALLBACK(log_message), NULL},
    {SASL_CB_SERVER_USERDB_CHECKPASS, CALLBACK(check_password), NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

int sasl_server_setup(struct scram_store *store, char *why, size_t whylen)
{
    user_store = store;
    int rc = sasl_auxprop_add_plugin(AUXPROP_NAME, auxprop_init);
    if (rc == SASL_OK)
        rc = sasl_server_init(callbacks, "strait");
    if (rc != SASL_OK) {
        snprintf(why, whylen, "Cyrus SASL: %s", sasl_errstring(rc, NULL, NULL));
        return ST_EIO;
    }
    return 0;
}

sasl_session *sasl_session_new(const char *peer)
{
    sasl_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->peer, sizeof s->peer, "%s", peer ? peer : "?");
    s->scram = -1;
    if (sasl_server_new("kafka", NULL, NULL, NULL, NULL, NULL, SASL_SUCCESS_DATA, &s->conn) != SASL_OK) {
        free(s);
        return NULL;
    }
    return s;
}

void sasl_session_free(sasl_session *s)
{
    if (!s)
        return;
    sasl_dispose(&s->conn);
    free(s);
}

/* Keeps the client-first-message of a SCRAM exchange (ignored when it does
 * not parse: Cyrus then refuses it). */
static void scram_remember_first(sasl_session *s, const uint8_t *in, size_t inlen)
{
    if (inlen >= sizeof s->client_first)
        return;
    memcpy(s->client_first, in, inlen);
    s->client_first_len = inlen;
    if (scram_client_first_parse(s->client_first, inlen, s->user, sizeof s->user, &s->bare_offset,
                                 s->client_nonce, sizeof s->client_nonce) != 0)
        s->client_first_len = 0;
}

/* The client-final-message of librdkafka before 2.6.1 (scram_exchange.h):
 * verified here. Returns a sasl_step_result, or -1 when the message is not of
 * that form (Cyrus handles it). */
static int scram_legacy_final(sasl_session *s, const uint8_t *in, size_t inlen,
                              const uint8_t **out, size_t *outlen, char *why, size_t whylen)
{
    if (s->client_first_len == 0 || s->server_first_len == 0 ||
        !scram_final_is_doubled_nonce(s->client_nonce, s->server_first, s->server_first_len,
                                      (const char *)in, inlen))
        return -1;
    s->steps++;
    const scram_credential *c = scram_store_find(user_store, s->user, (scram_mechanism)s->scram);
    if (!c) {
        snprintf(why, whylen, "unknown user");
        return SASL_STEP_FAILED;
    }
    int rc = scram_final_verify(c, s->client_first + s->bare_offset,
                                s->client_first_len - s->bare_offset, s->server_first,
                                s->server_first_len, (const char *)in, inlen, s->server_final,
                                sizeof s->server_final);
    if (rc != 0) {
        snprintf(why, whylen, "%s", rc == ST_EINVAL ? "invalid credentials"
                                                    : "malformed client-final-message");
        return SASL_STEP_FAILED;
    }
    s->done_here = true;
    *out = (const uint8_t *)s->server_final;
    *outlen = strlen(s->server_final);
    return SASL_STEP_DONE;
}

int sasl_session_step(sasl_session *s, const char *mechanism, const uint8_t *in, size_t inlen,
                      const uint8_t **out, size_t *outlen, char *why, size_t whylen)
{
    const char *challenge = NULL;
    unsigned challenge_len = 0;
    int rc;
    if (inlen > UINT32_MAX / 2) {
        snprintf(why, whylen, "token too large");
        return SASL_STEP_FAILED;
    }
    if (mechanism) {
        s->scram = scram_mechanism_parse(mechanism);
        if (s->scram >= 0)
            scram_remember_first(s, in, inlen);
    } else if (s->scram >= 0 && s->steps == 1) {
        int legacy = scram_legacy_final(s, in, inlen, out, outlen, why, whylen);
        if (legacy >= 0)
            return legacy;
    }
    s->steps++;
    if (mechanism)
        rc = sasl_server_start(s->conn, mechanism, (const char *)in, (unsigned)inlen, &challenge,
                               &challenge_len);
    else
        rc = sasl_server_step(s->conn, (const char *)in, (unsigned)inlen, &challenge,
                              &challenge_len);
    *out = (const uint8_t *)challenge;
    *outlen = challenge ? challenge_len : 0;
    if (s->scram >= 0 && s->steps == 1 && rc == SASL_CONTINUE && challenge &&
        challenge_len < sizeof s->server_first) {
        memcpy(s->server_first, challenge, challenge_len);
        s->server_first_len = challenge_len;
    }
    if (rc == SASL_OK)
        return SASL_STEP_DONE;
    if (rc == SASL_CONTINUE)
        return SASL_STEP_CONTINUE;
    const char *detail = sasl_errdetail(s->conn);
    if (rc == SASL_NOUSER && !scram_store_has_user(user_store, sasl_session_user(s)))
        snprintf(why, whylen, "unknown user");
    else if (rc == SASL_NOUSER) /* PLAIN: Cyrus tried its own check after ours refused */
        snprintf(why, whylen, "invalid credentials");
    else if (rc == SASL_BADAUTH)
        snprintf(why, whylen, "invalid credentials");
    else
        snprintf(why, whylen, "%s", detail ? detail : sasl_errstring(rc, NULL, NULL));
    return SASL_STEP_FAILED;
}

const char *sasl_session_user(const sasl_session *s)
{
    if (s->done_here || (s->scram >= 0 && s->user[0]))
        return s->user;
    const void *user = NULL;
    if (sasl_getprop(s->conn, SASL_USERNAME, &user) != SASL_OK || !user)
        return "";
    return user;
}
