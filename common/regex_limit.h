/*
 * regex_limit.h - refuses a POSIX extended regex that glibc's regcomp would
 * make huge or spend seconds on, before compiling it (why and how measured:
 * regex_limit.c, LIMIT_REGEX_EXPANDED_SIZE and LIMIT_REGEX_GROUP_DEPTH in
 * common/limits.h). Used for every
 * pattern read from a file or the wire: strait.redirect.* (region state) and
 * the topology's topic and group lists.
 */
#ifndef STRAIT_REGEX_LIMIT_H
#define STRAIT_REGEX_LIMIT_H

#include <stdbool.h>
#include <stddef.h>

/* Size of pattern as regcomp expands it: x{m} and x{m,n} count max(m, n)
 * copies of x, x{m,} m + 1 and x+ two (a character, bracket expression or
 * group counts 1 before that; alternatives add up), saturating; SIZE_MAX
 * when groups nest deeper than LIMIT_REGEX_GROUP_DEPTH. An estimate from
 * the syntax only: a malformed pattern is left to regcomp to refuse. */
size_t regex_expanded_size(const char *pattern);

/* True if pattern is within both limits and repeats nothing that can match
 * the empty string ("(a*)+", "a**", "(b?){2,9}": the shapes regcomp is
 * slowest on, and never needed); else false with why saying which
 * ("repetitions expand it to more than 1024 characters"). */
bool regex_within_limits(const char *pattern, char *why, size_t whylen);

#endif
