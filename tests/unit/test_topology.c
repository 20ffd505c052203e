/*
 * test_topology.c - the topology YAML (topology/topology.c): the DESIGN.md §6
 * example loads with its defaults, every refusal has its exact
 * "FILE:LINE: reason" message, and the matching / naming helpers; the
 * redirect patterns a sidecar pushes to its brokers (failover/broker_push.h:
 * the union of the includes, the intersection of the excludes); the
 * control_plane keys (topology/topology_control.c) and their defaults; the
 * region-link security keys (topology/topology_client.c) with every refusal,
 * and the client configuration made from them (topology/region_client.c).
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
#include "failover/broker_push.h"
#include "failover/cli_demote.h"
#include "failover/role_pusher.h"
#include "topology/region_client.h"
#include "topology/topology.h"

static char temp_path[64];

static const char *write_temp(const char *text)
{
    if (temp_path[0])
        unlink(temp_path);
    snprintf(temp_path, sizeof temp_path, "/tmp/strait-test-topology-XXXXXX.yaml");
    int fd = mkstemps(temp_path, 5);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return temp_path;
}

static int teardown_temp(void **state)
{
    (void)state;
    if (temp_path[0])
        unlink(temp_path);
    temp_path[0] = '\0';
    return 0;
}

/* Loads text; the topology is on the heap (it is large). */
static int load_text(const char *text, topology **out, char *err, size_t errlen)
{
    *out = calloc(1, sizeof **out);
    assert_non_null(*out);
    return topology_load(write_temp(text), *out, err, errlen);
}

/* Expects text to be refused with "<file>:<line>: <message>". */
static void expect_error(const char *text, int line, const char *message)
{
    topology *t;
    char err[1024], expected[1024];
    int rc = load_text(text, &t, err, sizeof err);
    snprintf(expected, sizeof expected, "%s:%d: %s", temp_path, line, message);
    assert_int_equal(rc, ST_ECONFIG);
    assert_string_equal(err, expected);
    free(t);
}

static const char design_example[] =
    "regions:\n"
    "  east:\n"
    "    bootstrap: 127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094\n"
    "    sidecar: 127.0.0.1:8701          # admin/metrics HTTP of this region's sidecar\n"
    "  west:\n"
    "    bootstrap: 127.0.0.1:9192,127.0.0.1:9193,127.0.0.1:9194\n"
    "    sidecar: 127.0.0.1:8702\n"
    "flows:                                # one entry per direction\n"
    "  - source: east\n"
    "    target: west\n"
    "    topics: [\"orders\", \"payments\\\\..*\"]   # regexes, anchored\n"
    "    topics_exclude: [\"__.*\"]\n"
    "    groups: [\".*\"]\n"
    "    naming: identity                  # identity | prefix (\"east.orders\")\n"
    "  - source: west\n"
    "    target: east\n"
    "    topics: [\"orders\"]\n"
    "    naming: identity\n"
    "failover:\n"
    "  mode: manual                        # manual | automatic\n"
    "  active: east                        # region clients are sent to\n"
    "  detect_after: 10s                   # missed-heartbeat window (automatic mode)\n"
    "  witness: 127.0.0.1:8703             # third vote for automatic mode (optional)\n"
    "  hooks:\n"
    "    on_promote: \"deploy/hooks/update-dns.sh {region}\"\n"
    "checkpoints:\n"
    "  interval: 1s\n";

/* The header of most error cases: two regions. */
#define REGIONS                                          \
    "regions:\n"                                         \
    "  east: {bootstrap: 127.0.0.1:9092, sidecar: 127.0.0.1:8701}\n" \
    "  west: {bootstrap: 127.0.0.1:9192, sidecar: 127.0.0.1:8702}\n"

static void test_design_example_loads(void **state)
{
    (void)state;
    topology *t;
    char err[1024];
    assert_int_equal(load_text(design_example, &t, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_string_equal(t->path, temp_path);
    assert_int_equal(t->region_count, 2);
    assert_string_equal(t->regions[0].name, "east");
    assert_string_equal(t->regions[0].bootstrap, "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094");
    assert_string_equal(t->regions[0].sidecar, "127.0.0.1:8701");
    assert_string_equal(t->regions[0].security.protocol, "PLAINTEXT");
    assert_int_equal(t->regions[0].line, 3);
    assert_string_equal(t->regions[1].name, "west");
    assert_string_equal(t->regions[1].sidecar, "127.0.0.1:8702");
    assert_int_equal(t->flow_count, 2);

    const topology_flow *f = &t->flows[0];
    assert_int_equal(f->source, 0);
    assert_int_equal(f->target, 1);
    assert_int_equal(f->line, 9);
    assert_int_equal(f->topic_count, 2);
    assert_string_equal(f->topics[0], "orders");
    assert_string_equal(f->topics[1], "payments\\..*");
    assert_int_equal(f->exclude_count, 1);
    assert_string_equal(f->topics_exclude[0], "__.*");
    assert_int_equal(f->group_count, 1);
    assert_int_equal(f->naming, TOPOLOGY_NAMING_IDENTITY);
    /* defaults */
    assert_string_equal(f->prefix_separator, ".");
    assert_int_equal(f->refresh_interval_ms, 10000);
    assert_string_equal(f->compression, "lz4");
    assert_int_equal(f->batch_bytes, 1048576);
    assert_int_equal(f->linger_ms, 5);

    f = &t->flows[1];
    assert_int_equal(f->source, 1);
    assert_int_equal(f->target, 0);
    assert_int_equal(f->exclude_count, 2); /* default excludes */
    assert_string_equal(f->topics_exclude[0], "__.*");
    assert_string_equal(f->topics_exclude[1], "strait\\..*");
    assert_string_equal(f->groups[0], ".*");

    assert_int_equal(t->failover_mode, TOPOLOGY_FAILOVER_MANUAL);
    assert_int_equal(t->failover_active, 0);
    assert_int_equal(t->failover_detect_after_ms, 10000);
    assert_string_equal(t->failover_witness, "127.0.0.1:8703");
    assert_string_equal(t->hook_on_promote, "deploy/hooks/update-dns.sh {region}");
    assert_string_equal(t->hook_on_demote, "");
    assert_int_equal(t->checkpoint_interval_ms, 1000);
    assert_string_equal(t->state_dir, "./strait-state");

    char name[64];
    assert_string_equal(topology_flow_name(t, &t->flows[0], name, sizeof name), "east->west");
    assert_int_equal(topology_region_index(t, "west"), 1);
    assert_int_equal(topology_region_index(t, "north"), -1);
    free(t);
}

static void test_every_key_set(void **state)
{
    (void)state;
    topology *t;
    char err[1024];
    int rc = load_text(REGIONS
                       "  north:\n"
                       "    bootstrap: \"[::1]:9292\"\n"
                       "    sidecar: localhost:8703\n"
                       "    security: {protocol: PLAINTEXT}\n"
                       "flows:\n"
                       "  - source: east\n"
                       "    target: west\n"
                       "    topics: orders\n"
                       "    naming: prefix\n"
                       "    prefix_separator: _\n"
                       "    refresh_interval: 500ms\n"
                       "    compression: zstd\n"
                       "    batch_bytes: 65536\n"
                       "    linger: 0ms\n"
                       "    groups: [billing, \"audit-.*\"]\n"
                       "failover:\n"
                       "  mode: automatic\n"
                       "  active: west\n"
                       "  detect_after: 1m\n"
                       "  broker_lease: 20s\n"
                       "  hooks: {on_promote: a, on_demote: b}\n"
                       "checkpoints: {interval: 250ms}\n"
                       "sidecar: {state_dir: /var/lib/strait}\n",
                       &t, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_int_equal(t->region_count, 3);
    const topology_flow *f = &t->flows[0];
    assert_int_equal(f->naming, TOPOLOGY_NAMING_PREFIX);
    assert_string_equal(f->prefix_separator, "_");
    assert_int_equal(f->refresh_interval_ms, 500);
    assert_string_equal(f->compression, "zstd");
    assert_int_equal(f->batch_bytes, 65536);
    assert_int_equal(f->linger_ms, 0);
    assert_int_equal(t->failover_mode, TOPOLOGY_FAILOVER_AUTOMATIC);
    assert_int_equal(t->failover_active, 1);
    assert_int_equal(t->failover_detect_after_ms, 60000);
    assert_int_equal(t->failover_broker_lease_ms, 20000);
    assert_string_equal(t->hook_on_demote, "b");
    assert_int_equal(t->checkpoint_interval_ms, 250);
    assert_string_equal(t->state_dir, "/var/lib/strait");

    char out[300];
    assert_int_equal(topology_target_topic(t, f, "orders", out, sizeof out), 0);
    assert_string_equal(out, "east_orders");
    assert_true(topology_flow_matches_group(f, "audit-1"));
    assert_false(topology_flow_matches_group(f, "xbilling"));
    assert_false(topology_flow_matches_group(f, "billingx"));
    free(t);
}

static void test_matching_is_anchored(void **state)
{
    (void)state;
    topology *t;
    char err[1024];
    assert_int_equal(load_text(design_example, &t, err, sizeof err), 0);
    const topology_flow *f = &t->flows[0];
    assert_true(topology_flow_matches_topic(f, "orders"));
    assert_true(topology_flow_matches_topic(f, "payments.eu"));
    assert_false(topology_flow_matches_topic(f, "orders2"));
    assert_false(topology_flow_matches_topic(f, "my-orders"));
    assert_false(topology_flow_matches_topic(f, "paymentsXeu"));
    assert_false(topology_flow_matches_topic(&t->flows[1], "strait.heartbeats"));
    assert_false(topology_flow_matches_topic(&t->flows[1], "__consumer_offsets"));
    char out[300];
    assert_int_equal(topology_target_topic(t, f, "orders", out, sizeof out), 0);
    assert_string_equal(out, "orders");
    char long_name[260];
    memset(long_name, 'a', 249);
    long_name[249] = '\0';
    assert_int_equal(topology_target_topic(t, f, long_name, out, sizeof out), 0);
    t->flows[0].naming = TOPOLOGY_NAMING_PREFIX;
    assert_int_equal(topology_target_topic(t, f, long_name, out, sizeof out), ST_ETOOBIG);
    free(t);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_error("regoins:\n  east: {bootstrap: a:1, sidecar: a:2}\n", 2,
                 "unknown key 'regoins' (did you mean 'regions'?)");
    expect_error("colour: blue\n", 1, "unknown key 'colour'");
    expect_error(REGIONS "flows:\n  - source: east\n    target: west\n    tpoics: [a]\n", 7,
                 "unknown key 'flows[0].tpoics' (did you mean 'topics'?)");
    expect_error("regions:\n  east:\n    bootstrap: a:1\n    sidcar: a:2\n", 4,
                 "unknown key 'regions.east.sidcar' (did you mean 'sidecar'?)");
    expect_error(REGIONS "failover:\n  mod: manual\n", 5,
                 "unknown key 'failover.mod' (did you mean 'mode'?)");
    expect_error(REGIONS "failover:\n  hooks: {on_promot: x}\n", 5,
                 "unknown key 'failover.hooks.on_promot' (did you mean 'hooks.on_promote'?)");
    expect_error(REGIONS "checkpoints:\n  intreval: 1s\n", 5,
                 "unknown key 'checkpoints.intreval' (did you mean 'interval'?)");
    expect_error(REGIONS "sidecar:\n  state: x\n", 5, "unknown key 'sidecar.state'");
}

static void test_regions_refused(void **state)
{
    (void)state;
    expect_error("failover: {mode: manual}\n", 1, "regions: at least one region is required");
    expect_error("regions: [east, west]\n", 1,
                 "regions: expected a mapping of region names (east: {bootstrap: ..., sidecar: ...})");
    expect_error("regions:\n  East: {bootstrap: a:1, sidecar: a:2}\n", 2,
                 "regions.East: a region name is 1 to 63 characters of a-z, 0-9 and '-'");
    expect_error("regions:\n  east: {sidecar: a:2}\n", 2,
                 "regions.east.bootstrap: missing (host:port of its brokers)");
    expect_error("regions:\n  east:\n    bootstrap: a:1\n", 3,
                 "regions.east.sidecar: missing (host:port of its sidecar's HTTP)");
    expect_error("regions:\n  east: {bootstrap: 'a:1,b', sidecar: a:2}\n", 2,
                 "regions.east.bootstrap: expected host:port[,host:port...] with a port between "
                 "1 and 65535, got 'a:1,b'");
    expect_error("regions:\n  east: {bootstrap: 'a:70000', sidecar: a:2}\n", 2,
                 "regions.east.bootstrap: expected host:port[,host:port...] with a port between "
                 "1 and 65535, got 'a:70000'");
    expect_error("regions:\n  east: {bootstrap: a:1, sidecar: 'a:2,a:3'}\n", 2,
                 "regions.east.sidecar: expected one host:port with a port between 1 and 65535, "
                 "got 'a:2,a:3'");
    expect_error("regions:\n  east: {bootstrap: a:1, sidecar: a:2}\n"
                 "  west: {bootstrap: b:1, sidecar: a:2}\n", 3,
                 "regions.west.sidecar: 'a:2' is also the sidecar of east");
    expect_error("regions:\n  east: {bootstrap: a:1, sidecar: a:2, security: {protocol: TLS}}\n", 2,
                 "regions.east.security.protocol: expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, "
                 "SASL_SSL, got 'TLS'");
}

static void test_flows_refused(void **state)
{
    (void)state;
    expect_error(REGIONS "flows:\n  - source: east\n    target: wset\n    topics: [a]\n", 6,
                 "flows[0].target: 'wset' is not a region (regions: east, west)");
    expect_error(REGIONS "flows:\n  - source: esat\n    target: west\n    topics: [a]\n", 5,
                 "flows[0].source: 'esat' is not a region (regions: east, west)");
    expect_error(REGIONS "flows:\n  - source: east\n    target: east\n    topics: [a]\n", 6,
                 "flows[0].target: 'east' is also the source; a flow goes between two regions");
    expect_error(REGIONS "flows:\n  - target: west\n    topics: [a]\n", 5,
                 "flows[0].source: missing (a region name)");
    expect_error(REGIONS "flows:\n  - source: east\n    topics: [a]\n", 5,
                 "flows[0].target: missing (a region name)");
    expect_error(REGIONS "flows:\n  - source: east\n    target: west\n", 5,
                 "flows[0].topics: missing (a list of regexes)");
    expect_error(REGIONS "flows:\n  - {source: east, target: west, topics: [a]}\n"
                 "  - {source: east, target: west, topics: [b]}\n", 6,
                 "flows[1]: duplicate of flows[0] (east -> west); put both topic lists in one flow");
    expect_error(REGIONS "flows: [east, west]\n", 4,
                 "flows: expected a list of mappings (- source: A, target: B, ...)");
    expect_error(REGIONS "flows:\n  - {source: [east], target: west, topics: [a]}\n", 5,
                 "flows[0].source: expected a single value, got a list");
    expect_error(REGIONS "flows:\n  - {source: east, target: west, topics: [\"orders(\"]}\n", 5,
                 "flows[0].topics: bad regex 'orders(': Unmatched ( or \\(");
    expect_error(REGIONS "flows:\n  - {source: east, target: west, topics: [a], groups: [\"[a\"]}\n", 5,
                 "flows[0].groups: bad regex '[a': Unmatched [, [^, [:, [., or [=");
    expect_error(REGIONS "flows:\n  - {source: east, target: west, topics: [a, \"\"]}\n", 5,
                 "flows[0].topics: empty pattern");
    expect_error(REGIONS "flows:\n  - {source: east, target: west, topics: [a], naming: mirror}\n", 5,
                 "flows[0].naming: expected one of identity, prefix, got 'mirror'");
    expect_error(REGIONS "flows:\n  - {source: east, target: west, topics: [a], compression: brotli}\n", 5,
                 "flows[0].compression: expected one of none, gzip, snappy, lz4, zstd, got 'brotli'");
    expect_error(REGIONS "flows:\n  - {source: east, target: west, topics: [a], batch_bytes: 0}\n", 5,
                 "flows[0].batch_bytes: expected an integer between 1 and 2147483647, got '0'");
    expect_error(REGIONS "flows:\n  - {source: east, target: west, topics: [a], prefix_separator: '/'}\n", 5,
                 "flows[0].prefix_separator: expected 1 to 7 characters legal in topic names "
                 "(a-z, A-Z, 0-9, '.', '_', '-'), got '/'");
}

static void test_durations(void **state)
{
    (void)state;
    expect_error(REGIONS "checkpoints:\n  interval: 10\n", 5,
                 "checkpoints.interval: expected a duration like 500ms, 10s, 1m or 1h, got '10'");
    expect_error(REGIONS "checkpoints:\n  interval: 1.5s\n", 5,
                 "checkpoints.interval: expected a duration like 500ms, 10s, 1m or 1h, got '1.5s'");
    expect_error(REGIONS "checkpoints:\n  interval: 0s\n", 5,
                 "checkpoints.interval: expected a duration between 10ms and 7 days, got '0s'");
    expect_error(REGIONS "failover:\n  detect_after: 8d\n", 5,
                 "failover.detect_after: expected a duration like 500ms, 10s, 1m or 1h, got '8d'");
    expect_error(REGIONS "failover:\n  detect_after: 169h\n", 5,
                 "failover.detect_after: expected a duration between 100ms and 7 days, got '169h'");
    expect_error(REGIONS "flows:\n  - {source: east, target: west, topics: [a], "
                 "refresh_interval: 99999999999999999999s}\n", 5,
                 "flows[0].refresh_interval: expected a duration between 100ms and 7 days, got "
                 "'99999999999999999999s'");
}

static void test_failover_refused(void **state)
{
    (void)state;
    expect_error(REGIONS "failover:\n  active: north\n", 5,
                 "failover.active: 'north' is not a region (regions: east, west)");
    expect_error(REGIONS "failover:\n  mode: auto\n", 5,
                 "failover.mode: expected one of manual, automatic, got 'auto'");
    expect_error(REGIONS "failover:\n  witness: nowhere\n", 5,
                 "failover.witness: expected one host:port with a port between 1 and 65535, got "
                 "'nowhere'");
    expect_error("nothing: [\n", 2, "invalid YAML: did not find expected node content "
                 "(while parsing a flow node started at line 2)");
}

/* failover.broker_lease: its default per mode and its bounds
 * (failover/role_pusher.h). */
static int64_t lease_of(const char *failover, int *rc)
{
    topology *t;
    char err[1024], text[2048];
    snprintf(text, sizeof text, "%s%s", REGIONS, failover);
    assert_int_equal(load_text(text, &t, err, sizeof err), 0);
    int64_t lease = -2;
    *rc = role_pusher_lease_ms(t, &lease, err, sizeof err);
    if (*rc != 0)
        assert_non_null(strstr(err, "failover.broker_lease"));
    free(t);
    return lease;
}

static void test_broker_lease(void **state)
{
    (void)state;
    int rc;
    /* manual: a lease by default too (cli_demote.c waits it out), 0s for none */
    assert_int_equal(lease_of("failover:\n  mode: manual\n", &rc), ROLE_PUSHER_MANUAL_LEASE_MS);
    assert_int_equal(rc, 0);
    assert_int_equal(lease_of("failover:\n  mode: manual\n  broker_lease: 0s\n", &rc), 0);
    assert_int_equal(rc, 0);
    /* the wait of strait failover: L (1 + 1/1000, rounded up) + the margin; none without a lease */
    assert_int_equal(cli_demote_wait_ms(6000), 6000 + 7 + CLI_DEMOTE_MARGIN_MS);
    assert_int_equal(cli_demote_wait_ms(0), 0);
    assert_int_equal(lease_of("failover:\n  broker_lease: 2s\n", &rc), 2000);
    assert_int_equal(rc, 0);
    /* automatic: d/2 - one tick by default, at most that */
    assert_int_equal(lease_of("failover:\n  mode: automatic\n  detect_after: 5s\n", &rc), 1500);
    assert_int_equal(rc, 0);
    assert_int_equal(lease_of("failover:\n  mode: automatic\n  detect_after: 5s\n"
                              "  broker_lease: 1s\n", &rc), 1000);
    assert_int_equal(rc, 0);
    lease_of("failover:\n  mode: automatic\n  detect_after: 5s\n  broker_lease: 2s\n", &rc);
    assert_int_equal(rc, ST_ECONFIG);
    /* off on request, too short refused */
    assert_int_equal(lease_of("failover:\n  mode: automatic\n  broker_lease: 0s\n", &rc), 0);
    assert_int_equal(rc, 0);
    lease_of("failover:\n  broker_lease: 100ms\n", &rc);
    assert_int_equal(rc, ST_ECONFIG);
}

static void test_prefix_cycle_refused(void **state)
{
    (void)state;
    /* east->west prefix creates east.orders in west; west->east identity takes
     * everything back into east under the same name. */
    expect_error(REGIONS "flows:\n"
                 "  - {source: east, target: west, topics: [orders], naming: prefix}\n"
                 "  - {source: west, target: east, topics: [\".*\"]}\n", 6,
                 "flows[1]: west -> east (identity naming) would copy 'east.orders', which "
                 "flows[0] (prefix naming) creates in west, back into east; exclude it with "
                 "topics_exclude or use prefix naming on both");
    /* breakable: prefix both ways, or an exclude on the way back */
    topology *t;
    char err[1024];
    assert_int_equal(load_text(REGIONS "flows:\n"
                               "  - {source: east, target: west, topics: [orders], naming: prefix}\n"
                               "  - {source: west, target: east, topics: [\".*\"], naming: prefix}\n",
                               &t, err, sizeof err), 0);
    free(t);
    assert_int_equal(load_text(REGIONS "flows:\n"
                               "  - {source: east, target: west, topics: [orders], naming: prefix}\n"
                               "  - {source: west, target: east, topics: [\".*\"],"
                               " topics_exclude: [\"east\\\\..*\"]}\n",
                               &t, err, sizeof err), 0);
    free(t);
}

/* failover_redirect_patterns for region: its includes and shared excludes. */
static void expect_patterns(const topology *t, int region, const char *topics,
                            const char *exclude)
{
    char err[1024], got_topics[4096], got_exclude[4096];
    assert_int_equal(failover_redirect_patterns(t, region, got_topics, sizeof got_topics,
                                                got_exclude, sizeof got_exclude, err, sizeof err),
                     0);
    assert_string_equal(got_topics, topics);
    assert_string_equal(got_exclude, exclude);
}

/* failover_redirect_patterns: over the identity-named flows into or out of
 * a region, the includes' union and the excludes' intersection (exact
 * strings: "local[.].*" is not "local\\..*"). */
static void test_redirect_patterns(void **state)
{
    (void)state;
    static const char text[] =
        "regions:\n"
        "  east: {bootstrap: 127.0.0.1:9092, sidecar: 127.0.0.1:8701}\n"
        "  west: {bootstrap: 127.0.0.1:9192, sidecar: 127.0.0.1:8702}\n"
        "  north: {bootstrap: 127.0.0.1:9292, sidecar: 127.0.0.1:8703}\n"
        "  south: {bootstrap: 127.0.0.1:9392, sidecar: 127.0.0.1:8704}\n"
        "flows:\n"
        "  - source: east\n"
        "    target: west\n"
        "    topics: ['.*']\n"
        "    topics_exclude: ['__.*', 'strait\\..*', 'local\\..*', 'tmp\\..*']\n"
        "  - source: west\n"
        "    target: east\n"
        "    topics: ['orders', 'payments\\..*']\n"
        "    topics_exclude: ['local\\..*', '__.*', 'local[.].*', 'tmp\\..*']\n"
        "  - source: north\n"
        "    target: west\n"
        "    topics: ['orders']\n"  /* the default excludes */
        "  - source: east\n"
        "    target: north\n"
        "    topics: ['audit']\n"
        "    topics_exclude: []\n"
        "    naming: prefix\n"; /* east.audit in north: nothing to protect */
    topology *t;
    char err[1024], topics[4096], exclude[4096];
    assert_int_equal(load_text(text, &t, err, sizeof err), 0);
    int east = topology_region_index(t, "east"), west = topology_region_index(t, "west");
    int north = topology_region_index(t, "north"), south = topology_region_index(t, "south");
    /* east: east->west and west->east (the prefix flow does not count) */
    expect_patterns(t, east, ".*,orders,payments\\..*", "__.*,local\\..*,tmp\\..*");
    /* west: north->west excludes only the defaults */
    expect_patterns(t, west, ".*,orders,payments\\..*", "__.*");
    /* north: only north->west (east->north renames) */
    expect_patterns(t, north, "orders", "__.*,strait\\..*");
    /* south: no flow, nothing */
    expect_patterns(t, south, "", "");
    /* an identity flow with no excludes empties the intersection */
    t->flows[3].naming = TOPOLOGY_NAMING_IDENTITY;
    expect_patterns(t, east, ".*,orders,payments\\..*,audit", "");
    t->flows[3].naming = TOPOLOGY_NAMING_PREFIX;
    /* includes that do not fit refuse; excludes that do not fit are left out */
    char small[12];
    assert_int_equal(failover_redirect_patterns(t, east, small, sizeof small, exclude,
                                                sizeof exclude, err, sizeof err),
                     ST_ETOOBIG);
    assert_non_null(strstr(err, "region east: the include patterns of its flows do not fit"));
    assert_int_equal(failover_redirect_patterns(t, east, topics, sizeof topics, small,
                                                sizeof small, err, sizeof err),
                     0);
    assert_string_equal(small, "__.*");
    free(t);
}

/* control_plane: defaults (authentication on, reads open, no TLS, the
 * generated token in the state directory) and every key. */
static void test_control_plane_keys(void **state)
{
    (void)state;
    topology *t;
    char err[1024], path[1200];
    bool generated = false;
    assert_int_equal(load_text(REGIONS, &t, err, sizeof err), 0);
    assert_false(t->control_insecure);
    assert_true(t->control_open_reads);
    assert_string_equal(t->control_ca, "");
    assert_string_equal(topology_control_token_path(t, path, sizeof path, &generated),
                        "./strait-state/control-plane.token");
    assert_true(generated);
    assert_string_equal(topology_sidecar_identity(t, 1, path, sizeof path), "sidecar-west");
    free(t);
    assert_int_equal(load_text("regions:\n"
                               "  east: {bootstrap: a:1, sidecar: a:2, sidecar_certificate: e.pem, "
                               "sidecar_key: e.key}\n"
                               "  west: {bootstrap: b:1, sidecar: b:2, sidecar_certificate: w.pem, "
                               "sidecar_key: w.key}\n"
                               "failover: {witness: c:3}\n"
                               "control_plane:\n"
                               "  insecure: false\n"
                               "  open_reads: false\n"
                               "  token_file: /etc/strait/token\n"
                               "  ca: /etc/strait/ca.pem\n"
                               "  witness_certificate: wi.pem\n"
                               "  witness_key: wi.key\n",
                               &t, err, sizeof err),
                     0);
    assert_false(t->control_open_reads);
    assert_string_equal(t->control_ca, "/etc/strait/ca.pem");
    assert_string_equal(t->regions[0].sidecar_certificate, "e.pem");
    assert_string_equal(t->regions[1].sidecar_key, "w.key");
    assert_string_equal(t->witness_certificate, "wi.pem");
    assert_string_equal(t->witness_key, "wi.key");
    assert_string_equal(topology_control_token_path(t, path, sizeof path, &generated),
                        "/etc/strait/token");
    assert_false(generated);
    free(t);
    assert_int_equal(load_text(REGIONS "control_plane: {insecure: true}\n", &t, err, sizeof err),
                     0);
    assert_true(t->control_insecure);
    free(t);
}

static void test_control_plane_refused(void **state)
{
    (void)state;
    expect_error(REGIONS "control_plane:\n  insecure: yes\n", 5,
                 "control_plane.insecure: expected true or false, got 'yes'");
    expect_error(REGIONS "control_plane:\n  open_read: false\n", 5,
                 "unknown key 'control_plane.open_read' (did you mean 'open_reads'?)");
    expect_error(REGIONS "control_plane:\n  token_file: [a, b]\n", 5,
                 "control_plane.token_file: expected a file path");
    expect_error(REGIONS "control_plane: x\n", 4,
                 "control_plane: expected a mapping (insecure, open_reads, token_file, ca, "
                 "witness_certificate, witness_key)");
    /* TLS is all or nothing: a CA needs every sidecar's pair, a pair needs a CA */
    expect_error(REGIONS "control_plane: {ca: ca.pem}\n", 2,
                 "regions.east: control_plane.ca is set, so its sidecar needs "
                 "sidecar_certificate and sidecar_key (HTTPS)");
    expect_error("regions:\n  east: {bootstrap: a:1, sidecar: a:2, sidecar_certificate: e.pem}\n",
                 2, "regions.east.sidecar_certificate: needs control_plane.ca (the CA that signs "
                 "the control plane's certificates)");
    expect_error("regions:\n  east: {bootstrap: a:1, sidecar: a:2, sidecar_certificate: e.pem, "
                 "sidecar_key: e.key}\nfailover: {witness: c:3}\ncontrol_plane: {ca: ca.pem}\n",
                 4, "control_plane: ca is set and failover.witness names a witness, so "
                 "witness_certificate and witness_key are required");
    expect_error(REGIONS "control_plane: {witness_key: k}\n", 4,
                 "control_plane.witness_certificate: needs control_plane.ca");
}

static void test_missing_file(void **state)
{
    (void)state;
    topology *t = calloc(1, sizeof *t);
    char err[256];
    assert_int_equal(topology_load("/nonexistent/topology.yaml", t, err, sizeof err), ST_ECONFIG);
    assert_string_equal(err, "/nonexistent/topology.yaml: cannot read: No such file or directory");
    free(t);
}

/* Files the security keys name: they must exist and be readable. */
#define CLIENT_DIR "/tmp/strait-test-topology-client"
static void client_files(void)
{
    mkdir(CLIENT_DIR, 0700);
    const char *names[] = {CLIENT_DIR "/ca.pem", CLIENT_DIR "/c.pem", CLIENT_DIR "/c.key",
                           CLIENT_DIR "/pw"};
    for (int i = 0; i < 4; i++) {
        FILE *f = fopen(names[i], "w");
        assert_non_null(f);
        fputs(i == 3 ? "s3cret-pw\n" : "x\n", f);
        fclose(f);
    }
}

#define REGION_HEAD "regions:\n  east:\n    bootstrap: a:1\n    sidecar: a:2\n    security:\n"

static void test_client_security_keys(void **state)
{
    (void)state;
    client_files();
    topology *t;
    char err[512];
    assert_int_equal(load_text(REGION_HEAD
                               "      protocol: sasl_ssl\n"
                               "      ca: " CLIENT_DIR "/ca.pem\n"
                               "      certificate: " CLIENT_DIR "/c.pem\n"
                               "      key: " CLIENT_DIR "/c.key\n"
                               "      sasl_mechanism: scram-sha-512\n"
                               "      username: sidecar-west\n"
                               "      password_file: " CLIENT_DIR "/pw\n"
                               "  west: {bootstrap: b:1, sidecar: b:2, security: {protocol: SSL}}\n",
                               &t, err, sizeof err),
                     0);
    const topology_client_security *s = &t->regions[0].security;
    assert_string_equal(s->protocol, "SASL_SSL");
    assert_string_equal(s->ca, CLIENT_DIR "/ca.pem");
    assert_string_equal(s->certificate, CLIENT_DIR "/c.pem");
    assert_string_equal(s->key, CLIENT_DIR "/c.key");
    assert_string_equal(s->sasl_mechanism, "SCRAM-SHA-512");
    assert_string_equal(s->username, "sidecar-west");
    assert_string_equal(s->password_file, CLIENT_DIR "/pw");
    assert_string_equal(t->regions[1].security.protocol, "SSL");
    assert_string_equal(t->regions[1].security.ca, "");

    /* the one configuration every client starts from */
    rd_kafka_conf_t *conf = region_client_conf_new(t, 0, "cid", err, sizeof err);
    assert_non_null(conf);
    char value[512];
    size_t size = sizeof value;
    assert_int_equal(rd_kafka_conf_get(conf, "security.protocol", value, &size), RD_KAFKA_CONF_OK);
    assert_string_equal(value, "sasl_ssl");
    size = sizeof value;
    assert_int_equal(rd_kafka_conf_get(conf, "sasl.username", value, &size), RD_KAFKA_CONF_OK);
    assert_string_equal(value, "sidecar-west");
    size = sizeof value;
    assert_int_equal(rd_kafka_conf_get(conf, "bootstrap.servers", value, &size), RD_KAFKA_CONF_OK);
    assert_string_equal(value, "a:1");
    size = sizeof value;
    assert_int_equal(rd_kafka_conf_get(conf, "ssl.key.location", value, &size), RD_KAFKA_CONF_OK);
    assert_string_equal(value, CLIENT_DIR "/c.key");
    rd_kafka_conf_destroy(conf);

    FILE *f;
    /* a password line that does not fit is refused, not cut */
    f = fopen(CLIENT_DIR "/pw", "w");
    for (int i = 0; i < 1100; i++)
        fputc('p', f);
    fclose(f);
    assert_null(region_client_conf_new(t, 0, "cid", err, sizeof err));
    assert_string_equal(err, "region east: security.password_file: '" CLIENT_DIR
                             "/pw': the first line is longer than 1022 bytes");

    /* a password file emptied after the load, an unset variable: refused
     * when the client is made, naming the key */
    f = fopen(CLIENT_DIR "/pw", "w");
    fclose(f);
    assert_null(region_client_conf_new(t, 0, "cid", err, sizeof err));
    assert_string_equal(err, "region east: security.password_file: '" CLIENT_DIR
                             "/pw' holds no password");
    snprintf(t->regions[0].security.password_file, sizeof t->regions[0].security.password_file,
             "%s", "");
    snprintf(t->regions[0].security.password_env, sizeof t->regions[0].security.password_env,
             "%s", "STRAIT_TEST_UNSET_PASSWORD");
    unsetenv("STRAIT_TEST_UNSET_PASSWORD");
    assert_null(region_client_conf_new(t, 0, "cid", err, sizeof err));
    assert_string_equal(err, "region east: security.password_env: the environment variable "
                             "STRAIT_TEST_UNSET_PASSWORD is not set or empty");
    setenv("STRAIT_TEST_UNSET_PASSWORD", "from-env", 1);
    conf = region_client_conf_new(t, 0, "cid", err, sizeof err);
    assert_non_null(conf);
    rd_kafka_conf_destroy(conf);
    unsetenv("STRAIT_TEST_UNSET_PASSWORD");
    free(t);

    /* PLAINTEXT by default: no TLS or SASL property is set */
    assert_int_equal(load_text("regions:\n  east: {bootstrap: a:1, sidecar: a:2}\n", &t, err,
                               sizeof err),
                     0);
    conf = region_client_conf_new(t, 0, "cid", err, sizeof err);
    assert_non_null(conf);
    size = sizeof value;
    assert_int_equal(rd_kafka_conf_get(conf, "security.protocol", value, &size), RD_KAFKA_CONF_OK);
    assert_string_equal(value, "plaintext");
    rd_kafka_conf_destroy(conf);
    free(t);
}

static void test_client_security_refused(void **state)
{
    (void)state;
    client_files();
    expect_error("regions:\n  east: {bootstrap: a:1, sidecar: a:2, security: SSL}\n", 2,
                 "regions.east.security: expected a mapping (protocol, ca, certificate, key, "
                 "sasl_mechanism, username, password_file, password_env)");
    expect_error(REGION_HEAD "      protocol: TLS\n", 6,
                 "regions.east.security.protocol: expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, "
                 "SASL_SSL, got 'TLS'");
    expect_error(REGION_HEAD "      protocol: SASL_SSL\n      sasl_mechanism: GSSAPI\n", 7,
                 "regions.east.security.sasl_mechanism: expected one of PLAIN, SCRAM-SHA-256, "
                 "SCRAM-SHA-512, got 'GSSAPI'");
    expect_error(REGION_HEAD "      protocol: SASL_SSL\n      password: hunter2\n", 7,
                 "regions.east.security.password: a password is never written in the topology; "
                 "use password_file or password_env");
    expect_error(REGION_HEAD "      sasl.password: hunter2\n", 6,
                 "regions.east.security.sasl.password: a password is never written in the "
                 "topology; use password_file or password_env");
    expect_error(REGION_HEAD "      usrname: x\n", 6,
                 "unknown key 'regions.east.security.usrname' (did you mean 'security.username'?)");
    expect_error(REGION_HEAD "      ca: ''\n", 6, "regions.east.security.ca: expected a file path");
    expect_error(REGION_HEAD "      protocol: SASL_SSL\n      password_env: 9X\n", 7,
                 "regions.east.security.password_env: '9X' is not an environment variable name");
    /* relations */
    expect_error(REGION_HEAD "      ca: " CLIENT_DIR "/ca.pem\n", 6,
                 "regions.east.security.ca: needs protocol SSL or SASL_SSL (protocol is "
                 "PLAINTEXT)");
    expect_error(REGION_HEAD "      protocol: SASL_PLAINTEXT\n      certificate: " CLIENT_DIR
                 "/c.pem\n      key: " CLIENT_DIR "/c.key\n", 6,
                 "regions.east.security.certificate: needs protocol SSL or SASL_SSL (protocol is "
                 "SASL_PLAINTEXT)");
    expect_error(REGION_HEAD "      protocol: SSL\n      certificate: " CLIENT_DIR "/c.pem\n", 6,
                 "regions.east.security: certificate and key go together (key is missing)");
    expect_error(REGION_HEAD "      protocol: SSL\n      key: " CLIENT_DIR "/c.key\n", 6,
                 "regions.east.security: certificate and key go together (certificate is "
                 "missing)");
    expect_error(REGION_HEAD "      protocol: SSL\n      username: u\n", 6,
                 "regions.east.security.username: needs protocol SASL_PLAINTEXT or SASL_SSL "
                 "(protocol is SSL)");
    expect_error(REGION_HEAD "      sasl_mechanism: PLAIN\n", 6,
                 "regions.east.security.sasl_mechanism: needs protocol SASL_PLAINTEXT or SASL_SSL "
                 "(protocol is PLAINTEXT)");
    expect_error(REGION_HEAD "      protocol: SASL_SSL\n      username: u\n"
                 "      password_env: PW\n", 6,
                 "regions.east.security: protocol SASL_SSL needs sasl_mechanism (PLAIN, "
                 "SCRAM-SHA-256 or SCRAM-SHA-512)");
    expect_error(REGION_HEAD "      protocol: SASL_PLAINTEXT\n      sasl_mechanism: PLAIN\n"
                 "      password_env: PW\n", 6,
                 "regions.east.security: protocol SASL_PLAINTEXT needs username");
    expect_error(REGION_HEAD "      protocol: SASL_SSL\n      sasl_mechanism: PLAIN\n"
                 "      username: u\n", 6,
                 "regions.east.security: protocol SASL_SSL needs exactly one of password_file "
                 "and password_env");
    expect_error(REGION_HEAD "      protocol: SASL_SSL\n      sasl_mechanism: PLAIN\n"
                 "      username: u\n      password_env: PW\n      password_file: " CLIENT_DIR
                 "/pw\n", 6,
                 "regions.east.security: protocol SASL_SSL needs exactly one of password_file "
                 "and password_env");
    expect_error(REGION_HEAD "      protocol: SSL\n      ca: " CLIENT_DIR "/missing.pem\n", 6,
                 "regions.east.security.ca: cannot read '" CLIENT_DIR "/missing.pem': No such "
                 "file or directory");
    expect_error(REGION_HEAD "      protocol: SASL_SSL\n      sasl_mechanism: PLAIN\n"
                 "      username: u\n      password_file: " CLIENT_DIR "/nope\n", 6,
                 "regions.east.security.password_file: cannot read '" CLIENT_DIR "/nope': No "
                 "such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_design_example_loads, teardown_temp),
        cmocka_unit_test_teardown(test_every_key_set, teardown_temp),
        cmocka_unit_test_teardown(test_matching_is_anchored, teardown_temp),
        cmocka_unit_test_teardown(test_unknown_keys, teardown_temp),
        cmocka_unit_test_teardown(test_regions_refused, teardown_temp),
        cmocka_unit_test_teardown(test_flows_refused, teardown_temp),
        cmocka_unit_test_teardown(test_durations, teardown_temp),
        cmocka_unit_test_teardown(test_failover_refused, teardown_temp),
        cmocka_unit_test_teardown(test_broker_lease, teardown_temp),
        cmocka_unit_test_teardown(test_prefix_cycle_refused, teardown_temp),
        cmocka_unit_test_teardown(test_redirect_patterns, teardown_temp),
        cmocka_unit_test_teardown(test_control_plane_keys, teardown_temp),
        cmocka_unit_test_teardown(test_control_plane_refused, teardown_temp),
        cmocka_unit_test_teardown(test_client_security_keys, teardown_temp),
        cmocka_unit_test_teardown(test_client_security_refused, teardown_temp),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
