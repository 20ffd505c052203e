/*
 * client_properties.h - the `--command-config FILE` of the operator verbs
 * that talk to brokers (`strait acls`, later `strait users`): client
 * properties in librdkafka's names, one `key=value` a line, `#` comments.
 *
 * Strict: an unknown key, a key given twice, a line without `=`, an empty
 * value, a value librdkafka would not take, or settings that contradict each
 * other (ssl.* on a PLAINTEXT client) are refused with the file, the line and
 * the key. The password is never part of a message.
 */
#ifndef STRAIT_FAILOVER_CLIENT_PROPERTIES_H
#define STRAIT_FAILOVER_CLIENT_PROPERTIES_H

#include <stddef.h>
#include <stdint.h>

/* A command config is a few lines; anything bigger is not one. */
#define CLIENT_PROPERTIES_FILE_BYTES_MAX (64 * 1024)
/* A value (a path, a user name, a password) is at most this long. */
#define CLIENT_PROPERTY_VALUE_BYTES_MAX 1024

/* Every field is "" when the file does not set it. */
typedef struct client_properties {
    char security_protocol[16];    /* lower case: plaintext, ssl, sasl_plaintext, sasl_ssl */
    char ssl_ca_location[CLIENT_PROPERTY_VALUE_BYTES_MAX];
    char ssl_certificate_location[CLIENT_PROPERTY_VALUE_BYTES_MAX];
    char ssl_key_location[CLIENT_PROPERTY_VALUE_BYTES_MAX];
    char sasl_mechanism[16];       /* upper case: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI */
    char sasl_username[CLIENT_PROPERTY_VALUE_BYTES_MAX];
    char sasl_password[CLIENT_PROPERTY_VALUE_BYTES_MAX];
} client_properties;

/* Parses the bytes of a command config; name is the file's name in messages.
 * 0, or ST_ECONFIG with err naming name, the line and the key (*out is then
 * cleared: no password is left behind). */
int client_properties_parse(const char *name, const uint8_t *data, size_t len,
                            client_properties *out, char *err, size_t errlen);

/* Reads path (at most CLIENT_PROPERTIES_FILE_BYTES_MAX bytes) and parses it.
 * 0, or ST_ECONFIG with err naming the file (missing, unreadable, too big,
 * or a parse error as above). */
int client_properties_load(const char *path, client_properties *out, char *err, size_t errlen);

struct rd_kafka_conf_s;

/* Sets every property that p sets on a librdkafka configuration. 0, or
 * ST_ECONFIG with err naming the key librdkafka refused (never the
 * password's value). */
int client_properties_apply(const client_properties *p, struct rd_kafka_conf_s *conf, char *err,
                            size_t errlen);

/* Overwrites p, the password included, with zeros. */
void client_properties_clear(client_properties *p);

#endif
