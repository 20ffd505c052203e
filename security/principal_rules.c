/*
 * principal_rules.c - parsing and applying ssl.principal.mapping.rules
 * (principal_rules.h) with POSIX regex.
 */
#include "security/principal_rules.h"

#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* Rules in one setting; Kafka configs hold a handful. */
#define PRINCIPAL_RULES_MAX 32
#define PRINCIPAL_RULE_TEXT_MAX 512

typedef struct principal_rule {
    bool is_default;
    regex_t pattern;
    char replacement[PRINCIPAL_RULE_TEXT_MAX];
    char case_change; /* 0, 'L' or 'U' */
} principal_rule;

struct principal_rules {
    principal_rule items[PRINCIPAL_RULES_MAX];
    int count;
};

void principal_rules_free(principal_rules *rules)
{
    if (!rules)
        return;
    for (int i = 0; i < rules->count; i++)
        if (!rules->items[i].is_default)
            regfree(&rules->items[i].pattern);
    free(rules);
}

/* Reads up to the next unescaped '/' from *p into out ("\/" becomes "/").
 * Leaves *p after the '/'. false if there is none or out is too small. */
static bool read_part(const char **p, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *c = *p; *c; c++) {
        if (c[0] == '\\' && c[1] == '/') {
            c++;
        } else if (*c == '/') {
            out[n] = '\0';
            *p = c + 1;
            return true;
        }
        if (n + 1 >= outlen)
            return false;
        out[n++] = *c;
    }
    return false;
}

/* Rewrites Kafka's ".*?X" (X a literal character) into "[^X]*X"; any other
 * lazy quantifier is refused (POSIX has none). */
static bool translate_lazy(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *c = in; *c; c++) {
        if ((c[0] == '*' || c[0] == '+' || c[0] == '?' || c[0] == '}') && c[1] == '?') {
            bool dot_star = c[0] == '*' && c > in && c[-1] == '.' && (c - 1 == in || c[-2] != '\\');
            /* the literal that ends the lazy run, possibly after a ')' */
            const char *next = c + 2;
            if (*next == ')')
                next++;
            bool literal = *next && !strchr(".[]()*+?{}|^$\\", *next);
            if (!dot_star || !literal || n < 1 || n + 6 >= outlen)
                return false;
            n--; /* drop the '.' already copied */
            n += (size_t)snprintf(out + n, outlen - n, "[^%c]*", *next);
            c++; /* skip the '?' */
            continue;
        }
        if (n + 1 >= outlen)
            return false;
        out[n++] = *c;
    }
    out[n] = '\0';
    return true;
}

static int parse_rule(const char **p, principal_rule *rule, char *msg, size_t msglen)
{
    char pattern[PRINCIPAL_RULE_TEXT_MAX], posix[PRINCIPAL_RULE_TEXT_MAX + 64];
    if (!read_part(p, pattern, sizeof pattern) ||
        !read_part(p, rule->replacement, sizeof rule->replacement)) {
        snprintf(msg, msglen, "expected RULE:pattern/replacement/[L|U]");
        return ST_ECONFIG;
    }
    if (**p == 'L' || **p == 'U')
        rule->case_change = *(*p)++;
    if (**p && **p != ',' && !isspace((unsigned char)**p)) {
        snprintf(msg, msglen, "unexpected '%c' after RULE:%s/%s/ (only L or U may follow)", **p,
                 pattern, rule->replacement);
        return ST_ECONFIG;
    }
    if (!translate_lazy(pattern, posix, sizeof posix)) {
        snprintf(msg, msglen, "RULE pattern '%s': lazy quantifiers are supported only as "
                 "'.*?' followed by a literal character", pattern);
        return ST_ECONFIG;
    }
    /* Kafka matches the whole subject */
    char anchored[sizeof posix + 8];
    snprintf(anchored, sizeof anchored, "^(%s)$", posix);
    int rc = regcomp(&rule->pattern, anchored, REG_EXTENDED);
    if (rc != 0) {
        char reason[128];
        regerror(rc, &rule->pattern, reason, sizeof reason);
        snprintf(msg, msglen, "RULE pattern '%s': %s", pattern, reason);
        return ST_ECONFIG;
    }
    return 0;
}

int principal_rules_parse(const char *text, principal_rules **out, char *msg, size_t msglen)
{
    *out = NULL;
    principal_rules *rules = calloc(1, sizeof *rules);
    if (!rules)
        return ST_ENOMEM;
    const char *p = text ? text : "";
    int rc = 0;
    for (;;) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (rules->count == PRINCIPAL_RULES_MAX) {
            snprintf(msg, msglen, "more than %d rules", PRINCIPAL_RULES_MAX);
            rc = ST_ECONFIG;
            break;
        }
        principal_rule *rule = &rules->items[rules->count];
        if (strncmp(p, "DEFAULT", 7) == 0 && (!p[7] || p[7] == ',' || isspace((unsigned char)p[7]))) {
            rule->is_default = true;
            p += 7;
        } else if (strncmp(p, "RULE:", 5) == 0) {
            p += 5;
            rc = parse_rule(&p, rule, msg, msglen);
            if (rc != 0)
                break;
        } else {
            snprintf(msg, msglen, "expected DEFAULT or RULE:pattern/replacement/ at '%.40s'", p);
            rc = ST_ECONFIG;
            break;
        }
        rules->count++;
    }
    if (rc == 0 && rules->count == 0)
        rules->items[rules->count++].is_default = true;
    if (rc != 0) {
        principal_rules_free(rules);
        return rc;
    }
    *out = rules;
    return 0;
}

/* replacement with $N replaced by group N+1 of the wrapped pattern. */
static int substitute(const principal_rule *rule, const char *subject, const regmatch_t *groups,
                      char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *c = rule->replacement; *c; c++) {
        const char *from = c;
        size_t len = 1;
        if (c[0] == '$' && c[1] >= '0' && c[1] <= '9') {
            const regmatch_t *g = &groups[1 + (c[1] - '0')]; /* group 1 is the whole wrapper */
            from = g->rm_so >= 0 ? subject + g->rm_so : "";
            len = g->rm_so >= 0 ? (size_t)(g->rm_eo - g->rm_so) : 0;
            c++;
        }
        if (n + len >= outlen)
            return ST_ETOOBIG;
        memcpy(out + n, from, len);
        n += len;
    }
    out[n] = '\0';
    for (char *c = out; *c && rule->case_change; c++)
        *c = (char)(rule->case_change == 'L' ? tolower((unsigned char)*c) : toupper((unsigned char)*c));
    return 0;
}

int principal_rules_apply(const principal_rules *rules, const char *subject, char *out,
                          size_t outlen)
{
    for (int i = 0; i < rules->count; i++) {
        const principal_rule *rule = &rules->items[i];
        if (rule->is_default) {
            if (strlen(subject) >= outlen)
                return ST_ETOOBIG;
            memcpy(out, subject, strlen(subject) + 1);
            return 0;
        }
        regmatch_t groups[11];
        for (int g = 0; g < 11; g++)
            groups[g].rm_so = -1;
        if (regexec(&rule->pattern, subject, 11, groups, 0) == 0)
            return substitute(rule, subject, groups, out, outlen);
    }
    return ST_ENOTFOUND;
}
