/*
 * regex_limit.c - the expanded size of a POSIX extended regex, read from its
 * syntax in one pass (see regex_limit.h).
 *
 * glibc's regcomp builds x{m,n} from n copies of x, x{m,} from m + 1 and
 * x+ from two (x x*), so every '+' doubles what it follows: "a" and twenty
 * '+' take 13 s and 700 MB. x* and x? add no copy.
 *
 * A stack of groups, each with the size of what it holds so far and of its
 * last item (the one an operator repeats): an operator that makes c copies
 * adds (c - 1) copies of the item; a closed group becomes an item of its
 * parent. Sizes saturate at SIZE_EXPANDED_CAP, far above any limit.
 */
#include "common/regex_limit.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/limits.h"

#define SIZE_EXPANDED_CAP ((size_t)1 << 40)

typedef struct group_size {
    size_t total; /* items of the group so far, alternatives added up */
    size_t last;  /* size of the last item: what a bound repeats */
} group_size;

static size_t add_capped(size_t a, size_t b)
{
    return a + b > SIZE_EXPANDED_CAP ? SIZE_EXPANDED_CAP : a + b;
}

static size_t multiply_capped(size_t a, size_t b)
{
    if (a == 0 || b == 0)
        return 0;
    return a > SIZE_EXPANDED_CAP / b ? SIZE_EXPANDED_CAP : a * b;
}

/* Reads a decimal number at p (saturating); *end after its digits. */
static size_t read_count(const char *p, const char **end)
{
    size_t n = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        n = n > SIZE_EXPANDED_CAP ? n : n * 10 + (size_t)(*p - '0');
    *end = p;
    return n;
}

/* If p starts a bound "{m}", "{m,}", "{m,n}" or "{,n}" (glibc reads it as
 * "{0,n}"), the copies regcomp makes (n, or m + 1 for "{m,}"; at least 1)
 * and *end after the '}'; else 0. */
static size_t read_bound(const char *p, const char **end)
{
    const char *q = p + 1;
    bool have_m = *q >= '0' && *q <= '9';
    size_t m = have_m ? read_count(q, &q) : 0, n = m;
    if (*q == ',') {
        q++;
        n = *q >= '0' && *q <= '9' ? read_count(q, &q) : m + 1;
    } else if (!have_m) {
        return 0;
    }
    if (*q != '}')
        return 0;
    *end = q + 1;
    size_t copies = n > m ? n : m;
    return copies > 0 ? copies : 1;
}

/* Skips a bracket expression starting at p ('['); returns the char after it
 * (or the terminator when it is not closed: regcomp refuses that). */
static const char *skip_bracket(const char *p)
{
    p++;
    if (*p == '^')
        p++;
    if (*p == ']')
        p++; /* a leading ']' is a member */
    while (*p && *p != ']') {
        if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
            char kind = p[1];
            p += 2;
            while (*p && !(*p == kind && p[1] == ']'))
                p++;
            if (*p)
                p += 2;
            continue;
        }
        p++;
    }
    return *p ? p + 1 : p;
}

size_t regex_expanded_size(const char *pattern)
{
    group_size stack[LIMIT_REGEX_GROUP_DEPTH + 1] = {{0, 0}};
    int depth = 0;
    for (const char *p = pattern; *p;) {
        group_size *g = &stack[depth];
        const char *after = p + 1;
        size_t copies = *p == '+' ? 2 : *p == '{' ? read_bound(p, &after) : 0;
        if (*p == '(') {
            if (depth == LIMIT_REGEX_GROUP_DEPTH)
                return SIZE_MAX;
            stack[++depth] = (group_size){0, 0};
            p++;
        } else if (*p == ')' && depth > 0) {
            size_t size = stack[depth].total ? stack[depth].total : 1;
            g = &stack[--depth];
            g->total = add_capped(g->total, size);
            g->last = size;
            p++;
        } else if (*p == '|') {
            g->last = 0;
            p++;
        } else if (copies > 0) {
            g->total = add_capped(g->total, multiply_capped(g->last, copies - 1));
            g->last = multiply_capped(g->last, copies);
            p = after;
        } else if (*p == '*' || *p == '?') {
            p++;
        } else {
            p = *p == '[' ? skip_bracket(p) : p + (*p == '\\' && p[1] ? 2 : 1);
            g->total = add_capped(g->total, 1);
            g->last = 1;
        }
    }
    while (depth > 0) { /* unclosed groups: regcomp refuses them; count them anyway */
        size_t size = stack[depth].total;
        depth--;
        stack[depth].total = add_capped(stack[depth].total, size);
    }
    return stack[0].total;
}

bool regex_within_limits(const char *pattern, char *why, size_t whylen)
{
    size_t size = regex_expanded_size(pattern);
    if (size == SIZE_MAX) {
        snprintf(why, whylen, "groups nested deeper than %d levels", LIMIT_REGEX_GROUP_DEPTH);
        return false;
    }
    if (size > LIMIT_REGEX_EXPANDED_SIZE) {
        snprintf(why, whylen, "repetitions expand it to more than %d characters",
                 LIMIT_REGEX_EXPANDED_SIZE);
        return false;
    }
    return true;
}
