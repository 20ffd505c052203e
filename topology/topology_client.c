/*
 * topology_client.c - the region-link security keys of the topology
 * (topology_client.h): how every librdkafka client of a region's brokers
 * connects (the mirror, the group sync, role pushes, failover probes, the
 * CLI). The password is never written in the topology: only a file or an
 * environment variable that holds it.
 *
 *   regions:
 *     east:
 *       security:
 *         protocol: SASL_SSL        PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL
 *         ca: PATH                  PEM CA bundle (ssl.ca.location)
 *         certificate: PATH         client certificate and key for mTLS
 *         key: PATH
 *         sasl_mechanism: SCRAM-SHA-512   PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
 *         username: sidecar-west
 *         password_file: PATH       or password_env: NAME (exactly one)
 */
#include "topology/topology_client.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/config_value.h"
#include "common/error.h"

static const char *const protocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
static const char *const mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};
static const char *const fields[] = {"protocol", "ca",       "certificate",   "key",
                                     "sasl_mechanism", "username", "password_file",
                                     "password_env"};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

void topology_client_defaults(topology_client_security *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->protocol, sizeof s->protocol, "PLAINTEXT");
}

/* One non-empty scalar that fits into field. */
static int set_value(const yaml_map_entry *e, const char *shown, const char *what, char *field,
                     size_t size, char *msg, size_t msglen)
{
    if (e->is_sequence || e->value[0] == '\0') {
        snprintf(msg, msglen, "%s: expected %s", shown, what);
        return ST_ECONFIG;
    }
    if (strlen(e->value) >= size) {
        snprintf(msg, msglen, "%s: longer than %zu bytes", shown, size - 1);
        return ST_ECONFIG;
    }
    snprintf(field, size, "%s", e->value);
    return 0;
}

/* value (any case) as one of names, stored as written there. */
static int set_choice(const yaml_map_entry *e, const char *shown, const char *const *names,
                      int count, char *field, size_t size, char *msg, size_t msglen)
{
    char q[80];
    if (!e->is_sequence)
        for (int i = 0; i < count; i++)
            if (!strcasecmp(e->value, names[i])) {
                snprintf(field, size, "%s", names[i]);
                return 0;
            }
    char list[128] = "";
    for (int i = 0; i < count; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 names[i]);
    snprintf(msg, msglen, "%s: expected one of %s, got '%s'", shown, list,
             config_value_quoted(e->value, q, sizeof q));
    return ST_ECONFIG;
}

static bool valid_env_name(const char *name)
{
    if (!isalpha((unsigned char)name[0]) && name[0] != '_')
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

int topology_client_key(topology_region *r, const yaml_map_entry *e, const char *field, char *msg,
                        size_t msglen)
{
    topology_client_security *s = &r->security;
    char shown[128], q[80];
    snprintf(shown, sizeof shown, "regions.%s.security.%.40s", r->name, field);
    if (!s->line || e->line < s->line)
        s->line = e->line;
    if (!strcmp(field, "protocol"))
        return set_choice(e, shown, protocols, COUNT(protocols), s->protocol, sizeof s->protocol,
                          msg, msglen);
    if (!strcmp(field, "sasl_mechanism"))
        return set_choice(e, shown, mechanisms, COUNT(mechanisms), s->sasl_mechanism,
                          sizeof s->sasl_mechanism, msg, msglen);
    if (!strcmp(field, "ca"))
        return set_value(e, shown, "a file path", s->ca, sizeof s->ca, msg, msglen);
    if (!strcmp(field, "certificate"))
        return set_value(e, shown, "a file path", s->certificate, sizeof s->certificate, msg,
                         msglen);
    if (!strcmp(field, "key"))
        return set_value(e, shown, "a file path", s->key, sizeof s->key, msg, msglen);
    if (!strcmp(field, "username"))
        return set_value(e, shown, "a user name", s->username, sizeof s->username, msg, msglen);
    if (!strcmp(field, "password_file"))
        return set_value(e, shown, "a file path", s->password_file, sizeof s->password_file, msg,
                         msglen);
    if (!strcmp(field, "password_env")) {
        int rc = set_value(e, shown, "an environment variable name", s->password_env,
                           sizeof s->password_env, msg, msglen);
        if (rc == 0 && !valid_env_name(s->password_env)) {
            snprintf(msg, msglen, "%s: '%s' is not an environment variable name", shown,
                     config_value_quoted(e->value, q, sizeof q));
            return ST_ECONFIG;
        }
        return rc;
    }
    if (!strcmp(field, "password") || !strcmp(field, "sasl.password") ||
        !strcmp(field, "sasl_password")) {
        /* the value is not repeated: it is a secret */
        snprintf(msg, msglen, "%s: a password is never written in the topology; "
                 "use password_file or password_env", shown);
        return ST_ECONFIG;
    }
    const char *near = config_value_closest(field, fields, COUNT(fields));
    if (near)
        snprintf(msg, msglen, "unknown key '%s' (did you mean 'security.%s'?)",
                 config_value_quoted(shown, q, sizeof q), near);
    else
        snprintf(msg, msglen, "unknown key '%s' (security keys: protocol, ca, certificate, key, "
                 "sasl_mechanism, username, password_file, password_env)",
                 config_value_quoted(shown, q, sizeof q));
    return ST_ECONFIG;
}

static int check_file(const char *region, const char *key, const char *path, char *msg,
                      size_t msglen)
{
    if (!path[0] || access(path, R_OK) == 0)
        return 0;
    snprintf(msg, msglen, "regions.%s.security.%s: cannot read '%s': %s", region, key, path,
             strerror(errno));
    return ST_ECONFIG;
}

static int check_region(const topology_region *r, char *msg, size_t msglen)
{
    const topology_client_security *s = &r->security;
    bool tls = !strcmp(s->protocol, "SSL") || !strcmp(s->protocol, "SASL_SSL");
    bool sasl = !strncmp(s->protocol, "SASL_", 5);
    const char *name = r->name;
    if (!tls && (s->ca[0] || s->certificate[0] || s->key[0])) {
        snprintf(msg, msglen, "regions.%s.security.%s: needs protocol SSL or SASL_SSL (protocol "
                 "is %s)", name, s->ca[0] ? "ca" : s->certificate[0] ? "certificate" : "key",
                 s->protocol);
        return ST_ECONFIG;
    }
    if (!s->certificate[0] != !s->key[0]) {
        snprintf(msg, msglen, "regions.%s.security: certificate and key go together (%s is "
                 "missing)", name, s->certificate[0] ? "key" : "certificate");
        return ST_ECONFIG;
    }
    if (!sasl && (s->sasl_mechanism[0] || s->username[0] || s->password_file[0] ||
                  s->password_env[0])) {
        snprintf(msg, msglen, "regions.%s.security.%s: needs protocol SASL_PLAINTEXT or SASL_SSL "
                 "(protocol is %s)", name,
                 s->sasl_mechanism[0] ? "sasl_mechanism" : s->username[0] ? "username"
                 : s->password_file[0] ? "password_file" : "password_env", s->protocol);
        return ST_ECONFIG;
    }
    if (sasl && !s->sasl_mechanism[0]) {
        snprintf(msg, msglen, "regions.%s.security: protocol %s needs sasl_mechanism (PLAIN, "
                 "SCRAM-SHA-256 or SCRAM-SHA-512)", name, s->protocol);
        return ST_ECONFIG;
    }
    if (sasl && !s->username[0]) {
        snprintf(msg, msglen, "regions.%s.security: protocol %s needs username", name,
                 s->protocol);
        return ST_ECONFIG;
    }
    if (sasl && !s->password_file[0] == !s->password_env[0]) {
        snprintf(msg, msglen, "regions.%s.security: protocol %s needs exactly one of "
                 "password_file and password_env", name, s->protocol);
        return ST_ECONFIG;
    }
    int rc = check_file(name, "ca", s->ca, msg, msglen);
    if (rc == 0)
        rc = check_file(name, "certificate", s->certificate, msg, msglen);
    if (rc == 0)
        rc = check_file(name, "key", s->key, msg, msglen);
    if (rc == 0)
        rc = check_file(name, "password_file", s->password_file, msg, msglen);
    return rc;
}

int topology_client_check(const topology *t, char *msg, size_t msglen, int *line)
{
    for (int i = 0; i < t->region_count; i++) {
        const topology_region *r = &t->regions[i];
        *line = r->security.line ? r->security.line : r->line;
        int rc = check_region(r, msg, msglen);
        if (rc != 0)
            return rc;
    }
    return 0;
}
