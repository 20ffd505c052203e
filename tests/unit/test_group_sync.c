/*
 * test_group_sync.c - the group checkpoint task (checkpoints/group_sync.h)
 * against two real strait brokers, one per region, started by this test on
 * loopback ports in 46000-46999 with their own temporary data directories
 * (the broker binary is bin/strait next to this test's binary).
 *
 * Why here and not in tests/integration: the scenario needs the offset map
 * filled exactly as the copy loop would, and the sidecar that does that end
 * to end is not finished; here the test plays the copy loop itself: it
 * produces the "mirrored" records to the target with their provenance header
 * (strait.src = "east:0:<source offset>") and extends the map with the target
 * offsets from the delivery reports. The brokers start in ~100 ms, so the
 * test stays fast and needs nothing outside its temporary directory.
 *
 * The scenario (issue 4, item 9): a group commits offset N on the source;
 * after a sync round the target group's committed offset equals translate(N),
 * and a consumer of that group on the target starts exactly at the record
 * whose provenance is the first mirrored source offset >= N. Plus: a group
 * with a member on the target is left alone and listed; a group not matching
 * the patterns is not seen; an unchanged checkpoint is not re-applied; a
 * moved commit is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkpoints/checkpoint_store.h"
#include "checkpoints/group_sync.h"
#include "common/error.h"

#define FLOW "east->west"
#define TOPIC "orders"

typedef struct broker {
    pid_t pid;
    int port;
    char dir[64];
    char bootstrap[64];
} broker;

static char work_dir[64];
static broker east, west;

static int free_port(void)
{
    srand((unsigned)(getpid() ^ time(NULL)));
    for (int attempt = 0; attempt < 200; attempt++) {
        int port = 46000 + rand() % 1000;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok && port != east.port)
            return port;
    }
    return -1;
}

static bool accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void broker_start(broker *b, const char *name)
{
    char exe[PATH_MAX], bin[PATH_MAX + 16], listeners[96], dirs[160], log_path[160];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(bin, sizeof bin, "%s/strait", exe);
    assert_int_equal(access(bin, X_OK), 0);
    b->port = free_port();
    assert_true(b->port > 0);
    snprintf(b->dir, sizeof b->dir, "%s/%s", work_dir, name);
    snprintf(b->bootstrap, sizeof b->bootstrap, "127.0.0.1:%d", b->port);
    snprintf(listeners, sizeof listeners, "listeners=PLAINTEXT://127.0.0.1:%d", b->port);
    snprintf(dirs, sizeof dirs, "log.dirs=%s", b->dir);
    snprintf(log_path, sizeof log_path, "%s/%s.log", work_dir, name);
    b->pid = fork();
    assert_true(b->pid >= 0);
    if (b->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!freopen(log_path, "w", stderr) || !freopen("/dev/null", "w", stdout))
            _exit(126);
        execl(bin, bin, "broker", "--override", listeners, "--override", dirs, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 300 && !accepts(b->port); i++) {
        int status;
        assert_int_equal(waitpid(b->pid, &status, WNOHANG), 0); /* still running */
        usleep(20000);
    }
    assert_true(accepts(b->port));
}

static void broker_stop(broker *b)
{
    if (b->pid <= 0)
        return;
    kill(b->pid, SIGTERM);
    int status = 0;
    waitpid(b->pid, &status, 0);
    b->pid = 0;
}

static int rm_rf(const char *path)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    return system(cmd);
}

/* ---- librdkafka helpers --------------------------------------------------- */

static rd_kafka_t *client(rd_kafka_type_t type, const char *bootstrap, const char *group)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err), RD_KAFKA_CONF_OK);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set(conf, "acks", "all", err, sizeof err);
        rd_kafka_conf_set(conf, "linger.ms", "0", err, sizeof err);
    }
    if (group) {
        rd_kafka_conf_set(conf, "group.id", group, err, sizeof err);
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk)
        fail_msg("rd_kafka_new: %s", err);
    return rk;
}

static void create_topic(const char *bootstrap)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, bootstrap, NULL);
    char err[256];
    rd_kafka_NewTopic_t *topic = rd_kafka_NewTopic_new(TOPIC, 1, 1, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &topic, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    assert_non_null(ev);
    size_t count = 0;
    const rd_kafka_topic_result_t **results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &count);
    assert_int_equal(count, 1);
    assert_int_equal(rd_kafka_topic_result_error(results[0]), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(topic);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

/* Produces one record synchronously; returns its offset. provenance < 0: no header. */
static int64_t produce(rd_kafka_t *rk, const char *value, int64_t provenance)
{
    rd_kafka_headers_t *headers = rd_kafka_headers_new(1);
    if (provenance >= 0) {
        char src[64];
        snprintf(src, sizeof src, "east:0:%lld", (long long)provenance);
        rd_kafka_header_add(headers, "strait.src", -1, src, -1);
    }
    int64_t offset = -1;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE((void *)value, strlen(value)),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(&offset),
        RD_KAFKA_V_END);
    assert_int_equal(err, RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(rd_kafka_flush(rk, 15000), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_true(offset >= 0);
    return offset;
}

static void delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (!m->err)
        *(int64_t *)m->_private = m->offset;
}

static rd_kafka_t *producer(const char *bootstrap)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(conf, "acks", "all", err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "0", err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(conf, delivered);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(rk);
    return rk;
}

/* Commits offset (with metadata) for group on bootstrap's cluster (a simple commit). */
static void commit(const char *bootstrap, const char *group, int64_t offset, const char *metadata)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, bootstrap, NULL);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_add(list, TOPIC, 0);
    p->offset = offset;
    p->metadata = strdup(metadata);
    p->metadata_size = strlen(metadata);
    rd_kafka_AlterConsumerGroupOffsets_t *alter = rd_kafka_AlterConsumerGroupOffsets_new(group, list);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AlterConsumerGroupOffsets(rk, &alter, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    assert_non_null(ev);
    assert_int_equal(rd_kafka_event_error(ev), RD_KAFKA_RESP_ERR_NO_ERROR);
    size_t count = 0;
    const rd_kafka_group_result_t **groups =
        rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &count);
    assert_int_equal(count, 1);
    assert_null(rd_kafka_group_result_error(groups[0]));
    assert_int_equal(rd_kafka_group_result_partitions(groups[0])->elems[0].err, RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_event_destroy(ev);
    rd_kafka_AlterConsumerGroupOffsets_destroy(alter);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

/* Committed offset of group on partition 0 (-1001 when none); metadata copied. */
static int64_t committed(const char *bootstrap, const char *group, char *metadata, size_t metadata_len)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, bootstrap, NULL);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, TOPIC, 0);
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, list);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    assert_non_null(ev);
    assert_int_equal(rd_kafka_event_error(ev), RD_KAFKA_RESP_ERR_NO_ERROR);
    size_t count = 0;
    const rd_kafka_group_result_t **groups =
        rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev), &count);
    assert_int_equal(count, 1);
    const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(groups[0]);
    assert_int_equal(parts->cnt, 1);
    int64_t offset = parts->elems[0].offset;
    if (metadata) {
        size_t n = parts->elems[0].metadata_size < metadata_len - 1 ? parts->elems[0].metadata_size : metadata_len - 1;
        memcpy(metadata, parts->elems[0].metadata ? parts->elems[0].metadata : "", n);
        metadata[n] = '\0';
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return offset;
}

/* A consumer of group subscribed to TOPIC on bootstrap; polls until it gets
 * a record (returned, caller destroys) or until assigned when want_record is false. */
static rd_kafka_message_t *consume_first(rd_kafka_t *rk, bool want_record)
{
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, TOPIC, RD_KAFKA_PARTITION_UA);
    assert_int_equal(rd_kafka_subscribe(rk, topics), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(topics);
    for (int i = 0; i < 300; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m && !m->err)
            return m;
        if (m)
            rd_kafka_message_destroy(m);
        rd_kafka_topic_partition_list_t *assigned = NULL;
        if (!want_record && rd_kafka_assignment(rk, &assigned) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            int n = assigned->cnt;
            rd_kafka_topic_partition_list_destroy(assigned);
            if (n > 0)
                return NULL;
        }
    }
    fail_msg("consumer got %s within 30 s", want_record ? "no record" : "no assignment");
    return NULL;
}

static void provenance_of(const rd_kafka_message_t *m, char *out, size_t len)
{
    rd_kafka_headers_t *headers = NULL;
    const void *value = NULL;
    size_t size = 0;
    out[0] = '\0';
    if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(headers, "strait.src", &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        size_t n = size < len - 1 ? size : len - 1;
        memcpy(out, value, n);
        out[n] = '\0';
    }
}

static int count_rows(void *arg, const checkpoint_group_offset *g)
{
    (void)g;
    (*(int *)arg)++;
    return 0;
}

/* ---- the test ------------------------------------------------------------- */

static void fill_topology(topology *t)
{
    memset(t, 0, sizeof *t);
    t->region_count = 2;
    snprintf(t->regions[0].name, sizeof t->regions[0].name, "east");
    snprintf(t->regions[0].bootstrap, sizeof t->regions[0].bootstrap, "%s", east.bootstrap);
    snprintf(t->regions[1].name, sizeof t->regions[1].name, "west");
    snprintf(t->regions[1].bootstrap, sizeof t->regions[1].bootstrap, "%s", west.bootstrap);
    t->flow_count = 1;
    topology_flow *f = &t->flows[0];
    f->source = 0;
    f->target = 1;
    f->topic_count = 1;
    snprintf(f->topics[0], sizeof f->topics[0], "orders");
    f->exclude_count = 1;
    snprintf(f->topics_exclude[0], sizeof f->topics_exclude[0], "__.*");
    f->group_count = 2;
    snprintf(f->groups[0], sizeof f->groups[0], "billing");
    snprintf(f->groups[1], sizeof f->groups[1], "active|reporting-.*");
    f->naming = TOPOLOGY_NAMING_IDENTITY;
    snprintf(f->prefix_separator, sizeof f->prefix_separator, ".");
    t->checkpoint_interval_ms = 3600 * 1000; /* rounds are run by the test */
}

static void test_group_resumes_at_translated_record(void **state)
{
    (void)state;
    create_topic(east.bootstrap);
    create_topic(west.bootstrap);

    /* Source: 10 records, offsets 0..9. */
    rd_kafka_t *source = producer(east.bootstrap);
    for (int i = 0; i < 10; i++) {
        char v[16];
        snprintf(v, sizeof v, "r%d", i);
        assert_int_equal(produce(source, v, -1), i);
    }
    rd_kafka_destroy(source);

    /* Target: two local records first (a target gap), then the mirror of
     * source 0..3 and 7..9; 4..6 are not mirrored (as if compacted away). */
    char path[128];
    snprintf(path, sizeof path, "%s/checkpoints.db", work_dir);
    checkpoint_store *store = NULL;
    assert_int_equal(checkpoint_store_open(path, &store), 0);
    rd_kafka_t *target = producer(west.bootstrap);
    produce(target, "local-a", -1);
    produce(target, "local-b", -1);
    static const int64_t mirrored[] = {0, 1, 2, 3, 7, 8, 9};
    checkpoint_pair pairs[7];
    for (int i = 0; i < 7; i++) {
        char v[16];
        snprintf(v, sizeof v, "r%lld", (long long)mirrored[i]);
        pairs[i] = (checkpoint_pair){mirrored[i], produce(target, v, mirrored[i])};
    }
    rd_kafka_destroy(target);
    assert_int_equal(checkpoint_map_extend(store, FLOW, TOPIC, 0, pairs, 7), 0);
    int64_t expected = -1;
    bool found = false;
    assert_int_equal(checkpoint_translate(store, FLOW, TOPIC, 0, 5, &expected, &found), 0);
    assert_true(found);
    assert_int_equal(expected, pairs[4].target_offset); /* source 5 -> the record of source 7 */

    /* Source commits: billing at 5 (in the gap), active at 2, ignored at 1. */
    commit(east.bootstrap, "billing", 5, "billing-meta");
    commit(east.bootstrap, "active", 2, "");
    commit(east.bootstrap, "ignored", 1, "");

    /* "active" has a live member on the target. */
    rd_kafka_t *member = client(RD_KAFKA_CONSUMER, west.bootstrap, "active");
    assert_null(consume_first(member, false));

    topology t;
    fill_topology(&t);
    group_sync *sync = NULL;
    assert_int_equal(group_sync_start(&t, 0, store, &sync), 0);
    /* The task's thread runs its first round at once; wait for it, then run
     * one more here, so every later round is the test's own. */
    group_sync_status st;
    for (int i = 0; i < 300; i++) {
        assert_int_equal(group_sync_status_get(sync, &st), 0);
        if (st.rounds >= 1)
            break;
        usleep(100 * 1000);
    }
    assert_int_equal(group_sync_run_once(sync), 0);
    assert_int_equal(group_sync_status_get(sync, &st), 0);
    assert_int_equal(st.rounds, 2);
    assert_string_equal(st.flow, FLOW);
    assert_true(st.running);
    assert_string_equal(st.last_error, "");
    assert_int_equal(st.groups_seen, 2);            /* billing, active; not "ignored" */
    assert_int_equal(st.checkpoints_stored, 2);
    assert_int_equal(st.applied, 0);                /* billing was applied by the first round */
    assert_int_equal(st.applied_total, 1);          /* billing only */
    assert_int_equal(st.skipped_active_count, 1);
    assert_string_equal(st.skipped_active[0], "active");
    assert_true(st.last_run_ms > 0);

    /* The target group's commit is the translation, with the source's metadata. */
    char metadata[64];
    assert_int_equal(committed(west.bootstrap, "billing", metadata, sizeof metadata), expected);
    assert_string_equal(metadata, "strait.src=east;billing-meta"); /* origin marker (echo rule) */
    assert_true(committed(west.bootstrap, "active", NULL, 0) < 0); /* left alone */
    rd_kafka_consumer_close(member);
    rd_kafka_destroy(member);

    /* A consumer of billing on the target starts exactly at the record whose
     * provenance is the first mirrored source offset >= 5: source 7. */
    rd_kafka_t *consumer = client(RD_KAFKA_CONSUMER, west.bootstrap, "billing");
    rd_kafka_message_t *m = consume_first(consumer, true);
    char provenance[64];
    provenance_of(m, provenance, sizeof provenance);
    assert_string_equal(provenance, "east:0:7");
    assert_int_equal(m->offset, expected);
    rd_kafka_message_destroy(m);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);

    /* Stored checkpoints: billing applied, active not. */
    assert_int_equal(group_sync_run_once(sync), 0);
    assert_int_equal(group_sync_status_get(sync, &st), 0);
    assert_int_equal(st.applied, 1); /* active is idle now: applied this round */
    assert_int_equal(st.applied_total, 2);
    assert_int_equal(committed(west.bootstrap, "active", NULL, 0), pairs[2].target_offset);

    /* Unchanged: nothing re-applied. A moved commit is applied. */
    assert_int_equal(group_sync_run_once(sync), 0);
    assert_int_equal(group_sync_status_get(sync, &st), 0);
    assert_int_equal(st.applied, 0);
    assert_int_equal(st.checkpoints_stored, 2);
    commit(east.bootstrap, "billing", 10, "later");
    assert_int_equal(group_sync_run_once(sync), 0);
    assert_int_equal(group_sync_status_get(sync, &st), 0);
    assert_int_equal(st.applied, 1);
    assert_int_equal(committed(west.bootstrap, "billing", metadata, sizeof metadata), pairs[6].target_offset + 1);
    assert_string_equal(metadata, "strait.src=east;later");

    /* Never backwards: a source commit below the target's is stored, not applied. */
    commit(east.bootstrap, "billing", 1, "rewind");
    assert_int_equal(group_sync_run_once(sync), 0);
    assert_int_equal(group_sync_status_get(sync, &st), 0);
    assert_int_equal(st.applied, 0);
    assert_int_equal(committed(west.bootstrap, "billing", NULL, 0), pairs[6].target_offset + 1);

    /* The echo rule: a commit on east that west's sidecar translated from
     * west (marker names west, the flow's target) is never synced back. */
    commit(east.bootstrap, "reporting-echo", 3, "strait.src=west;west-meta");
    /* A commit translated from a third region keeps its first origin. */
    commit(east.bootstrap, "reporting-chain", 3, "strait.src=south;south-meta");
    assert_int_equal(group_sync_run_once(sync), 0);
    assert_int_equal(group_sync_status_get(sync, &st), 0);
    assert_int_equal(st.echoes_skipped, 1);
    assert_int_equal(st.applied, 1); /* reporting-chain only */
    assert_true(committed(west.bootstrap, "reporting-echo", NULL, 0) < 0);
    assert_int_equal(committed(west.bootstrap, "reporting-chain", metadata, sizeof metadata), pairs[3].target_offset);
    assert_string_equal(metadata, "strait.src=south;south-meta");
    int rows = 0;
    assert_int_equal(checkpoint_group_each(store, FLOW, "reporting-echo", count_rows, &rows), 0);
    assert_int_equal(rows, 0); /* not even checkpointed */

    group_sync_stop(sync);
    checkpoint_store_close(store);
}

static void test_origin_marker(void **state)
{
    (void)state;
    char region[GROUP_SYNC_REGION_MAX], out[64], out2[64];
    size_t body = 0;
    /* parse */
    assert_true(group_sync_metadata_origin("strait.src=west;abc", 19, region, sizeof region, &body));
    assert_string_equal(region, "west");
    assert_int_equal(body, 16);
    assert_true(group_sync_metadata_origin("strait.src=west;", 16, region, sizeof region, NULL));
    assert_false(group_sync_metadata_origin("strait.src=west", 15, region, sizeof region, NULL)); /* no ';' */
    assert_false(group_sync_metadata_origin("strait.src=;x", 13, region, sizeof region, NULL));  /* empty */
    assert_false(group_sync_metadata_origin("strait.src=west;", 15, region, sizeof region, NULL)); /* size */
    assert_false(group_sync_metadata_origin("app-meta", 8, region, sizeof region, NULL));
    assert_false(group_sync_metadata_origin(NULL, 0, region, sizeof region, NULL));
    assert_false(group_sync_metadata_origin("strait.src=eastern;x", 20, region, 5, NULL)); /* too long */
    /* mark: first hop takes the source region; a marked commit keeps its origin */
    assert_int_equal(group_sync_metadata_mark("east", -1, "abc", 3, out, sizeof out), 19);
    assert_string_equal(out, "strait.src=east;abc");
    assert_int_equal(group_sync_metadata_mark("east", -1, NULL, 0, out, sizeof out), 16);
    assert_string_equal(out, "strait.src=east;");
    assert_int_equal(group_sync_metadata_mark("west", -1, "strait.src=east;abc", 19, out, sizeof out), 19);
    assert_string_equal(out, "strait.src=east;abc");
    /* same offsets: "@<offset>" after the region; a chain keeps the origin
     * and writes its own hop's offset */
    assert_int_equal(group_sync_metadata_mark("east", 42, "abc", 3, out, sizeof out), 22);
    assert_string_equal(out, "strait.src=east@42;abc");
    assert_true(group_sync_metadata_origin(out, 22, region, sizeof region, &body));
    assert_string_equal(region, "east");
    assert_int_equal(body, 19);
    assert_int_equal(group_sync_metadata_mark("west", -1, out, 22, out2, sizeof out2), 19);
    assert_string_equal(out2, "strait.src=east;abc");
    assert_int_equal(group_sync_metadata_mark("west", 7, out, 22, out2, sizeof out2), 21);
    assert_string_equal(out2, "strait.src=east@7;abc");
    assert_false(group_sync_metadata_origin("strait.src=east@;x", 18, region, sizeof region, NULL));
    assert_false(group_sync_metadata_origin("strait.src=east@4x;", 19, region, sizeof region, NULL));
    /* truncated to the buffer, the needed length reported */
    assert_int_equal(group_sync_metadata_mark("east", -1, "abcdefgh", 8, out, 20), 24);
    assert_string_equal(out, "strait.src=east;abc");
}

static void test_stop_while_source_down(void **state)
{
    (void)state;
    /* A source that does not answer: the round reports it, stop is prompt. */
    topology t;
    fill_topology(&t);
    snprintf(t.regions[0].bootstrap, sizeof t.regions[0].bootstrap, "127.0.0.1:1");
    t.checkpoint_interval_ms = 100;
    char path[128];
    snprintf(path, sizeof path, "%s/down.db", work_dir);
    checkpoint_store *store = NULL;
    assert_int_equal(checkpoint_store_open(path, &store), 0);
    group_sync *sync = NULL;
    assert_int_equal(group_sync_start(&t, 0, store, &sync), 0);
    usleep(300 * 1000);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    group_sync_stop(sync);
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 3000);
    checkpoint_store_close(store);
}

static int group_setup(void **state)
{
    (void)state;
    strcpy(work_dir, "/tmp/strait-gsync-XXXXXX");
    assert_non_null(mkdtemp(work_dir));
    broker_start(&east, "east");
    broker_start(&west, "west");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    broker_stop(&east);
    broker_stop(&west);
    rm_rf(work_dir);
    return 0;
}

int main(void)
{
    alarm(100); /* below ctest's 120 s: a hung broker fails the test, not the run */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_resumes_at_translated_record),
        cmocka_unit_test(test_stop_while_source_down),
        cmocka_unit_test(test_origin_marker),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
