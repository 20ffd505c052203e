/*
 * listeners.c - syntax and relations of the listener keys (listeners.h).
 */
#include "broker/config/listeners.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/config/broker_config.h"
#include "broker/config/connection_limits.h"
#include "common/config_value.h"
#include "common/error.h"
#include "security/principal_rules.h"

static const char *const protocol_names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};

#define DEFAULT_PROTOCOL_MAP "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"

const char *listener_protocol_name(listener_protocol protocol) { return protocol_names[protocol]; }

static int protocol_parse(const char *text, size_t len)
{
    for (int i = 0; i < 4; i++)
        if (strlen(protocol_names[i]) == len && strncasecmp(text, protocol_names[i], len) == 0)
            return i;
    return -1;
}

static bool name_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-'; }

static bool host_char(char c) { return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_'; }

/* Copies [text, text+len) upper-cased into out; false if empty, too long or
 * not a name (letters, digits, '_', '-'). */
static bool copy_name(const char *text, size_t len, char *out, size_t outlen)
{
    if (len == 0 || len >= outlen)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!name_char(text[i]))
            return false;
        out[i] = (char)toupper((unsigned char)text[i]);
    }
    out[len] = '\0';
    return true;
}

/* One "[NAME://]host:port" into e (no name: PLAINTEXT). */
static int parse_endpoint(const char *item, size_t len, bool advertised, listener_endpoint *e,
                          char *msg, size_t msglen)
{
    char text[320], q[80];
    if (len >= sizeof text) {
        snprintf(msg, msglen, "listener '%.40s...' is too long", item);
        return ST_ECONFIG;
    }
    memcpy(text, item, len);
    text[len] = '\0';
    memset(e, 0, sizeof *e);
    char *sep = strstr(text, "://"), *host = sep ? sep + 3 : text;
    if (sep && !copy_name(text, (size_t)(sep - text), e->name, sizeof e->name)) {
        snprintf(msg, msglen, "listener name in '%s' must be letters, digits, '_' or '-'",
                 config_value_quoted(text, q, sizeof q));
        return ST_ECONFIG;
    }
    if (!sep && advertised) {
        snprintf(msg, msglen, "expected NAME://host:port, got '%s'", config_value_quoted(text, q, sizeof q));
        return ST_ECONFIG;
    }
    if (!sep)
        snprintf(e->name, sizeof e->name, "PLAINTEXT");
    char *colon;
    size_t host_len;
    if (*host == '[') { /* [IPv6]:port */
        char *close = strchr(host, ']');
        colon = close ? close + 1 : NULL;
        host_len = close ? (size_t)(close - host) + 1 : 0;
        for (char *p = host + 1; close && p < close; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.' && *p != '%')
                colon = NULL;
    } else {
        colon = strrchr(host, ':');
        host_len = colon ? (size_t)(colon - host) : 0;
        for (char *p = host; colon && p < colon; p++)
            if (!host_char(*p))
                colon = NULL;
    }
    int64_t port = -1;
    char port_msg[8];
    if (!colon || *colon != ':' ||
        config_value_parse_int(colon + 1, 0, 65535, &port, port_msg, sizeof port_msg) != 0) {
        snprintf(msg, msglen, "listener %s: expected %s://host:port with a port between 0 and "
                 "65535, got '%s'", e->name, e->name, config_value_quoted(item, q, sizeof q));
        return ST_ECONFIG;
    }
    bool wildcard = (host_len == 7 && !strncmp(host, "0.0.0.0", 7)) ||
                    (host_len == 4 && !strncmp(host, "[::]", 4));
    if (advertised && (wildcard || port == 0)) {
        snprintf(msg, msglen, "listener %s: '%s': clients cannot connect to 0.0.0.0 or port 0",
                 e->name, config_value_quoted(host, q, sizeof q));
        return ST_ECONFIG;
    }
    if (host_len >= sizeof e->host) {
        snprintf(msg, msglen, "listener %s: host too long", e->name);
        return ST_ECONFIG;
    }
    memcpy(e->host, host, host_len);
    e->host[host_len] = '\0';
    e->port = (int)port;
    return 0;
}

/* Parses a normalised or raw list into items[0..*count). */
static int parse_list(const char *value, bool advertised, listener_endpoint *items, int *count,
                      char *msg, size_t msglen)
{
    *count = 0;
    const char *all = value;
    if (config_value_trim(&all, strlen(value)) == 0)
        return 0;
    for (const char *c = value;;) {
        size_t n = strcspn(c, ",");
        const char *item = c;
        size_t len = config_value_trim(&item, n);
        char q[80];
        if (len == 0) {
            snprintf(msg, msglen, "empty listener in '%s'", config_value_quoted(value, q, sizeof q));
            return ST_ECONFIG;
        }
        if (*count == LIMIT_LISTENERS) {
            snprintf(msg, msglen, "more than %d listeners", LIMIT_LISTENERS);
            return ST_ECONFIG;
        }
        int rc = parse_endpoint(item, len, advertised, &items[*count], msg, msglen);
        if (rc != 0)
            return rc;
        for (int i = 0; i < *count; i++) {
            if (strcmp(items[i].name, items[*count].name) == 0) {
                snprintf(msg, msglen, "listener name %s is used twice; each listener needs its "
                         "own name", items[i].name);
                return ST_ECONFIG;
            }
        }
        (*count)++;
        if (c[n] == '\0')
            break;
        c += n + 1;
    }
    return 0;
}

int listeners_check_list(const char *value, bool advertised, char *normal, size_t normallen,
                         char *msg, size_t msglen)
{
    normal[0] = '\0';
    listener_endpoint *items = calloc(LIMIT_LISTENERS, sizeof *items);
    if (!items) {
        snprintf(msg, msglen, "out of memory");
        return ST_ECONFIG;
    }
    int count = 0;
    int rc = parse_list(value, advertised, items, &count, msg, msglen);
    if (rc == 0 && count == 0 && !advertised) {
        snprintf(msg, msglen, "expected at least one listener (NAME://host:port)");
        rc = ST_ECONFIG;
    }
    for (int i = 0; rc == 0 && i < count; i++) {
        char one[LISTENER_NAME_MAX + LISTENER_HOST_MAX + 16];
        snprintf(one, sizeof one, "%s://%s:%d", items[i].name, items[i].host, items[i].port);
        if (!config_value_list_append(normal, normallen, one, strlen(one))) {
            snprintf(msg, msglen, "value too long");
            rc = ST_ECONFIG;
        }
    }
    free(items);
    return rc;
}

/* Calls fn for each "NAME:PROTOCOL" of a map; stops at the first error. */
static int each_mapping(const char *value, int (*fn)(void *arg, const char *name, int protocol),
                        void *arg, char *msg, size_t msglen)
{
    for (const char *c = value;;) {
        size_t n = strcspn(c, ",");
        const char *item = c;
        size_t len = config_value_trim(&item, n);
        const char *colon = memchr(item, ':', len);
        char name[LISTENER_NAME_MAX], q[80];
        int protocol = colon ? protocol_parse(colon + 1, len - (size_t)(colon + 1 - item)) : -1;
        if (!colon || !copy_name(item, (size_t)(colon - item), name, sizeof name) || protocol < 0) {
            snprintf(msg, msglen, "expected NAME:PROTOCOL,... with PROTOCOL one of PLAINTEXT, SSL, "
                     "SASL_PLAINTEXT, SASL_SSL, got '%s'", config_value_quoted(value, q, sizeof q));
            return ST_ECONFIG;
        }
        int rc = fn(arg, name, protocol);
        if (rc != 0)
            return rc;
        if (c[n] == '\0')
            return 0;
        c += n + 1;
    }
}

typedef struct map_normal {
    char *out;
    size_t outlen;
    char *msg;
    size_t msglen;
} map_normal;

static int append_mapping(void *arg, const char *name, int protocol)
{
    map_normal *m = arg;
    char one[LISTENER_NAME_MAX + 20], key[LISTENER_NAME_MAX + 2];
    snprintf(key, sizeof key, "%s:", name);
    for (const char *p = m->out; (p = strstr(p, key)) != NULL; p++) {
        if (p == m->out || p[-1] == ',') {
            snprintf(m->msg, m->msglen, "listener %s is mapped twice", name);
            return ST_ECONFIG;
        }
    }
    snprintf(one, sizeof one, "%s:%s", name, protocol_names[protocol]);
    if (!config_value_list_append(m->out, m->outlen, one, strlen(one))) {
        snprintf(m->msg, m->msglen, "value too long");
        return ST_ECONFIG;
    }
    return 0;
}

int listeners_check_protocol_map(const char *value, char *normal, size_t normallen, char *msg,
                                 size_t msglen)
{
    normal[0] = '\0';
    const char *start = value;
    if (config_value_trim(&start, strlen(value)) == 0)
        return 0; /* the default: each protocol name maps to itself */
    map_normal m = {normal, normallen, msg, msglen};
    return each_mapping(value, append_mapping, &m, msg, msglen);
}

int listeners_check_name(const char *value, char *normal, size_t normallen, char *msg,
                         size_t msglen)
{
    const char *start = value;
    size_t len = config_value_trim(&start, strlen(value));
    if (len == 0) {
        normal[0] = '\0';
        return 0;
    }
    if (!copy_name(start, len, normal, normallen < LISTENER_NAME_MAX ? normallen : LISTENER_NAME_MAX)) {
        char q[80];
        snprintf(msg, msglen, "expected a listener name, got '%s'", config_value_quoted(value, q, sizeof q));
        return ST_ECONFIG;
    }
    return 0;
}

int listeners_check_tls_protocols(const char *value, char *normal, size_t normallen, char *msg,
                                  size_t msglen)
{
    int rc = config_value_parse_list(value, "TLSv1.2|TLSv1.3", normal, normallen, msg, msglen);
    if (rc != 0) {
        char q[80];
        snprintf(msg, msglen, "expected TLSv1.2 and/or TLSv1.3 (older versions are not "
                 "offered), got '%s'", config_value_quoted(value, q, sizeof q));
    }
    return rc;
}

int listeners_check_mapping_rules(const char *value, char *normal, size_t normallen, char *msg,
                                  size_t msglen)
{
    principal_rules *rules = NULL;
    int rc = principal_rules_parse(value, &rules, msg, msglen);
    if (rc != 0)
        return ST_ECONFIG;
    principal_rules_free(rules);
    snprintf(normal, normallen, "%s", value);
    return 0;
}

int listeners_check_sasl_mechanisms(const char *value, char *normal, size_t normallen, char *msg,
                                    size_t msglen)
{
    return config_value_parse_list(value, "PLAIN|SCRAM-SHA-256|SCRAM-SHA-512|GSSAPI", normal,
                                   normallen, msg, msglen);
}

static int check_client_auth(const char *value, char *normal, size_t normallen, char *msg,
                             size_t msglen)
{
    int rc = config_value_parse_choice(value, "none|requested|required", msg, msglen);
    if (rc == 0)
        snprintf(normal, normallen, "%s", value);
    return rc;
}

static int check_pem(const char *value, char *normal, size_t normallen, char *msg, size_t msglen)
{
    int rc = config_value_parse_choice(value, "PEM", msg, msglen);
    if (rc == 0)
        snprintf(normal, normallen, "%s", value);
    return rc;
}

static int check_any(const char *value, char *normal, size_t normallen, char *msg, size_t msglen)
{
    (void)msg;
    (void)msglen;
    snprintf(normal, normallen, "%s", value);
    return 0;
}

const char *listeners_unsupported_key(const char *key)
{
    static const struct {
        const char *key, *reason;
    } refused[] = {
        {"ssl.keystore.certificate.chain", "inline PEM is not read; put the chain and the key in "
                                           "the file named by ssl.keystore.location"},
        {"ssl.keystore.key", "inline PEM is not read; put the chain and the key in the file named "
                             "by ssl.keystore.location"},
        {"ssl.truststore.certificates", "inline PEM is not read; name a PEM file in "
                                        "ssl.truststore.location"},
        {"ssl.key.password", "encrypted private keys are not read; store the key unencrypted in "
                             "a file only the broker's user can read"},
        {"ssl.keystore.password", "PEM keystores have no password in strait"},
        {"ssl.truststore.password", "PEM truststores have no password in strait"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (strcmp(key, refused[i].key) == 0)
            return refused[i].reason;
    return NULL;
}

typedef int (*override_check_fn)(const char *, char *, size_t, char *, size_t);

static const struct {
    const char *key;
    override_check_fn check;
} override_keys[] = {
    {"ssl.keystore.type", check_pem},
    {"ssl.keystore.location", check_any},
    {"ssl.truststore.type", check_pem},
    {"ssl.truststore.location", check_any},
    {"ssl.client.auth", check_client_auth},
    {"ssl.enabled.protocols", listeners_check_tls_protocols},
    {"ssl.cipher.suites", check_any},
    {"ssl.principal.mapping.rules", listeners_check_mapping_rules},
    {"sasl.enabled.mechanisms", listeners_check_sasl_mechanisms},
    {"max.connections", connection_limits_check_count},
};

#define OVERRIDE_KEY_COUNT ((int)(sizeof override_keys / sizeof override_keys[0]))

/* The line "NAME key=" of overrides, or NULL. */
static char *find_override(char *overrides, const char *name, const char *key)
{
    char head[LISTENER_NAME_MAX + 64];
    snprintf(head, sizeof head, "%s %s=", name, key);
    for (char *line = overrides; *line;) {
        if (strncmp(line, head, strlen(head)) == 0)
            return line;
        char *end = strchr(line, '\n');
        if (!end)
            break;
        line = end + 1;
    }
    return NULL;
}

int listeners_override_set(char *overrides, size_t overrides_size, const char *rest,
                           const char *value, char *msg, size_t msglen)
{
    char name[LISTENER_NAME_MAX];
    const char *dot = strchr(rest, '.');
    if (!dot || !copy_name(rest, (size_t)(dot - rest), name, sizeof name)) {
        snprintf(msg, msglen, "expected listener.name.<listener>.<key>");
        return ST_ECONFIG;
    }
    const char *key = dot + 1;
    override_check_fn check = NULL;
    for (int i = 0; i < OVERRIDE_KEY_COUNT; i++)
        if (strcmp(override_keys[i].key, key) == 0)
            check = override_keys[i].check;
    if (!check && listeners_unsupported_key(key)) {
        snprintf(msg, msglen, "listener %s: %s", name, listeners_unsupported_key(key));
        return ST_ECONFIG;
    }
    if (!check) {
        snprintf(msg, msglen, "listener %s: '%s' cannot be set per listener (ssl.* keys and "
                 "sasl.enabled.mechanisms can)", name, key);
        return ST_ECONFIG;
    }
    char normal[LIMIT_CONFIG_VALUE_LENGTH + 1], reason[512];
    if (strchr(value, '\n') || check(value, normal, sizeof normal, reason, sizeof reason) != 0) {
        snprintf(msg, msglen, "listener %s: %s", name, strchr(value, '\n') ? "value on one line expected" : reason);
        return ST_ECONFIG;
    }
    char *old = find_override(overrides, name, key);
    if (old) { /* remove the old line */
        char *end = strchr(old, '\n');
        memmove(old, end + 1, strlen(end + 1) + 1);
    }
    size_t used = strlen(overrides);
    int n = snprintf(overrides + used, overrides_size - used, "%s %s=%s\n", name, key, normal);
    if (n < 0 || (size_t)n >= overrides_size - used) {
        overrides[used] = '\0';
        snprintf(msg, msglen, "listener %s: too many per-listener settings", name);
        return ST_ECONFIG;
    }
    return 0;
}

/* The override of key for listener name, or fallback. */
static void override_or(const broker_config *c, const char *name, const char *key,
                        const char *fallback, char *out, size_t outlen)
{
    char *line = find_override((char *)c->listener_overrides, name, key);
    if (!line) {
        snprintf(out, outlen, "%s", fallback);
        return;
    }
    const char *value = strchr(line, '=') + 1;
    snprintf(out, outlen, "%.*s", (int)strcspn(value, "\n"), value);
}

void listeners_sasl_mechanisms(const broker_config *c, const char *name, char *out, size_t outlen)
{
    override_or(c, name, "sasl.enabled.mechanisms", c->sasl_enabled_mechanisms, out, outlen);
}

int32_t listeners_max_connections(const broker_config *c, const char *name)
{
    char value[32];
    override_or(c, name, "max.connections", "", value, sizeof value);
    return value[0] ? (int32_t)strtol(value, NULL, 10) : -1; /* checked when it was set */
}

void listeners_tls_settings(const broker_config *c, const char *name, listener_tls_settings *out)
{
    override_or(c, name, "ssl.keystore.location", c->ssl_keystore_location,
                out->keystore_location, sizeof out->keystore_location);
    override_or(c, name, "ssl.truststore.location", c->ssl_truststore_location,
                out->truststore_location, sizeof out->truststore_location);
    override_or(c, name, "ssl.client.auth", c->ssl_client_auth, out->client_auth,
                sizeof out->client_auth);
    override_or(c, name, "ssl.enabled.protocols", c->ssl_enabled_protocols,
                out->enabled_protocols, sizeof out->enabled_protocols);
    override_or(c, name, "ssl.cipher.suites", c->ssl_cipher_suites, out->cipher_suites,
                sizeof out->cipher_suites);
    override_or(c, name, "ssl.principal.mapping.rules", c->ssl_principal_mapping_rules,
                out->principal_mapping_rules, sizeof out->principal_mapping_rules);
}

typedef struct map_lookup {
    const char *name;
    int protocol;
} map_lookup;

static int lookup_mapping(void *arg, const char *name, int protocol)
{
    map_lookup *l = arg;
    if (strcmp(l->name, name) == 0)
        l->protocol = protocol;
    return 0;
}

/* Relations of one listener: its protocol, its TLS keystore. */
static int resolve_protocol(const broker_config *c, listener_endpoint *e, char *msg, size_t msglen)
{
    const char *map = c->listener_security_protocol_map[0] ? c->listener_security_protocol_map
                                                           : DEFAULT_PROTOCOL_MAP;
    map_lookup l = {e->name, -1};
    each_mapping(map, lookup_mapping, &l, msg, msglen);
    if (l.protocol < 0) {
        snprintf(msg, msglen, "listeners: listener %s is not in listener.security.protocol.map "
                 "(%s)", e->name, map);
        return ST_ECONFIG;
    }
    e->protocol = (listener_protocol)l.protocol;
    if (e->protocol == LISTENER_SASL_PLAINTEXT || e->protocol == LISTENER_SASL_SSL) {
        char mechanisms[128];
        listeners_sasl_mechanisms(c, e->name, mechanisms, sizeof mechanisms);
        if (strstr(mechanisms, "GSSAPI")) {
            snprintf(msg, msglen, "sasl.enabled.mechanisms: listener %s enables GSSAPI, which "
                     "strait does not serve yet (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)", e->name);
            return ST_ECONFIG;
        }
    }
    if (e->protocol == LISTENER_SSL || e->protocol == LISTENER_SASL_SSL) {
        listener_tls_settings tls;
        listeners_tls_settings(c, e->name, &tls);
        if (!tls.keystore_location[0]) {
            snprintf(msg, msglen, "ssl.keystore.location: listener %s is %s and needs a "
                     "keystore (ssl.keystore.location or listener.name.%s.ssl.keystore.location)",
                     e->name, protocol_names[e->protocol], e->name);
            return ST_ECONFIG;
        }
        if (strcmp(tls.client_auth, "none") != 0 && !tls.truststore_location[0]) {
            snprintf(msg, msglen, "ssl.truststore.location: listener %s has ssl.client.auth=%s "
                     "and needs a truststore to verify clients", e->name, tls.client_auth);
            return ST_ECONFIG;
        }
    }
    return 0;
}

static int resolve_advertised(const broker_config *c, listener_set *out, char *msg, size_t msglen)
{
    listener_endpoint *advertised = calloc(LIMIT_LISTENERS, sizeof *advertised);
    if (!advertised) {
        snprintf(msg, msglen, "out of memory");
        return ST_ECONFIG;
    }
    int count = 0;
    if (strcmp(c->advertised_listeners, c->listeners) == 0) { /* the default: own addresses */
        free(advertised);
        return 0;
    }
    int rc = parse_list(c->advertised_listeners, true, advertised, &count, msg, msglen);
    for (int a = 0; rc == 0 && a < count; a++) {
        listener_endpoint *e = NULL;
        for (int i = 0; i < out->count; i++)
            if (strcmp(out->items[i].name, advertised[a].name) == 0)
                e = &out->items[i];
        if (!e) {
            snprintf(msg, msglen, "advertised.listeners: listener %s is not in listeners",
                     advertised[a].name);
            rc = ST_ECONFIG;
            break;
        }
        snprintf(e->advertised_host, sizeof e->advertised_host, "%s", advertised[a].host);
        e->advertised_port = advertised[a].port;
    }
    free(advertised);
    return rc;
}

/* Every "NAME key=" line of listener_overrides names a listener. */
static int resolve_overrides(const broker_config *c, const listener_set *out, char *msg,
                             size_t msglen)
{
    for (const char *line = c->listener_overrides; *line;) {
        size_t name_len = strcspn(line, " ");
        bool known = false;
        for (int i = 0; i < out->count; i++)
            known |= strlen(out->items[i].name) == name_len &&
                     strncmp(out->items[i].name, line, name_len) == 0;
        if (!known) {
            const char *key = line + name_len + 1;
            snprintf(msg, msglen, "listener.name.%.*s.%.*s: no listener named %.*s in listeners",
                     (int)name_len, line, (int)strcspn(key, "="), key, (int)name_len, line);
            return ST_ECONFIG;
        }
        const char *end = strchr(line, '\n');
        if (!end)
            break;
        line = end + 1;
    }
    return 0;
}

/* Bind host: "" -> 0.0.0.0, "[v6]" -> v6; advertised host: wildcard -> host name. */
static void finish_hosts(listener_endpoint *e)
{
    size_t len = strlen(e->host);
    if (len >= 2 && e->host[0] == '[') {
        memmove(e->host, e->host + 1, len - 2);
        e->host[len - 2] = '\0';
    }
    if (!e->host[0])
        snprintf(e->host, sizeof e->host, "0.0.0.0");
    len = strlen(e->advertised_host);
    if (len >= 2 && e->advertised_host[0] == '[') {
        memmove(e->advertised_host, e->advertised_host + 1, len - 2);
        e->advertised_host[len - 2] = '\0';
    }
    if (e->advertised_host[0])
        return;
    bool wildcard = !strcmp(e->host, "0.0.0.0") || !strcmp(e->host, "::");
    if (wildcard) {
        if (gethostname(e->advertised_host, sizeof e->advertised_host) != 0)
            snprintf(e->advertised_host, sizeof e->advertised_host, "localhost");
        e->advertised_host[sizeof e->advertised_host - 1] = '\0';
    } else {
        snprintf(e->advertised_host, sizeof e->advertised_host, "%s", e->host);
    }
    e->advertised_port = e->port;
}

int listeners_resolve(const broker_config *c, listener_set *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof *out);
    int rc = parse_list(c->listeners, false, out->items, &out->count, msg, msglen);
    if (rc != 0)
        return rc;
    for (int i = 0; i < out->count; i++) {
        rc = resolve_protocol(c, &out->items[i], msg, msglen);
        if (rc != 0)
            return rc;
        for (int j = 0; j < i; j++) {
            if (out->items[i].port != 0 && out->items[i].port == out->items[j].port) {
                snprintf(msg, msglen, "listeners: listeners %s and %s both use port %d; each "
                         "listener needs its own port", out->items[j].name, out->items[i].name,
                         out->items[i].port);
                return ST_ECONFIG;
            }
        }
    }
    rc = resolve_advertised(c, out, msg, msglen);
    if (rc == 0)
        rc = resolve_overrides(c, out, msg, msglen);
    if (rc != 0)
        return rc;
    out->inter_broker = 0;
    if (c->inter_broker_listener_name[0]) {
        out->inter_broker = -1;
        for (int i = 0; i < out->count; i++)
            if (strcmp(out->items[i].name, c->inter_broker_listener_name) == 0)
                out->inter_broker = i;
        if (out->inter_broker < 0) {
            snprintf(msg, msglen, "inter.broker.listener.name: listener %s is not in listeners",
                     c->inter_broker_listener_name);
            return ST_ECONFIG;
        }
    }
    for (int i = 0; i < out->count; i++)
        finish_hosts(&out->items[i]);
    return 0;
}
