/*
 * test_control_plane.c - the control plane's credentials: the token file
 * (security/control_token.c: generated once with mode 0600, refused when
 * world-readable or not a token, the same token for a second starter), the
 * Bearer check (right, wrong, a prefix, a longer value, another scheme), the
 * admission decision without HTTP (security/control_auth.c), and the epoch
 * bounds of the failover state's parser (int32, as the brokers store it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/error.h"
#include "failover/roles.h"
#include "security/control_auth.h"
#include "security/control_token.h"

static char dir[64];
static char token_path[128];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/strait-test-token-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(token_path, sizeof token_path, "%s/control-plane.token", dir);
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    unlink(token_path);
    rmdir(dir);
    return 0;
}

static void write_token_file(const char *text, mode_t mode)
{
    unlink(token_path);
    FILE *f = fopen(token_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(token_path, mode), 0);
}

static void test_generated_once(void **state)
{
    (void)state;
    control_token first, second;
    bool created = false;
    char err[512];
    assert_int_equal(control_token_load(token_path, &first, err, sizeof err), ST_ENOTFOUND);
    assert_int_equal(control_token_load_or_create(token_path, &first, &created, err, sizeof err), 0);
    assert_true(created);
    assert_int_equal(first.length, 2 * CONTROL_TOKEN_RANDOM_BYTES);
    assert_int_equal(strspn(first.text, "0123456789abcdef"), first.length);
    struct stat st;
    assert_int_equal(stat(token_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* a second starter (the other sidecar, the witness) reads the same token */
    assert_int_equal(control_token_load_or_create(token_path, &second, &created, err, sizeof err),
                     0);
    assert_false(created);
    assert_string_equal(first.text, second.text);
    /* and nothing but the token is left in the directory */
    char leftover[200];
    snprintf(leftover, sizeof leftover, "%s/control-plane.token.%ld.tmp", dir, (long)getpid());
    assert_int_not_equal(access(leftover, F_OK), 0);
}

static void test_file_refused(void **state)
{
    (void)state;
    control_token token;
    char err[512], expected[512];
    write_token_file("0123456789abcdef0123\n", 0644);
    assert_int_equal(control_token_load(token_path, &token, err, sizeof err), ST_ECONFIG);
    snprintf(expected, sizeof expected, "control-plane token %s: readable by every user "
             "(mode 0644); chmod 600 it", token_path);
    assert_string_equal(err, expected);
    write_token_file("short\n", 0600);
    assert_int_equal(control_token_load(token_path, &token, err, sizeof err), ST_ECONFIG);
    snprintf(expected, sizeof expected, "control-plane token %s: expected one line of 16 to 256 "
             "characters, got 5", token_path);
    assert_string_equal(err, expected);
    write_token_file("0123456789 abcdef0123\n", 0600);
    assert_int_equal(control_token_load(token_path, &token, err, sizeof err), ST_ECONFIG);
    write_token_file("0123456789abcdef0123\n\n", 0600);
    assert_int_equal(control_token_load(token_path, &token, err, sizeof err), ST_ECONFIG);
    /* an operator's own token, group-readable, with CRLF */
    write_token_file("Operator-Token-0123456789\r\n", 0640);
    assert_int_equal(control_token_load(token_path, &token, err, sizeof err), 0);
    assert_string_equal(token.text, "Operator-Token-0123456789");
}

static void test_bearer_check(void **state)
{
    (void)state;
    control_token token = {.text = "0123456789abcdef0123", .length = 20};
    const char *reason = NULL;
    assert_true(control_token_check_header(&token, "Bearer 0123456789abcdef0123", &reason));
    assert_true(control_token_check_header(&token, "bearer 0123456789abcdef0123", &reason));
    assert_false(control_token_check_header(&token, NULL, &reason));
    assert_string_equal(reason, "no credentials");
    assert_false(control_token_check_header(&token, "", &reason));
    assert_string_equal(reason, "no credentials");
    assert_false(control_token_check_header(&token, "Basic dXNlcjpwYXNz", &reason));
    assert_string_equal(reason, "not a Bearer token");
    const char *wrong[] = {
        "Bearer 0123456789abcdef012",    /* a prefix */
        "Bearer 0123456789abcdef01234",  /* longer */
        "Bearer 1123456789abcdef0123",   /* first byte */
        "Bearer 0123456789abcdef0124",   /* last byte */
        "Bearer ",
        "Bearer 0123456789ABCDEF0123",   /* the token is case-sensitive */
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        reason = NULL;
        assert_false(control_token_check_header(&token, wrong[i], &reason));
        assert_string_equal(reason, "wrong token");
    }
    control_token none = {.text = "", .length = 0};
    assert_false(control_token_check_header(&none, "Bearer ", &reason));
}

static void test_decision(void **state)
{
    (void)state;
    control_auth auth;
    memset(&auth, 0, sizeof auth);
    auth.service = "sidecar";
    char principal[128];
    const char *reason = NULL;
    /* a token configured: only it */
    auth.have_token = true;
    snprintf(auth.token.text, sizeof auth.token.text, "0123456789abcdef0123");
    auth.token.length = 20;
    assert_true(control_auth_decide(&auth, "Bearer 0123456789abcdef0123", NULL, principal,
                                    sizeof principal, &reason));
    assert_string_equal(principal, "token");
    assert_false(control_auth_decide(&auth, NULL, NULL, principal, sizeof principal, &reason));
    assert_string_equal(reason, "no credentials");
    assert_string_equal(principal, "");
    assert_false(control_auth_decide(&auth, "Bearer nope-nope-nope-nope", NULL, principal,
                                     sizeof principal, &reason));
    assert_string_equal(reason, "wrong token");
    /* no token (certificates only): a bearer header is refused, not compared */
    auth.have_token = false;
    assert_false(control_auth_decide(&auth, "Bearer ", NULL, principal, sizeof principal,
                                     &reason));
    assert_string_equal(reason, "no token is configured here (certificates only)");
    /* insecure: everything */
    auth.insecure = true;
    assert_true(control_auth_decide(&auth, NULL, NULL, principal, sizeof principal, &reason));
    assert_string_equal(principal, "insecure");
}

static void test_epoch_bounds(void **state)
{
    (void)state;
    failover_state st;
    memset(&st, 0, sizeof st);
    assert_true(failover_state_set_field(&st, "epoch", "2147483647"));
    assert_int_equal(st.epoch, 2147483647);
    assert_true(failover_state_set_field(&st, "epoch", "1"));
    const char *refused[] = {"2147483648", "9223372036854775807", "0", "-1", "12abc", "", " 5",
                             "0x10"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        st.epoch = 7;
        assert_false(failover_state_set_field(&st, "epoch", refused[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generated_once, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_refused, setup_dir, teardown_dir),
        cmocka_unit_test(test_bearer_check),
        cmocka_unit_test(test_decision),
        cmocka_unit_test(test_epoch_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
