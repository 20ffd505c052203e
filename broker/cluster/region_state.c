/*
 * region_state.c - the broker's failover state (keys and rules in
 * region_state.h): parsing and validating a change as a whole, persisting
 * it, loading it at start, and matching topics and groups against it.
 *
 * File <first log dir>/strait-region-state (text, at most
 * LIMIT_REGION_STATE_FILE_BYTES, written with file_write_atomic):
 *
 *   LINE   CONTENT
 *   1      "# strait region state: written by the broker" (lines starting
 *          with '#' and empty lines are ignored)
 *   2..    key=value, one line per key that is set; keys from
 *          region_state.h, each at most once; the value runs to the end of
 *          the line (values never hold control characters: refused on input),
 *          e.g. "strait.region.lease.ms=1500"
 *
 * The lease's renewal time and the last anchor are not in the file: they
 * are monotonic times of this process, and a state read back must be confirmed (any apply) by its
 * sidecar before an active role takes writes again, with a lease or without
 * (region_state.h).
 *
 * Every value read back goes through the same validation as a value from
 * the wire; an unknown key, a repeated key, a line without '=', a NUL byte or
 * a bad value makes the file corrupt (ST_ECORRUPT, logged with the line).
 *
 * Lease: the queries (effective role, lapsed) are pure functions of the
 * state and a time; region_state_lease_check only logs the transitions it
 * sees, from the broker's tick and from apply.
 *
 * Runs on the broker's event-loop thread.
 */
#include "broker/cluster/region_state.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/config_value.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/invariant.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/regex_limit.h"

enum {
    KEY_ROLE,
    KEY_EPOCH,
    KEY_LEASE_MS,
    KEY_ACTIVE,
    KEY_BROKERS,
    KEY_TOPICS,
    KEY_TOPICS_EXCLUDE,
    KEY_GROUPS,
    KEY_COUNT
};

static const char *const key_names[KEY_COUNT] = {
    [KEY_ROLE] = REGION_KEY_ROLE,       [KEY_EPOCH] = REGION_KEY_EPOCH,
    [KEY_LEASE_MS] = REGION_KEY_LEASE_MS,
    [KEY_ACTIVE] = REGION_KEY_ACTIVE,   [KEY_BROKERS] = REGION_KEY_BROKERS,
    [KEY_TOPICS] = REGION_KEY_TOPICS,   [KEY_TOPICS_EXCLUDE] = REGION_KEY_TOPICS_EXCLUDE,
    [KEY_GROUPS] = REGION_KEY_GROUPS,
};

/* One complete state: the text of each key as given, and what it parses to.
 * Invariant: the parsed fields always agree with the text (built only by
 * values_compile). */
typedef struct region_values {
    bool set[KEY_COUNT];
    char text[KEY_COUNT][LIMIT_CONFIG_VALUE_LENGTH + 1];
    enum region_role role;
    int32_t epoch; /* 0 = unset */
    int64_t lease_ms; /* 0 = no lease; at most LIMIT_REGION_LEASE_MS_MAX */
    region_broker brokers[LIMIT_REGION_REDIRECT_BROKERS];
    int broker_count;
    regex_t topics[LIMIT_REGION_PATTERNS];
    int topic_count;
    regex_t topics_exclude[LIMIT_REGION_PATTERNS];
    int topic_exclude_count;
    regex_t groups[LIMIT_REGION_PATTERNS];
    int group_count;
} region_values;

struct region_state {
    char *data_dir;
    region_values *v;
    /* The lease: renewed_mono_ms is the clock_mono_ms of the last renewal,
     * meaningful only when renewed (never true for a state just opened). */
    bool renewed;
    int64_t renewed_mono_ms;
    /* False for a role read back from the file until an apply confirms it:
     * a broker that restarts as `active` takes no client writes before its
     * sidecar has said it still is (lease or not). */
    bool confirmed;
    /* Whether region_state_lease_check last logged a lapse (so each
     * transition is logged once). */
    bool lapse_logged;
    /* The anchors (strait.region.lease.anchor.ms, region_state.h): the
     * clock_mono_ms when this state was opened (an anchor read before it
     * belongs to an earlier process: stale), and the anchor of the last
     * change applied with one (0 = none yet; changes are refused with an
     * older anchor, so a delayed change never overtakes a later one). */
    int64_t opened_mono_ms;
    int64_t last_anchor_ms;
};

static const char *const role_names[] = {
    [REGION_ROLE_NONE] = "none",
    [REGION_ROLE_ACTIVE] = REGION_ROLE_NAME_ACTIVE,
    [REGION_ROLE_STANDBY] = REGION_ROLE_NAME_STANDBY,
    [REGION_ROLE_FENCED] = REGION_ROLE_NAME_FENCED,
    [REGION_ROLE_PROMOTING] = REGION_ROLE_NAME_PROMOTING,
};

const char *region_role_name(enum region_role role)
{
    return (unsigned)role <= REGION_ROLE_PROMOTING ? role_names[role] : "none";
}

static int key_index(const char *key)
{
    for (int i = 0; i < KEY_COUNT; i++)
        if (strcmp(key_names[i], key) == 0)
            return i;
    return -1;
}

bool region_state_key_known(const char *key)
{
    return key_index(key) >= 0;
}

static void values_free_compiled(region_values *v)
{
    for (int i = 0; i < v->topic_count; i++)
        regfree(&v->topics[i]);
    for (int i = 0; i < v->topic_exclude_count; i++)
        regfree(&v->topics_exclude[i]);
    for (int i = 0; i < v->group_count; i++)
        regfree(&v->groups[i]);
    v->topic_count = v->topic_exclude_count = v->group_count = 0;
}

static void values_free(region_values *v)
{
    if (!v)
        return;
    values_free_compiled(v);
    free(v);
}

/* ---- parsing values ------------------------------------------------------ */

static int parse_role(const char *text, enum region_role *out, char *err, size_t errlen)
{
    for (int r = REGION_ROLE_ACTIVE; r <= REGION_ROLE_PROMOTING; r++)
        if (strcmp(text, role_names[r]) == 0) {
            *out = (enum region_role)r;
            return 0;
        }
    char q[80];
    snprintf(err, errlen, "%s: expected active, standby, fenced or promoting, got '%s'", REGION_KEY_ROLE,
             config_value_quoted(text, q, sizeof q));
    return ST_ECONFIG;
}

static int parse_region_name(const char *text, char *err, size_t errlen)
{
    size_t n = strlen(text);
    bool ok = n >= 1 && n <= LIMIT_REGION_NAME_LENGTH;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)text[i]) || text[i] == '-' || text[i] == '_' || text[i] == '.';
    if (ok)
        return 0;
    char q[80];
    snprintf(err, errlen, "%s: expected a region name of 1 to %d characters [A-Za-z0-9._-], "
             "got '%s'", REGION_KEY_ACTIVE, LIMIT_REGION_NAME_LENGTH,
             config_value_quoted(text, q, sizeof q));
    return ST_ECONFIG;
}

/* One "id@host:port" item of len bytes at item. A host in brackets ([::1])
 * loses them. */
static int parse_broker(const char *item, size_t len, region_broker *out, char *err,
                        size_t errlen)
{
    char text[LIMIT_CONFIG_VALUE_LENGTH + 1], q[80], msg[160];
    INVARIANT(len <= LIMIT_CONFIG_VALUE_LENGTH); /* an item of one value */
    memcpy(text, item, len);
    text[len] = '\0';
    char *at = strchr(text, '@');
    char *colon = strrchr(text, ':');
    if (!at || !colon || colon < at) {
        snprintf(err, errlen, "%s: expected id@host:port, got '%s'", REGION_KEY_BROKERS,
                 config_value_quoted(text, q, sizeof q));
        return ST_ECONFIG;
    }
    *at = '\0';
    *colon = '\0';
    int64_t id = 0, port = 0;
    if (config_value_parse_int(text, 0, INT32_MAX, &id, msg, sizeof msg) != 0 ||
        config_value_parse_int(colon + 1, 1, 65535, &port, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "%s: item '%s': %s", REGION_KEY_BROKERS,
                 config_value_quoted(item, q, sizeof q), msg);
        return ST_ECONFIG;
    }
    char *host = at + 1;
    size_t host_len = strlen(host);
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
        host[host_len - 1] = '\0';
        host++;
        host_len -= 2;
    }
    bool ok = host_len > 0 && host_len < sizeof out->host;
    for (size_t i = 0; ok && i < host_len; i++)
        ok = isgraph((unsigned char)host[i]) && host[i] != '@' && host[i] != ',';
    if (!ok) {
        snprintf(err, errlen, "%s: item '%s': bad host", REGION_KEY_BROKERS,
                 config_value_quoted(item, q, sizeof q));
        return ST_ECONFIG;
    }
    out->node_id = (int32_t)id;
    memcpy(out->host, host, host_len + 1);
    out->port = (int32_t)port;
    return 0;
}

static int parse_brokers(const char *text, region_values *v, char *err, size_t errlen)
{
    v->broker_count = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, ",");
        const char *item = p;
        size_t len = config_value_trim(&item, n);
        if (len == 0) {
            snprintf(err, errlen, "%s: empty item in the list", REGION_KEY_BROKERS);
            return ST_ECONFIG;
        }
        if (v->broker_count == LIMIT_REGION_REDIRECT_BROKERS) {
            snprintf(err, errlen, "%s: more than %d brokers", REGION_KEY_BROKERS,
                     LIMIT_REGION_REDIRECT_BROKERS);
            return ST_ECONFIG;
        }
        region_broker *b = &v->brokers[v->broker_count];
        int rc = parse_broker(item, len, b, err, errlen);
        if (rc != 0)
            return rc;
        for (int i = 0; i < v->broker_count; i++)
            if (v->brokers[i].node_id == b->node_id) {
                snprintf(err, errlen, "%s: broker id %d is listed twice", REGION_KEY_BROKERS,
                         (int)b->node_id);
                return ST_ECONFIG;
            }
        v->broker_count++;
        p += n + (p[n] == ',');
        if (p[-1] == ',' && *p == '\0') {
            snprintf(err, errlen, "%s: empty item in the list", REGION_KEY_BROKERS);
            return ST_ECONFIG;
        }
    }
    return 0;
}

/* Length of the next pattern at p: up to the first comma outside (), []
 * and {} that is not escaped. */
static size_t pattern_length(const char *p)
{
    int parens = 0, braces = 0;
    bool bracket = false;
    size_t i = 0;
    for (; p[i]; i++) {
        char c = p[i];
        if (c == '\\' && p[i + 1]) {
            i++;
            continue;
        }
        if (bracket) {
            /* ']' right after '[' or '[^' is a literal member */
            bool first = (i >= 1 && p[i - 1] == '[') || (i >= 2 && p[i - 1] == '^' && p[i - 2] == '[');
            if (c == ']' && !first)
                bracket = false;
            continue;
        }
        if (c == '[')
            bracket = true;
        else if (c == '(')
            parens++;
        else if (c == ')' && parens > 0)
            parens--;
        else if (c == '{')
            braces++;
        else if (c == '}' && braces > 0)
            braces--;
        else if (c == ',' && parens == 0 && braces == 0)
            break;
    }
    return i;
}

static int parse_patterns(const char *key, const char *text, regex_t *out, int *count, char *err,
                          size_t errlen)
{
    *count = 0;
    for (const char *p = text; *p;) {
        size_t n = pattern_length(p);
        const char *item = p;
        size_t len = config_value_trim(&item, n);
        char q[80];
        if (len == 0) {
            snprintf(err, errlen, "%s: empty pattern in the list", key);
            return ST_ECONFIG;
        }
        if (*count == LIMIT_REGION_PATTERNS) {
            snprintf(err, errlen, "%s: more than %d patterns", key, LIMIT_REGION_PATTERNS);
            return ST_ECONFIG;
        }
        char anchored[LIMIT_CONFIG_VALUE_LENGTH + 8], pattern[LIMIT_CONFIG_VALUE_LENGTH + 1];
        INVARIANT(len <= LIMIT_CONFIG_VALUE_LENGTH); /* a pattern of one value */
        memcpy(pattern, item, len);
        pattern[len] = '\0';
        snprintf(anchored, sizeof anchored, "^(%s)$", pattern);
        char why[128];
        if (!regex_within_limits(anchored, why, sizeof why)) {
            snprintf(err, errlen, "%s: bad regex '%s': %s", key,
                     config_value_quoted(pattern, q, sizeof q), why);
            return ST_ECONFIG;
        }
        int rc = regcomp(&out[*count], anchored, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            regerror(rc, &out[*count], why, sizeof why);
            snprintf(err, errlen, "%s: bad regex '%s': %s", key,
                     config_value_quoted(pattern, q, sizeof q), why);
            return ST_ECONFIG;
        }
        (*count)++;
        p += n + (p[n] == ',');
        if (p[-1] == ',' && *p == '\0') {
            snprintf(err, errlen, "%s: empty pattern in the list", key);
            return ST_ECONFIG;
        }
    }
    return 0;
}

/* Parses every set key of v's text into its fields and checks the rules
 * that need no stored state. On error v holds nothing to free but its
 * compiled patterns (values_free handles both). */
static int values_compile(region_values *v, char *err, size_t errlen)
{
    values_free_compiled(v);
    v->role = REGION_ROLE_NONE;
    v->epoch = 0;
    v->lease_ms = 0;
    v->broker_count = 0;
    for (int k = 0; k < KEY_COUNT; k++) {
        if (!v->set[k])
            continue;
        for (const char *c = v->text[k]; *c; c++)
            if (iscntrl((unsigned char)*c)) {
                snprintf(err, errlen, "%s: the value contains a control character",
                         key_names[k]);
                return ST_ECONFIG;
            }
    }
    int rc = 0;
    int64_t epoch = 0;
    char msg[160];
    if (v->set[KEY_ROLE] && (rc = parse_role(v->text[KEY_ROLE], &v->role, err, errlen)) != 0)
        return rc;
    if (v->set[KEY_EPOCH]) {
        if (config_value_parse_int(v->text[KEY_EPOCH], 1, INT32_MAX, &epoch, msg, sizeof msg) != 0) {
            snprintf(err, errlen, "%s: %s", REGION_KEY_EPOCH, msg);
            return ST_ECONFIG;
        }
        v->epoch = (int32_t)epoch;
    }
    if (v->set[KEY_LEASE_MS] &&
        config_value_parse_int(v->text[KEY_LEASE_MS], 0, LIMIT_REGION_LEASE_MS_MAX, &v->lease_ms,
                               msg, sizeof msg) != 0) {
        snprintf(err, errlen, "%s: %s", REGION_KEY_LEASE_MS, msg);
        return ST_ECONFIG;
    }
    if (v->set[KEY_ACTIVE] && (rc = parse_region_name(v->text[KEY_ACTIVE], err, errlen)) != 0)
        return rc;
    if (v->set[KEY_BROKERS] && (rc = parse_brokers(v->text[KEY_BROKERS], v, err, errlen)) != 0)
        return rc;
    if (v->set[KEY_TOPICS] && (rc = parse_patterns(REGION_KEY_TOPICS, v->text[KEY_TOPICS],
                                                   v->topics, &v->topic_count, err, errlen)) != 0)
        return rc;
    if (v->set[KEY_TOPICS_EXCLUDE] &&
        (rc = parse_patterns(REGION_KEY_TOPICS_EXCLUDE, v->text[KEY_TOPICS_EXCLUDE],
                             v->topics_exclude, &v->topic_exclude_count, err, errlen)) != 0)
        return rc;
    if (v->set[KEY_GROUPS] && (rc = parse_patterns(REGION_KEY_GROUPS, v->text[KEY_GROUPS],
                                                   v->groups, &v->group_count, err, errlen)) != 0)
        return rc;
    if (v->role != REGION_ROLE_NONE && v->epoch == 0) {
        snprintf(err, errlen, "%s %s needs %s", REGION_KEY_ROLE, role_names[v->role],
                 REGION_KEY_EPOCH);
        return ST_ECONFIG;
    }
    if (v->role == REGION_ROLE_STANDBY && v->broker_count == 0) {
        snprintf(err, errlen, "%s must name the active region's brokers (id@host:port,...) when "
                 "%s is standby", REGION_KEY_BROKERS, REGION_KEY_ROLE);
        return ST_ECONFIG;
    }
    /* the parsed fields agree with the text (region_values) */
    INVARIANT(v->set[KEY_ROLE] == (v->role != REGION_ROLE_NONE) && v->set[KEY_EPOCH] == (v->epoch > 0));
    INVARIANT(v->lease_ms >= 0 && v->lease_ms <= LIMIT_REGION_LEASE_MS_MAX &&
              v->broker_count <= LIMIT_REGION_REDIRECT_BROKERS && v->topic_count <= LIMIT_REGION_PATTERNS &&
              v->topic_exclude_count <= LIMIT_REGION_PATTERNS && v->group_count <= LIMIT_REGION_PATTERNS);
    return 0;
}

/* ---- persistence --------------------------------------------------------- */

static int values_parse_file(const char *path, char *text, region_values *v);
static bool values_same_text(const region_values *a, const region_values *b);

/* Checked before it is written (INVARIANT_EXPENSIVE): the file's text parses
 * back to the same keys and values. True when there is no memory to check. */
static bool saved_text_reads_back(const char *text, size_t len, const region_values *v)
{
    char *copy = malloc(len + 1);
    region_values *back = calloc(1, sizeof *back);
    bool same = true;
    if (copy && back) {
        memcpy(copy, text, len);
        copy[len] = '\0';
        same = values_parse_file("(check before write)", copy, back) == 0 && values_same_text(v, back);
    }
    free(copy);
    free(back);
    return same;
}

static int values_save(const char *data_dir, const region_values *v)
{
    size_t cap = LIMIT_REGION_STATE_FILE_BYTES, at = 0;
    char *text = malloc(cap);
    if (!text)
        return ST_ENOMEM;
    at += (size_t)snprintf(text, cap, "# strait region state: written by the broker\n");
    for (int k = 0; k < KEY_COUNT && at < cap; k++)
        if (v->set[k])
            at += (size_t)snprintf(text + at, cap - at, "%s=%s\n", key_names[k], v->text[k]);
    /* _Static_assert in limits.h: every key at its longest fits the file */
    INVARIANT(at < cap);
    INVARIANT_EXPENSIVE(saved_text_reads_back(text, at, v));
    int rc = at < cap ? file_write_atomic(data_dir, REGION_STATE_FILE_NAME, text, at) : ST_ETOOBIG;
    free(text);
    return rc;
}

/* Parses the file's text (NUL-terminated, len bytes) into v's text. */
static int values_parse_file(const char *path, char *text, region_values *v)
{
    int line_no = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line_no++;
        if (line[0] != '\0' && line[0] != '#') {
            char *eq = strchr(line, '=');
            int k = -1;
            if (eq) {
                *eq = '\0';
                k = key_index(line);
            }
            const char *why = !eq ? "expected key=value" : k < 0 ? "unknown key"
                              : v->set[k] ? "key repeated"
                              : strlen(eq + 1) > LIMIT_CONFIG_VALUE_LENGTH ? "value too long" : NULL;
            if (why) {
                log_error("cluster", "corrupt region state file path=%s line=%d reason=\"%s\"",
                          path, line_no, why);
                return ST_ECORRUPT;
            }
            INVARIANT(k >= 0 && k < KEY_COUNT);
            v->set[k] = true;
            memcpy(v->text[k], eq + 1, strlen(eq + 1) + 1);
        }
        line = next;
    }
    return 0;
}

static int values_load(const char *data_dir, region_values *v)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", data_dir, REGION_STATE_FILE_NAME) >= sizeof path)
        return ST_EINVAL;
    char *text = NULL;
    size_t len = 0;
    int rc = file_read_all(path, LIMIT_REGION_STATE_FILE_BYTES, &text, &len);
    if (rc == ST_ENOTFOUND)
        return 0;
    if (rc != 0) {
        log_error("cluster", "cannot read region state file path=%s error=%s", path,
                  strait_error_name(rc));
        return rc == ST_ETOOBIG ? ST_ECORRUPT : rc;
    }
    if (memchr(text, '\0', len) != NULL) {
        log_error("cluster", "corrupt region state file path=%s reason=\"NUL byte\"", path);
        rc = ST_ECORRUPT;
    } else {
        rc = values_parse_file(path, text, v);
    }
    free(text);
    if (rc != 0)
        return rc;
    char err[512];
    if (values_compile(v, err, sizeof err) != 0) {
        log_error("cluster", "corrupt region state file path=%s reason=\"%s\"", path, err);
        return ST_ECORRUPT;
    }
    return 0;
}

/* ---- lifecycle ------------------------------------------------------------- */

int region_state_new(const char *data_dir, region_state **out)
{
    *out = NULL;
    region_state *rs = calloc(1, sizeof *rs);
    if (!rs)
        return ST_ENOMEM;
    rs->data_dir = strdup(data_dir ? data_dir : ".");
    rs->v = calloc(1, sizeof *rs->v);
    if (!rs->data_dir || !rs->v) {
        region_state_close(rs);
        return ST_ENOMEM;
    }
    rs->confirmed = true; /* nothing was read back */
    rs->opened_mono_ms = clock_mono_ms();
    *out = rs;
    return 0;
}

int region_state_open(const char *data_dir, region_state **out)
{
    region_state *rs;
    int rc = region_state_new(data_dir, &rs);
    if (rc != 0)
        return rc;
    rc = values_load(data_dir, rs->v);
    if (rc != 0) {
        region_state_close(rs);
        *out = NULL;
        return rc;
    }
    if (rs->v->role != REGION_ROLE_NONE)
        log_info("cluster", "region state loaded role=%s epoch=%d lease_ms=%lld active=%s "
                 "redirect_brokers=%d",
                 role_names[rs->v->role], (int)rs->v->epoch, (long long)rs->v->lease_ms,
                 region_state_active_region(rs), rs->v->broker_count);
    rs->confirmed = rs->v->role == REGION_ROLE_NONE;
    INVARIANT(!rs->renewed); /* a lease read back was not renewed by this process */
    if (rs->v->role == REGION_ROLE_ACTIVE)
        log_warn("cluster", "region role active read back from %s: client writes to mirrored "
                 "topics are refused until the sidecar confirms the role", REGION_STATE_FILE_NAME);
    /* a lease read back has not been renewed by this process: say so now */
    region_state_lease_check(rs, clock_mono_ms());
    *out = rs;
    return 0;
}

void region_state_close(region_state *rs)
{
    if (!rs)
        return;
    values_free(rs->v);
    free(rs->data_dir);
    free(rs);
}

/* ---- applying a change ----------------------------------------------------- */

/* The anchor of a change (strait.region.lease.anchor.ms): a SET with a
 * decimal 1..INT64_MAX into *anchor_ms (-1 when the change has none). */
static int anchor_parse(const char *value, int op, int64_t *anchor_ms, char *err, size_t errlen)
{
    char msg[160], q[80];
    if (*anchor_ms >= 0) {
        snprintf(err, errlen, "%s is given more than once", REGION_KEY_LEASE_ANCHOR_MS);
        return ST_EINVAL;
    }
    if (op != REGION_OP_SET || !value) {
        snprintf(err, errlen, "%s is not state: only SET with a value", REGION_KEY_LEASE_ANCHOR_MS);
        return ST_EINVAL;
    }
    if (config_value_parse_int(value, 1, INT64_MAX, anchor_ms, msg, sizeof msg) != 0) {
        *anchor_ms = -1;
        snprintf(err, errlen, "%s: %s, got '%s'", REGION_KEY_LEASE_ANCHOR_MS, msg,
                 config_value_quoted(value, q, sizeof q));
        return ST_ECONFIG;
    }
    return 0;
}

/* Copies the text of keys[]/values[] into v (which starts as the stored
 * state, or empty for replace); the anchor, which is not state, goes to
 * *anchor_ms (-1 when absent). */
static int values_edit(region_values *v, const char *const *keys, const char *const *values,
                       const int8_t *ops, int count, int64_t *anchor_ms, char *err,
                       size_t errlen)
{
    bool seen[KEY_COUNT] = {false};
    *anchor_ms = -1;
    for (int i = 0; i < count; i++) {
        int k = key_index(keys[i]);
        int op = ops ? ops[i] : REGION_OP_SET;
        if (strcmp(keys[i], REGION_KEY_LEASE_ANCHOR_MS) == 0) {
            int rc = anchor_parse(values[i], op, anchor_ms, err, errlen);
            if (rc != 0)
                return rc;
            continue;
        }
        if (k < 0) {
            snprintf(err, errlen, "broker config '%s' cannot be changed dynamically: strait "
                     "accepts only strait.region.* and strait.redirect.* keys", keys[i]);
            return ST_EINVAL;
        }
        if (seen[k]) {
            snprintf(err, errlen, "%s is given more than once", keys[i]);
            return ST_EINVAL;
        }
        seen[k] = true;
        if (op == REGION_OP_DELETE || (op == REGION_OP_SET && !values[i] && !ops)) {
            v->set[k] = false;
            v->text[k][0] = '\0';
        } else if (op == REGION_OP_SET) {
            if (!values[i]) {
                snprintf(err, errlen, "%s: SET needs a value", keys[i]);
                return ST_EINVAL;
            }
            size_t len = strlen(values[i]);
            if (len > LIMIT_CONFIG_VALUE_LENGTH) {
                snprintf(err, errlen, "%s: value longer than %d bytes", keys[i],
                         LIMIT_CONFIG_VALUE_LENGTH);
                return ST_ECONFIG;
            }
            v->set[k] = true;
            memcpy(v->text[k], values[i], len + 1);
        } else {
            snprintf(err, errlen, "%s: operation %d is not supported (only SET and DELETE)",
                     keys[i], op);
            return ST_EINVAL;
        }
    }
    return 0;
}

/* True if a and b set the same keys to the same text (so they parse alike). */
static bool values_same_text(const region_values *a, const region_values *b)
{
    for (int k = 0; k < KEY_COUNT; k++)
        if (a->set[k] != b->set[k] || (a->set[k] && strcmp(a->text[k], b->text[k]) != 0))
            return false;
    return true;
}

/* An anchor must be a clock value this broker process reported, and not
 * older than the anchor of a change already applied (region_state.h). */
static int anchor_check(const region_state *rs, int64_t anchor_ms, int64_t now_ms, char *err,
                        size_t errlen)
{
    if (anchor_ms > now_ms) {
        snprintf(err, errlen, "%s %lld is ahead of this broker's clock (%lld): not a %s this "
                 "broker reported", REGION_KEY_LEASE_ANCHOR_MS, (long long)anchor_ms,
                 (long long)now_ms, REGION_KEY_CLOCK_MS);
        return ST_ECONFIG;
    }
    if (anchor_ms < rs->opened_mono_ms) {
        snprintf(err, errlen, "%s %lld was read before this broker started (%lld): a stale change",
                 REGION_KEY_LEASE_ANCHOR_MS, (long long)anchor_ms, (long long)rs->opened_mono_ms);
        return ST_ECONFIG;
    }
    if (anchor_ms < rs->last_anchor_ms) {
        snprintf(err, errlen, "%s %lld is older than the anchor of the last change applied "
                 "(%lld): a delayed change, decided before one already applied",
                 REGION_KEY_LEASE_ANCHOR_MS, (long long)anchor_ms, (long long)rs->last_anchor_ms);
        return ST_ECONFIG;
    }
    return 0;
}

int region_state_apply(region_state *rs, const char *const *keys, const char *const *values,
                       const int8_t *ops, int count, bool replace, bool validate_only, char *err,
                       size_t errlen)
{
    /* without an anchor the renewal time is taken before persisting: a slow
     * fsync shortens the lease rather than extending it past what the
     * sidecar was answered */
    int64_t now_ms = clock_mono_ms();
    int64_t anchor_ms = -1;
    region_values *next = calloc(1, sizeof *next);
    if (!next)
        return ST_ENOMEM;
    if (!replace) {
        memcpy(next->set, rs->v->set, sizeof next->set);
        memcpy(next->text, rs->v->text, sizeof next->text);
    }
    int rc = values_edit(next, keys, values, ops, count, &anchor_ms, err, errlen);
    if (rc == 0 && anchor_ms >= 0)
        rc = anchor_check(rs, anchor_ms, now_ms, err, errlen);
    if (rc == 0)
        rc = values_compile(next, err, errlen);
    /* once set, the failover state is never removed through the Kafka
     * API: an AlterConfigs with an empty list (or a DELETE of either key)
     * would otherwise turn a standby or fenced broker into a plain one
     * that takes every write. The operator resets it offline. */
    if (rc == 0 && rs->v->epoch != 0 && next->epoch == 0) {
        snprintf(err, errlen, "%s %d cannot be removed: the failover state is reset only "
                 "offline (stop the broker and delete %s)", REGION_KEY_EPOCH, (int)rs->v->epoch,
                 REGION_STATE_FILE_NAME);
        rc = ST_ECONFIG;
    }
    if (rc == 0 && rs->v->role != REGION_ROLE_NONE && next->role == REGION_ROLE_NONE) {
        snprintf(err, errlen, "%s cannot be removed: the failover state is reset only offline "
                 "(stop the broker and delete %s)", REGION_KEY_ROLE, REGION_STATE_FILE_NAME);
        rc = ST_ECONFIG;
    }
    if (rc == 0 && next->epoch != 0 && next->epoch < rs->v->epoch) {
        snprintf(err, errlen, "%s %d is older than the stored epoch %d", REGION_KEY_EPOCH,
                 (int)next->epoch, (int)rs->v->epoch);
        rc = ST_ECONFIG;
    }
    /* an unchanged state (the sidecar renewing its lease) is not rewritten */
    bool unchanged = rc == 0 && values_same_text(rs->v, next);
    if (rc == 0 && !validate_only && !unchanged) {
        rc = values_save(rs->data_dir, next);
        if (rc != 0)
            snprintf(err, errlen, "cannot persist the region state in %s: %s", rs->data_dir,
                     strait_strerror(rc));
    }
    if (rc != 0 || validate_only) {
        values_free(next);
        return rc;
    }
    /* an epoch never goes backwards and, once set, is never removed */
    INVARIANT(next->epoch >= rs->v->epoch);
    /* a lapse the tick has not seen yet is logged before its renewal */
    region_state_lease_check(rs, now_ms);
    if (unchanged) {
        values_free(next);
    } else {
        log_info("cluster", "region state changed role=%s->%s epoch=%d->%d lease_ms=%lld->%lld "
                 "active=%s redirect_brokers=%d topic_patterns=%d topic_exclude_patterns=%d "
                 "group_patterns=%d",
                 role_names[rs->v->role], role_names[next->role], (int)rs->v->epoch,
                 (int)next->epoch, (long long)rs->v->lease_ms, (long long)next->lease_ms,
                 next->set[KEY_ACTIVE] ? next->text[KEY_ACTIVE] : "", next->broker_count,
                 next->topic_count, next->topic_exclude_count, next->group_count);
        values_free(rs->v);
        rs->v = next;
    }
    /* the lease runs from the anchor when there is one: a time this broker
     * read before the sender decided to renew, so the lease never outlasts
     * the sender's view of it by the renewal's delay (region_state.h) */
    int64_t lease_start_ms = anchor_ms >= 0 ? anchor_ms : now_ms;
    if (anchor_ms >= 0)
        rs->last_anchor_ms = anchor_ms;
    if (rs->v->lease_ms > 0) {
        rs->renewed = true;
        rs->renewed_mono_ms = lease_start_ms;
    }
    if (!rs->confirmed)
        log_info("cluster", "region role confirmed by the sidecar role=%s epoch=%d",
                 role_names[rs->v->role], (int)rs->v->epoch);
    rs->confirmed = true;
    region_state_lease_check(rs, now_ms);
    INVARIANT(rs->v->lease_ms == 0 || (rs->renewed && rs->renewed_mono_ms == lease_start_ms &&
                                       rs->renewed_mono_ms <= now_ms));
    return 0;
}

/* ---- the lease ------------------------------------------------------------------ */

bool region_state_lease_lapsed_at(const region_state *rs, int64_t now_ms)
{
    if (!rs || rs->v->lease_ms == 0)
        return false;
    return !rs->renewed || now_ms - rs->renewed_mono_ms > rs->v->lease_ms;
}

bool region_state_lease_lapsed(const region_state *rs)
{
    if (!rs || rs->v->lease_ms == 0)
        return false; /* no lease: no need to read the clock */
    return region_state_lease_lapsed_at(rs, clock_mono_ms());
}

enum region_role region_state_effective_role_at(const region_state *rs, int64_t now_ms)
{
    enum region_role role = region_state_role(rs);
    enum region_role effective = role == REGION_ROLE_ACTIVE &&
                                         (!rs->confirmed || region_state_lease_lapsed_at(rs, now_ms))
                                     ? REGION_ROLE_FENCED
                                     : role;
    /* the lease only ever takes writes away: never active unless stored so */
    INVARIANT(effective == role || (role == REGION_ROLE_ACTIVE && effective == REGION_ROLE_FENCED));
    return effective;
}

enum region_role region_state_effective_role(const region_state *rs)
{
    enum region_role role = region_state_role(rs);
    if (role == REGION_ROLE_ACTIVE && !rs->confirmed)
        return REGION_ROLE_FENCED;
    if (role != REGION_ROLE_ACTIVE || rs->v->lease_ms == 0)
        return role; /* the lease changes nothing: no need to read the clock */
    return region_state_effective_role_at(rs, clock_mono_ms());
}

void region_state_lease_check(region_state *rs, int64_t now_ms)
{
    if (!rs)
        return;
    /* only an active role is changed by its lease: a standby's or a fenced
     * region's lease runs out unrenewed and means nothing */
    bool lapsed = rs->v->role == REGION_ROLE_ACTIVE && region_state_lease_lapsed_at(rs, now_ms);
    if (lapsed == rs->lapse_logged)
        return;
    rs->lapse_logged = lapsed;
    enum region_role role = rs->v->role;
    if (lapsed && rs->renewed)
        log_warn("cluster", "region lease lapsed role=%s effective_role=%s epoch=%d lease_ms=%lld "
                 "since_renewal_ms=%lld",
                 role_names[role], role_names[region_state_effective_role_at(rs, now_ms)],
                 (int)rs->v->epoch, (long long)rs->v->lease_ms,
                 (long long)(now_ms - rs->renewed_mono_ms));
    else if (lapsed)
        log_warn("cluster", "region lease lapsed role=%s effective_role=%s epoch=%d lease_ms=%lld "
                 "since_renewal_ms=never",
                 role_names[role], role_names[region_state_effective_role_at(rs, now_ms)],
                 (int)rs->v->epoch, (long long)rs->v->lease_ms);
    else if (role == REGION_ROLE_ACTIVE) /* not when a lapsed active was demoted */
        log_info("cluster", "region lease renewed role=%s effective_role=%s epoch=%d lease_ms=%lld",
                 role_names[role], role_names[region_state_effective_role_at(rs, now_ms)],
                 (int)rs->v->epoch, (long long)rs->v->lease_ms);
}

/* ---- queries ----------------------------------------------------------------- */

enum region_role region_state_role(const region_state *rs)
{
    return rs ? rs->v->role : REGION_ROLE_NONE;
}

int32_t region_state_epoch(const region_state *rs)
{
    return rs ? rs->v->epoch : 0;
}

const char *region_state_active_region(const region_state *rs)
{
    return rs && rs->v->set[KEY_ACTIVE] ? rs->v->text[KEY_ACTIVE] : "";
}

static bool matches(const regex_t *patterns, int count, const char *name, size_t len)
{
    if (count == 0)
        return false;
    char small[512];
    char *text = len < sizeof small ? small : malloc(len + 1);
    if (!text)
        return false;
    memcpy(text, name, len);
    text[len] = '\0';
    bool hit = false;
    /* a name holding a NUL byte cannot be matched whole: never matches */
    if (strlen(text) == len)
        for (int i = 0; i < count && !hit; i++)
            hit = regexec(&patterns[i], text, 0, NULL, 0) == 0;
    if (text != small)
        free(text);
    return hit;
}

bool region_state_topic_matches(const region_state *rs, const char *name, size_t len)
{
    /* internal topics (__consumer_offsets, ...) belong to their own region's
     * cluster and are never mirrored: no pattern makes them redirected */
    if (len >= 2 && name[0] == '_' && name[1] == '_')
        return false;
    /* an exclude wins: a topic that no flow into or out of the region
     * mirrors stays writable and local on a standby */
    return rs && matches(rs->v->topics, rs->v->topic_count, name, len) &&
           !matches(rs->v->topics_exclude, rs->v->topic_exclude_count, name, len);
}

bool region_state_group_matches(const region_state *rs, const char *name, size_t len)
{
    return rs && matches(rs->v->groups, rs->v->group_count, name, len);
}

int region_state_broker_count(const region_state *rs)
{
    return rs ? rs->v->broker_count : 0;
}

const region_broker *region_state_broker(const region_state *rs, int i)
{
    return rs && i >= 0 && i < rs->v->broker_count ? &rs->v->brokers[i] : NULL;
}

const region_broker *region_state_group_broker(const region_state *rs, const char *name,
                                               size_t len)
{
    if (!rs || rs->v->broker_count == 0)
        return NULL;
    uint32_t hash = 2166136261u; /* FNV-1a: stable across brokers and restarts */
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ (uint8_t)name[i]) * 16777619u;
    INVARIANT(rs->v->broker_count > 0 && rs->v->broker_count <= LIMIT_REGION_REDIRECT_BROKERS);
    return &rs->v->brokers[hash % (uint32_t)rs->v->broker_count];
}

void region_state_each(const region_state *rs,
                       void (*fn)(void *arg, const char *key, const char *value), void *arg)
{
    if (!rs)
        return;
    for (int k = 0; k < KEY_COUNT; k++)
        if (rs->v->set[k])
            fn(arg, key_names[k], rs->v->text[k]);
}

void region_state_describe(const region_state *rs,
                           void (*fn)(void *arg, const char *key, const char *value), void *arg)
{
    if (!rs)
        return;
    region_state_each(rs, fn, arg);
    /* not state: the anchor a sidecar reads before it renews the lease */
    char clock[32];
    snprintf(clock, sizeof clock, "%lld", (long long)clock_mono_ms());
    fn(arg, REGION_KEY_CLOCK_MS, clock);
}

bool region_client_is_sidecar(const char *client_id, int32_t len)
{
    size_t n = sizeof REGION_SIDECAR_CLIENT_ID_PREFIX - 1;
    return client_id && len >= (int32_t)n && memcmp(client_id, REGION_SIDECAR_CLIENT_ID_PREFIX, n) == 0;
}
