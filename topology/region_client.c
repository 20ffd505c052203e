/*
 * region_client.c - librdkafka configurations for a region's brokers
 * (region_client.h): the topology's security keys mapped onto librdkafka
 * 2.0's properties (security.protocol, ssl.ca.location,
 * ssl.certificate.location, ssl.key.location, sasl.mechanisms,
 * sasl.username, sasl.password). The password buffer is wiped after use.
 */
#include "topology/region_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD_MAX 1024

/* Wipes a secret so the optimiser cannot drop the stores. */
static void wipe(char *buffer, size_t size)
{
    volatile char *p = buffer;
    while (size--)
        *p++ = 0;
}

/* The password: the first line of password_file, or password_env's value. */
static int read_password(const topology_region *r, char *out, size_t outlen, char *err,
                         size_t errlen)
{
    const topology_client_security *s = &r->security;
    if (s->password_env[0]) {
        const char *value = getenv(s->password_env);
        if (!value || !value[0]) {
            snprintf(err, errlen, "region %s: security.password_env: the environment variable "
                     "%s is not set or empty", r->name, s->password_env);
            return -1;
        }
        if (strlen(value) >= outlen) {
            snprintf(err, errlen, "region %s: security.password_env: %s is longer than %zu "
                     "bytes", r->name, s->password_env, outlen - 1);
            return -1;
        }
        snprintf(out, outlen, "%s", value);
        return 0;
    }
    FILE *f = fopen(s->password_file, "r");
    if (!f) {
        snprintf(err, errlen, "region %s: security.password_file: cannot read '%s': %s", r->name,
                 s->password_file, strerror(errno));
        return -1;
    }
    out[0] = '\0';
    bool got = fgets(out, (int)outlen, f) != NULL;
    bool whole = !got || strchr(out, '\n') != NULL || feof(f);
    fclose(f);
    if (!whole) {
        snprintf(err, errlen, "region %s: security.password_file: '%s': the first line is "
                 "longer than %zu bytes", r->name, s->password_file, outlen - 2);
        return -1;
    }
    out[strcspn(out, "\r\n")] = '\0';
    if (!got || !out[0]) {
        snprintf(err, errlen, "region %s: security.password_file: '%s' holds no password",
                 r->name, s->password_file);
        return -1;
    }
    return 0;
}

rd_kafka_conf_t *region_client_conf_new(const topology *t, int region, const char *client_id,
                                        char *err, size_t errlen)
{
    const topology_region *r = &t->regions[region];
    const topology_client_security *s = &r->security;
    const char *settings[][2] = {
        {"bootstrap.servers", r->bootstrap},
        {"client.id", client_id},
        {"security.protocol", s->protocol},
        {"ssl.ca.location", s->ca},
        {"ssl.certificate.location", s->certificate},
        {"ssl.key.location", s->key},
        {"sasl.mechanisms", s->sasl_mechanism},
        {"sasl.username", s->username},
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (!settings[i][1][0])
            continue; /* not configured: librdkafka's default */
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "region %s: %s: %s", r->name, settings[i][0], errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    if (s->password_file[0] || s->password_env[0]) {
        char password[PASSWORD_MAX];
        int rc = read_password(r, password, sizeof password, err, errlen);
        /* librdkafka's message would not contain the value; say which key anyway */
        if (rc == 0 && rd_kafka_conf_set(conf, "sasl.password", password, errstr,
                                         sizeof errstr) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "region %s: sasl.password refused by librdkafka", r->name);
            rc = -1;
        }
        wipe(password, sizeof password);
        if (rc != 0) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    return conf;
}
