/* config_value.c - configuration value syntax (see config_value.h). */
#include "common/config_value.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"


/* value as it appears in a message: at most 64 bytes, controls as '?'. */
const char *config_value_quoted(const char *value, char *out, size_t outlen)
{
    size_t n = 0, max = outlen - 4;
    for (; value[n] && n < 64 && n < max; n++)
        out[n] = iscntrl((unsigned char)value[n]) ? '?' : value[n];
    if (value[n])
        out[n++] = '.', out[n++] = '.', out[n++] = '.';
    out[n] = '\0';
    return out;
}

int config_value_parse_int(const char *value, int64_t min, int64_t max, int64_t *out, char *msg,
                            size_t msglen)
{
    const char *p = value;
    if (*p == '-' || *p == '+')
        p++;
    bool digits = *p != '\0';
    for (const char *q = p; *q; q++)
        digits = digits && isdigit((unsigned char)*q);
    errno = 0;
    long long parsed = digits ? strtoll(value, NULL, 10) : 0;
    if (digits && errno == 0 && parsed >= min && parsed <= max) {
        *out = parsed;
        return 0;
    }
    char q[80];
    if (max == INT64_MAX)
        snprintf(msg, msglen, "expected an integer >= %" PRId64 ", got '%s'", min,
                 config_value_quoted(value, q, sizeof q));
    else
        snprintf(msg, msglen, "expected an integer between %" PRId64 " and %" PRId64 ", got '%s'",
                 min, max, config_value_quoted(value, q, sizeof q));
    return ST_ECONFIG;
}

int config_value_parse_bool(const char *value, bool *out, char *msg, size_t msglen)
{
    if (strcasecmp(value, "true") == 0 || strcasecmp(value, "false") == 0) {
        *out = strcasecmp(value, "true") == 0;
        return 0;
    }
    char q[80];
    snprintf(msg, msglen, "expected true or false, got '%s'", config_value_quoted(value, q, sizeof q));
    return ST_ECONFIG;
}

/* True if [word, word+len) is one of choices ("a|b|c"). */
static bool is_choice(const char *word, size_t len, const char *choices)
{
    for (const char *c = choices; *c;) {
        size_t n = strcspn(c, "|");
        if (n == len && strncmp(c, word, len) == 0)
            return true;
        c += n + (c[n] == '|');
    }
    return false;
}

static void choices_text(const char *choices, char *out, size_t outlen)
{
    size_t at = 0;
    for (const char *c = choices; *c && at + 3 < outlen; c++) {
        if (*c == '|') {
            out[at++] = ',';
            out[at++] = ' ';
        } else {
            out[at++] = *c;
        }
    }
    out[at] = '\0';
}

int config_value_parse_choice(const char *value, const char *choices, char *msg, size_t msglen)
{
    if (is_choice(value, strlen(value), choices))
        return 0;
    char list[256], q[80];
    choices_text(choices, list, sizeof list);
    snprintf(msg, msglen, "expected one of %s, got '%s'", list, config_value_quoted(value, q, sizeof q));
    return ST_ECONFIG;
}

size_t config_value_trim(const char **start, size_t len)
{
    while (len > 0 && isspace((unsigned char)**start))
        (*start)++, len--;
    while (len > 0 && isspace((unsigned char)(*start)[len - 1]))
        len--;
    return len;
}

/* Appends [word, word+len) to the comma-separated list in out. */
bool config_value_list_append(char *out, size_t outlen, const char *word, size_t len)
{
    size_t at = strlen(out);
    if (at + (at > 0) + len + 1 > outlen)
        return false;
    if (at > 0)
        out[at++] = ',';
    memcpy(out + at, word, len);
    out[at + len] = '\0';
    return true;
}

static bool list_contains(const char *list, const char *word, size_t len)
{
    for (const char *c = list; *c;) {
        size_t n = strcspn(c, ",");
        if (n == len && strncmp(c, word, len) == 0)
            return true;
        c += n + (c[n] == ',');
    }
    return false;
}

int config_value_parse_list(const char *value, const char *choices, char *normal,
                             size_t normallen, char *msg, size_t msglen)
{
    char result[256] = "";
    bool ok = true;
    for (const char *c = value; ok;) {
        size_t n = strcspn(c, ",");
        const char *word = c;
        size_t len = config_value_trim(&word, n);
        ok = len > 0 && is_choice(word, len, choices);
        if (ok && !list_contains(result, word, len))
            ok = config_value_list_append(result, sizeof result, word, len);
        if (c[n] == '\0')
            break;
        c += n + 1;
    }
    if (ok && strlen(result) < normallen) {
        memcpy(normal, result, strlen(result) + 1);
        return 0;
    }
    char list[256], q[80];
    choices_text(choices, list, sizeof list);
    snprintf(msg, msglen, "expected a comma-separated list of %s, got '%s'", list,
             config_value_quoted(value, q, sizeof q));
    return ST_ECONFIG;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 128 || lb > 128)
        return SIZE_MAX;
    size_t row[129];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

const char *config_value_closest(const char *word, const char *const *names, int count)
{
    const char *best = NULL;
    size_t best_distance = 3;
    for (int i = 0; i < count; i++) {
        size_t d = edit_distance(word, names[i]);
        if (d < best_distance) {
            best = names[i];
            best_distance = d;
        }
    }
    return best;
}

