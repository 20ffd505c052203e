/*
 * regex_limit.c - what regcomp would make of a POSIX extended regex, read
 * from its syntax in one pass (see regex_limit.h).
 *
 * Two shapes make glibc's regcomp slow or huge (measured, glibc 2.36):
 *   - copies: x{m,n} is built from n copies of x, x{m,} from m + 1 and x+
 *     from two (x x*), nested ones multiply: "a{1,32767}" and "a" followed
 *     by twenty '+' take gigabytes and tens of seconds;
 *   - a repetition of something that can match the empty string: the
 *     closures over such items grow much faster than their count:
 *     "(s*){1,300}" takes 2 s, five groups "(((((((s*)*)*)*)*)*)*)" in a row
 *     1.7 s, "s" with twenty '*' then '+' over 20 s. Such a repetition never
 *     matches anything its item alone does not ("(a*)*" is "a*"), and POSIX
 *     leaves adjacent repetition operators ("a**") undefined anyway.
 *
 * A stack of groups, each with the size of what it holds so far, the size of
 * its last item (the one an operator repeats) and whether that item and the
 * current alternative can match empty: an operator that makes c copies adds
 * (c - 1) copies of the item; a closed group becomes an item of its parent,
 * matching empty when one of its alternatives does. Sizes saturate at
 * SIZE_EXPANDED_CAP, far above any limit.
 */
#include "common/regex_limit.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/limits.h"

#define SIZE_EXPANDED_CAP ((size_t)1 << 40)

typedef struct group_state {
    size_t total;           /* items of the group so far, alternatives added up */
    size_t last;            /* size of the last item: what an operator repeats; 0 = none */
    bool last_empty;        /* the last item can match the empty string */
    bool before_last_empty; /* so can every item before it in this alternative */
    bool any_branch_empty;  /* some finished alternative can */
} group_state;

typedef struct regex_shape {
    size_t size;         /* regex_expanded_size */
    bool too_deep;       /* groups nested deeper than LIMIT_REGEX_GROUP_DEPTH */
    bool repeats_empty;  /* a repetition of an item that can match empty */
} regex_shape;

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
 * "{0,n}"), the copies regcomp makes (n, or m + 1 for "{m,}"; at least 1),
 * *minimum m, and *end after the '}'; else 0. */
static size_t read_bound(const char *p, size_t *minimum, const char **end)
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
    *minimum = m;
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

static void group_open(group_state *g)
{
    *g = (group_state){.before_last_empty = true};
}

/* Whether the current alternative, as far as it goes, can match empty. */
static bool branch_empty(const group_state *g)
{
    return g->before_last_empty && (g->last == 0 || g->last_empty);
}

/* Adds an item of size copies that can (empty) or cannot match empty. */
static void add_item(group_state *g, size_t size, bool empty)
{
    g->before_last_empty = branch_empty(g);
    g->total = add_capped(g->total, size);
    g->last = size;
    g->last_empty = empty;
}

/* An operator on the last item: the copies regcomp makes of it (1 for '*'
 * and '?'), and whether the result can match empty. */
static void repeat_last(group_state *g, size_t copies, bool empty, regex_shape *shape)
{
    if (g->last == 0)
        return; /* nothing to repeat: regcomp refuses it or takes it literally */
    if (g->last_empty)
        shape->repeats_empty = true;
    g->total = add_capped(g->total, multiply_capped(g->last, copies - 1));
    g->last = multiply_capped(g->last, copies);
    g->last_empty = g->last_empty || empty;
}

static regex_shape analyse(const char *pattern)
{
    regex_shape shape = {0, false, false};
    group_state stack[LIMIT_REGEX_GROUP_DEPTH + 1];
    int depth = 0;
    group_open(&stack[0]);
    for (const char *p = pattern; *p;) {
        group_state *g = &stack[depth];
        const char *after = p + 1;
        size_t minimum = 0;
        size_t copies = *p == '+' ? 2 : *p == '{' ? read_bound(p, &minimum, &after) : 0;
        if (*p == '+')
            minimum = 1;
        if (*p == '(') {
            if (depth == LIMIT_REGEX_GROUP_DEPTH) {
                shape.too_deep = true;
                return shape;
            }
            group_open(&stack[++depth]);
            p++;
        } else if (*p == ')' && depth > 0) {
            group_state *inner = &stack[depth];
            bool empty = inner->any_branch_empty || branch_empty(inner);
            size_t size = inner->total ? inner->total : 1;
            add_item(&stack[--depth], size, empty);
            p++;
        } else if (*p == '|') {
            g->any_branch_empty = g->any_branch_empty || branch_empty(g);
            g->before_last_empty = true;
            g->last = 0;
            g->last_empty = false;
            p++;
        } else if (copies > 0) {
            repeat_last(g, copies, minimum == 0, &shape);
            p = after;
        } else if (*p == '*' || *p == '?') {
            repeat_last(g, 1, true, &shape);
            p++;
        } else if (*p == '^' || *p == '$') {
            add_item(g, 1, true); /* anchors match the empty string */
            p++;
        } else {
            p = *p == '[' ? skip_bracket(p) : p + (*p == '\\' && p[1] ? 2 : 1);
            add_item(g, 1, false);
        }
    }
    while (depth > 0) { /* unclosed groups: regcomp refuses them; count them anyway */
        size_t size = stack[depth].total;
        depth--;
        stack[depth].total = add_capped(stack[depth].total, size);
    }
    shape.size = stack[0].total;
    return shape;
}

size_t regex_expanded_size(const char *pattern)
{
    regex_shape shape = analyse(pattern);
    return shape.too_deep ? SIZE_MAX : shape.size;
}

bool regex_within_limits(const char *pattern, char *why, size_t whylen)
{
    regex_shape shape = analyse(pattern);
    if (shape.too_deep) {
        snprintf(why, whylen, "groups nested deeper than %d levels", LIMIT_REGEX_GROUP_DEPTH);
        return false;
    }
    if (shape.repeats_empty) {
        snprintf(why, whylen, "a repetition of something that can match the empty string "
                 "(like (a*)* or a**): write it once");
        return false;
    }
    if (shape.size > LIMIT_REGEX_EXPANDED_SIZE) {
        snprintf(why, whylen, "repetitions expand it to more than %d characters",
                 LIMIT_REGEX_EXPANDED_SIZE);
        return false;
    }
    return true;
}
