/*
 * topic_registry.c - the topics this node hosts: creation, deletion, growth
 * and config changes, persisted under the first log dir (layout in
 * topic_registry.h), with the partition logs they own.
 *
 * A topic file __strait_topics/<topic>.topic is ASCII text:
 *
 *   LINE  FIELD
 *      1  id=<uuid>          8-4-4-4-12 lowercase hex, fixed at creation
 *      2  partitions=<n>     1..LIMIT_PARTITIONS_PER_TOPIC
 *    3..  key=value          config overrides (topic_config_serialize form)
 *
 * Every write goes to <file>.tmp, is fsynced, renamed over the file, and the
 * directory fsynced, so a crash leaves the old or the new file, never a mix.
 *
 * Ordering, so that a crash at any point leaves a state that recovers:
 *   create: topic file first, then the partition directories (a missing log
 *           directory is created empty when the topic is loaded).
 *   grow:   topic file with the new count first, then the new logs.
 *   delete: rename <topic>.topic to <topic>.topic.deleting, remove the logs,
 *           unlink the marker. A marker found at open finishes the deletion,
 *           so old data never resurfaces in a later topic of the same name.
 *
 * Pointer lifetimes: a topic* is valid until the topic is deleted or the
 * registry closed. partition* pointers stay valid across
 * topic_registry_add_partitions too: the old partition array is kept (its
 * entries share the plog objects) and freed with the topic.
 *
 * Runs on the broker's event-loop thread; not thread-safe.
 */
#include "broker/cluster/topic_registry.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/cluster/cluster_meta.h"
#include "broker/cluster/topic_config_ops.h"
#include "common/file_io.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"

#define TOPICS_SUBDIR "__strait_topics"
#define TOPIC_FILE_SUFFIX ".topic"
#define TOPIC_DELETING_SUFFIX ".topic.deleting"

/* A topic file holds two header lines plus at most TOPIC_CONFIG_MAX_KEYS
 * overrides of bounded size; anything bigger is corrupt. */
#define TOPIC_FILE_BYTES_MAX (64 * 1024)

/* Partition arrays replaced by add_partitions, kept so that partition*
 * pointers held elsewhere stay valid; freed with their topic. */
typedef struct retired_partitions {
    const topic *owner;
    partition *partitions;
} retired_partitions;

struct topic_registry {
    broker_config config;        /* copy: topic configs resolve through it */
    char dir[PATH_MAX];          /* first entry of log.dirs */
    char topics_dir[PATH_MAX];   /* dir/__strait_topics */
    cluster_meta meta;
    topic **topics;              /* sorted by name, count entries */
    int count;
    int capacity;
    retired_partitions *retired;
    int retired_count;
    int retired_capacity;
    struct log_flusher *flusher; /* attached to every log opened (plog_set_flusher) */
};

/* ---- names ---------------------------------------------------------------- */

static bool name_char_legal(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

/* Copies name into out (size outlen) for an error message: at most 64
 * characters, anything unprintable as '?'. */
static void printable_name(const char *name, size_t len, char *out, size_t outlen)
{
    size_t n = len < 64 ? len : 64;
    if (n >= outlen)
        n = outlen - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '?';
    out[n] = '\0';
    if (len > n && n >= 3)
        memcpy(out + n - 3, "...", 3);
}

int topic_name_validate(const char *name, size_t len, char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "topic name is empty");
        return ST_EINVAL;
    }
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
        snprintf(err, errlen, "topic name cannot be '.' or '..'");
        return ST_EINVAL;
    }
    char shown[68];
    printable_name(name, len, shown, sizeof shown);
    if (len > LIMIT_TOPIC_NAME_LENGTH) {
        snprintf(err, errlen, "topic name '%s' is %zu characters long; the maximum is %d", shown,
                 len, LIMIT_TOPIC_NAME_LENGTH);
        return ST_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        if (!name_char_legal(name[i])) {
            snprintf(err, errlen,
                     "topic name '%s' is invalid: only ASCII letters, digits, '.', '_' and '-' "
                     "are allowed",
                     shown);
            return ST_EINVAL;
        }
    }
    return 0;
}

/* Names that differ only in '.' versus '_' collide in metric names; Kafka
 * refuses the second one and so do we. */
static bool names_collide(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        char x = a[i] == '.' ? '_' : a[i];
        char y = b[i] == '.' ? '_' : b[i];
        if (x != y)
            return false;
    }
    return true;
}

static int compare_name(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = memcmp(a, b, n);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Index of name in the sorted array, or -(insertion point) - 1. */
static int search(const topic_registry *reg, const char *name, size_t len)
{
    int lo = 0, hi = reg->count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const topic *t = reg->topics[mid];
        int c = compare_name(t->name, strlen(t->name), name, len);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

/* ---- paths and files ------------------------------------------------------ */

static int partition_dir(const topic_registry *reg, const char *name, int32_t index, char *out,
                         size_t outlen)
{
    int n = snprintf(out, outlen, "%s/%s-%d", reg->dir, name, (int)index);
    return n < 0 || (size_t)n >= outlen ? ST_EINVAL : 0;
}

/* Writes the topic file for t with the given count and config. */
static int persist_topic(topic_registry *reg, const topic *t, int32_t partition_count,
                         const topic_config *tc)
{
    size_t cap = TOPIC_FILE_BYTES_MAX;
    char *text = malloc(cap);
    if (!text)
        return ST_ENOMEM;
    char id[37];
    cluster_uuid_format(t->id, id);
    int n = snprintf(text, cap, "id=%s\npartitions=%d\n", id, (int)partition_count);
    int rc = topic_config_serialize(tc, text + n, cap - (size_t)n);
    if (rc < 0) {
        free(text);
        log_error("cluster", "cannot serialize topic config topic=%s err=%s", t->name,
                  strait_error_name(rc));
        return rc;
    }
    text[cap - 1] = '\0';
    size_t len = (size_t)n + strlen(text + n);
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s%s", t->name, TOPIC_FILE_SUFFIX);
    rc = file_write_atomic(reg->topics_dir, file, text, len);
    free(text);
    return rc;
}

static void topic_file_path(const topic_registry *reg, const char *name, const char *suffix,
                            char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s%s", reg->topics_dir, name, suffix);
}

/* ---- topic objects ---------------------------------------------------------- */

static void retire_partitions(topic_registry *reg, const topic *t, partition *partitions)
{
    if (reg->retired_count == reg->retired_capacity) {
        int cap = reg->retired_capacity ? reg->retired_capacity * 2 : 8;
        retired_partitions *r = realloc(reg->retired, (size_t)cap * sizeof *r);
        if (!r) {
            /* Out of memory: leak the old array rather than free memory that
             * a parked request may still read. */
            log_warn("cluster", "out of memory retiring a partition array topic=%s", t->name);
            return;
        }
        reg->retired = r;
        reg->retired_capacity = cap;
    }
    reg->retired[reg->retired_count++] = (retired_partitions){t, partitions};
}

static void free_retired_of(topic_registry *reg, const topic *t)
{
    int kept = 0;
    for (int i = 0; i < reg->retired_count; i++) {
        if (reg->retired[i].owner == t)
            free(reg->retired[i].partitions);
        else
            reg->retired[kept++] = reg->retired[i];
    }
    reg->retired_count = kept;
}

/* Opens logs [from, to) of t into partitions (which has room for to). On
 * failure the logs opened here are removed again (they are new) when
 * remove_on_failure, else just closed. */
static int open_logs(topic_registry *reg, topic *t, partition *partitions, int32_t from,
                     int32_t to, bool remove_on_failure)
{
    plog_config pc;
    topic_config_to_plog(&t->config, &reg->config, &pc);
    for (int32_t i = from; i < to; i++) {
        char path[PATH_MAX];
        int rc = partition_dir(reg, t->name, i, path, sizeof path);
        if (rc == 0 && mkdir(path, 0755) != 0 && errno != EEXIST)
            rc = ST_EIO;
        if (rc == 0)
            rc = plog_open(path, &pc, &partitions[i].log);
        if (rc == 0)
            plog_set_flusher(partitions[i].log, reg->flusher);
        if (rc != 0) {
            log_error("cluster", "cannot open partition log dir=%s err=%s", path,
                      strait_error_name(rc));
            for (int32_t j = from; j < i; j++) {
                if (remove_on_failure)
                    plog_delete(partitions[j].log);
                else
                    plog_close(partitions[j].log);
                partitions[j].log = NULL;
            }
            partitions[i].log = NULL;
            return rc;
        }
        partitions[i].topic = t;
        partitions[i].index = i;
    }
    return 0;
}

static void free_topic(topic_registry *reg, topic *t)
{
    free_retired_of(reg, t);
    free(t->partitions);
    free(t);
}

static void close_topic(topic_registry *reg, topic *t)
{
    for (int32_t i = 0; i < t->partition_count; i++)
        plog_close(t->partitions[i].log);
    free_topic(reg, t);
}

static int insert_topic(topic_registry *reg, topic *t)
{
    int at = search(reg, t->name, strlen(t->name));
    if (at >= 0)
        return ST_EEXISTS;
    at = -at - 1;
    if (reg->count == reg->capacity) {
        int cap = reg->capacity ? reg->capacity * 2 : 16;
        topic **topics = realloc(reg->topics, (size_t)cap * sizeof *topics);
        if (!topics)
            return ST_ENOMEM;
        reg->topics = topics;
        reg->capacity = cap;
    }
    memmove(&reg->topics[at + 1], &reg->topics[at], (size_t)(reg->count - at) * sizeof(topic *));
    reg->topics[at] = t;
    reg->count++;
    return 0;
}

static topic *new_topic(const char *name, size_t len, int32_t partition_count)
{
    topic *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->partitions = calloc((size_t)partition_count, sizeof *t->partitions);
    if (!t->partitions) {
        free(t);
        return NULL;
    }
    memcpy(t->name, name, len);
    t->name[len] = '\0';
    t->partition_count = partition_count;
    t->internal = len >= 2 && name[0] == '_' && name[1] == '_';
    topic_config_init(&t->config);
    return t;
}

/* ---- loading ------------------------------------------------------------------- */

/* Lines 1-2 are id and partitions; the rest goes to topic_config_parse. */
int topic_file_parse(const char *path, char *text, size_t len, uint8_t id[16],
                     int32_t *partition_count, topic_config *tc)
{
    char err[512];
    if (memchr(text, '\0', len) != NULL) {
        log_error("cluster", "corrupt topic file path=%s reason=\"NUL byte\"", path);
        return ST_ECORRUPT;
    }
    char *line2 = memchr(text, '\n', len);
    char *rest = line2 ? memchr(line2 + 1, '\n', len - (size_t)(line2 + 1 - text)) : NULL;
    if (!line2 || !rest) {
        log_error("cluster", "corrupt topic file path=%s reason=\"missing id or partitions line\"",
                  path);
        return ST_ECORRUPT;
    }
    *line2++ = '\0';
    *rest++ = '\0';
    if (strncmp(text, "id=", 3) != 0 || !cluster_uuid_parse(text + 3, id)) {
        log_error("cluster", "corrupt topic file path=%s line=1 reason=\"expected id=<uuid>\"",
                  path);
        return ST_ECORRUPT;
    }
    char *end = NULL;
    long long count = strncmp(line2, "partitions=", 11) == 0 ? strtoll(line2 + 11, &end, 10) : 0;
    if (!end || *end != '\0' || count < 1 || count > LIMIT_PARTITIONS_PER_TOPIC) {
        log_error("cluster",
                  "corrupt topic file path=%s line=2 reason=\"expected partitions=<1..%d>\"", path,
                  LIMIT_PARTITIONS_PER_TOPIC);
        return ST_ECORRUPT;
    }
    *partition_count = (int32_t)count;
    topic_config_init(tc);
    int rc = topic_config_parse(tc, rest, len - (size_t)(rest - text), err, sizeof err);
    if (rc != 0) {
        log_error("cluster", "corrupt topic file path=%s reason=\"config (line numbers after the "
                  "2 header lines) %s\"", path, err);
        return ST_ECORRUPT;
    }
    return 0;
}

static int read_topic_file(const char *path, uint8_t id[16], int32_t *partition_count,
                           topic_config *tc)
{
    char *text = NULL;
    size_t len = 0;
    int rc = file_read_all(path, TOPIC_FILE_BYTES_MAX, &text, &len);
    if (rc != 0) {
        log_error("cluster", "cannot read topic file path=%s err=%s", path, strait_error_name(rc));
        return rc == ST_ETOOBIG ? ST_ECORRUPT : rc;
    }
    rc = topic_file_parse(path, text, len, id, partition_count, tc);
    free(text);
    return rc;
}

/* Loads <name>.topic and opens its logs. */
static int load_topic(topic_registry *reg, const char *file_name, size_t name_len)
{
    char path[PATH_MAX], err[512];
    topic_file_path(reg, file_name, TOPIC_FILE_SUFFIX, path, sizeof path);
    if (topic_name_validate(file_name, name_len, err, sizeof err) != 0) {
        log_error("cluster", "bad topic file name path=%s reason=\"%s\"", path, err);
        return ST_ECORRUPT;
    }
    uint8_t id[16];
    int32_t count = 0;
    topic_config tc;
    int rc = read_topic_file(path, id, &count, &tc);
    if (rc != 0)
        return rc;
    topic *t = new_topic(file_name, name_len, count);
    if (!t)
        return ST_ENOMEM;
    memcpy(t->id, id, 16);
    t->config = tc;
    topic_config_produce_settings(&t->config, &reg->config, &t->produce);
    rc = open_logs(reg, t, t->partitions, 0, count, false);
    if (rc != 0) {
        free_topic(reg, t);
        return rc;
    }
    rc = insert_topic(reg, t);
    if (rc != 0) {
        log_error("cluster", "cannot register topic path=%s err=%s", path, strait_error_name(rc));
        close_topic(reg, t);
    }
    return rc;
}

/* Finishes a deletion interrupted by a crash (see the file comment).
 * file_name is the marker's file name; its first name_len chars the topic. */
static void finish_deletion(topic_registry *reg, const char *file_name, size_t name_len)
{
    char path[PATH_MAX], name[LIMIT_TOPIC_NAME_LENGTH + 1], err[512];
    topic_file_path(reg, file_name, "", path, sizeof path);
    if (name_len > LIMIT_TOPIC_NAME_LENGTH ||
        topic_name_validate(file_name, name_len, err, sizeof err) != 0) {
        log_warn("cluster", "ignoring bad deletion marker path=%s", path);
        return;
    }
    memcpy(name, file_name, name_len);
    name[name_len] = '\0';
    uint8_t id[16];
    int32_t count = 0;
    topic_config tc;
    if (read_topic_file(path, id, &count, &tc) != 0) {
        log_warn("cluster", "cannot finish deleting topic: unreadable marker path=%s", path);
        return;
    }
    for (int32_t i = 0; i < count; i++) {
        char dir[PATH_MAX];
        if (partition_dir(reg, name, i, dir, sizeof dir) == 0)
            file_remove_flat_dir(dir);
    }
    if (unlink(path) != 0)
        log_warn("cluster", "cannot remove deletion marker path=%s errno=%d", path, errno);
    file_fsync_dir(reg->topics_dir);
    file_fsync_dir(reg->dir);
    log_info("cluster", "finished interrupted topic deletion topic=%s partitions=%d", name,
             (int)count);
}

static bool has_suffix(const char *s, const char *suffix, size_t *stem_len)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n <= m || strcmp(s + n - m, suffix) != 0)
        return false;
    *stem_len = n - m;
    return true;
}

static int load_all(topic_registry *reg)
{
    DIR *d = opendir(reg->topics_dir);
    if (!d) {
        log_error("cluster", "cannot open directory dir=%s errno=%d", reg->topics_dir, errno);
        return ST_EIO;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t stem = 0;
        char stem_name[NAME_MAX + 1];
        if (e->d_name[0] == '.')
            continue;
        if (has_suffix(e->d_name, ".tmp", &stem)) {
            char path[PATH_MAX];
            topic_file_path(reg, e->d_name, "", path, sizeof path);
            unlink(path); /* an interrupted atomic write: garbage */
        } else if (has_suffix(e->d_name, TOPIC_DELETING_SUFFIX, &stem)) {
            finish_deletion(reg, e->d_name, stem);
        } else if (has_suffix(e->d_name, TOPIC_FILE_SUFFIX, &stem)) {
            if (reg->count >= LIMIT_TOPICS) {
                log_error("cluster", "too many topics dir=%s max=%d", reg->topics_dir,
                          LIMIT_TOPICS);
                rc = ST_ETOOBIG;
                break;
            }
            memcpy(stem_name, e->d_name, stem);
            stem_name[stem] = '\0';
            rc = load_topic(reg, stem_name, stem);
        } else {
            log_warn("cluster", "ignoring unexpected file dir=%s name=%s", reg->topics_dir,
                     e->d_name);
        }
    }
    closedir(d);
    return rc;
}

/* ---- open / close ----------------------------------------------------------- */

/* First entry of a comma-separated log.dirs, trimmed. */
static int first_log_dir(const char *log_dirs, char *out, size_t outlen)
{
    while (*log_dirs == ' ')
        log_dirs++;
    size_t n = strcspn(log_dirs, ",");
    while (n > 0 && log_dirs[n - 1] == ' ')
        n--;
    if (n == 0 || n >= outlen)
        return ST_EINVAL;
    memcpy(out, log_dirs, n);
    out[n] = '\0';
    return 0;
}

int topic_registry_open(const broker_config *config, topic_registry **out)
{
    *out = NULL;
    topic_registry *reg = calloc(1, sizeof *reg);
    if (!reg)
        return ST_ENOMEM;
    reg->config = *config;
    char err[1024];
    int rc = first_log_dir(config->log_dirs, reg->dir, sizeof reg->dir);
    if (rc != 0) {
        log_error("cluster", "log.dirs is empty or too long");
        goto fail;
    }
    int n = snprintf(reg->topics_dir, sizeof reg->topics_dir, "%s/%s", reg->dir, TOPICS_SUBDIR);
    if (n < 0 || (size_t)n >= sizeof reg->topics_dir) {
        rc = ST_EINVAL;
        log_error("cluster", "log dir path too long dir=%s", reg->dir);
        goto fail;
    }
    if ((rc = file_mkdirs(reg->dir)) != 0 || (rc = file_mkdirs(reg->topics_dir)) != 0) {
        log_error("cluster", "cannot create data directory dir=%s errno=%d", reg->topics_dir,
                  errno);
        goto fail;
    }
    rc = cluster_meta_load_or_create(reg->dir, config->cluster_id, config->node_id, &reg->meta,
                                     err, sizeof err);
    if (rc != 0) {
        log_error("cluster", "refusing to start: %s", err);
        goto fail;
    }
    rc = load_all(reg);
    if (rc != 0)
        goto fail;
    log_info("cluster", "topic registry open dir=%s topics=%d cluster_id=%s node_id=%d", reg->dir,
             reg->count, reg->meta.cluster_id, (int)reg->meta.node_id);
    *out = reg;
    return 0;
fail:
    topic_registry_close(reg);
    return rc;
}

void topic_registry_set_flusher(topic_registry *reg, struct log_flusher *flusher)
{
    reg->flusher = flusher;
    for (int i = 0; i < reg->count; i++)
        for (int32_t j = 0; j < reg->topics[i]->partition_count; j++)
            if (reg->topics[i]->partitions[j].log)
                plog_set_flusher(reg->topics[i]->partitions[j].log, flusher);
}

void topic_registry_close(topic_registry *reg)
{
    if (!reg)
        return;
    for (int i = 0; i < reg->count; i++)
        close_topic(reg, reg->topics[i]);
    for (int i = 0; i < reg->retired_count; i++)
        free(reg->retired[i].partitions);
    free(reg->retired);
    free(reg->topics);
    free(reg);
}

/* ---- lookups ----------------------------------------------------------------- */

topic *topic_registry_find(topic_registry *reg, const char *name, size_t len)
{
    int at = search(reg, name, len);
    return at >= 0 ? reg->topics[at] : NULL;
}

int topic_registry_count(const topic_registry *reg) { return reg->count; }

topic *topic_registry_at(topic_registry *reg, int i)
{
    return i >= 0 && i < reg->count ? reg->topics[i] : NULL;
}

partition *topic_partition(topic *t, int32_t index)
{
    return index >= 0 && index < t->partition_count ? &t->partitions[index] : NULL;
}

const char *topic_registry_cluster_id(const topic_registry *reg) { return reg->meta.cluster_id; }

const char *topic_registry_data_dir(const topic_registry *reg) { return reg->dir; }

void topic_registry_tick(topic_registry *reg, int64_t now_ms)
{
    for (int i = 0; i < reg->count; i++) {
        topic *t = reg->topics[i];
        for (int32_t p = 0; p < t->partition_count; p++) {
            int rc = plog_tick(t->partitions[p].log, now_ms);
            if (rc != 0)
                log_warn("cluster", "partition tick failed topic=%s partition=%d err=%s",
                         t->name, (int)p, strait_error_name(rc));
        }
    }
}

/* ---- create / delete / grow --------------------------------------------------- */

static int check_partition_count(int32_t count, char *err, size_t errlen)
{
    if (count < 1 || count > LIMIT_PARTITIONS_PER_TOPIC) {
        snprintf(err, errlen, "number of partitions must be between 1 and %d, got %d",
                 LIMIT_PARTITIONS_PER_TOPIC, (int)count);
        return ST_EINVAL;
    }
    return 0;
}

int topic_registry_create(topic_registry *reg, const char *name, size_t name_len,
                          int32_t partition_count, const char *const *keys,
                          const char *const *values, int config_count, bool validate_only,
                          topic **out, char *err, size_t errlen)
{
    if (out)
        *out = NULL;
    int rc = topic_name_validate(name, name_len, err, errlen);
    if (rc != 0)
        return rc;
    char shown[68];
    printable_name(name, name_len, shown, sizeof shown);
    if (topic_registry_find(reg, name, name_len)) {
        snprintf(err, errlen, "topic '%s' already exists", shown);
        return ST_EEXISTS;
    }
    for (int i = 0; i < reg->count; i++) {
        const topic *other = reg->topics[i];
        if (names_collide(name, name_len, other->name, strlen(other->name))) {
            snprintf(err, errlen,
                     "topic '%s' collides with existing topic '%s': names may not differ only "
                     "in '.' versus '_'",
                     shown, other->name);
            return ST_EINVAL;
        }
    }
    if (partition_count == -1)
        partition_count = reg->config.num_partitions;
    if ((rc = check_partition_count(partition_count, err, errlen)) != 0)
        return rc;
    if (reg->count >= LIMIT_TOPICS) {
        snprintf(err, errlen, "this node already hosts the maximum of %d topics",
                 LIMIT_TOPICS);
        return ST_EINVAL;
    }
    topic_config tc;
    topic_config_init(&tc);
    for (int i = 0; i < config_count; i++) {
        if (!values[i]) {
            snprintf(err, errlen, "config '%.64s' has a null value", keys[i]);
            return ST_ECONFIG;
        }
        if ((rc = topic_config_set(&tc, keys[i], values[i], err, errlen)) != 0)
            return rc;
    }
    if (validate_only)
        return 0;

    topic *t = new_topic(name, name_len, partition_count);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return ST_ENOMEM;
    }
    t->config = tc;
    topic_config_produce_settings(&t->config, &reg->config, &t->produce);
    if ((rc = cluster_uuid_v4(t->id)) != 0 ||
        (rc = persist_topic(reg, t, partition_count, &t->config)) != 0) {
        snprintf(err, errlen, "cannot persist topic '%s': %s", t->name, strait_strerror(rc));
        free_topic(reg, t);
        return ST_EIO;
    }
    rc = open_logs(reg, t, t->partitions, 0, partition_count, true);
    if (rc == 0)
        rc = insert_topic(reg, t);
    if (rc != 0) {
        char path[PATH_MAX];
        topic_file_path(reg, t->name, TOPIC_FILE_SUFFIX, path, sizeof path);
        unlink(path);
        file_fsync_dir(reg->topics_dir);
        snprintf(err, errlen, "cannot create the logs of topic '%s': %s", t->name,
                 strait_strerror(rc));
        free_topic(reg, t);
        return ST_EIO;
    }
    log_info("cluster", "created topic topic=%s partitions=%d overrides=%d", t->name,
             (int)partition_count, t->config.count);
    if (out)
        *out = t;
    return 0;
}

int topic_registry_delete(topic_registry *reg, const char *name, size_t name_len)
{
    int at = search(reg, name, name_len);
    if (at < 0)
        return ST_ENOTFOUND;
    topic *t = reg->topics[at];
    char path[PATH_MAX], marker[PATH_MAX];
    topic_file_path(reg, t->name, TOPIC_FILE_SUFFIX, path, sizeof path);
    topic_file_path(reg, t->name, TOPIC_DELETING_SUFFIX, marker, sizeof marker);
    if (rename(path, marker) != 0) {
        log_error("cluster", "cannot mark topic deleted path=%s errno=%d", path, errno);
        return ST_EIO;
    }
    file_fsync_dir(reg->topics_dir);
    /* From here on the topic is gone: a crash finishes the deletion at open. */
    memmove(&reg->topics[at], &reg->topics[at + 1],
            (size_t)(reg->count - at - 1) * sizeof(topic *));
    reg->count--;
    int failed = 0;
    for (int32_t i = 0; i < t->partition_count; i++) {
        int rc = plog_delete(t->partitions[i].log);
        t->partitions[i].log = NULL;
        if (rc != 0) {
            failed++;
            log_warn("cluster", "cannot remove partition log topic=%s partition=%d err=%s",
                     t->name, (int)i, strait_error_name(rc));
        }
    }
    if (failed == 0) {
        if (unlink(marker) != 0)
            log_warn("cluster", "cannot remove deletion marker path=%s errno=%d", marker, errno);
        file_fsync_dir(reg->topics_dir);
    }
    file_fsync_dir(reg->dir);
    log_info("cluster", "deleted topic topic=%s partitions=%d", t->name, (int)t->partition_count);
    free_topic(reg, t);
    return 0;
}

int topic_registry_add_partitions(topic_registry *reg, topic *t, int32_t new_count,
                                  bool validate_only, char *err, size_t errlen)
{
    if (new_count <= t->partition_count) {
        snprintf(err, errlen,
                 "topic '%s' has %d partitions; the new count (%d) must be greater", t->name,
                 (int)t->partition_count, (int)new_count);
        return ST_EINVAL;
    }
    int rc = check_partition_count(new_count, err, errlen);
    if (rc != 0 || validate_only)
        return rc;
    partition *grown = calloc((size_t)new_count, sizeof *grown);
    if (!grown) {
        snprintf(err, errlen, "out of memory");
        return ST_ENOMEM;
    }
    memcpy(grown, t->partitions, (size_t)t->partition_count * sizeof *grown);
    if ((rc = persist_topic(reg, t, new_count, &t->config)) != 0) {
        free(grown);
        snprintf(err, errlen, "cannot persist topic '%s': %s", t->name, strait_strerror(rc));
        return ST_EIO;
    }
    rc = open_logs(reg, t, grown, t->partition_count, new_count, true);
    if (rc != 0) {
        free(grown);
        persist_topic(reg, t, t->partition_count, &t->config); /* back to the old count */
        snprintf(err, errlen, "cannot create the new logs of topic '%s': %s", t->name,
                 strait_strerror(rc));
        return ST_EIO;
    }
    log_info("cluster", "added partitions topic=%s from=%d to=%d", t->name,
             (int)t->partition_count, (int)new_count);
    retire_partitions(reg, t, t->partitions);
    t->partitions = grown;
    t->partition_count = new_count;
    return 0;
}

/* ---- configs --------------------------------------------------------------------- */

int topic_registry_alter_config(topic_registry *reg, topic *t, bool incremental,
                                const char *const *keys, const char *const *values,
                                const int8_t *ops, int count, bool validate_only, char *err,
                                size_t errlen)
{
    topic_config next;
    if (incremental)
        next = t->config;
    else
        topic_config_init(&next);
    for (int i = 0; i < count; i++) {
        for (int j = 0; j < i; j++) {
            if (strcmp(keys[i], keys[j]) == 0) {
                snprintf(err, errlen, "config '%.64s' appears more than once", keys[i]);
                return ST_EINVAL;
            }
        }
        int rc;
        if (incremental)
            rc = topic_config_apply_op(&next, &reg->config, keys[i], values[i], ops ? ops[i] : 0,
                                       err, errlen);
        else if (values[i])
            rc = topic_config_set(&next, keys[i], values[i], err, errlen);
        else /* null value: the key stays at its default (unknown keys fail) */
            rc = topic_config_set(&next, keys[i], NULL, err, errlen);
        if (rc != 0)
            return rc;
    }
    if (validate_only)
        return 0;
    int rc = persist_topic(reg, t, t->partition_count, &next);
    if (rc != 0) {
        snprintf(err, errlen, "cannot persist topic '%s': %s", t->name, strait_strerror(rc));
        return ST_EIO;
    }
    t->config = next;
    topic_config_produce_settings(&t->config, &reg->config, &t->produce);
    plog_config pc;
    topic_config_to_plog(&t->config, &reg->config, &pc);
    for (int32_t i = 0; i < t->partition_count; i++)
        plog_set_config(t->partitions[i].log, &pc);
    log_info("cluster", "altered topic config topic=%s changes=%d overrides=%d", t->name, count,
             t->config.count);
    return 0;
}
