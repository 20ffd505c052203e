/*
 * provenance.c - formats and strictly parses the strait.src header value
 * (the format table is in provenance.h), and reads a record's chain of them
 * into the identity-naming verdict (copy, loop, already held).
 */
#include "mirror/provenance.h"

#include <stdbool.h>
#include <string.h>

#include "common/error.h"

static int region_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Appends the decimal digits of v to out[*at..outlen); false if it does not fit. */
static bool put_decimal(char *out, size_t outlen, size_t *at, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (*at + n >= outlen)
        return false;
    while (n > 0)
        out[(*at)++] = digits[--n];
    return true;
}

/* Formatted by hand: it runs once per mirrored record, and snprintf was ~3%
 * of the copy thread (docs/benchmarks.md). */
int mirror_provenance_format(const char *region, int32_t partition, int64_t offset, char *out,
                             size_t outlen)
{
    if (region == NULL || out == NULL || partition < 0 || offset < 0)
        return ST_EINVAL;
    size_t region_len = strnlen(region, TOPOLOGY_NAME_MAX);
    if (region_len == 0 || region_len >= TOPOLOGY_NAME_MAX)
        return ST_EINVAL;
    if (region_len + 1 >= outlen)
        return ST_ETOOBIG;
    memcpy(out, region, region_len);
    size_t at = region_len;
    out[at++] = ':';
    if (!put_decimal(out, outlen, &at, (uint64_t)partition) || at + 1 >= outlen)
        return ST_ETOOBIG;
    out[at++] = ':';
    if (!put_decimal(out, outlen, &at, (uint64_t)offset))
        return ST_ETOOBIG;
    out[at] = '\0';
    return (int)at;
}

/* Reads a non-negative decimal from p[0..len) no larger than max. */
static int parse_decimal(const char *p, size_t len, int64_t max, int64_t *out)
{
    if (len == 0 || len > 19)
        return ST_ECORRUPT;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return ST_ECORRUPT;
        int digit = p[i] - '0';
        if (v > (max - digit) / 10)
            return ST_ECORRUPT;
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

int mirror_provenance_parse(const void *value, size_t size, mirror_provenance *out)
{
    if (value == NULL || out == NULL || size == 0 || size > MIRROR_PROVENANCE_VALUE_MAX)
        return ST_ECORRUPT;
    const char *s = value;
    const char *first = memchr(s, ':', size);
    if (first == NULL)
        return ST_ECORRUPT;
    size_t region_len = (size_t)(first - s);
    if (region_len == 0 || region_len >= TOPOLOGY_NAME_MAX)
        return ST_ECORRUPT;
    for (size_t i = 0; i < region_len; i++)
        if (!region_char_ok(s[i]))
            return ST_ECORRUPT;
    const char *rest = first + 1;
    size_t rest_len = size - region_len - 1;
    const char *second = memchr(rest, ':', rest_len);
    if (second == NULL)
        return ST_ECORRUPT;
    int64_t partition = 0, offset = 0;
    if (parse_decimal(rest, (size_t)(second - rest), INT32_MAX, &partition) != 0)
        return ST_ECORRUPT;
    size_t offset_len = rest_len - (size_t)(second - rest) - 1;
    if (parse_decimal(second + 1, offset_len, INT64_MAX, &offset) != 0)
        return ST_ECORRUPT;
    memcpy(out->region, s, region_len);
    out->region[region_len] = '\0';
    out->partition = (int32_t)partition;
    out->offset = offset;
    return 0;
}

void mirror_provenance_chain_init(mirror_provenance_chain *chain)
{
    memset(chain, 0, sizeof *chain);
}

void mirror_provenance_chain_add(mirror_provenance_chain *chain, const void *value, size_t size,
                                 const char *target_region)
{
    mirror_provenance p;
    if (value == NULL || mirror_provenance_parse(value, size, &p) != 0)
        return;
    if (!chain->has_origin) {
        chain->origin = p;
        chain->has_origin = true;
    }
    if (target_region != NULL && strcmp(p.region, target_region) == 0)
        chain->names_target = true;
}

enum mirror_identity_verdict mirror_identity_verdict(const mirror_provenance_chain *chain,
                                                     const char *source_region,
                                                     int64_t held_offset)
{
    if (chain->names_target)
        return MIRROR_IDENTITY_SKIP_LOOP;
    if (!chain->has_origin || strcmp(chain->origin.region, source_region) == 0)
        return MIRROR_IDENTITY_COPY; /* written in the source: this flow is its path */
    if (chain->origin.offset <= held_offset)
        return MIRROR_IDENTITY_SKIP_HELD;
    return MIRROR_IDENTITY_COPY;
}
