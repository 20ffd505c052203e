/*
 * seeds.c - strait-fuzz-seeds CORPUS_DIR: writes the seed corpora of the
 * on-disk and config fuzz targets by running the project's own writers, so
 * every seed is a file strait really produces (tests/fuzz/make-seeds.sh runs
 * it; the YAML seeds of the topology come from the integration tests'
 * writers there). Files are named seed-<what> in CORPUS_DIR/<target>/ and
 * replaced when they exist; nothing else there is touched (regress-* inputs
 * stay).
 *
 *   partition log (plog: appends, leader epochs, rolls, delete-records)
 *       -> segment_index (each segment's three files, in the target's
 *          container), checkpoint_file (recovery point, log start, leader
 *          epochs), leader_epoch
 *   checkpoint_write with the cleaner's and wider shapes -> checkpoint_file
 *   region_state_apply (active with a lease, standby with redirects, fenced)
 *       -> region_state
 *   topic_registry_create (with and without overrides) -> topic_file, and
 *       the registry's meta.properties -> meta_properties
 *   failover_vote_store -> vote_file
 *   acl_file_save (literal, prefixed and wildcard bindings) -> acl_file
 *   scram_file_save (both mechanisms, several users) -> scram_file
 *   RFC 7677's SCRAM messages and librdkafka's doubled-nonce form
 *       -> scram_messages
 *   responses to strait's own Kafka client encoded with the broker's tables
 *       (ApiVersions, SaslHandshake, SaslAuthenticate v0-2, the users APIs
 *       50/51) and a SCRAM server-first/server-final pair -> kafka_client
 *   checkpoint_map_extend, checkpoint_group_put, failover_state_store
 *       -> sidecar_store (the SQLite file)
 *   broker_config_each of the defaults and of a tuned config, as YAML
 *       -> broker_config, yaml_map
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/config/broker_config.h"
#include "broker/cluster/cluster_meta.h"
#include "broker/cluster/region_state.h"
#include "broker/cluster/topic_registry.h"
#include "broker/log/batch_build.h"
#include "broker/log/checkpoint_file.h"
#include "broker/log/leader_epoch.h"
#include "broker/log/partition_log.h"
#include "broker/log/segment.h"
#include "broker/proto/api.h"
#include "broker/proto/api_versions.h"
#include "broker/proto/sasl_apis.h"
#include "broker/proto/scram_apis.h"
#include "checkpoints/checkpoint_store.h"
#include "checkpoints/failover_state.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/log.h"
#include "failover/vote.h"
#include "security/acl.h"
#include "security/acl_file.h"
#include "security/scram_file.h"
#include "security/scram_store.h"

static const char *corpus_root;
static char work[PATH_MAX];

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "strait-fuzz-seeds: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void must(int rc, const char *what)
{
    if (rc != 0)
        die("%s: %s", what, strait_error_name(rc));
}

static void read_all(const char *path, buf *out)
{
    char *data = NULL;
    size_t len = 0;
    must(file_read_all(path, 64 * 1024 * 1024, &data, &len), path);
    buf_put(out, data, len);
    free(data);
}

/* Writes prefix (prefix_len bytes) then the file at path to target/seed-name. */
static void seed(const char *target, const char *name, const void *prefix, size_t prefix_len,
                 const char *path)
{
    buf b;
    buf_init(&b, 64 * 1024 * 1024);
    buf_put(&b, prefix, prefix_len);
    if (path)
        read_all(path, &b);
    char dir[PATH_MAX], file[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", corpus_root, target);
    snprintf(file, sizeof file, "seed-%s", name);
    must(file_mkdirs(dir), dir);
    must(file_write_atomic(dir, file, b.data, b.len), file);
    printf("%s/%s (%zu bytes)\n", target, file, b.len);
    buf_free(&b);
}

/* ---- a partition log ---------------------------------------------------------------- */

static void append(plog *log, int records, int64_t timestamp_ms)
{
    static uint8_t value[200];
    memset(value, 'v', sizeof value);
    batch_record recs[16];
    memset(recs, 0, sizeof recs);
    for (int i = 0; i < records; i++) {
        recs[i].key_len = -1;
        recs[i].value = value;
        recs[i].value_len = (int32_t)(20 + 10 * i);
        recs[i].timestamp = timestamp_ms + i;
    }
    batch_build_params params;
    batch_build_params_default(&params);
    buf b;
    buf_init(&b, 1 << 20);
    must(batch_build(&b, &params, recs, records), "batch_build");
    plog_append_result result;
    must(plog_append(log, b.data, b.len, -1, &result), "plog_append");
    buf_free(&b);
}

/* The segment_index container (fuzz_segment_index.c): flags, base, lengths, files. */
static void seed_segment(const char *dir, int64_t base, uint8_t flags, const char *name)
{
    char path[PATH_MAX], file[SEGMENT_FILE_NAME_BYTES];
    buf index, time_index, prefix;
    buf_init(&index, 1 << 20);
    buf_init(&time_index, 1 << 20);
    buf_init(&prefix, 1 << 20);
    segment_file_name(file, base, ".index");
    snprintf(path, sizeof path, "%s/%s", dir, file);
    read_all(path, &index);
    segment_file_name(file, base, ".timeindex");
    snprintf(path, sizeof path, "%s/%s", dir, file);
    read_all(path, &time_index);
    if (index.len > 0xffff || time_index.len > 0xffff)
        die("index of segment %lld too big for a seed", (long long)base);
    uint8_t header[13];
    header[0] = flags;
    store_i64(header + 1, base);
    header[9] = (uint8_t)(index.len >> 8);
    header[10] = (uint8_t)index.len;
    header[11] = (uint8_t)(time_index.len >> 8);
    header[12] = (uint8_t)time_index.len;
    buf_put(&prefix, header, sizeof header);
    buf_put(&prefix, index.data, index.len);
    buf_put(&prefix, time_index.data, time_index.len);
    segment_file_name(file, base, ".log");
    snprintf(path, sizeof path, "%s/%s", dir, file);
    seed("segment_index", name, prefix.data, prefix.len, path);
    buf_free(&index);
    buf_free(&time_index);
    buf_free(&prefix);
}

static int compare_offsets(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void partition_log_seeds(void)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/orders-0", work);
    plog_config config;
    plog_config_default(&config);
    config.segment_bytes = 1200;      /* a few segments */
    config.index_interval_bytes = 100; /* intervals[2] of fuzz_segment_index */
    plog *log = NULL;
    must(plog_open(dir, &config, &log), "plog_open");
    must(plog_set_leader_epoch(log, 1), "leader epoch 1");
    for (int i = 0; i < 6; i++)
        append(log, 1 + i % 4, 1700000000000 + 1000 * i);
    must(plog_set_leader_epoch(log, 3), "leader epoch 3");
    for (int i = 0; i < 8; i++)
        append(log, 2, 1700000100000 + 500 * i);
    must(plog_set_leader_epoch(log, 4), "leader epoch 4");
    append(log, 3, 1700000200000);
    must(plog_delete_records(log, 2), "delete records");
    must(plog_flush(log), "flush");
    plog_close(log);

    char path[PATH_MAX];
    uint8_t shape = 0; /* fuzz_checkpoint_file shapes[0]: 1 column, 1 entry */
    snprintf(path, sizeof path, "%s/recovery-point-checkpoint", dir);
    seed("checkpoint_file", "recovery-point", &shape, 1, path);
    snprintf(path, sizeof path, "%s/log-start-offset-checkpoint", dir);
    seed("checkpoint_file", "log-start-offset", &shape, 1, path);
    shape = 2; /* leader epochs */
    snprintf(path, sizeof path, "%s/%s", dir, LEADER_EPOCH_CHECKPOINT_NAME);
    seed("checkpoint_file", "leader-epochs", &shape, 1, path);
    seed("leader_epoch", "three-epochs", NULL, 0, path);

    /* every segment: indexes trusted (interval 100 = flags 2 << 2), then with CRCs */
    int64_t bases[64];
    int count = 0;
    char name[64];
    DIR *d = opendir(dir);
    if (!d)
        die("opendir %s", dir);
    for (struct dirent *e; (e = readdir(d)) != NULL && count < 64;)
        if (segment_file_name_parse(e->d_name, ".log", &bases[count]))
            count++;
    closedir(d);
    qsort(bases, (size_t)count, sizeof bases[0], compare_offsets);
    if (count < 2)
        die("expected the log to roll, got %d segment(s)", count);
    for (int i = 0; i < count; i++) {
        snprintf(name, sizeof name, "segment-%lld", (long long)bases[i]);
        seed_segment(dir, bases[i], 2 << 2, name);
    }
    snprintf(name, sizeof name, "segment-%lld-tail-crc", (long long)bases[count - 1]);
    seed_segment(dir, bases[count - 1], 1 | 2 << 2, name);
    printf("partition log: %d segments\n", count);
}

/* ---- other checkpoints --------------------------------------------------------------- */

static void checkpoint_seeds(void)
{
    static const struct {
        uint8_t shape;
        int columns;
        size_t entries;
        const char *name;
    } shapes[] = {
        {1, 2, 1, "cleaner"},
        {3, 3, 2, "three-columns"},
        {4, CHECKPOINT_COLUMNS_MAX, 2, "four-columns"},
        {2, 2, 0, "empty"},
    };
    const int64_t values[] = {7, 1024, -1, 0, 9223372036854775807, 42, 5, 6};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        must(checkpoint_write(work, "checkpoint", values, shapes[i].entries, shapes[i].columns),
             "checkpoint_write");
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/checkpoint", work);
        seed("checkpoint_file", shapes[i].name, &shapes[i].shape, 1, path);
    }

    leader_epoch_cache cache;
    leader_epoch_init(&cache);
    const int32_t epochs[] = {0, 2, 5, 6, 9};
    const int64_t starts[] = {0, 100, 100, 2500, 4000};
    for (int i = 0; i < 5; i++)
        if (leader_epoch_assign(&cache, epochs[i], starts[i]) != 1)
            die("leader_epoch_assign");
    must(leader_epoch_save(&cache, work), "leader_epoch_save");
    leader_epoch_free(&cache);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", work, LEADER_EPOCH_CHECKPOINT_NAME);
    seed("leader_epoch", "five-epochs-shared-start", NULL, 0, path);
}

/* ---- the region state ---------------------------------------------------------------- */

static void region_seed(const char *name, const char *const *keys, const char *const *values,
                        int count)
{
    char dir[PATH_MAX], err[1024];
    snprintf(dir, sizeof dir, "%s/region-%s", work, name);
    must(file_mkdirs(dir), dir);
    region_state *rs = NULL;
    must(region_state_new(dir, &rs), "region_state_new");
    if (region_state_apply(rs, keys, values, NULL, count, true, false, err, sizeof err) != 0)
        die("region_state_apply %s: %s", name, err);
    region_state_close(rs);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, REGION_STATE_FILE_NAME);
    seed("region_state", name, NULL, 0, path);
}

static void region_state_seeds(void)
{
    const char *active_keys[] = {REGION_KEY_ROLE, REGION_KEY_EPOCH, REGION_KEY_LEASE_MS,
                                 REGION_KEY_ACTIVE, REGION_KEY_TOPICS, REGION_KEY_GROUPS};
    const char *active_values[] = {"active", "7", "1500", "east", "orders,payments\\..*",
                                   ".*"};
    region_seed("active-lease", active_keys, active_values, 6);
    const char *standby_keys[] = {REGION_KEY_ROLE, REGION_KEY_EPOCH, REGION_KEY_ACTIVE,
                                  REGION_KEY_BROKERS, REGION_KEY_TOPICS,
                                  REGION_KEY_TOPICS_EXCLUDE, REGION_KEY_GROUPS};
    const char *standby_values[] = {"standby", "12", "west",
                                    "101@127.0.0.1:9192,102@[::1]:9193",
                                    "a{1,3},b[],]x", "__.*", "group-(1|2)"};
    region_seed("standby-redirect", standby_keys, standby_values, 7);
    const char *fenced_keys[] = {REGION_KEY_ROLE, REGION_KEY_EPOCH};
    const char *fenced_values[] = {"fenced", "2147483647"};
    region_seed("fenced", fenced_keys, fenced_values, 2);
}

/* ---- topics and meta.properties ------------------------------------------------------- */

static void topic_seeds(void)
{
    broker_config config;
    broker_config_default(&config);
    snprintf(config.log_dirs, sizeof config.log_dirs, "%s/broker", work);
    snprintf(config.cluster_id, sizeof config.cluster_id, "fuzz-cluster");
    config.node_id = 1;
    topic_registry *reg = NULL;
    must(topic_registry_open(&config, &reg), "topic_registry_open");
    char err[1024];
    const char *keys[] = {"retention.ms", "cleanup.policy", "max.message.bytes",
                          "compression.type", "message.timestamp.type"};
    const char *values[] = {"86400000", "compact,delete", "2000000", "zstd", "LogAppendTime"};
    topic *t = NULL;
    if (topic_registry_create(reg, "orders", 6, 3, keys, values, 5, false, &t, err, sizeof err) != 0)
        die("create orders: %s", err);
    if (topic_registry_create(reg, "plain", 5, 1, NULL, NULL, 0, false, &t, err, sizeof err) != 0)
        die("create plain: %s", err);
    topic_registry_close(reg);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/broker/__strait_topics/orders.topic", work);
    seed("topic_file", "overrides", NULL, 0, path);
    snprintf(path, sizeof path, "%s/broker/__strait_topics/plain.topic", work);
    seed("topic_file", "no-overrides", NULL, 0, path);
    snprintf(path, sizeof path, "%s/broker/%s", work, CLUSTER_META_FILE);
    const uint8_t configured[2] = {1, 1}, unconfigured[2] = {1, 0}, other_node[2] = {2, 0};
    seed("meta_properties", "node-1-cluster-configured", configured, 2, path);
    seed("meta_properties", "node-1", unconfigured, 2, path);
    seed("meta_properties", "node-mismatch", other_node, 2, path);
}

/* ---- the vote file -------------------------------------------------------------------- */

static void vote_seeds(void)
{
    failover_vote vote = {.epoch = 9, .at_ms = 1765000000000};
    snprintf(vote.candidate, sizeof vote.candidate, "west");
    snprintf(vote.suspect, sizeof vote.suspect, "east");
    must(failover_vote_store(work, "vote", &vote), "failover_vote_store");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/vote", work);
    seed("vote_file", "west-over-east", NULL, 0, path);
}

/* ---- the ACL file ---------------------------------------------------------------------- */

static void acl_add(acl_store *store, int8_t type, const char *name, int8_t pattern,
                    const char *principal, int8_t op, int8_t permission)
{
    acl_binding b;
    memset(&b, 0, sizeof b);
    b.resource_type = type;
    b.pattern_type = pattern;
    b.operation = op;
    b.permission = permission;
    snprintf(b.resource_name, sizeof b.resource_name, "%s", name);
    snprintf(b.principal, sizeof b.principal, "%s", principal);
    snprintf(b.host, sizeof b.host, "*");
    char why[256];
    must(acl_store_add(store, &b, why, sizeof why), "acl_store_add");
}

static void acl_seeds(void)
{
    acl_store *store = acl_store_new();
    if (!store)
        die("acl_store_new: out of memory");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", work, ACL_FILE_NAME);
    /* the target's first byte is its mode: 1 = take the file's CRC as is */
    const uint8_t mode = 1;
    must(acl_file_save(store, work), "acl_file_save");
    seed("acl_file", "empty", &mode, 1, path);
    acl_add(store, ACL_RESOURCE_TOPIC, "orders", ACL_PATTERN_LITERAL, "User:alice", ACL_OP_WRITE,
            ACL_PERMISSION_ALLOW);
    acl_add(store, ACL_RESOURCE_TOPIC, "pay.", ACL_PATTERN_PREFIXED, "User:CN=app,O=corp",
            ACL_OP_READ, ACL_PERMISSION_ALLOW);
    acl_add(store, ACL_RESOURCE_GROUP, "*", ACL_PATTERN_LITERAL, "User:*", ACL_OP_READ,
            ACL_PERMISSION_DENY);
    acl_add(store, ACL_RESOURCE_CLUSTER, ACL_CLUSTER_NAME, ACL_PATTERN_LITERAL,
            "User:sidecar-east", ACL_OP_CLUSTER_ACTION, ACL_PERMISSION_ALLOW);
    must(acl_file_save(store, work), "acl_file_save");
    seed("acl_file", "four-bindings", &mode, 1, path);
    acl_store_free(store);
}

/* ---- the sidecar's SQLite store -------------------------------------------------------- */

/* ---- SCRAM messages ------------------------------------------------------------------ */

static void scram_seed(const char *name, uint8_t mode, const char *first, const char *second)
{
    buf b;
    buf_init(&b, 4096);
    buf_put(&b, &mode, 1);
    buf_put(&b, first, strlen(first));
    if (second) {
        buf_put(&b, "", 1);
        buf_put(&b, second, strlen(second));
    }
    seed("scram_messages", name, b.data, b.len, NULL);
    buf_free(&b);
}

static void scram_file_seeds(void)
{
    scram_store *store = scram_store_new();
    if (!store)
        die("scram_store_new: out of memory");
    char why[256];
    const char *users = "alice SCRAM-SHA-256 a\nalice SCRAM-SHA-512 a\nbob SCRAM-SHA-512 b\n";
    must(scram_store_parse_users(store, users, strlen(users), 4096, why, sizeof why),
         "scram_store_parse_users");
    must(scram_file_save(store, work), "scram_file_save");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", work, SCRAM_FILE_NAME);
    const uint8_t mode = 0; /* even: the file's CRC as it is */
    seed("scram_file", "users", &mode, 1, path);
    scram_store_free(store);
}

static void scram_seeds(void)
{
    scram_file_seeds();
    static const char server_first[] =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    scram_seed("client-first", 0, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", NULL);
    scram_seed("client-first-escaped", 0, "n,,n=a=2Cb=3Dc,r=xyz,ext=1", NULL);
    scram_seed("rfc7677-final", 1, server_first,
               "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
               "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    scram_seed("doubled-nonce-final", 2, server_first,
               "c=biws,r=rOprNGfwEbeRWgbNEkqOrOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
               "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQdHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz"
               "7AndVQ==");
}

/* ---- responses to strait's Kafka client ---------------------------------------------- */

/* mode byte, [extra byte], then a response frame of key at version as the
 * broker writes it (correlation id 7, header v1 when flexible but never for
 * ApiVersions). */
static void client_seed(const char *name, uint8_t mode, int extra, int16_t key, int16_t version,
                        const void *body)
{
    const proto_api *api = proto_api_find(key);
    bool flexible = version >= api->flexible_min;
    proto_out o;
    proto_out_init(&o, 1024 * 1024);
    buf_put(&o.mem, &mode, 1);
    if (extra >= 0)
        buf_put_i8(&o.mem, (int8_t)extra);
    buf_put_i32(&o.mem, 7);
    if (flexible && key != 18)
        buf_put_uvarint(&o.mem, 0);
    proto_encode(&o, api->response, version, flexible, body);
    must(o.mem.err, name);
    seed("kafka_client", name, o.mem.data, o.mem.len, NULL);
    proto_out_free(&o);
}

static void kafka_client_seeds(void)
{
    api_versions_key keys[] = {{17, 0, 1}, {18, 0, 4}, {36, 0, 2}, {50, 0, 0}, {51, 0, 0}};
    api_versions_response versions = {.api_keys = {keys, 5}};
    client_seed("api-versions", 0, -1, 18, 0, &versions);
    proto_string names[] = {{proto_str_c("SCRAM-SHA-512")}, {proto_str_c("PLAIN")}};
    sasl_handshake_response handshake = {.error_code = 33, .mechanisms = {names, 2}};
    client_seed("sasl-handshake-refused", 1, -1, 17, 1, &handshake);
    static const char server_first[] =
        "r=fuzznonceSERVER,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    sasl_authenticate_response challenge = {
        .error_message = proto_str_null(),
        .auth_bytes = {(const uint8_t *)server_first, (int32_t)strlen(server_first)}};
    for (int v = 0; v <= 2; v++) {
        char name[64];
        snprintf(name, sizeof name, "sasl-authenticate-v%d", v);
        client_seed(name, 2, v, 36, (int16_t)v, &challenge);
    }
    sasl_authenticate_response failed = {
        .error_code = 58, .error_message = proto_str_c("Authentication failed: invalid "
                                                       "credentials"),
        .auth_bytes = {(const uint8_t *)"", 0}};
    client_seed("sasl-authenticate-failed", 2, 2, 36, 2, &failed);
    credential_info infos[] = {{1, 8192}, {2, 4096}};
    describe_result results[] = {
        {.user = proto_str_c("alice"), .error_message = proto_str_null(),
         .credential_infos = {infos, 2}},
        {.user = proto_str_c("nobody"), .error_code = 91,
         .error_message = proto_str_c("Attempt to describe a user credential that does not "
                                      "exist: nobody"),
         .credential_infos = {NULL, 0}},
    };
    describe_response described = {.error_message = proto_str_null(), .results = {results, 2}};
    client_seed("describe-users", 3, -1, 50, 0, &described);
    describe_response refused = {.error_code = 31,
                                 .error_message = proto_str_c("principal User:bob may not "
                                                              "describe the cluster"),
                                 .results = {NULL, 0}};
    client_seed("describe-refused", 3, -1, 50, 0, &refused);
    alter_result altered[] = {
        {.user = proto_str_c("alice"), .error_message = proto_str_null()},
        {.user = proto_str_c("mallory"), .error_code = 31,
         .error_message = proto_str_c("principal User:bob may not alter the cluster")},
    };
    alter_response alter = {.results = {altered, 2}};
    client_seed("alter-users", 4, -1, 51, 0, &alter);
    /* a SCRAM-SHA-256 server-first and a server-final (its signature is not
     * the one the client expects: the refusal path) */
    buf b;
    buf_init(&b, 4096);
    buf_put_i8(&b, 5);
    buf_put(&b, server_first, strlen(server_first));
    buf_put(&b, "", 1);
    buf_put(&b, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", 46);
    seed("kafka_client", "scram-server-messages", b.data, b.len, NULL);
    buf_free(&b);
}

static void sidecar_store_seeds(void)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/store.db", work);
    checkpoint_store *cs = NULL;
    must(checkpoint_store_open(path, &cs), "checkpoint_store_open");
    /* two batches with a gap (compaction) and one contiguous: three pairs, two ranges */
    const checkpoint_pair first[] = {{0, 0}, {1, 1}, {2, 2}, {5, 3}, {6, 4}};
    const checkpoint_pair second[] = {{7, 5}, {8, 6}, {20, 7}};
    must(checkpoint_map_extend(cs, "east->west", "orders", 0, first, 5), "map_extend");
    must(checkpoint_map_extend(cs, "east->west", "orders", 0, second, 3), "map_extend");
    const checkpoint_pair other[] = {{100, 40}, {101, 41}};
    must(checkpoint_map_extend(cs, "east->west", "orders", 1, other, 2), "map_extend");
    checkpoint_group_offset g = {.partition = 0, .source_offset = 6, .target_offset = 4,
                                 .checkpointed_at_ms = 1765000000000, .applied = true};
    snprintf(g.group, sizeof g.group, "billing");
    snprintf(g.topic, sizeof g.topic, "orders");
    snprintf(g.metadata, sizeof g.metadata, "m");
    must(checkpoint_group_put(cs, "east->west", &g), "group_put");
    checkpoint_store_close(cs);

    failover_store *fs = NULL;
    must(failover_store_open(path, &fs), "failover_store_open");
    failover_state state = {.epoch = 4, .updated_at_ms = 1765000000000};
    snprintf(state.active, sizeof state.active, "west");
    snprintf(state.operation, sizeof state.operation, "switchover");
    snprintf(state.target, sizeof state.target, "west");
    snprintf(state.previous, sizeof state.previous, "east");
    snprintf(state.step, sizeof state.step, "completed");
    snprintf(state.actor, sizeof state.actor, "ops@host");
    failover_event ev = {.at_ms = 1765000000000, .epoch = 4, .lag_records = 0};
    snprintf(ev.actor, sizeof ev.actor, "ops@host");
    snprintf(ev.operation, sizeof ev.operation, "switchover");
    snprintf(ev.from, sizeof ev.from, "east");
    snprintf(ev.to, sizeof ev.to, "west");
    snprintf(ev.outcome, sizeof ev.outcome, "completed");
    bool changed = false;
    char why[256];
    if (failover_state_store(fs, &state, &ev, &changed, why, sizeof why) != 0)
        die("failover_state_store: %s", why);
    failover_store_close(fs);
    seed("sidecar_store", "switched-over", NULL, 0, path);
}

/* ---- broker config YAML --------------------------------------------------------------- */

static void yaml_line(void *arg, const char *key, const char *value, bool is_default)
{
    (void)is_default;
    buf *out = arg;
    char line[2400];
    int n = snprintf(line, sizeof line, "%s: \"%s\"\n", key, value);
    buf_put(out, line, (size_t)n);
}

static void broker_yaml_seed(const char *name, const broker_config *config)
{
    buf text;
    buf_init(&text, 1 << 20);
    buf_put(&text, "# strait broker config (broker_config_each)\n", 44);
    broker_config_each(config, yaml_line, &text);
    char path[PATH_MAX], err[1024];
    must(file_write_atomic(work, "broker.yaml", text.data, text.len), "broker.yaml");
    snprintf(path, sizeof path, "%s/broker.yaml", work);
    broker_config loaded;
    if (broker_config_load(path, NULL, 0, &loaded, err, sizeof err) != 0)
        die("the %s seed does not load: %s", name, err);
    seed("broker_config", name, NULL, 0, path);
    const uint8_t plain = 0;
    seed("yaml_map", name, &plain, 1, path);
    buf_free(&text);
}

static void broker_config_seeds(void)
{
    broker_config config;
    broker_config_default(&config);
    broker_yaml_seed("defaults", &config);
    char err[1024];
    const char *tuned[][2] = {
        {"node.id", "7"},
        {"listeners", "PLAINTEXT://0.0.0.0:9092"},
        {"advertised.listeners", "PLAINTEXT://broker-7.example:9092"},
        {"log.dirs", "/var/lib/strait/a,/var/lib/strait/b"},
        {"log.retention.hours", "48"},
        {"log.cleanup.policy", "compact,delete"},
        {"metrics.listener", "127.0.0.1:9404"},
        {"log.level", "warn"},
    };
    for (size_t i = 0; i < sizeof tuned / sizeof tuned[0]; i++)
        if (broker_config_set(&config, tuned[i][0], tuned[i][1], err, sizeof err) != 0)
            die("%s", err);
    broker_yaml_seed("tuned", &config);
    log_set_level(LOG_WARN);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    corpus_root = argv[1];
    log_set_level(LOG_WARN);
    snprintf(work, sizeof work, "/tmp/strait-fuzz-seeds-XXXXXX");
    if (!mkdtemp(work))
        die("mkdtemp: %s", strerror(errno));
    partition_log_seeds();
    checkpoint_seeds();
    region_state_seeds();
    topic_seeds();
    vote_seeds();
    acl_seeds();
    scram_seeds();
    kafka_client_seeds();
    sidecar_store_seeds();
    broker_config_seeds();
    char command[PATH_MAX + 16];
    snprintf(command, sizeof command, "rm -rf '%s'", work);
    if (system(command) != 0)
        die("cannot remove %s", work);
    return 0;
}
