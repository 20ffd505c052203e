/*
 * test_regex_limit.c - the expanded size of a regex (common/regex_limit.h)
 * and the fuzz finding behind it: patterns from the region-state file and
 * the topology whose repetitions made glibc's regcomp take seconds and
 * gigabytes (fuzz_region_state timed out on "_" followed by a hundred '+').
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/limits.h"
#include "common/regex_limit.h"

static void sizes_of_plain_patterns(void **state)
{
    (void)state;
    assert_int_equal(regex_expanded_size(""), 0);
    assert_int_equal(regex_expanded_size("orders"), 6);
    assert_int_equal(regex_expanded_size("payments\\..*"), 10);
    assert_int_equal(regex_expanded_size("[a-z]"), 1);
    assert_int_equal(regex_expanded_size("[]a]x"), 2);
    assert_int_equal(regex_expanded_size("[[:alpha:]]x"), 2);
    assert_int_equal(regex_expanded_size("(a|bc)"), 3);
    assert_int_equal(regex_expanded_size("a*b?"), 2);
}

static void sizes_of_repetitions(void **state)
{
    (void)state;
    assert_int_equal(regex_expanded_size("a{3}"), 3);
    assert_int_equal(regex_expanded_size("a{1,3}"), 3);
    assert_int_equal(regex_expanded_size("a{3,}"), 4);
    assert_int_equal(regex_expanded_size("(ab){1,4}"), 8);
    assert_int_equal(regex_expanded_size("((a{2}){3}){4}"), 24);
    assert_int_equal(regex_expanded_size("a+"), 2);
    assert_int_equal(regex_expanded_size("a+++"), 8);
    assert_int_equal(regex_expanded_size("x{1,100}y{1,100}"), 200);
    assert_int_equal(regex_expanded_size("a{,3}"), 3); /* glibc: {0,3} */
    assert_int_equal(regex_expanded_size("a{x}"), 4);  /* not a bound: literals */
}

static void regress_regcomp_blowups_refused(void **state)
{
    (void)state;
    const char *huge[] = {
        "a{1,32767}",                      /* > 2 GB in regcomp */
        "a{,32767}",
        "(((a{1,30}){1,30}){1,30}){1,30}", /* 0.5 GB, 8 s */
        "_++++++++++++++++++++",           /* 0.7 GB, 13 s: each '+' doubles */
        "((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))",
        "s********************+******", /* fuzz_region_state: > 20 s */
        "(s*){1,300}",                   /* 2 s */
        "((((s*)*)*)*)",
        "(a|b?)+",
        "(x*y?)*",
        "^*",
    };
    char why[128];
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        why[0] = '\0';
        assert_false(regex_within_limits(huge[i], why, sizeof why));
        assert_true(why[0] != '\0');
    }
    assert_true(regex_within_limits("^([a-z0-9._-]{1,249})$", why, sizeof why));
    assert_true(regex_within_limits("^(__.*|strait\\..*)$", why, sizeof why));
    const char *fine[] = {"(foo.*)*", "(-[0-9]+)?", "(a|b)+", "(x*y)+", "a{0,3}b", "[a-z]*"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        assert_true(regex_within_limits(fine[i], why, sizeof why));
}

/* Every pattern within the limit compiles quickly: the largest allowed. */
static void largest_allowed_compiles(void **state)
{
    (void)state;
    char why[128];
    const char *pattern = "^((ab){1,500})$";
    assert_true(regex_expanded_size(pattern) <= LIMIT_REGEX_EXPANDED_SIZE);
    assert_true(regex_within_limits(pattern, why, sizeof why));
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    assert_int_equal(regexec(&re, "abab", 0, NULL, 0), 0);
    regfree(&re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sizes_of_plain_patterns),
        cmocka_unit_test(sizes_of_repetitions),
        cmocka_unit_test(regress_regcomp_blowups_refused),
        cmocka_unit_test(largest_allowed_compiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
