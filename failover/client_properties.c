/*
 * client_properties.c - reads a `--command-config FILE` (client_properties.h)
 * through the bounds-checked reader, one line at a time, and hands the
 * settings to librdkafka.
 */
#include "failover/client_properties.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "common/error.h"
#include "common/reader.h"

/* What a key's value may be. */
enum value_kind { VALUE_ANY, VALUE_PROTOCOL, VALUE_MECHANISM };

typedef struct property {
    const char *key;         /* the name in the file */
    const char *rdkafka_key; /* the name handed to librdkafka */
    size_t offset;           /* of the field in client_properties */
    size_t size;
    enum value_kind kind;
} property;

#define FIELD(f) offsetof(client_properties, f), sizeof(((client_properties *)0)->f)

/* sasl.mechanism and sasl.mechanisms are one setting: librdkafka takes both
 * names, so the file may use either, once. */
static const property properties[] = {
    {"security.protocol", "security.protocol", FIELD(security_protocol), VALUE_PROTOCOL},
    {"ssl.ca.location", "ssl.ca.location", FIELD(ssl_ca_location), VALUE_ANY},
    {"ssl.certificate.location", "ssl.certificate.location", FIELD(ssl_certificate_location),
     VALUE_ANY},
    {"ssl.key.location", "ssl.key.location", FIELD(ssl_key_location), VALUE_ANY},
    {"sasl.mechanism", "sasl.mechanisms", FIELD(sasl_mechanism), VALUE_MECHANISM},
    {"sasl.mechanisms", "sasl.mechanisms", FIELD(sasl_mechanism), VALUE_MECHANISM},
    {"sasl.username", "sasl.username", FIELD(sasl_username), VALUE_ANY},
    {"sasl.password", "sasl.password", FIELD(sasl_password), VALUE_ANY},
};
#define PROPERTY_COUNT (sizeof properties / sizeof properties[0])

static const char *const protocols[] = {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"};
static const char *const mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI"};

#define KNOWN_KEYS                                                                         \
    "security.protocol, ssl.ca.location, ssl.certificate.location, ssl.key.location, "    \
    "sasl.mechanism (or sasl.mechanisms), sasl.username, sasl.password"

__attribute__((format(printf, 3, 4)))
static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return ST_ECONFIG;
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* [*start, *end) without blanks at either end. */
static void trim(const char **start, const char **end)
{
    while (*start < *end && is_blank(**start))
        (*start)++;
    while (*end > *start && is_blank((*end)[-1]))
        (*end)--;
}

static char *field(client_properties *p, const property *prop)
{
    return (char *)p + prop->offset;
}

/* The value of one key checked against its kind and copied into its field
 * (normalised: protocols lower case, mechanisms upper case). */
static int set_value(const char *name, int line, const property *prop, const char *value,
                     size_t value_len, client_properties *out, char *err, size_t errlen)
{
    char *dest = field(out, prop);
    if (dest[0] != '\0')
        return refuse(err, errlen, "%s line %d: %s is set twice (sasl.mechanism and "
                      "sasl.mechanisms are one setting)", name, line, prop->key);
    if (value_len == 0)
        return refuse(err, errlen, "%s line %d: %s has no value", name, line, prop->key);
    if (value_len >= prop->size)
        return refuse(err, errlen, "%s line %d: the value of %s is longer than %zu bytes", name,
                      line, prop->key, prop->size - 1);
    if (memchr(value, '\0', value_len))
        return refuse(err, errlen, "%s line %d: the value of %s holds a NUL byte", name, line,
                      prop->key);
    const char *const *allowed = NULL;
    size_t allowed_count = 0;
    if (prop->kind == VALUE_PROTOCOL) {
        allowed = protocols;
        allowed_count = sizeof protocols / sizeof protocols[0];
    } else if (prop->kind == VALUE_MECHANISM) {
        allowed = mechanisms;
        allowed_count = sizeof mechanisms / sizeof mechanisms[0];
    }
    memcpy(dest, value, value_len);
    dest[value_len] = '\0';
    if (!allowed)
        return 0;
    for (size_t i = 0; i < allowed_count; i++) {
        if (strcasecmp(dest, allowed[i]) == 0) {
            memcpy(dest, allowed[i], value_len); /* same length */
            return 0;
        }
    }
    dest[0] = '\0';
    if (prop->kind == VALUE_PROTOCOL)
        return refuse(err, errlen, "%s line %d: %s must be plaintext, ssl, sasl_plaintext or "
                      "sasl_ssl", name, line, prop->key);
    return refuse(err, errlen, "%s line %d: %s must be PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or "
                  "GSSAPI", name, line, prop->key);
}

/* One line (without its newline). */
static int parse_line(const char *name, int line, const char *start, const char *end,
                      client_properties *out, char *err, size_t errlen)
{
    trim(&start, &end);
    if (start == end || *start == '#')
        return 0;
    const char *equals = memchr(start, '=', (size_t)(end - start));
    if (!equals)
        return refuse(err, errlen, "%s line %d: expected key=value", name, line);
    const char *key_end = equals, *value = equals + 1;
    trim(&start, &key_end);
    trim(&value, &end);
    size_t key_len = (size_t)(key_end - start);
    if (key_len == 0)
        return refuse(err, errlen, "%s line %d: expected key=value (the key is empty)", name,
                      line);
    for (size_t i = 0; i < PROPERTY_COUNT; i++) {
        if (strlen(properties[i].key) == key_len && !memcmp(properties[i].key, start, key_len))
            return set_value(name, line, &properties[i], value, (size_t)(end - value), out, err,
                             errlen);
    }
    /* the key is printed, never the value (it may be a password) */
    int shown = key_len > 128 ? 128 : (int)key_len;
    for (int i = 0; i < shown; i++) {
        if ((unsigned char)start[i] < 0x20 || (unsigned char)start[i] >= 0x7f)
            return refuse(err, errlen, "%s line %d: unknown key with unprintable bytes (known: "
                          KNOWN_KEYS ")", name, line);
    }
    return refuse(err, errlen, "%s line %d: unknown key '%.*s%s' (known: " KNOWN_KEYS ")", name,
                  line, shown, start, key_len > 128 ? "..." : "");
}

/* Settings that contradict each other. */
static int check_consistent(const char *name, const client_properties *p, char *err,
                            size_t errlen)
{
    const char *protocol = p->security_protocol[0] ? p->security_protocol : "plaintext";
    bool tls = strstr(protocol, "ssl") != NULL;
    bool sasl = strncmp(protocol, "sasl_", 5) == 0;
    if (!tls && (p->ssl_ca_location[0] || p->ssl_certificate_location[0] ||
                 p->ssl_key_location[0]))
        return refuse(err, errlen, "%s: ssl.* keys are set but security.protocol is %s (ssl or "
                      "sasl_ssl uses them)", name, protocol);
    if (!sasl && (p->sasl_mechanism[0] || p->sasl_username[0] || p->sasl_password[0]))
        return refuse(err, errlen, "%s: sasl.* keys are set but security.protocol is %s "
                      "(sasl_plaintext or sasl_ssl uses them)", name, protocol);
    if (!p->ssl_certificate_location[0] != !p->ssl_key_location[0])
        return refuse(err, errlen, "%s: %s is set without %s (a client certificate needs both)",
                      name, p->ssl_key_location[0] ? "ssl.key.location" : "ssl.certificate.location",
                      p->ssl_key_location[0] ? "ssl.certificate.location" : "ssl.key.location");
    if (sasl && !p->sasl_mechanism[0])
        return refuse(err, errlen, "%s: security.protocol is %s but sasl.mechanism is not set",
                      name, protocol);
    if (sasl && strcmp(p->sasl_mechanism, "GSSAPI") != 0 &&
        (!p->sasl_username[0] || !p->sasl_password[0]))
        return refuse(err, errlen, "%s: sasl.mechanism %s needs sasl.username and "
                      "sasl.password", name, p->sasl_mechanism);
    return 0;
}

int client_properties_parse(const char *name, const uint8_t *data, size_t len,
                            client_properties *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len > CLIENT_PROPERTIES_FILE_BYTES_MAX)
        return refuse(err, errlen, "%s: larger than %d bytes; not a command config", name,
                      CLIENT_PROPERTIES_FILE_BYTES_MAX);
    reader r;
    reader_init(&r, data, len);
    int rc = 0;
    for (int line = 1; rc == 0 && reader_remaining(&r) > 0; line++) {
        const uint8_t *at = r.pos;
        const uint8_t *newline = memchr(at, '\n', reader_remaining(&r));
        size_t line_len = newline ? (size_t)(newline - at) : reader_remaining(&r);
        const char *text = (const char *)reader_bytes(&r, line_len);
        if (newline)
            reader_skip(&r, 1);
        if (!reader_ok(&r)) /* cannot happen: line_len is within the remaining bytes */
            rc = refuse(err, errlen, "%s line %d: cannot be read", name, line);
        else
            rc = parse_line(name, line, text, text + line_len, out, err, errlen);
    }
    if (rc == 0)
        rc = check_consistent(name, out, err, errlen);
    if (rc != 0)
        client_properties_clear(out);
    return rc;
}

int client_properties_load(const char *path, client_properties *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return refuse(err, errlen, "command config %s: %s", path, strerror(errno));
    /* one byte more than the limit tells a too-big file from one at the limit */
    uint8_t *data = malloc(CLIENT_PROPERTIES_FILE_BYTES_MAX + 1);
    size_t len = 0;
    int rc = data ? 0 : ST_ENOMEM;
    while (rc == 0 && len < CLIENT_PROPERTIES_FILE_BYTES_MAX + 1) {
        ssize_t n = read(fd, data + len, CLIENT_PROPERTIES_FILE_BYTES_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = refuse(err, errlen, "command config %s: %s", path, strerror(errno));
        else if (n == 0)
            break;
        else
            len += (size_t)n;
    }
    close(fd);
    if (rc == ST_ENOMEM)
        snprintf(err, errlen, "command config %s: out of memory", path);
    else if (rc == 0)
        rc = client_properties_parse(path, data, len, out, err, errlen);
    if (data) {
        memset(data, 0, CLIENT_PROPERTIES_FILE_BYTES_MAX + 1); /* the password */
        free(data);
    }
    return rc;
}

int client_properties_apply(const client_properties *p, struct rd_kafka_conf_s *conf, char *err,
                            size_t errlen)
{
    char why[512];
    for (size_t i = 0; i < PROPERTY_COUNT; i++) {
        const property *prop = &properties[i];
        const char *value = (const char *)p + prop->offset;
        if (value[0] == '\0' || !strcmp(prop->key, "sasl.mechanisms"))
            continue; /* unset; sasl.mechanisms is the same field as sasl.mechanism */
        if (rd_kafka_conf_set(conf, prop->rdkafka_key, value, why, sizeof why) !=
            RD_KAFKA_CONF_OK) {
            bool secret = !strcmp(prop->key, "sasl.password");
            return refuse(err, errlen, "%s: librdkafka refused it%s%s", prop->key,
                          secret ? "" : ": ", secret ? "" : why);
        }
    }
    return 0;
}

void client_properties_clear(client_properties *p)
{
    /* volatile: the password must really be overwritten, not optimised away */
    volatile unsigned char *bytes = (volatile unsigned char *)p;
    for (size_t i = 0; i < sizeof *p; i++)
        bytes[i] = 0;
}
