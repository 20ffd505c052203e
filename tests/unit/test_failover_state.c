/*
 * test_failover_state.c - the sidecar's failover state (checkpoints/
 * failover_state.h) and what it means (failover/roles.h): the epoch only
 * grows, an equal epoch must carry the same state, history in order,
 * persistence across reopen next to a checkpoint store, a version-1 store
 * migrated without losing its map; roles of regions through a switchover,
 * which flows run, where the diverged copy runs, the recovery point phrase,
 * the shape check against a topology, the kv text form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoints/checkpoint_store.h"
#include "checkpoints/failover_state.h"
#include "common/error.h"
#include "failover/roles.h"
#include "failover/rpo.h"
#include "topology/topology.h"

typedef struct fixture {
    char dir[64];
    char path[128];
    failover_store *store;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/strait-fo-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/east.sqlite", f->dir);
    assert_int_equal(failover_store_open(f->path, &f->store), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    failover_store_close(f->store);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static failover_state make(int64_t epoch, const char *active, const char *fenced,
                           const char *operation, const char *step)
{
    failover_state s;
    memset(&s, 0, sizeof s);
    s.epoch = epoch;
    snprintf(s.active, sizeof s.active, "%s", active);
    snprintf(s.fenced, sizeof s.fenced, "%s", fenced);
    snprintf(s.operation, sizeof s.operation, "%s", operation);
    snprintf(s.step, sizeof s.step, "%s", step);
    snprintf(s.actor, sizeof s.actor, "test");
    return s;
}

static int count_events(void *arg, const failover_event *ev)
{
    int *n = arg;
    (*n)++;
    assert_int_equal(ev->epoch, *n); /* oldest first, one per epoch below */
    return 0;
}

static void test_epoch_only_grows(void **state)
{
    fixture *f = *state;
    failover_state got;
    bool found = true, changed = false;
    char why[256];
    assert_int_equal(failover_state_load(f->store, &got, &found), 0);
    assert_false(found);

    failover_state s1 = make(1, "east", "", "", "");
    failover_event ev = {.epoch = 1, .lag_records = -1};
    strcpy(ev.outcome, "initial");
    assert_int_equal(failover_state_store(f->store, &s1, &ev, &changed, why, sizeof why), 0);
    assert_true(changed);
    /* the same state again: accepted, nothing written */
    assert_int_equal(failover_state_store(f->store, &s1, &ev, &changed, why, sizeof why), 0);
    assert_false(changed);
    /* a different state under the same epoch: refused */
    failover_state other = make(1, "west", "", "", "");
    assert_int_equal(failover_state_store(f->store, &other, NULL, &changed, why, sizeof why),
                     ST_EINVAL);
    assert_non_null(strstr(why, "already stored with a different state"));
    failover_state s2 = make(2, "east", "east", "switchover", "fenced");
    ev.epoch = 2;
    assert_int_equal(failover_state_store(f->store, &s2, &ev, &changed, why, sizeof why), 0);
    assert_true(changed);
    /* an older epoch: refused, names both */
    assert_int_equal(failover_state_store(f->store, &s1, NULL, &changed, why, sizeof why),
                     ST_EINVAL);
    assert_string_equal(why, "epoch 1 is older than the stored epoch 2");
    /* epoch 0 is never valid */
    failover_state zero = make(0, "east", "", "", "");
    assert_int_equal(failover_state_store(f->store, &zero, NULL, &changed, why, sizeof why),
                     ST_EINVAL);

    assert_int_equal(failover_state_load(f->store, &got, &found), 0);
    assert_true(found);
    assert_true(failover_state_same(&got, &s2));
    int n = 0;
    assert_int_equal(failover_event_each(f->store, 10, count_events, &n), 0);
    assert_int_equal(n, 2);

    /* persists across a reopen */
    failover_store_close(f->store);
    assert_int_equal(failover_store_open(f->path, &f->store), 0);
    assert_int_equal(failover_state_load(f->store, &got, &found), 0);
    assert_true(found && failover_state_same(&got, &s2));
}

static void test_shares_the_checkpoint_file(void **state)
{
    fixture *f = *state;
    /* a checkpoint store on the same file keeps working beside it */
    checkpoint_store *cs = NULL;
    assert_int_equal(checkpoint_store_open(f->path, &cs), 0);
    checkpoint_pair pairs[2] = {{0, 0}, {1, 1}};
    assert_int_equal(checkpoint_map_extend(cs, "east->west", "orders", 0, pairs, 2), 0);
    failover_state s1 = make(1, "east", "", "", "");
    bool changed = false;
    char why[256];
    assert_int_equal(failover_state_store(f->store, &s1, NULL, &changed, why, sizeof why), 0);
    int64_t target = -1;
    bool found = false;
    assert_int_equal(checkpoint_translate(cs, "east->west", "orders", 0, 1, &target, &found), 0);
    assert_true(found);
    assert_int_equal(target, 1);
    checkpoint_store_close(cs);
}

static void test_version1_store_migrates(void **state)
{
    fixture *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/v1.sqlite", f->dir);
    /* a version-1 file as released: the three checkpoint tables only */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE map_partitions (partition_id INTEGER PRIMARY KEY,"
                                  " flow TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,"
                                  " UNIQUE (flow, topic, partition));"
                                  "CREATE TABLE map_ranges (partition_id INTEGER NOT NULL,"
                                  " source_start INTEGER NOT NULL, target_start INTEGER NOT NULL,"
                                  " length INTEGER NOT NULL, PRIMARY KEY (partition_id, source_start))"
                                  " WITHOUT ROWID;"
                                  "CREATE TABLE group_checkpoints (flow TEXT NOT NULL, group_id TEXT NOT NULL,"
                                  " topic TEXT NOT NULL, partition INTEGER NOT NULL, source_offset INTEGER"
                                  " NOT NULL, target_offset INTEGER NOT NULL, metadata TEXT NOT NULL,"
                                  " checkpointed_at_ms INTEGER NOT NULL, applied INTEGER NOT NULL,"
                                  " PRIMARY KEY (flow, group_id, topic, partition)) WITHOUT ROWID;"
                                  "INSERT INTO map_partitions VALUES (1, 'east->west', 'orders', 0);"
                                  "INSERT INTO map_ranges VALUES (1, 0, 10, 5);"
                                  "PRAGMA application_id = 1398035028; PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    failover_store *fs = NULL;
    assert_int_equal(failover_store_open(path, &fs), 0);
    failover_state got;
    bool found = true;
    assert_int_equal(failover_state_load(fs, &got, &found), 0);
    assert_false(found);
    failover_store_close(fs);
    checkpoint_store *cs = NULL;
    assert_int_equal(checkpoint_store_open(path, &cs), 0);
    int64_t target = -1;
    assert_int_equal(checkpoint_translate(cs, "east->west", "orders", 0, 3, &target, &found), 0);
    assert_int_equal(target, 13);
    checkpoint_store_close(cs);
}

static topology *two_regions(void)
{
    static const char yaml[] = "regions:\n"
                               "  east: {bootstrap: 127.0.0.1:9092, sidecar: 127.0.0.1:8701}\n"
                               "  west: {bootstrap: 127.0.0.1:9192, sidecar: 127.0.0.1:8702}\n"
                               "flows:\n"
                               "  - {source: east, target: west, topics: [orders]}\n"
                               "  - {source: west, target: east, topics: [orders]}\n"
                               "failover: {mode: manual, active: east}\n";
    char path[] = "/tmp/strait-fo-topo-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, yaml, sizeof yaml - 1), (ssize_t)(sizeof yaml - 1));
    close(fd);
    topology *t = calloc(1, sizeof *t);
    char err[512];
    assert_int_equal(topology_load(path, t, err, sizeof err), 0);
    unlink(path);
    assert_true(t->failover_configured);
    return t;
}

static void test_roles_through_a_switchover(void **state)
{
    (void)state;
    topology *t = two_regions();
    failover_state s;
    failover_state_initial(t, &s);
    assert_int_equal(s.epoch, 1);
    assert_string_equal(s.active, "east");
    assert_int_equal(failover_role_of(&s, "east"), FAILOVER_ROLE_ACTIVE);
    assert_int_equal(failover_role_of(&s, "west"), FAILOVER_ROLE_STANDBY);
    assert_true(failover_flow_runs(&s, "east", "west"));
    assert_false(failover_flow_runs(&s, "west", "east"));

    /* fenced: east refuses writes, its flow drains */
    s = make(2, "east", "east", "switchover", "fenced");
    strcpy(s.target, "west");
    assert_int_equal(failover_role_of(&s, "east"), FAILOVER_ROLE_FENCED);
    assert_true(failover_flow_runs(&s, "east", "west"));
    /* promoting: east is a standby, but the flow into west keeps running for
     * the final checkpoints while the operation is in progress */
    s = make(3, "west", "", "switchover", "promoting");
    strcpy(s.promoting, "west");
    strcpy(s.target, "west");
    strcpy(s.previous, "east");
    assert_int_equal(failover_role_of(&s, "west"), FAILOVER_ROLE_PROMOTING);
    assert_int_equal(failover_role_of(&s, "east"), FAILOVER_ROLE_STANDBY);
    assert_true(failover_flow_runs(&s, "east", "west"));
    assert_true(failover_flow_runs(&s, "west", "east"));
    /* a third region, standby: its flow into the target stays paused (it
     * would copy its copies of east's records, which west has from east) */
    assert_false(failover_flow_runs(&s, "north", "west"));
    assert_false(failover_flow_runs(&s, "east", "north"));
    assert_true(failover_flow_runs(&s, "west", "north"));
    /* done */
    s = make(4, "west", "", "", "");
    assert_false(failover_flow_runs(&s, "east", "west"));
    assert_true(failover_flow_runs(&s, "west", "east"));
    free(t);
}

/* After an unplanned promotion the diverged copy of the old active's
 * records runs into the promoted region only (N7: with three regions a
 * standby that was not promoted copied them too). */
static void test_diverged_copy_only_into_the_promoted_region(void **state)
{
    (void)state;
    failover_state s = make(5, "east", "", "", FAILOVER_STEP_UNPLANNED);
    strcpy(s.previous, "north");
    assert_true(failover_diverged_runs(&s, "north", "east"));
    assert_false(failover_diverged_runs(&s, "north", "west")); /* a standby, not promoted */
    assert_false(failover_diverged_runs(&s, "west", "east"));  /* not the demoted region */
    /* the demoted region active again, or the promotion not unplanned */
    s = make(6, "north", "", "", FAILOVER_STEP_UNPLANNED);
    strcpy(s.previous, "north");
    assert_false(failover_diverged_runs(&s, "north", "east"));
    s = make(7, "east", "", "", "");
    strcpy(s.previous, "north");
    assert_false(failover_diverged_runs(&s, "north", "east"));
    /* an operation under way: the target is promoting, not yet active */
    s = make(8, "west", "", "switchover", "promoting");
    strcpy(s.promoting, "west");
    strcpy(s.previous, "east");
    assert_false(failover_diverged_runs(&s, "east", "west"));
}

/* The recovery point phrase: written into an event's detail, read back. */
static void test_rpo_phrase(void **state)
{
    (void)state;
    char text[FAILOVER_DETAIL_MAX];
    failover_rpo in = {.lag_records = 12, .lower_bound = true, .unknown_ms = 5400}, out;
    assert_int_equal(failover_rpo_format(&in, "east", text, sizeof text), 0);
    assert_non_null(strstr(text, "mirror lag at least 12 records, unknown for the last 5400 ms"));
    char detail[FAILOVER_DETAIL_MAX];
    snprintf(detail, sizeof detail, "east silent 5.4 s; votes west, witness (2 of 3); %s", text);
    assert_true(failover_rpo_parse(detail, &out));
    assert_true(out.lower_bound);
    assert_int_equal(out.lag_records, 12);
    assert_int_equal(out.unknown_ms, 5400);

    in = (failover_rpo){.lag_records = 3};
    assert_int_equal(failover_rpo_format(&in, "east", text, sizeof text), 0);
    assert_string_equal(text, "mirror lag 3 records");
    assert_true(failover_rpo_parse(text, &out));
    assert_false(out.lower_bound);
    assert_int_equal(out.lag_records, 3);
    assert_int_equal(out.unknown_ms, 0);

    /* a lower bound whose window is not known; an unknown lag reads as 0 */
    in = (failover_rpo){.lag_records = -1, .lower_bound = true};
    assert_int_equal(failover_rpo_format(&in, "east", text, sizeof text), 0);
    assert_true(failover_rpo_parse(text, &out));
    assert_true(out.lower_bound);
    assert_int_equal(out.lag_records, 0);
    assert_int_equal(out.unknown_ms, 0);

    /* an older event (before the phrase), and details that carry none */
    assert_true(failover_rpo_parse("unplanned; last known mirror lag 7 records", &out));
    assert_int_equal(out.lag_records, 7);
    assert_false(failover_rpo_parse("switchover", &out));
    assert_false(failover_rpo_parse("mirror lag east->west did not drain within 20000 ms", &out));
    assert_false(failover_rpo_parse("mirror lag -4 records", &out));
    assert_false(failover_rpo_parse("mirror lag at least 4 records, unknown for the last x ms",
                                    &out));
    assert_int_equal(failover_rpo_format(&in, "east", text, 16), ST_ETOOBIG);
}

static void test_state_check_and_text(void **state)
{
    (void)state;
    topology *t = two_regions();
    char why[256];
    failover_state s = make(3, "north", "", "", "");
    assert_int_equal(failover_state_check(t, &s, why, sizeof why), ST_EINVAL);
    assert_non_null(strstr(why, "active region 'north' is not a region"));
    s = make(3, "west", "", "", "");
    strcpy(s.promoting, "east");
    assert_int_equal(failover_state_check(t, &s, why, sizeof why), ST_EINVAL);
    assert_non_null(strstr(why, "must be the active region"));
    s = make(3, "west", "east", "takeover", "");
    assert_int_equal(failover_state_check(t, &s, why, sizeof why), ST_EINVAL);
    assert_non_null(strstr(why, "unknown operation 'takeover'"));
    s = make(3, "east", "east", "switchover", "fenced");
    strcpy(s.target, "west");
    strcpy(s.previous, "east");
    assert_int_equal(failover_state_check(t, &s, why, sizeof why), 0);

    char text[1024];
    assert_int_equal(failover_state_format(&s, text, sizeof text), 0);
    failover_state back;
    memset(&back, 0, sizeof back);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        assert_non_null(eq);
        *eq = '\0';
        assert_true(failover_state_set_field(&back, line, eq + 1));
    }
    assert_true(failover_state_same(&back, &s));
    assert_false(failover_state_set_field(&back, "epoch", "-1"));
    assert_false(failover_state_set_field(&back, "epoch", "7x"));
    assert_false(failover_state_set_field(&back, "active", "a\nb"));
    assert_false(failover_state_set_field(&back, "colour", "red"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_epoch_only_grows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shares_the_checkpoint_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version1_store_migrates, setup, teardown),
        cmocka_unit_test(test_roles_through_a_switchover),
        cmocka_unit_test(test_diverged_copy_only_into_the_promoted_region),
        cmocka_unit_test(test_rpo_phrase),
        cmocka_unit_test(test_state_check_and_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
