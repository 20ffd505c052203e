/*
 * test_witness.c - the rules of automatic failover as pure functions: the
 * vote a witness or sidecar grants (failover/vote.h: silence of the suspect,
 * one candidate per epoch, only newer epochs, the same vote asked again),
 * the candidate's check of an answer (an older epoch is refused), the
 * durable vote file (round trip, every corrupt form refused with its line),
 * which standby takes over, and the active region's lease
 * (failover/auto_failover.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "failover/auto_failover.h"
#include "failover/roles.h"
#include "failover/vote.h"
#include "topology/topology.h"

static failover_vote_view quiet_for(int64_t silent_ms)
{
    failover_vote_view v;
    memset(&v, 0, sizeof v);
    v.suspect_silent_ms = silent_ms;
    v.epoch_seen = 4;
    v.detect_after_ms = 3000;
    return v;
}

static void test_grants_when_the_suspect_is_silent(void **state)
{
    (void)state;
    char why[512];
    failover_vote_view v = quiet_for(3000); /* exactly detect_after: granted */
    assert_int_equal(failover_vote_decide(&v, "west", "east", 5, why, sizeof why), 0);
    v = quiet_for(400);
    assert_int_equal(failover_vote_decide(&v, "west", "east", 5, why, sizeof why), ST_EINVAL);
    assert_string_equal(why, "east's sidecar answered 0.4 s ago (detect_after 3.0 s)");
    v = quiet_for(2999);
    assert_int_equal(failover_vote_decide(&v, "west", "east", 5, why, sizeof why), ST_EINVAL);
}

static void test_one_candidate_per_epoch(void **state)
{
    (void)state;
    char why[512];
    failover_vote_view v = quiet_for(10000);
    snprintf(v.last.candidate, sizeof v.last.candidate, "west");
    snprintf(v.last.suspect, sizeof v.last.suspect, "east");
    v.last.epoch = 5;
    v.epoch_seen = 5;
    /* another candidate at the same or a lower epoch */
    assert_int_equal(failover_vote_decide(&v, "south", "east", 5, why, sizeof why), ST_EINVAL);
    assert_string_equal(why, "already voted for west at epoch 5");
    assert_int_equal(failover_vote_decide(&v, "south", "east", 4, why, sizeof why), ST_EINVAL);
    assert_string_equal(why, "already voted for west at epoch 5");
    /* the same vote asked again (the answer was lost): granted again */
    assert_int_equal(failover_vote_decide(&v, "west", "east", 5, why, sizeof why), 0);
    /* but not if the suspect has come back meanwhile */
    v.suspect_silent_ms = 100;
    assert_int_equal(failover_vote_decide(&v, "west", "east", 5, why, sizeof why), ST_EINVAL);
    /* a later epoch may go to another candidate */
    v.suspect_silent_ms = 10000;
    assert_int_equal(failover_vote_decide(&v, "south", "east", 6, why, sizeof why), 0);
}

static void test_only_newer_epochs(void **state)
{
    (void)state;
    char why[512];
    failover_vote_view v = quiet_for(10000);
    v.epoch_seen = 7;
    assert_int_equal(failover_vote_decide(&v, "west", "east", 7, why, sizeof why), ST_EINVAL);
    assert_string_equal(why, "epoch 7 is not newer than epoch 7 already seen");
    assert_int_equal(failover_vote_decide(&v, "west", "east", 3, why, sizeof why), ST_EINVAL);
    assert_int_equal(failover_vote_decide(&v, "west", "east", 8, why, sizeof why), 0);
    /* nonsense */
    assert_int_equal(failover_vote_decide(&v, "east", "east", 8, why, sizeof why), ST_EINVAL);
    assert_string_equal(why, "east cannot take over from itself");
    assert_int_equal(failover_vote_decide(&v, "west", "east", 0, why, sizeof why), ST_EINVAL);
    assert_int_equal(failover_vote_decide(&v, "", "east", 8, why, sizeof why), ST_EINVAL);
}

static void test_answer_check(void **state)
{
    (void)state;
    char why[512];
    assert_true(failover_vote_answer_ok("granted=1\ncandidate=west\nepoch=6\nsuspect=east\n", 200,
                                        "west", 6, why, sizeof why));
    /* a witness answering with an older (or any other) epoch is refused */
    assert_false(failover_vote_answer_ok("granted=1\ncandidate=west\nepoch=5\n", 200, "west", 6,
                                         why, sizeof why));
    assert_string_equal(why, "granted epoch 5, not the requested epoch 6: ignored");
    assert_false(failover_vote_answer_ok("granted=1\ncandidate=south\nepoch=6\n", 200, "west", 6,
                                         why, sizeof why));
    assert_false(failover_vote_answer_ok("granted=1\ncandidate=west\n", 200, "west", 6, why,
                                         sizeof why));
    assert_false(failover_vote_answer_ok("granted=1\ncandidate=west\nepoch=6x\n", 200, "west", 6,
                                         why, sizeof why));
    assert_false(failover_vote_answer_ok("granted=0\nerror=already voted for south at epoch 6\n",
                                         409, "west", 6, why, sizeof why));
    assert_string_equal(why, "refused (HTTP 409): already voted for south at epoch 6");
    /* granted=1 under an error status does not count */
    assert_false(failover_vote_answer_ok("granted=1\ncandidate=west\nepoch=6\n", 503, "west", 6,
                                         why, sizeof why));
    assert_false(failover_vote_answer_ok(NULL, 0, "west", 6, why, sizeof why));
}

static void test_vote_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/strait-vote-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char why[512];
    failover_vote v;
    assert_int_equal(failover_vote_load(dir, "w.vote", &v, why, sizeof why), 0);
    assert_int_equal(v.epoch, 0); /* never voted */
    failover_vote granted = {.candidate = "west", .suspect = "east", .epoch = 9, .at_ms = 123};
    assert_int_equal(failover_vote_store(dir, "w.vote", &granted), 0);
    assert_int_equal(failover_vote_load(dir, "w.vote", &v, why, sizeof why), 0);
    assert_string_equal(v.candidate, "west");
    assert_string_equal(v.suspect, "east");
    assert_int_equal(v.epoch, 9);
    assert_int_equal(v.at_ms, 123);
    failover_vote bad = {.candidate = "west", .suspect = "east", .epoch = 0};
    assert_int_equal(failover_vote_store(dir, "w.vote", &bad), ST_EINVAL);
    char path[128];
    snprintf(path, sizeof path, "%s/w.vote", dir);
    unlink(path);
    rmdir(dir);

    static const struct {
        const char *text;
        const char *why;
    } corrupt[] = {
        {"candidate=west\nsuspect=east\nepoch=3\n", "no at_ms= line"},
        {"candidate=west\nsuspect=east\nepoch=3\nat_ms=1", "line 4: no newline at the end of the file"},
        {"candidate=west\ncandidate=south\n", "line 2: repeated key 'candidate'"},
        {"candidate=west\nvoter=x\n", "line 2: unknown key 'voter'"},
        {"candidate=west\nsuspect=east\nepoch=0\nat_ms=1\n",
         "line 3: epoch: expected an integer between 1 and 2147483647, got '0'"},
        {"candidate=west\nsuspect=east\nepoch=2147483648\nat_ms=1\n",
         "line 3: epoch: expected an integer between 1 and 2147483647, got '2147483648'"},
        {"garbage\n", "line 1: expected key=value"},
        {"candidate=\n", "line 1: candidate must be a region name"},
    };
    for (size_t i = 0; i < sizeof corrupt / sizeof corrupt[0]; i++) {
        assert_int_equal(failover_vote_parse(corrupt[i].text, &v, why, sizeof why), ST_ECORRUPT);
        assert_string_equal(why, corrupt[i].why);
        assert_int_equal(v.epoch, 0);
    }
}

static topology *three_regions(void)
{
    static const char yaml[] = "regions:\n"
                               "  east: {bootstrap: 127.0.0.1:9092, sidecar: 127.0.0.1:8701}\n"
                               "  north: {bootstrap: 127.0.0.1:9292, sidecar: 127.0.0.1:8704}\n"
                               "  west: {bootstrap: 127.0.0.1:9192, sidecar: 127.0.0.1:8702}\n"
                               "flows:\n"
                               "  - {source: east, target: west, topics: [orders]}\n"
                               "  - {source: west, target: east, topics: [orders]}\n"
                               "  - {source: west, target: north, topics: [orders]}\n"
                               "failover: {mode: automatic, active: east, detect_after: 3s,"
                               " witness: 127.0.0.1:8703}\n";
    char path[] = "/tmp/strait-auto-topo-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, yaml, sizeof yaml - 1), (ssize_t)(sizeof yaml - 1));
    close(fd);
    topology *t = calloc(1, sizeof *t);
    char err[512];
    assert_int_equal(topology_load(path, t, err, sizeof err), 0);
    unlink(path);
    assert_int_equal(t->failover_mode, TOPOLOGY_FAILOVER_AUTOMATIC);
    return t;
}

static void test_candidate(void **state)
{
    (void)state;
    topology *t = three_regions();
    failover_state st;
    failover_state_initial(t, &st);
    /* north (index 1) is a standby but has no flow from east: west takes over */
    assert_int_equal(auto_failover_candidate(t, &st), topology_region_index(t, "west"));
    snprintf(st.active, sizeof st.active, "west");
    /* from west: east (index 0) and north both have a flow; the lowest index */
    assert_int_equal(auto_failover_candidate(t, &st), topology_region_index(t, "east"));
    snprintf(st.fenced, sizeof st.fenced, "east"); /* not a standby now */
    assert_int_equal(auto_failover_candidate(t, &st), topology_region_index(t, "north"));
    free(t);
}

static void test_lease(void **state)
{
    (void)state;
    /* lease 1500 ms, checked every 1000 ms: a heartbeat must be under 500 ms old */
    int64_t sent[2] = {9600, 0};
    assert_true(auto_failover_lease_holds(sent, 2, 1, 10000, 1500, 1000));
    sent[0] = 9400;
    assert_false(auto_failover_lease_holds(sent, 2, 1, 10000, 1500, 1000));
    /* a slow tick (2 s apart) ends the lease earlier */
    sent[0] = 9600;
    assert_false(auto_failover_lease_holds(sent, 2, 1, 10000, 1500, 2000));
    /* three regions + witness: majority 3, so two others needed */
    int64_t four[3] = {9900, 9900, 0};
    assert_true(auto_failover_lease_holds(four, 3, 2, 10000, 1500, 1000));
    four[1] = 0;
    assert_false(auto_failover_lease_holds(four, 3, 2, 10000, 1500, 1000));
    /* never reached: never counts, even at time 0 */
    int64_t never[1] = {0};
    assert_false(auto_failover_lease_holds(never, 1, 1, 100, 1500, 1000));
    assert_true(auto_failover_lease_holds(never, 1, 0, 100, 1500, 1000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grants_when_the_suspect_is_silent),
        cmocka_unit_test(test_one_candidate_per_epoch),
        cmocka_unit_test(test_only_newer_epochs),
        cmocka_unit_test(test_answer_check),
        cmocka_unit_test(test_vote_file),
        cmocka_unit_test(test_candidate),
        cmocka_unit_test(test_lease),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
