/*
 * test_region_lease.c - the lease on the active role (strait.region.lease.ms,
 * broker/cluster/region_state.h): lapse, renewal, restart, a renewal that
 * leaves the file alone, produce fenced by a lapsed lease (and an idempotent
 * batch refused for the role closing its connection), the lease anchored on
 * the broker's clock (strait.region.lease.anchor.ms) and that clock in
 * DescribeConfigs.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/broker.h"
#include "broker/log/batch_build.h"
#include "broker/cluster/region_epochs.h"
#include "broker/cluster/region_state.h"
#include "broker/proto/admin_apis.h"
#include "broker/proto/data_apis.h"
#include "broker/proto/group_apis.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/region_redirect.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/limits.h"

#include "region_state_fixture.h"

static void make_active(fixture *f, const char *epoch, const char *lease_ms)
{
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_ROLE, "active", REGION_KEY_EPOCH, epoch,
                 REGION_KEY_LEASE_MS, lease_ms, REGION_KEY_ACTIVE, "west", REGION_KEY_TOPICS,
                 "orders", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void lease_bounds_accepted(void **state)
{
    fixture *f = *state;
    make_active(f, "1", "3600000");
    make_active(f, "1", "0");
    assert_int_equal(region_state_role(f->b.region), REGION_ROLE_ACTIVE);
}

/* A renewal is at a time r with before <= r <= after (clock_mono_ms around
 * the apply); the lease lapses once now - r > lease.ms. Checks only at times
 * whose answer does not depend on where r falls. */
static void lease_lapses_and_apply_renews(void **state)
{
    fixture *f = *state;
    const int64_t lease_ms = 10000;
    make_active(f, "3", "10000");
    int64_t after = clock_mono_ms();
    region_state *rs = f->b.region;
    assert_int_equal(region_state_effective_role_at(rs, after), REGION_ROLE_ACTIVE);
    assert_false(region_state_lease_lapsed_at(rs, after));
    assert_int_equal(region_state_effective_role_at(rs, after + lease_ms + 1), REGION_ROLE_FENCED);
    assert_true(region_state_lease_lapsed_at(rs, after + lease_ms + 1));
    /* the stored role is untouched: a lapsed lease is no change of state */
    assert_int_equal(region_state_role(rs), REGION_ROLE_ACTIVE);
    region_state_lease_check(rs, after + lease_ms + 1); /* logs the lapse; changes no answer */
    assert_int_equal(region_state_role(rs), REGION_ROLE_ACTIVE);
    assert_int_equal(region_state_effective_role_at(rs, after), REGION_ROLE_ACTIVE);

    /* an apply renews: the same state re-applied (the sidecar's renewal) */
    sleep_ms(3);
    int64_t before = clock_mono_ms(); /* >= first renewal + 3 */
    int64_t probe = before + lease_ms - 1;
    assert_int_equal(region_state_effective_role_at(rs, probe + 2), REGION_ROLE_FENCED);
    make_active(f, "3", "10000");
    assert_int_equal(region_state_effective_role_at(rs, probe), REGION_ROLE_ACTIVE);
    /* so does an incremental change of another key */
    sleep_ms(3);
    before = clock_mono_ms();
    probe = before + lease_ms - 1;
    assert_int_equal(region_state_effective_role_at(rs, probe + 2), REGION_ROLE_FENCED);
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_GROUPS, "app-.*", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    assert_int_equal(region_state_effective_role_at(rs, probe), REGION_ROLE_ACTIVE);
    /* validate_only and refused changes do not renew */
    sleep_ms(3);
    before = clock_mono_ms();
    probe = before + lease_ms - 1;
    r = set_keys(f, "", true, REGION_KEY_EPOCH, "4", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    r = set_keys(f, "", false, REGION_KEY_EPOCH, "2", NULL);
    assert_int_equal(r->error_code, KERR_INVALID_CONFIG);
    assert_int_equal(region_state_effective_role_at(rs, probe + 2), REGION_ROLE_FENCED);
    /* other roles are never changed by the lease */
    r = set_keys(f, "", false, REGION_KEY_ROLE, "promoting", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    assert_int_equal(region_state_effective_role_at(rs, INT64_MAX / 2), REGION_ROLE_PROMOTING);
    assert_true(region_state_lease_lapsed_at(rs, INT64_MAX / 2));
}

static void lease_zero_never_lapses(void **state)
{
    fixture *f = *state;
    make_active(f, "2", "0");
    region_state *rs = f->b.region;
    assert_int_equal(region_state_effective_role_at(rs, INT64_MAX / 2), REGION_ROLE_ACTIVE);
    assert_false(region_state_lease_lapsed_at(rs, INT64_MAX / 2));
    /* nor does a state without the key */
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_LEASE_MS, NULL, NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    assert_int_equal(region_state_effective_role_at(rs, INT64_MAX / 2), REGION_ROLE_ACTIVE);
    /* reopened without a lease: never lapsed, but fenced until confirmed */
    region_state *again = NULL;
    assert_int_equal(region_state_open(f->root, &again), 0);
    assert_false(region_state_lease_lapsed(again));
    assert_int_equal(region_state_role(again), REGION_ROLE_ACTIVE);
    assert_int_equal(region_state_effective_role(again), REGION_ROLE_FENCED);
    assert_int_equal(region_state_effective_role_at(again, 0), REGION_ROLE_FENCED);
    const char *keys[] = {REGION_KEY_ROLE};
    const char *values[] = {"active"};
    const int8_t ops[] = {REGION_OP_SET};
    char err[256];
    assert_int_equal(region_state_apply(again, keys, values, ops, 1, false, true, err, sizeof err),
                     0);
    assert_int_equal(region_state_effective_role(again), REGION_ROLE_FENCED); /* validate_only */
    assert_int_equal(region_state_apply(again, keys, values, ops, 1, false, false, err, sizeof err),
                     0);
    assert_int_equal(region_state_effective_role(again), REGION_ROLE_ACTIVE);
    assert_int_equal(region_state_effective_role_at(again, INT64_MAX / 2), REGION_ROLE_ACTIVE);
    region_state_close(again);
}

/* A restarted broker must not take writes before its sidecar checked that
 * no other region was promoted meanwhile. */
static void reopened_lease_starts_lapsed(void **state)
{
    fixture *f = *state;
    make_active(f, "5", "3600000");
    assert_int_equal(region_state_effective_role(f->b.region), REGION_ROLE_ACTIVE);
    region_state *again = NULL;
    assert_int_equal(region_state_open(f->root, &again), 0);
    assert_int_equal(region_state_role(again), REGION_ROLE_ACTIVE);
    assert_int_equal(region_state_epoch(again), 5);
    assert_int_equal(region_state_effective_role(again), REGION_ROLE_FENCED);
    assert_true(region_state_lease_lapsed(again));
    assert_int_equal(region_state_effective_role_at(again, 0), REGION_ROLE_FENCED);
    /* validate_only is no renewal */
    char err[256];
    const char *keys[] = {REGION_KEY_EPOCH};
    const char *values[] = {"5"};
    assert_int_equal(region_state_apply(again, keys, values, NULL, 1, false, true, err, sizeof err), 0);
    assert_int_equal(region_state_effective_role(again), REGION_ROLE_FENCED);
    /* an apply that changes nothing is one */
    assert_int_equal(region_state_apply(again, keys, values, NULL, 1, false, false, err, sizeof err), 0);
    assert_int_equal(region_state_effective_role(again), REGION_ROLE_ACTIVE);
    assert_false(region_state_lease_lapsed(again));
    region_state_close(again);
}

static char *read_state_file(fixture *f)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->root, REGION_STATE_FILE_NAME);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(file_read_all(path, LIMIT_REGION_STATE_FILE_BYTES, &text, &len), 0);
    return text;
}

/* The sidecar renews every few hundred ms: no fsync for that. The file is
 * replaced by the same state plus a marker comment; a renewal leaves the
 * marker, a real change rewrites the file. */
static void unchanged_apply_keeps_the_file(void **state)
{
    fixture *f = *state;
    make_active(f, "6", "1500");
    char *text = read_state_file(f);
    assert_non_null(strstr(text, "strait.region.lease.ms=1500\n"));
    char marked[LIMIT_REGION_STATE_FILE_BYTES];
    int n = snprintf(marked, sizeof marked, "%s# marker\n", text);
    free(text);
    assert_int_equal(file_write_atomic(f->root, REGION_STATE_FILE_NAME, marked, (size_t)n), 0);

    make_active(f, "6", "1500"); /* IncrementalAlterConfigs, same values */
    const char *keys[] = {REGION_KEY_ROLE,   REGION_KEY_EPOCH,  REGION_KEY_LEASE_MS,
                          REGION_KEY_ACTIVE, REGION_KEY_TOPICS};
    const char *values[] = {"active", "6", "1500", "west", "orders"};
    char err[256];
    assert_int_equal(region_state_apply(f->b.region, keys, values, NULL, 5, true, false, err,
                                        sizeof err),
                     0); /* AlterConfigs (replace), the same set */
    assert_int_equal(region_state_apply(f->b.region, NULL, NULL, NULL, 0, false, false, err,
                                        sizeof err),
                     0); /* an empty incremental change */
    text = read_state_file(f);
    assert_string_equal(text, marked);
    free(text);

    /* a real change is persisted */
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_EPOCH, "7", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    text = read_state_file(f);
    assert_null(strstr(text, "# marker"));
    assert_non_null(strstr(text, "strait.region.epoch=7\n"));
    free(text);
    /* so is the removal of a key: the same others, one fewer */
    r = set_keys(f, "", false, REGION_KEY_LEASE_MS, NULL, NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    text = read_state_file(f);
    assert_null(strstr(text, "lease"));
    free(text);
}

/* Produce from a plain client is refused once the lease lapsed, as on a
 * fenced region; the sidecar still writes; metadata stays local. */
static void lapsed_lease_fences_produce(void **state)
{
    fixture *f = *state;
    create(f, "orders", 1);
    make_active(f, "4", "50");
    broker_request plain = {.broker = &f->b, .client_id = proto_str_c("rdkafka")};
    broker_request sidecar = {.broker = &f->b, .client_id = proto_str_c("strait-sidecar-west")};
    int64_t deadline = clock_mono_ms() + 10000;
    while (!region_state_lease_lapsed(f->b.region) && clock_mono_ms() < deadline)
        sleep_ms(10);
    assert_true(region_state_lease_lapsed(f->b.region));
    assert_int_equal(region_request_role(&plain), REGION_ROLE_FENCED);
    assert_true(region_fences_produce(&plain, "orders", 6));
    assert_false(region_fences_produce(&plain, "local", 5));
    assert_false(region_fences_produce(&sidecar, "orders", 6));
    assert_false(region_redirects_topic(&plain, "orders", 6));
    assert_int_equal(region_group_error(&plain, "app-1", 5), 0);
    /* the leader epochs stay raised: the region still owns the topic */
    assert_int_equal(plog_leader_epoch(topic_registry_find(f->b.topics, "orders", 6)
                                           ->partitions[0].log),
                     4);
}

/* One Produce v8 (acks=all) of a single batch to orders[0] as a plain
 * client: producer_id -1 for a plain batch. Returns the request. */
static broker_request *produce_one(fixture *f, int64_t producer_id, int32_t sequence,
                                   int16_t *error_code)
{
    static const uint8_t value[] = "seq-1124";
    batch_record rec = {.key_len = -1, .value = value, .value_len = (int32_t)sizeof value - 1};
    batch_build_params params;
    batch_build_params_default(&params);
    params.producer_id = producer_id;
    params.producer_epoch = producer_id >= 0 ? 0 : -1;
    params.base_sequence = producer_id >= 0 ? sequence : -1;
    buf batch;
    buf_init(&batch, 1 << 16);
    assert_int_equal(batch_build(&batch, &params, &rec, 1), 0);
    uint8_t *copy = proto_arena_alloc(&f->arena, batch.len);
    memcpy(copy, batch.data, batch.len);
    produce_partition_data *pd = proto_arena_alloc(&f->arena, sizeof *pd);
    pd->records = (proto_records){.ptr = copy, .len = (int32_t)batch.len, .fd = -1};
    buf_free(&batch);
    produce_topic_data *td = proto_arena_alloc(&f->arena, sizeof *td);
    td->name = proto_str_c("orders");
    td->partitions = (proto_array){.items = pd, .count = 1};
    produce_request *in = proto_arena_alloc(&f->arena, sizeof *in);
    *in = (produce_request){.transactional_id = proto_str_null(), .acks = 1, .timeout_ms = 1000,
                            .topics = {.items = td, .count = 1}};
    produce_response *out = call(f, &api_produce, 8, in);
    *error_code = ((produce_partition_response *)((produce_topic_response *)out->responses.items)
                       ->partitions.items)
                      ->error_code;
    return f->calls[f->call_count - 1];
}

/* The promotion race of test_failover_secure: an idempotent producer
 * pipelines R1 (sequence 395) and R2 (396) to a promoting region; R1 is
 * refused, the region turns active, and R2 would be the first batch it sees
 * of a producer whose state stayed in the old region: accepted at 396
 * (KIP-360), after which librdkafka counts R1 as delivered. The refusal of
 * an idempotent batch must close the connection so R2 is never read. */
static void refused_idempotent_produce_closes(void **state)
{
    fixture *f = *state;
    create(f, "orders", 1);
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_ROLE, "promoting", REGION_KEY_EPOCH, "4",
                 REGION_KEY_TOPICS, "orders", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
    int16_t code;
    broker_request *r1 = produce_one(f, 433791696897LL, 395, &code);
    assert_int_equal(code, KERR_NOT_LEADER_OR_FOLLOWER);
    assert_true(r1->close_after_response);
    broker_request *plain = produce_one(f, -1, -1, &code); /* no sequence to keep in order */
    assert_int_equal(code, KERR_NOT_LEADER_OR_FOLLOWER);
    assert_false(plain->close_after_response);
    make_active(f, "5", "0");
    broker_request *retried = produce_one(f, 433791696897LL, 395, &code); /* R1 again, first */
    assert_int_equal(code, KERR_NONE);
    assert_false(retried->close_after_response);
}

static int apply_anchored(region_state *rs, int64_t lease_ms, int64_t anchor_ms, bool validate_only,
                          char *err, size_t errlen)
{
    char lease[32], anchor[32];
    snprintf(lease, sizeof lease, "%lld", (long long)lease_ms);
    snprintf(anchor, sizeof anchor, "%lld", (long long)anchor_ms);
    const char *keys[] = {REGION_KEY_ROLE, REGION_KEY_EPOCH, REGION_KEY_ACTIVE, REGION_KEY_TOPICS,
                          REGION_KEY_LEASE_MS, REGION_KEY_LEASE_ANCHOR_MS};
    const char *values[] = {"active", "3", "west", "orders", lease, anchor};
    err[0] = '\0';
    return region_state_apply(rs, keys, values, NULL, anchor_ms ? 6 : 5, true, validate_only, err,
                              errlen);
}

/* The lease runs from the anchor, a time the broker read before the sender
 * decided to renew, not from when the renewal arrives: a renewal that took
 * `delay` ms to arrive leaves delay ms less of lease, never more. */
static void lease_runs_from_the_anchor(void **state)
{
    fixture *f = *state;
    region_state *rs = f->b.region;
    char err[512];
    const int64_t lease_ms = 10000;
    int64_t anchor = clock_mono_ms(); /* the broker's clock.ms, as the sidecar read it */
    sleep_ms(40);                     /* the renewal is delayed in flight */
    int64_t arrived = clock_mono_ms();
    assert_int_equal(apply_anchored(rs, lease_ms, anchor, false, err, sizeof err), 0);
    assert_int_equal(region_state_effective_role_at(rs, anchor + lease_ms), REGION_ROLE_ACTIVE);
    assert_false(region_state_lease_lapsed_at(rs, anchor + lease_ms));
    /* measured from the arrival it would still hold here: it must not */
    assert_true(anchor + lease_ms + 1 < arrived + lease_ms);
    assert_true(region_state_lease_lapsed_at(rs, anchor + lease_ms + 1));
    assert_int_equal(region_state_effective_role_at(rs, anchor + lease_ms + 1), REGION_ROLE_FENCED);

    /* a renewal delayed for longer than the lease renews nothing, but a
     * change it carries applies (a demotion is never refused for its age),
     * and it confirms nothing beyond what it says */
    region_state *late = NULL;
    char dir[] = "/tmp/strait-region-anchor-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(region_state_new(dir, &late), 0);
    int64_t old_anchor = clock_mono_ms();
    sleep_ms(60);
    assert_int_equal(apply_anchored(late, 300, old_anchor, false, err, sizeof err), 0);
    assert_int_equal(region_state_role(late), REGION_ROLE_ACTIVE);
    int64_t now = clock_mono_ms();
    if (now - old_anchor > 300) /* always, unless the machine stalled for the whole test */
        assert_true(region_state_lease_lapsed_at(late, now));
    assert_true(region_state_lease_lapsed_at(late, old_anchor + 301));
    region_state_close(late);
    remove_tree(dir);
}

/* Changes are refused with an anchor this broker cannot have reported (from
 * the future, from before it started) or older than the anchor of a change
 * already applied: a delayed renewal of `active` never overtakes a later
 * `fenced` at the same epoch. */
static void anchor_order_and_range(void **state)
{
    fixture *f = *state;
    region_state *rs = f->b.region;
    char err[512];
    int64_t first = clock_mono_ms();
    sleep_ms(5);
    int64_t second = clock_mono_ms();
    assert_int_equal(apply_anchored(rs, 10000, second, false, err, sizeof err), 0);
    /* the same anchor again: accepted (one read can carry one change) */
    assert_int_equal(apply_anchored(rs, 10000, second, false, err, sizeof err), 0);
    /* an older anchor: a change decided before the one applied */
    assert_int_equal(apply_anchored(rs, 10000, first, false, err, sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, "older than the anchor of the last change applied"));
    assert_false(region_state_lease_lapsed_at(rs, second + 10000));
    assert_true(region_state_lease_lapsed_at(rs, second + 10001));
    /* from the future */
    int64_t ahead = clock_mono_ms() + 3600000;
    assert_int_equal(apply_anchored(rs, 10000, ahead, false, err, sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, "ahead of this broker's clock"));
    /* from before this broker (state) was opened */
    assert_int_equal(apply_anchored(rs, 10000, 1, false, err, sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, "before this broker started"));
    /* validate_only checks the anchor and moves nothing */
    sleep_ms(5);
    int64_t third = clock_mono_ms();
    assert_int_equal(apply_anchored(rs, 10000, third, true, err, sizeof err), 0);
    assert_int_equal(apply_anchored(rs, 10000, second, false, err, sizeof err), 0);
    /* malformed anchors name the key */
    const char *bad[] = {"0", "-5", "soon", "", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *keys[] = {REGION_KEY_EPOCH, REGION_KEY_LEASE_ANCHOR_MS};
        const char *values[] = {"3", bad[i]};
        assert_int_equal(region_state_apply(rs, keys, values, NULL, 2, false, false, err,
                                            sizeof err),
                         ST_ECONFIG);
        assert_non_null(strstr(err, REGION_KEY_LEASE_ANCHOR_MS));
    }
    const char *keys[] = {REGION_KEY_LEASE_ANCHOR_MS};
    const char *values[] = {"5"};
    const int8_t del[] = {REGION_OP_DELETE};
    assert_int_equal(region_state_apply(rs, keys, values, del, 1, false, false, err, sizeof err),
                     ST_EINVAL);
    /* the anchor is not state: neither stored nor listed; the clock is listed */
    char path[256], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", f->root, REGION_STATE_FILE_NAME);
    assert_int_equal(file_read_all(path, 1 << 16, &text, &len), 0);
    assert_null(strstr(text, "anchor"));
    assert_null(strstr(text, "clock"));
    free(text);
}

static void count_key(void *arg, const char *key, const char *value)
{
    int *found = arg;
    (void)value;
    if (!strcmp(key, REGION_KEY_LEASE_ANCHOR_MS))
        found[0]++;
    if (!strcmp(key, REGION_KEY_CLOCK_MS) && atoll(value) > 0)
        found[1]++;
}

static void clock_is_described(void **state)
{
    fixture *f = *state;
    char err[512];
    assert_int_equal(apply_anchored(f->b.region, 10000, clock_mono_ms(), false, err, sizeof err),
                     0);
    int found[2] = {0, 0};
    region_state_describe(f->b.region, count_key, found);
    assert_int_equal(found[0], 0);
    assert_int_equal(found[1], 1);
    /* the state itself never lists it (it is not state) */
    found[0] = found[1] = 0;
    region_state_each(f->b.region, count_key, found);
    assert_int_equal(found[0] + found[1], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lease_bounds_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(lease_lapses_and_apply_renews, setup, teardown),
        cmocka_unit_test_setup_teardown(lease_zero_never_lapses, setup, teardown),
        cmocka_unit_test_setup_teardown(reopened_lease_starts_lapsed, setup, teardown),
        cmocka_unit_test_setup_teardown(unchanged_apply_keeps_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(lapsed_lease_fences_produce, setup, teardown),
        cmocka_unit_test_setup_teardown(lease_runs_from_the_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(anchor_order_and_range, setup, teardown),
        cmocka_unit_test_setup_teardown(clock_is_described, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_idempotent_produce_closes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
