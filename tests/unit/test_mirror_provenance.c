/* test_mirror_provenance.c - strait.src header: format, strict parse, hostile values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "mirror/provenance.h"

static void format_and_parse_round_trip(void **state)
{
    (void)state;
    char value[MIRROR_PROVENANCE_VALUE_MAX + 1];
    int n = mirror_provenance_format("east", 3, 123456789012LL, value, sizeof value);
    assert_int_equal(n, (int)strlen("east:3:123456789012"));
    assert_string_equal(value, "east:3:123456789012");
    mirror_provenance p;
    assert_int_equal(mirror_provenance_parse(value, (size_t)n, &p), 0);
    assert_string_equal(p.region, "east");
    assert_int_equal(p.partition, 3);
    assert_true(p.offset == 123456789012LL);

    n = mirror_provenance_format("eu-west-1", INT32_MAX, INT64_MAX, value, sizeof value);
    assert_true(n > 0);
    assert_int_equal(mirror_provenance_parse(value, (size_t)n, &p), 0);
    assert_int_equal(p.partition, INT32_MAX);
    assert_true(p.offset == INT64_MAX);
}

static void format_refuses_bad_input(void **state)
{
    (void)state;
    char value[MIRROR_PROVENANCE_VALUE_MAX + 1];
    assert_int_equal(mirror_provenance_format("east", -1, 0, value, sizeof value), ST_EINVAL);
    assert_int_equal(mirror_provenance_format("east", 0, -5, value, sizeof value), ST_EINVAL);
    assert_int_equal(mirror_provenance_format("", 0, 0, value, sizeof value), ST_EINVAL);
    char small[6];
    assert_int_equal(mirror_provenance_format("east", 0, 10, small, sizeof small), ST_ETOOBIG);
}

/* The hand-written formatter at every buffer size around the exact fit:
 * "east:7:1234" is 11 bytes and needs 12 with the NUL. */
static void format_buffer_boundaries(void **state)
{
    (void)state;
    char buf[16];
    for (size_t size = 0; size <= sizeof buf; size++) {
        memset(buf, 'x', sizeof buf);
        int n = mirror_provenance_format("east", 7, 1234, buf, size);
        if (size < 12) {
            assert_int_equal(n, ST_ETOOBIG);
        } else {
            assert_int_equal(n, 11);
            assert_string_equal(buf, "east:7:1234");
        }
        for (size_t i = size; i < sizeof buf; i++)
            assert_int_equal(buf[i], 'x'); /* never past outlen */
    }
    assert_int_equal(mirror_provenance_format("east", 0, 0, buf, sizeof buf), 8);
    assert_string_equal(buf, "east:0:0");
}

static void parse_rejects_hostile_values(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", ":", "east", "east:", "east:1", "east:1:", ":1:2", "east::2", "east:1::",
        "East:1:2", "east:+1:2", "east:-1:2", "east:1:-2", "east:1:2:3", "east:1:2x",
        "east:2147483648:0", "east:0:9223372036854775808", "east:0:99999999999999999999",
        "ea st:1:2", "east:1: 2",
    };
    mirror_provenance p;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = mirror_provenance_parse(bad[i], strlen(bad[i]), &p);
        if (rc != ST_ECORRUPT)
            fail_msg("accepted %s", bad[i]);
    }
    /* Not NUL-terminated: only size bytes count. */
    assert_int_equal(mirror_provenance_parse("west:7:42GARBAGE", 9, &p), 0);
    assert_int_equal(p.offset, 42);
    /* A region of 64 bytes is one too long. */
    char longer[100];
    memset(longer, 'a', 64);
    memcpy(longer + 64, ":0:0", 4);
    assert_int_equal(mirror_provenance_parse(longer, 68, &p), ST_ECORRUPT);
    assert_int_equal(mirror_provenance_parse(NULL, 3, &p), ST_ECORRUPT);
    /* Embedded NUL. */
    assert_int_equal(mirror_provenance_parse("ea\0t:1:2", 8, &p), ST_ECORRUPT);
}

/* A record's chain: the first parseable value is its origin, any value may
 * name the target, and someone else's header under our name is ignored. */
static void chain_reads_origin_and_target(void **state)
{
    (void)state;
    mirror_provenance_chain chain;
    mirror_provenance_chain_init(&chain);
    assert_false(chain.has_origin);
    assert_false(chain.names_target);

    mirror_provenance_chain_add(&chain, "not ours", 8, "west");
    assert_false(chain.has_origin);
    mirror_provenance_chain_add(&chain, "east:1:42", 9, "west");
    mirror_provenance_chain_add(&chain, "north:1:7", 9, "west");
    assert_true(chain.has_origin);
    assert_string_equal(chain.origin.region, "east");
    assert_int_equal(chain.origin.partition, 1);
    assert_int_equal(chain.origin.offset, 42);
    assert_false(chain.names_target);

    /* a later hop naming the target is a loop, whatever the origin */
    mirror_provenance_chain_add(&chain, "west:1:9", 8, "west");
    assert_true(chain.names_target);
    assert_string_equal(chain.origin.region, "east");
    mirror_provenance_chain_add(&chain, NULL, 0, "west");
    assert_string_equal(chain.origin.region, "east");
}

static mirror_provenance_chain chain_of(const char *first, const char *second, const char *target)
{
    mirror_provenance_chain chain;
    mirror_provenance_chain_init(&chain);
    if (first != NULL)
        mirror_provenance_chain_add(&chain, first, strlen(first), target);
    if (second != NULL)
        mirror_provenance_chain_add(&chain, second, strlen(second), target);
    return chain;
}

/* The identity-naming rule of issue 12 N4 (docs/architecture.md). */
static void identity_verdicts(void **state)
{
    (void)state;
    /* written in the source: copied, whatever the held offset */
    mirror_provenance_chain c = chain_of(NULL, NULL, "west");
    assert_int_equal(mirror_identity_verdict(&c, "east", 1000), MIRROR_IDENTITY_COPY);
    /* a chain whose origin is the source itself: still the source's record */
    c = chain_of("east:0:5", NULL, "west");
    assert_int_equal(mirror_identity_verdict(&c, "east", 1000), MIRROR_IDENTITY_COPY);
    /* from the target: never back (two regions, and any hop) */
    c = chain_of("west:0:5", NULL, "west");
    assert_int_equal(mirror_identity_verdict(&c, "east", -1), MIRROR_IDENTITY_SKIP_LOOP);
    c = chain_of("north:0:5", "west:0:9", "west");
    assert_int_equal(mirror_identity_verdict(&c, "east", -1), MIRROR_IDENTITY_SKIP_LOOP);
    /* north's copy of east's record 5 into west: west holds east up to 5 */
    c = chain_of("east:0:5", NULL, "west");
    assert_int_equal(mirror_identity_verdict(&c, "north", 5), MIRROR_IDENTITY_SKIP_HELD);
    assert_int_equal(mirror_identity_verdict(&c, "north", 6), MIRROR_IDENTITY_SKIP_HELD);
    /* ... but not east's record 6, nor anything when west holds none of east */
    c = chain_of("east:0:6", NULL, "west");
    assert_int_equal(mirror_identity_verdict(&c, "north", 5), MIRROR_IDENTITY_COPY);
    assert_int_equal(mirror_identity_verdict(&c, "north", -1), MIRROR_IDENTITY_COPY);
    /* the origin decides, not the last hop */
    c = chain_of("east:0:5", "north:0:77", "south");
    assert_int_equal(mirror_identity_verdict(&c, "west", 5), MIRROR_IDENTITY_SKIP_HELD);
    assert_int_equal(mirror_identity_verdict(&c, "west", 4), MIRROR_IDENTITY_COPY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_and_parse_round_trip),
        cmocka_unit_test(format_refuses_bad_input),
        cmocka_unit_test(format_buffer_boundaries),
        cmocka_unit_test(parse_rejects_hostile_values),
        cmocka_unit_test(chain_reads_origin_and_target),
        cmocka_unit_test(identity_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
