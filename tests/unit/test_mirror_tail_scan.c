/*
 * test_mirror_tail_scan.c - the resume scan over a fake target partition:
 * local records, other regions' records, foreign/corrupt headers, gaps
 * (compaction), chunk boundaries and an empty target.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "mirror/tail_scan.h"

#define FAKE_MAX 20000

typedef struct fake_record {
    int64_t offset;
    char provenance[64]; /* "" = no header */
} fake_record;

typedef struct fake_target {
    fake_record records[FAKE_MAX];
    int count;
    int reads;
    int fail_at_read; /* 0 = never */
    int64_t records_read;
} fake_target;

static fake_target target;

static void add(int64_t offset, const char *provenance)
{
    fake_record *r = &target.records[target.count++];
    r->offset = offset;
    snprintf(r->provenance, sizeof r->provenance, "%s", provenance ? provenance : "");
}

static int fake_read(void *arg, int64_t start, int64_t end, mirror_tail_visit_fn visit,
                     void *visit_arg)
{
    fake_target *t = arg;
    t->reads++;
    if (t->fail_at_read == t->reads)
        return ST_EIO;
    for (int i = 0; i < t->count; i++) {
        const fake_record *r = &t->records[i];
        if (r->offset < start || r->offset >= end)
            continue;
        mirror_tail_record record = {.offset = r->offset};
        if (r->provenance[0]) {
            record.provenance = r->provenance;
            record.provenance_size = strlen(r->provenance);
        }
        t->records_read++;
        visit(visit_arg, &record);
    }
    return 0;
}

static int reset(void **state)
{
    (void)state;
    memset(&target, 0, sizeof target);
    return 0;
}

static void finds_last_record_of_the_source(void **state)
{
    (void)state;
    add(0, "east:0:10");
    add(1, NULL);             /* local record */
    add(2, "east:0:11");
    add(3, "central:0:99");   /* another region's copy */
    add(4, "east:1:500");     /* same region, other partition: not ours */
    add(5, NULL);
    add(6, "not-a-header");   /* corrupt/foreign value */
    mirror_tail_result r;
    assert_int_equal(mirror_tail_scan(0, 7, "east", 0, fake_read, &target, &r), 0);
    assert_true(r.found);
    assert_int_equal(r.source_offset, 11);
    assert_int_equal(r.target_offset, 2);
}

static void empty_and_foreign_only_targets(void **state)
{
    (void)state;
    mirror_tail_result r;
    assert_int_equal(mirror_tail_scan(0, 0, "east", 0, fake_read, &target, &r), 0);
    assert_false(r.found);
    assert_int_equal(target.reads, 0);
    for (int i = 0; i < 50; i++)
        add(i, i % 2 ? "west:0:1" : NULL);
    assert_int_equal(mirror_tail_scan(0, 50, "east", 0, fake_read, &target, &r), 0);
    assert_false(r.found);
    assert_int_equal(r.source_offset, -1);
}

static void walks_back_over_chunks_of_local_records(void **state)
{
    (void)state;
    /* Source record at offset 100 then 15000 local records: several chunks. */
    for (int i = 0; i <= 100; i++) {
        char p[64];
        snprintf(p, sizeof p, "east:2:%d", 1000 + i);
        add(i, p);
    }
    for (int i = 101; i < 15101; i++)
        add(i, NULL);
    mirror_tail_result r;
    assert_int_equal(mirror_tail_scan(0, 15101, "east", 2, fake_read, &target, &r), 0);
    assert_true(r.found);
    assert_int_equal(r.source_offset, 1100);
    assert_int_equal(r.target_offset, 100);
    /* Chunks double: 1000, 2000, 4000, 8000 cover 15000 in 4 reads, the 5th finds it. */
    assert_true(target.reads <= 5);
    assert_true(target.records_read <= 15101);
}

static void respects_log_start_and_gaps(void **state)
{
    (void)state;
    /* Compacted target: offsets with holes, log start at 40. */
    add(40, "east:0:7");
    add(47, "east:0:9");
    add(2000, NULL);
    add(2999, NULL);
    mirror_tail_result r;
    assert_int_equal(mirror_tail_scan(40, 3000, "east", 0, fake_read, &target, &r), 0);
    assert_true(r.found);
    assert_int_equal(r.source_offset, 9);
    assert_int_equal(r.target_offset, 47);
    /* Records below the log start are not visited. */
    reset(NULL);
    add(5, "east:0:1");
    assert_int_equal(mirror_tail_scan(10, 20, "east", 0, fake_read, &target, &r), 0);
    assert_false(r.found);
}

static void read_errors_propagate(void **state)
{
    (void)state;
    for (int i = 0; i < 3000; i++)
        add(i, NULL);
    target.fail_at_read = 2;
    mirror_tail_result r;
    assert_int_equal(mirror_tail_scan(0, 3000, "east", 0, fake_read, &target, &r), ST_EIO);
    assert_int_equal(mirror_tail_scan(5, 4, "east", 0, fake_read, &target, &r), ST_EINVAL);
}

static void match_helper(void **state)
{
    (void)state;
    mirror_tail_record record = {.offset = 3, .provenance = "east:4:77", .provenance_size = 9};
    int64_t source_offset = -1;
    assert_true(mirror_tail_match(&record, "east", 4, &source_offset));
    assert_int_equal(source_offset, 77);
    assert_false(mirror_tail_match(&record, "eas", 4, &source_offset));
    assert_false(mirror_tail_match(&record, "east", 5, &source_offset));
    record.provenance = NULL;
    assert_false(mirror_tail_match(&record, "east", 4, &source_offset));
}

/* A record another region relayed (identity naming, three regions): its
 * earlier values count, so the origin's flow resumes after it. */
static void match_relayed_record(void **state)
{
    (void)state;
    mirror_tail_record record = {.offset = 9, .provenance = "west:2:500", .provenance_size = 10,
                                 .earlier_count = 1, .earlier = {"east:2:40"},
                                 .earlier_size = {9}};
    int64_t source_offset = -1;
    assert_true(mirror_tail_match(&record, "west", 2, &source_offset));
    assert_int_equal(source_offset, 500);
    assert_true(mirror_tail_match(&record, "east", 2, &source_offset));
    assert_int_equal(source_offset, 40);
    assert_false(mirror_tail_match(&record, "east", 1, &source_offset));
    assert_false(mirror_tail_match(&record, "north", 2, &source_offset));
    /* an unparseable earlier value is someone else's header */
    record.earlier[0] = "east:x:40";
    record.earlier_size[0] = 9;
    assert_false(mirror_tail_match(&record, "east", 2, &source_offset));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(finds_last_record_of_the_source, reset),
        cmocka_unit_test_setup(empty_and_foreign_only_targets, reset),
        cmocka_unit_test_setup(walks_back_over_chunks_of_local_records, reset),
        cmocka_unit_test_setup(respects_log_start_and_gaps, reset),
        cmocka_unit_test_setup(read_errors_propagate, reset),
        cmocka_unit_test_setup(match_helper, reset),
        cmocka_unit_test_setup(match_relayed_record, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
