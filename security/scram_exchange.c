/*
 * scram_exchange.c - parsing the SCRAM client messages strait reads itself
 * and the proof check of the final step (scram_exchange.h). Every scan is
 * bounded by the given length; nothing here assumes NUL-terminated input.
 */
#include "security/scram_exchange.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "common/error.h"

/* Position of the first ch in s[from..len), or len. */
static size_t find(const char *s, size_t len, size_t from, char ch)
{
    while (from < len && s[from] != ch)
        from++;
    return from;
}

int scram_client_first_parse(const char *client_first, size_t len, char *user, size_t userlen,
                             size_t *bare_offset, char *nonce, size_t noncelen)
{
    /* gs2-header: "n,," or "y,," (no channel binding, no authzid) */
    if (len < 3 || (client_first[0] != 'n' && client_first[0] != 'y') || client_first[1] != ',' ||
        client_first[2] != ',')
        return ST_ECORRUPT;
    size_t at = 3;
    *bare_offset = at;
    if (len - at < 2 || memcmp(client_first + at, "n=", 2) != 0)
        return ST_ECORRUPT;
    at += 2;
    size_t end = find(client_first, len, at, ',');
    size_t out = 0;
    for (size_t i = at; i < end; i++) {
        char ch = client_first[i];
        if (ch == '=') { /* saslname escapes: =2C is ',', =3D is '=' */
            if (end - i < 3)
                return ST_ECORRUPT;
            if (memcmp(client_first + i, "=2C", 3) == 0)
                ch = ',';
            else if (memcmp(client_first + i, "=3D", 3) == 0)
                ch = '=';
            else
                return ST_ECORRUPT;
            i += 2;
        }
        if (ch == '\0' || out + 1 >= userlen)
            return ST_ECORRUPT;
        user[out++] = ch;
    }
    user[out] = '\0';
    if (out == 0 || end == len || len - end < 3 || memcmp(client_first + end, ",r=", 3) != 0)
        return ST_ECORRUPT;
    at = end + 3;
    end = find(client_first, len, at, ',');
    if (end == at || end - at >= noncelen)
        return ST_ECORRUPT;
    for (size_t i = at; i < end; i++) /* RFC 5802 "printable": 0x21-0x7E except ',' */
        if (client_first[i] < 0x21 || client_first[i] > 0x7e)
            return ST_ECORRUPT;
    memcpy(nonce, client_first + at, end - at);
    nonce[end - at] = '\0';
    return 0;
}

/* The value of attribute name ("r=") at the start of s or after a comma:
 * *value_start and *value_len. False when absent. */
static bool attribute(const char *s, size_t len, const char *name, size_t *value_start,
                      size_t *value_len)
{
    for (size_t at = 0; at + 2 <= len;) {
        if (s[at] == name[0] && s[at + 1] == '=') {
            *value_start = at + 2;
            *value_len = find(s, len, at + 2, ',') - (at + 2);
            return true;
        }
        at = find(s, len, at, ',') + 1;
    }
    return false;
}

bool scram_final_is_doubled_nonce(const char *client_nonce, const char *server_first,
                                  size_t server_first_len, const char *client_final,
                                  size_t client_final_len)
{
    size_t server_at, server_len, final_at, final_len, client_len = strlen(client_nonce);
    if (!attribute(server_first, server_first_len, "r", &server_at, &server_len) ||
        !attribute(client_final, client_final_len, "r", &final_at, &final_len))
        return false;
    return final_len == client_len + server_len &&
           memcmp(client_final + final_at, client_nonce, client_len) == 0 &&
           memcmp(client_final + final_at + client_len, server_first + server_at, server_len) == 0;
}

int scram_final_verify(const scram_credential *c, const char *client_first_bare,
                       size_t client_first_bare_len, const char *server_first,
                       size_t server_first_len, const char *client_final, size_t client_final_len,
                       char *server_final, size_t server_final_len)
{
    static const char proof_tag[] = ",p=";
    size_t key_bytes = scram_mechanism_key_bytes(c->mechanism);
    const EVP_MD *md = c->mechanism == SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
    /* the proof is the last attribute: client-final-without-proof ",p=" proof */
    size_t proof_at = client_final_len;
    for (size_t i = client_final_len; i >= 3; i--) {
        if (memcmp(client_final + i - 3, proof_tag, 3) == 0) {
            proof_at = i - 3;
            break;
        }
    }
    if (proof_at == client_final_len || client_final_len < 7 ||
        memcmp(client_final, "c=biws,", 7) != 0)
        return ST_ECORRUPT;
    const char *proof_b64 = client_final + proof_at + 3;
    size_t proof_b64_len = client_final_len - proof_at - 3;
    uint8_t proof[SCRAM_KEY_MAX + 3];
    if (proof_b64_len != 4 * ((key_bytes + 2) / 3))
        return ST_ECORRUPT;
    if (EVP_DecodeBlock(proof, (const unsigned char *)proof_b64, (int)proof_b64_len) < 0)
        return ST_ECORRUPT;
    size_t message_len = client_first_bare_len + 1 + server_first_len + 1 + proof_at;
    if (message_len > 4096)
        return ST_ECORRUPT;
    unsigned char message[4096];
    size_t at = 0;
    memcpy(message + at, client_first_bare, client_first_bare_len);
    at += client_first_bare_len;
    message[at++] = ',';
    memcpy(message + at, server_first, server_first_len);
    at += server_first_len;
    message[at++] = ',';
    memcpy(message + at, client_final, proof_at);
    at += proof_at;
    uint8_t signature[SCRAM_KEY_MAX], client_key[SCRAM_KEY_MAX], stored[SCRAM_KEY_MAX];
    unsigned int n = 0;
    if (!HMAC(md, c->stored_key, (int)key_bytes, message, at, signature, &n))
        return ST_EIO;
    for (size_t i = 0; i < key_bytes; i++)
        client_key[i] = proof[i] ^ signature[i];
    if (EVP_Digest(client_key, key_bytes, stored, &n, md, NULL) != 1)
        return ST_EIO;
    bool same = CRYPTO_memcmp(stored, c->stored_key, key_bytes) == 0;
    OPENSSL_cleanse(client_key, sizeof client_key);
    if (!same)
        return ST_EINVAL;
    if (!HMAC(md, c->server_key, (int)key_bytes, message, at, signature, &n))
        return ST_EIO;
    size_t need = 2 + 4 * ((key_bytes + 2) / 3) + 1;
    if (server_final_len < need)
        return ST_ETOOBIG;
    memcpy(server_final, "v=", 2);
    EVP_EncodeBlock((unsigned char *)server_final + 2, signature, (int)key_bytes);
    return 0;
}
