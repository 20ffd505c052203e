/*
 * topology.c - loading and validation of the topology YAML (topology.h,
 * reference in docs/topology.md).
 *
 * The file is read by yaml_map with YAML_MAP_INDEXED_SEQUENCES, so the flows
 * list arrives as "flows.0.source", "flows.1.topics", ... Loading runs in
 * two passes over the flat entries, filling a private copy:
 *
 *   1. every entry is routed by its first key part (regions, flows,
 *      failover, checkpoints, sidecar) and its value parsed and checked on
 *      its own: unknown keys (with did-you-mean), durations, regexes,
 *      addresses, choices. Flow source/target names are kept as text.
 *   2. relations: required keys, flow endpoints resolved to regions,
 *      duplicate flows, distinct sidecar addresses, failover.active, and
 *      prefix-naming cycles.
 *
 * The first error stops the load with "FILE:LINE: KEY: reason"; *out is only
 * written when everything is valid. Flows are shown as flows[N] (0-based, in
 * file order) in messages.
 */
#include "topology/topology.h"

#include <ctype.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config_value.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/regex_limit.h"
#include "common/yaml_map.h"
#include "topology/topology_client.h"
#include "topology/topology_control.h"

#define DEFAULT_REFRESH_INTERVAL_MS 10000
#define DEFAULT_CHECKPOINT_INTERVAL_MS 1000
#define DEFAULT_DETECT_AFTER_MS 10000
#define DEFAULT_BATCH_BYTES (1024 * 1024)
#define DEFAULT_LINGER_MS 5
#define DEFAULT_STATE_DIR "./strait-state"
#define DURATION_MAX_MS (INT64_C(7) * 24 * 3600 * 1000) /* a week: anything longer is a typo */

/* What pass 1 keeps about a flow beyond topology_flow. */
typedef struct flow_draft {
    bool present;
    char source[TOPOLOGY_NAME_MAX];
    char target[TOPOLOGY_NAME_MAX];
    int source_line, target_line;
    bool topics_set;
} flow_draft;

typedef struct load_state {
    const char *path;
    topology *t;
    flow_draft drafts[TOPOLOGY_FLOWS_MAX];
    int flow_slots;              /* highest flows index seen + 1 */
    int region_bootstrap_line[TOPOLOGY_REGIONS_MAX];
    int region_sidecar_line[TOPOLOGY_REGIONS_MAX];
    char active[TOPOLOGY_NAME_MAX];
    int active_line;
    char *err;
    size_t errlen;
} load_state;

__attribute__((format(printf, 3, 4)))
static int fail(load_state *s, int line, const char *fmt, ...)
{
    int n = snprintf(s->err, s->errlen, "%s:%d: ", s->path, line);
    if (n >= 0 && (size_t)n < s->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return ST_ECONFIG;
}

static int unknown_key(load_state *s, int line, const char *shown, const char *word,
                       const char *const *names, int count)
{
    const char *near = config_value_closest(word, names, count);
    char q[80];
    if (near)
        return fail(s, line, "unknown key '%s' (did you mean '%s'?)",
                    config_value_quoted(shown, q, sizeof q), near);
    return fail(s, line, "unknown key '%s'", config_value_quoted(shown, q, sizeof q));
}

/* ---- value syntax ---- */

/* "500ms", "10s", "1m", "1h": a whole number and a unit, min_ms..a week. */
int topology_parse_duration(const char *value, int64_t min_ms, int64_t *out, char *msg,
                            size_t msglen)
{
    const char *p = value;
    int64_t n = 0;
    bool digits = false;
    while (isdigit((unsigned char)*p)) { /* saturates: the range check below refuses it */
        if (n <= DURATION_MAX_MS)
            n = n * 10 + (*p - '0');
        p++;
        digits = true;
    }
    int64_t scale = 0;
    if (!strcmp(p, "ms"))
        scale = 1;
    else if (!strcmp(p, "s"))
        scale = 1000;
    else if (!strcmp(p, "m"))
        scale = 60 * 1000;
    else if (!strcmp(p, "h"))
        scale = 3600 * 1000;
    char q[80];
    if (!digits || scale == 0) {
        snprintf(msg, msglen, "expected a duration like 500ms, 10s, 1m or 1h, got '%s'",
                 config_value_quoted(value, q, sizeof q));
        return ST_ECONFIG;
    }
    if (n > DURATION_MAX_MS || n * scale > DURATION_MAX_MS || n * scale < min_ms) {
        snprintf(msg, msglen, "expected a duration between %" PRId64 "ms and 7 days, got '%s'",
                 min_ms, config_value_quoted(value, q, sizeof q));
        return ST_ECONFIG;
    }
    *out = n * scale;
    return 0;
}

static bool host_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* One "host:port" in [start, start+len); host a name, IPv4 or [IPv6]; port 1..65535. */
static bool valid_host_port(const char *start, size_t len)
{
    const char *colon = NULL;
    if (len > 0 && start[0] == '[') {
        const char *close = memchr(start, ']', len);
        if (!close || close == start + 1 || close + 1 >= start + len || close[1] != ':')
            return false;
        for (const char *p = start + 1; p < close; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return false;
        colon = close + 1;
    } else {
        for (const char *p = start + len; p > start; p--)
            if (p[-1] == ':') {
                colon = p - 1;
                break;
            }
        if (!colon || colon == start)
            return false;
        for (const char *p = start; p < colon; p++)
            if (!host_char(*p))
                return false;
    }
    size_t port_len = (size_t)(start + len - colon - 1);
    if (port_len == 0 || port_len > 5)
        return false;
    int port = 0;
    for (const char *p = colon + 1; p < start + len; p++) {
        if (!isdigit((unsigned char)*p))
            return false;
        port = port * 10 + (*p - '0');
    }
    return port >= 1 && port <= 65535;
}

/* A comma-separated list of host:port (many true) or exactly one. */
static int check_addresses(const char *value, bool many, char *msg, size_t msglen)
{
    char q[80];
    const char *c = value;
    int count = 0;
    for (;; count++) {
        size_t n = strcspn(c, ",");
        const char *item = c;
        size_t len = config_value_trim(&item, n);
        if (!valid_host_port(item, len) || (!many && count > 0))
            break;
        if (c[n] == '\0')
            return 0;
        c += n + 1;
    }
    snprintf(msg, msglen, "expected %s with a port between 1 and 65535, got '%s'",
             many ? "host:port[,host:port...]" : "one host:port",
             config_value_quoted(value, q, sizeof q));
    return ST_ECONFIG;
}

static bool valid_region_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= TOPOLOGY_NAME_MAX)
        return false;
    for (const char *p = name; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
            return false;
    return true;
}

/* Compiles the anchored form ^(pattern)$; msg gets regerror's text. */
static int compile_anchored(const char *pattern, regex_t *re, char *msg, size_t msglen)
{
    char anchored[TOPOLOGY_PATTERN_BYTES + 8];
    snprintf(anchored, sizeof anchored, "^(%s)$", pattern);
    if (!regex_within_limits(anchored, msg, msglen))
        return ST_ECONFIG;
    int rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        regerror(rc, re, msg, msglen);
        return ST_ECONFIG;
    }
    return 0;
}

static bool matches_any(const char (*patterns)[TOPOLOGY_PATTERN_BYTES], int count,
                        const char *text)
{
    for (int i = 0; i < count; i++) {
        regex_t re;
        char msg[8];
        if (compile_anchored(patterns[i], &re, msg, sizeof msg) != 0)
            continue; /* validated at load: cannot happen */
        bool hit = regexec(&re, text, 0, NULL, 0) == 0;
        regfree(&re);
        if (hit)
            return true;
    }
    return false;
}

/* A regex list: the items of a sequence, or one scalar as one pattern
 * (commas are regex syntax too: "a{1,3}"). */
static int set_patterns(load_state *s, const yaml_map_entry *e, const char *shown,
                        char (*patterns)[TOPOLOGY_PATTERN_BYTES], int *count)
{
    int n = e->is_sequence ? e->item_count : 1;
    if (n > TOPOLOGY_PATTERN_MAX)
        return fail(s, e->line, "%s: more than %d patterns", shown, TOPOLOGY_PATTERN_MAX);
    for (int i = 0; i < n; i++) {
        const char *pattern = e->is_sequence ? e->items[i] : e->value;
        char q[80];
        if (pattern[0] == '\0')
            return fail(s, e->line, "%s: empty pattern", shown);
        if (strlen(pattern) >= TOPOLOGY_PATTERN_BYTES)
            return fail(s, e->line, "%s: pattern longer than %d bytes", shown,
                        TOPOLOGY_PATTERN_BYTES - 1);
        regex_t re;
        char msg[160];
        if (compile_anchored(pattern, &re, msg, sizeof msg) != 0)
            return fail(s, e->line, "%s: bad regex '%s': %s", shown,
                        config_value_quoted(pattern, q, sizeof q), msg);
        regfree(&re);
        snprintf(patterns[i], TOPOLOGY_PATTERN_BYTES, "%s", pattern);
    }
    *count = n;
    return 0;
}

/* Copies a scalar value into a field; refuses lists and values too long. */
static int set_string(load_state *s, const yaml_map_entry *e, const char *shown, char *field,
                      size_t size)
{
    if (e->is_sequence)
        return fail(s, e->line, "%s: expected a single value, got a list", shown);
    if (strlen(e->value) >= size)
        return fail(s, e->line, "%s: expected at most %zu characters, got %zu", shown, size - 1,
                    strlen(e->value));
    snprintf(field, size, "%s", e->value);
    return 0;
}

static int set_duration(load_state *s, const yaml_map_entry *e, const char *shown,
                        int64_t min_ms, int64_t *field)
{
    char msg[256];
    if (e->is_sequence)
        return fail(s, e->line, "%s: expected a single value, got a list", shown);
    if (topology_parse_duration(e->value, min_ms, field, msg, sizeof msg) != 0)
        return fail(s, e->line, "%s: %s", shown, msg);
    return 0;
}

static int set_choice(load_state *s, const yaml_map_entry *e, const char *shown,
                      const char *choices)
{
    char msg[256];
    if (e->is_sequence)
        return fail(s, e->line, "%s: expected a single value, got a list", shown);
    if (config_value_parse_choice(e->value, choices, msg, sizeof msg) != 0)
        return fail(s, e->line, "%s: %s", shown, msg);
    return 0;
}

/* ---- pass 1: one entry at a time ---- */

static int region_slot(load_state *s, const char *name, size_t len, int line)
{
    topology *t = s->t;
    char q[80];
    for (int i = 0; i < t->region_count; i++)
        if (strlen(t->regions[i].name) == len && !memcmp(t->regions[i].name, name, len))
            return i;
    char copy[LIMIT_CONFIG_VALUE_LENGTH + 1];
    snprintf(copy, sizeof copy, "%.*s", (int)len, name);
    if (!valid_region_name(copy))
        return fail(s, line, "regions.%s: a region name is 1 to %d characters of a-z, 0-9 and '-'",
                    config_value_quoted(copy, q, sizeof q), TOPOLOGY_NAME_MAX - 1);
    if (t->region_count == TOPOLOGY_REGIONS_MAX)
        return fail(s, line, "regions: more than %d regions", TOPOLOGY_REGIONS_MAX);
    topology_region *r = &t->regions[t->region_count];
    snprintf(r->name, sizeof r->name, "%s", copy);
    topology_client_defaults(&r->security);
    r->line = line;
    return t->region_count++;
}

static int on_region_key(load_state *s, const yaml_map_entry *e, const char *rest)
{
    static const char *const fields[] = {"bootstrap", "sidecar", "security",
                                         "sidecar_certificate", "sidecar_key"};
    const char *dot = strchr(rest, '.');
    if (!dot || dot[1] == '\0')
        return fail(s, e->line, "regions.%s: expected a mapping with bootstrap and sidecar", rest);
    int index = region_slot(s, rest, (size_t)(dot - rest), e->line);
    if (index < 0)
        return index;
    topology_region *r = &s->t->regions[index];
    const char *field = dot + 1;
    char shown[LIMIT_CONFIG_VALUE_LENGTH + 16], msg[256];
    snprintf(shown, sizeof shown, "regions.%s", rest);
    if (!strcmp(field, "bootstrap")) {
        int rc = set_string(s, e, shown, r->bootstrap, sizeof r->bootstrap);
        if (rc == 0 && check_addresses(r->bootstrap, true, msg, sizeof msg) != 0)
            return fail(s, e->line, "%s: %s", shown, msg);
        s->region_bootstrap_line[index] = e->line;
        return rc;
    }
    if (!strcmp(field, "sidecar")) {
        int rc = set_string(s, e, shown, r->sidecar, sizeof r->sidecar);
        if (rc == 0 && check_addresses(r->sidecar, false, msg, sizeof msg) != 0)
            return fail(s, e->line, "%s: %s", shown, msg);
        s->region_sidecar_line[index] = e->line;
        return rc;
    }
    if (!strcmp(field, "security"))
        return fail(s, e->line, "%s: expected a mapping (protocol, ca, certificate, key, "
                    "sasl_mechanism, username, password_file, password_env)", shown);
    if (!strncmp(field, "security.", 9)) {
        char why[512];
        return topology_client_key(r, e, field + 9, why, sizeof why) == 0
                   ? 0
                   : fail(s, e->line, "%s", why);
    }
    int rc = topology_control_region_key(r, e, field, msg, sizeof msg);
    if (rc != 1)
        return rc == 0 ? 0 : fail(s, e->line, "%s", msg);
    return unknown_key(s, e->line, shown, field, fields, 5);
}

static int on_flow_key(load_state *s, const yaml_map_entry *e, const char *rest)
{
    static const char *const fields[] = {
        "source", "target", "topics", "topics_exclude", "groups", "naming",
        "prefix_separator", "refresh_interval", "compression", "batch_bytes", "linger",
        "sync_acls",
    };
    const int field_count = (int)(sizeof fields / sizeof fields[0]);
    char *end = NULL;
    long index = strtol(rest, &end, 10);
    if (!isdigit((unsigned char)rest[0]) || *end != '.' || end[1] == '\0')
        return fail(s, e->line, "flows: expected a list of mappings (- source: A, target: B, ...)");
    if (index >= TOPOLOGY_FLOWS_MAX)
        return fail(s, e->line, "flows: more than %d flows", TOPOLOGY_FLOWS_MAX);
    topology_flow *f = &s->t->flows[index];
    flow_draft *d = &s->drafts[index];
    if (!d->present) {
        d->present = true;
        f->line = e->line;
        if (index + 1 > s->flow_slots)
            s->flow_slots = (int)index + 1;
    }
    const char *field = end + 1;
    char shown[LIMIT_CONFIG_VALUE_LENGTH + 32], msg[256], q[80];
    snprintf(shown, sizeof shown, "flows[%ld].%s", index, field);
    if (!strcmp(field, "source")) {
        d->source_line = e->line;
        return set_string(s, e, shown, d->source, sizeof d->source);
    }
    if (!strcmp(field, "target")) {
        d->target_line = e->line;
        return set_string(s, e, shown, d->target, sizeof d->target);
    }
    if (!strcmp(field, "topics")) {
        d->topics_set = true;
        return set_patterns(s, e, shown, f->topics, &f->topic_count);
    }
    if (!strcmp(field, "topics_exclude"))
        return set_patterns(s, e, shown, f->topics_exclude, &f->exclude_count);
    if (!strcmp(field, "groups"))
        return set_patterns(s, e, shown, f->groups, &f->group_count);
    if (!strcmp(field, "naming")) {
        int rc = set_choice(s, e, shown, "identity|prefix");
        f->naming = strcmp(e->value, "prefix") ? TOPOLOGY_NAMING_IDENTITY : TOPOLOGY_NAMING_PREFIX;
        return rc;
    }
    if (!strcmp(field, "prefix_separator")) {
        int rc = set_string(s, e, shown, f->prefix_separator, sizeof f->prefix_separator);
        if (rc != 0)
            return rc;
        bool ok = f->prefix_separator[0] != '\0';
        for (const char *p = f->prefix_separator; *p; p++)
            ok = ok && (isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-');
        if (!ok)
            return fail(s, e->line, "%s: expected 1 to 7 characters legal in topic names "
                        "(a-z, A-Z, 0-9, '.', '_', '-'), got '%s'", shown,
                        config_value_quoted(e->value, q, sizeof q));
        return 0;
    }
    if (!strcmp(field, "refresh_interval"))
        return set_duration(s, e, shown, 100, &f->refresh_interval_ms);
    if (!strcmp(field, "sync_acls")) {
        if (e->is_sequence || config_value_parse_bool(e->value, &f->sync_acls, msg, sizeof msg))
            return fail(s, e->line, "%s: expected true or false, got '%s'", shown,
                        e->is_sequence ? "a list" : config_value_quoted(e->value, q, sizeof q));
        return 0;
    }
    if (!strcmp(field, "linger"))
        return set_duration(s, e, shown, 0, &f->linger_ms);
    if (!strcmp(field, "compression")) {
        int rc = set_choice(s, e, shown, "none|gzip|snappy|lz4|zstd");
        return rc != 0 ? rc : set_string(s, e, shown, f->compression, sizeof f->compression);
    }
    if (!strcmp(field, "batch_bytes")) {
        if (e->is_sequence)
            return fail(s, e->line, "%s: expected a single value, got a list", shown);
        if (config_value_parse_int(e->value, 1, INT32_MAX, &f->batch_bytes, msg, sizeof msg) != 0)
            return fail(s, e->line, "%s: %s", shown, msg);
        return 0;
    }
    return unknown_key(s, e->line, shown, field, fields, field_count);
}

static int on_failover_key(load_state *s, const yaml_map_entry *e, const char *field)
{
    static const char *const fields[] = {
        "mode", "active", "detect_after", "broker_lease", "witness", "hooks.on_promote",
        "hooks.on_demote",
    };
    topology *t = s->t;
    char shown[LIMIT_CONFIG_VALUE_LENGTH + 16], msg[256];
    snprintf(shown, sizeof shown, "failover.%s", field);
    t->failover_configured = true;
    if (!strcmp(field, "mode")) {
        int rc = set_choice(s, e, shown, "manual|automatic");
        t->failover_mode = strcmp(e->value, "automatic") ? TOPOLOGY_FAILOVER_MANUAL
                                                         : TOPOLOGY_FAILOVER_AUTOMATIC;
        return rc;
    }
    if (!strcmp(field, "active")) {
        s->active_line = e->line;
        return set_string(s, e, shown, s->active, sizeof s->active);
    }
    if (!strcmp(field, "detect_after"))
        return set_duration(s, e, shown, 100, &t->failover_detect_after_ms);
    if (!strcmp(field, "broker_lease"))
        return set_duration(s, e, shown, 0, &t->failover_broker_lease_ms);
    if (!strcmp(field, "witness")) {
        int rc = set_string(s, e, shown, t->failover_witness, sizeof t->failover_witness);
        if (rc == 0 && check_addresses(t->failover_witness, false, msg, sizeof msg) != 0)
            return fail(s, e->line, "%s: %s", shown, msg);
        return rc;
    }
    if (!strcmp(field, "hooks.on_promote"))
        return set_string(s, e, shown, t->hook_on_promote, sizeof t->hook_on_promote);
    if (!strcmp(field, "hooks.on_demote"))
        return set_string(s, e, shown, t->hook_on_demote, sizeof t->hook_on_demote);
    return unknown_key(s, e->line, shown, field, fields, (int)(sizeof fields / sizeof fields[0]));
}

static int on_entry(load_state *s, const yaml_map_entry *e)
{
    static const char *const tops[] = {
        "regions", "flows", "failover", "checkpoints", "sidecar", "control_plane",
        "checkpoints.interval", "sidecar.state_dir",
    };
    topology *t = s->t;
    const char *key = e->key;
    if (!strncmp(key, "regions.", 8))
        return on_region_key(s, e, key + 8);
    if (!strcmp(key, "regions"))
        return fail(s, e->line, "regions: expected a mapping of region names "
                    "(east: {bootstrap: ..., sidecar: ...})");
    if (!strncmp(key, "flows.", 6))
        return on_flow_key(s, e, key + 6);
    if (!strcmp(key, "flows")) {
        if (e->is_sequence && e->item_count == 0)
            return 0; /* flows: [] */
        return fail(s, e->line, "flows: expected a list of mappings (- source: A, target: B, ...)");
    }
    if (!strncmp(key, "failover.", 9))
        return on_failover_key(s, e, key + 9);
    if (!strncmp(key, "control_plane.", 14)) {
        char msg[LIMIT_CONFIG_VALUE_LENGTH + 256];
        int rc = topology_control_key(t, e, key + 14, msg, sizeof msg);
        return rc == 0 ? 0 : fail(s, e->line, "%s", msg);
    }
    if (!strcmp(key, "control_plane"))
        return fail(s, e->line, "control_plane: expected a mapping (insecure, open_reads, "
                    "token_file, ca, witness_certificate, witness_key)");
    if (!strcmp(key, "checkpoints.interval"))
        return set_duration(s, e, key, 10, &t->checkpoint_interval_ms);
    if (!strcmp(key, "sidecar.state_dir")) {
        int rc = set_string(s, e, key, t->state_dir, sizeof t->state_dir);
        if (rc == 0 && t->state_dir[0] == '\0')
            return fail(s, e->line, "%s: expected a directory, got ''", key);
        return rc;
    }
    if (!strncmp(key, "checkpoints.", 12)) {
        static const char *const fields[] = {"interval"};
        return unknown_key(s, e->line, key, key + 12, fields, 1);
    }
    if (!strncmp(key, "sidecar.", 8)) {
        static const char *const fields[] = {"state_dir"};
        return unknown_key(s, e->line, key, key + 8, fields, 1);
    }
    char first[LIMIT_CONFIG_VALUE_LENGTH + 1];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(key, "."), key);
    return unknown_key(s, e->line, first, first, tops, 6);
}

/* ---- pass 2: relations ---- */

static void region_list(const topology *t, char *out, size_t outlen)
{
    out[0] = '\0';
    for (int i = 0; i < t->region_count; i++)
        config_value_list_append(out, outlen, t->regions[i].name, strlen(t->regions[i].name));
    /* config_value_list_append joins with ','; show ", " for people */
    char spaced[TOPOLOGY_REGIONS_MAX * (TOPOLOGY_NAME_MAX + 2)];
    size_t at = 0;
    for (const char *p = out; *p && at + 3 < sizeof spaced; p++) {
        spaced[at++] = *p;
        if (*p == ',')
            spaced[at++] = ' ';
    }
    spaced[at] = '\0';
    snprintf(out, outlen, "%s", spaced);
}

static int resolve_region(load_state *s, const char *name, int line, const char *shown,
                          int *index)
{
    char q[80], list[TOPOLOGY_REGIONS_MAX * (TOPOLOGY_NAME_MAX + 2)];
    *index = topology_region_index(s->t, name);
    if (*index >= 0)
        return 0;
    region_list(s->t, list, sizeof list);
    return fail(s, line, "%s: '%s' is not a region (regions: %s)", shown,
                config_value_quoted(name, q, sizeof q), list);
}

static void flow_defaults(topology_flow *f)
{
    f->naming = TOPOLOGY_NAMING_IDENTITY;
    snprintf(f->prefix_separator, sizeof f->prefix_separator, ".");
    f->exclude_count = 2;
    snprintf(f->topics_exclude[0], TOPOLOGY_PATTERN_BYTES, "__.*");
    snprintf(f->topics_exclude[1], TOPOLOGY_PATTERN_BYTES, "strait\\..*");
    f->group_count = 1;
    snprintf(f->groups[0], TOPOLOGY_PATTERN_BYTES, ".*");
    f->refresh_interval_ms = DEFAULT_REFRESH_INTERVAL_MS;
    snprintf(f->compression, sizeof f->compression, "lz4");
    f->batch_bytes = DEFAULT_BATCH_BYTES;
    f->linger_ms = DEFAULT_LINGER_MS;
    f->sync_acls = true;
}

static void topology_defaults(topology *t, const char *path)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    t->failover_mode = TOPOLOGY_FAILOVER_MANUAL;
    t->failover_detect_after_ms = DEFAULT_DETECT_AFTER_MS;
    t->failover_broker_lease_ms = -1;
    t->checkpoint_interval_ms = DEFAULT_CHECKPOINT_INTERVAL_MS;
    snprintf(t->state_dir, sizeof t->state_dir, "%s", DEFAULT_STATE_DIR);
    topology_control_defaults(t);
    for (int i = 0; i < TOPOLOGY_FLOWS_MAX; i++)
        flow_defaults(&t->flows[i]);
}

static int check_regions(load_state *s)
{
    topology *t = s->t;
    if (t->region_count == 0)
        return fail(s, 1, "regions: at least one region is required");
    for (int i = 0; i < t->region_count; i++) {
        const topology_region *r = &t->regions[i];
        if (!r->bootstrap[0])
            return fail(s, r->line, "regions.%s.bootstrap: missing (host:port of its brokers)",
                        r->name);
        if (!r->sidecar[0])
            return fail(s, r->line, "regions.%s.sidecar: missing (host:port of its sidecar's HTTP)",
                        r->name);
        for (int j = 0; j < i; j++)
            if (!strcmp(t->regions[j].sidecar, r->sidecar))
                return fail(s, s->region_sidecar_line[i],
                            "regions.%s.sidecar: '%s' is also the sidecar of %s", r->name,
                            r->sidecar, t->regions[j].name);
    }
    return 0;
}

/* A sample name that pattern list matches, for the cycle probe: literal
 * patterns (letters, digits, '_', '-', escaped dots) give themselves, and a
 * few common names cover wildcards. Returns false when none is found. */
static bool sample_topic(const topology_flow *f, int index, char *out, size_t outlen)
{
    const char *pattern = f->topics[index];
    size_t at = 0;
    bool literal = true;
    for (const char *p = pattern; *p && literal && at + 1 < outlen; p++) {
        if (p[0] == '\\' && p[1] == '.') {
            out[at++] = '.';
            p++;
        } else if (isalnum((unsigned char)*p) || *p == '_' || *p == '-') {
            out[at++] = *p;
        } else {
            literal = false;
        }
    }
    out[at] = '\0';
    if (literal && at > 0 && topology_flow_matches_topic(f, out))
        return true;
    static const char *const probes[] = {"orders", "x", "topic-1"};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        snprintf(out, outlen, "%s", probes[i]);
        if (topology_flow_matches_topic(f, out))
            return true;
    }
    return false;
}

/*
 * Prefix naming on A->B creates "A<sep>t" in B. A flow B->A under identity
 * naming whose patterns take such a name copies it into A under the same
 * name, where A->B's patterns may see it again ("A.A.t" ...): the prefix
 * rule (a topic named after the target is its own) belongs to the prefix
 * policy only, so this pairing is refused at load.
 */
static int check_cycles(load_state *s)
{
    topology *t = s->t;
    for (int i = 0; i < t->flow_count; i++) {
        const topology_flow *f = &t->flows[i];
        if (f->naming != TOPOLOGY_NAMING_PREFIX)
            continue;
        for (int j = 0; j < t->flow_count; j++) {
            const topology_flow *back = &t->flows[j];
            if (back->source != f->target || back->target != f->source ||
                back->naming != TOPOLOGY_NAMING_IDENTITY)
                continue;
            for (int k = 0; k < f->topic_count; k++) {
                char sample[TOPOLOGY_PATTERN_BYTES], remote[TOPOLOGY_PATTERN_BYTES + 80];
                if (!sample_topic(f, k, sample, sizeof sample))
                    continue;
                if (topology_target_topic(t, f, sample, remote, sizeof remote) != 0)
                    continue;
                if (topology_flow_matches_topic(back, remote))
                    return fail(s, back->line,
                                "flows[%d]: %s -> %s (identity naming) would copy '%s', which "
                                "flows[%d] (prefix naming) creates in %s, back into %s; exclude "
                                "it with topics_exclude or use prefix naming on both", j,
                                t->regions[back->source].name, t->regions[back->target].name,
                                remote, i, t->regions[f->target].name,
                                t->regions[f->source].name);
            }
        }
    }
    return 0;
}

static int check_flows(load_state *s)
{
    topology *t = s->t;
    for (int i = 0; i < s->flow_slots; i++) {
        flow_draft *d = &s->drafts[i];
        topology_flow *f = &t->flows[i];
        char shown[32];
        if (!d->present)
            return fail(s, 1, "flows[%d]: missing", i); /* yaml_map indexes densely */
        if (!d->source[0])
            return fail(s, f->line, "flows[%d].source: missing (a region name)", i);
        if (!d->target[0])
            return fail(s, f->line, "flows[%d].target: missing (a region name)", i);
        if (!d->topics_set || f->topic_count == 0)
            return fail(s, f->line, "flows[%d].topics: missing (a list of regexes)", i);
        snprintf(shown, sizeof shown, "flows[%d].source", i);
        int rc = resolve_region(s, d->source, d->source_line, shown, &f->source);
        snprintf(shown, sizeof shown, "flows[%d].target", i);
        if (rc == 0)
            rc = resolve_region(s, d->target, d->target_line, shown, &f->target);
        if (rc != 0)
            return rc;
        if (f->source == f->target)
            return fail(s, d->target_line, "flows[%d].target: '%s' is also the source; a flow "
                        "goes between two regions", i, d->target);
        for (int j = 0; j < i; j++)
            if (t->flows[j].source == f->source && t->flows[j].target == f->target)
                return fail(s, f->line, "flows[%d]: duplicate of flows[%d] (%s -> %s); put "
                            "both topic lists in one flow", i, j, d->source, d->target);
        t->flow_count = i + 1;
    }
    return check_cycles(s);
}

static int check_failover(load_state *s)
{
    topology *t = s->t;
    if (!s->active[0]) {
        t->failover_active = 0; /* the first region in the file */
        return 0;
    }
    return resolve_region(s, s->active, s->active_line, "failover.active", &t->failover_active);
}

int topology_load(const char *path, topology *out, char *err, size_t errlen)
{
    if (errlen > 0)
        err[0] = '\0';
    topology *t = malloc(sizeof *t);
    load_state *s = calloc(1, sizeof *s);
    if (!t || !s) {
        free(t);
        free(s);
        snprintf(err, errlen, "%s: out of memory", path);
        return ST_ENOMEM;
    }
    topology_defaults(t, path);
    s->path = path;
    s->t = t;
    s->err = err;
    s->errlen = errlen;
    yaml_map map;
    int rc = yaml_map_load(path, YAML_MAP_INDEXED_SEQUENCES, &map, err, errlen);
    if (rc != 0) {
        rc = rc == ST_ENOMEM ? rc : ST_ECONFIG;
    } else {
        for (int i = 0; i < map.count && rc == 0; i++)
            rc = on_entry(s, &map.entries[i]);
        if (rc == 0)
            rc = check_regions(s);
        if (rc == 0)
            rc = check_flows(s);
        if (rc == 0)
            rc = check_failover(s);
        if (rc == 0) {
            char msg[512];
            int line = 1;
            rc = topology_control_check(t, msg, sizeof msg, &line);
            if (rc == 0)
                rc = topology_client_check(t, msg, sizeof msg, &line);
            if (rc != 0)
                fail(s, line, "%s", msg);
        }
        yaml_map_free(&map);
    }
    if (rc == 0) {
        for (int i = t->flow_count; i < TOPOLOGY_FLOWS_MAX; i++)
            memset(&t->flows[i], 0, sizeof t->flows[i]);
        memcpy(out, t, sizeof *t);
    }
    free(s);
    free(t);
    return rc;
}

int topology_region_index(const topology *t, const char *name)
{
    for (int i = 0; i < t->region_count; i++)
        if (!strcmp(t->regions[i].name, name))
            return i;
    return -1;
}

bool topology_flow_matches_topic(const topology_flow *flow, const char *topic)
{
    return matches_any(flow->topics, flow->topic_count, topic) &&
           !matches_any(flow->topics_exclude, flow->exclude_count, topic);
}

bool topology_flow_matches_group(const topology_flow *flow, const char *group)
{
    return matches_any(flow->groups, flow->group_count, group);
}

int topology_target_topic(const topology *t, const topology_flow *flow, const char *source_topic,
                          char *out, size_t outlen)
{
    int n;
    if (flow->naming == TOPOLOGY_NAMING_PREFIX)
        n = snprintf(out, outlen, "%s%s%s", t->regions[flow->source].name,
                     flow->prefix_separator, source_topic);
    else
        n = snprintf(out, outlen, "%s", source_topic);
    if (n < 0 || (size_t)n >= outlen || n > LIMIT_TOPIC_NAME_LENGTH) {
        if (outlen > 0)
            out[0] = '\0';
        return ST_ETOOBIG;
    }
    return 0;
}

const char *topology_flow_name(const topology *t, const topology_flow *flow, char *out,
                               size_t outlen)
{
    snprintf(out, outlen, "%s->%s", t->regions[flow->source].name, t->regions[flow->target].name);
    return out;
}
