/*
 * coordinator_store.c - the coordinator's side of __consumer_offsets: the
 * topic (created compacted on first use), appends of offset commits, group
 * metadata and tombstones (layout in offsets_store.h), the rebuild of every
 * group and offset on start, and offsets.retention.minutes expiry.
 *
 * Writes are synchronous on the loop thread: coord_append_records returns
 * once the batch is written (and fsynced when the topic's flush policy says
 * so: inline with plog_flush when plog_append handed the fsync to the
 * flusher), and only then is a commit acknowledged.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/group/coordinator.h"
#include "broker/group/coordinator_internal.h"
#include "broker/log/batch.h"
#include "broker/log/batch_build.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"

/* ---- __consumer_offsets ---------------------------------------------------- */

topic *coord_offsets_topic(coordinator *c, bool create)
{
    topic *t = topic_registry_find(c->deps.topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
    if (t || !create)
        return t;
    const char *keys[] = {"cleanup.policy", "segment.bytes", "compression.type"};
    const char *values[] = {"compact", OFFSETS_SEGMENT_BYTES, "producer"};
    char err[256];
    int rc = topic_registry_create(c->deps.topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC),
                                   c->deps.offsets_topic_num_partitions, keys, values, 3,
                                   false, &t, err, sizeof err);
    if (rc != 0) {
        log_error("group", "cannot create %s error=%s", OFFSETS_TOPIC, err);
        return NULL;
    }
    log_info("group", "created %s partitions=%d", OFFSETS_TOPIC, t->partition_count);
    return t;
}

/* Appends records as one batch to the group's partition. 0 or ST_E*. */
int coord_append_records(coordinator *c, int32_t partition_index, const batch_record *records,
                          int32_t count)
{
    if (count == 0)
        return 0;
    topic *t = coord_offsets_topic(c, true);
    partition *p = t ? topic_partition(t, partition_index) : NULL;
    if (!p)
        return ST_ENOTFOUND;
    buf b;
    buf_init(&b, RECORD_BUF_BYTES);
    batch_build_params params;
    batch_build_params_default(&params);
    int rc = batch_build(&b, &params, records, count);
    plog_append_result result;
    if (rc == 0)
        rc = plog_append(p->log, b.data, b.len, -1, &result);
    /* The flush policy wants it durable and the fsync went to the flusher:
     * callers acknowledge as soon as this returns, so wait for it here (on
     * the loop, as before the flusher; commits do not park yet). */
    if (rc == 0 && result.needs_flush)
        rc = plog_flush(p->log);
    buf_free(&b);
    if (rc != 0) {
        log_error("group", "cannot write %s-%d error=%s", OFFSETS_TOPIC, partition_index,
                  strait_strerror(rc));
        return rc;
    }
    if (c->deps.notify_append)
        c->deps.notify_append(c->deps.notify_arg, p);
    return 0;
}

void coord_store_group(void *arg, group *g)
{
    coord_group *e = arg;
    if (e->owner->loading)
        return;
    buf key, value;
    buf_init(&key, RECORD_BUF_BYTES);
    buf_init(&value, RECORD_BUF_BYTES);
    offsets_key_group(&key, group_id(g));
    offsets_value_group(&value, g);
    if (buf_ok(&key) && buf_ok(&value)) {
        batch_record r = {.key = key.data, .key_len = (int32_t)key.len, .value = value.data,
                          .value_len = (int32_t)value.len, .timestamp = clock_wall_ms()};
        coord_append_records(e->owner, e->partition, &r, 1);
    }
    buf_free(&key);
    buf_free(&value);
}

/* Writes tombstones for the listed offsets (and the group when with_group). */
int coord_write_tombstones(coordinator *c, coord_group *e, const coordinator_offset_item *parts,
                            int32_t count, bool with_group)
{
    int32_t total = count + (with_group ? 1 : 0);
    batch_record *records = calloc((size_t)(total > 0 ? total : 1), sizeof *records);
    buf *keys = calloc((size_t)(total > 0 ? total : 1), sizeof *keys);
    int rc = ST_ENOMEM;
    int32_t n = 0;
    if (!records || !keys)
        goto out;
    int64_t now = clock_wall_ms();
    for (int32_t i = 0; i < total; i++) {
        buf_init(&keys[i], RECORD_BUF_BYTES);
        if (i < count)
            offsets_key_commit(&keys[i], group_id(e->g), parts[i].topic, parts[i].topic_len,
                               parts[i].partition);
        else
            offsets_key_group(&keys[i], group_id(e->g));
        n = i + 1;
        if (!buf_ok(&keys[i]))
            goto out;
        records[i] = (batch_record){.key = keys[i].data, .key_len = (int32_t)keys[i].len,
                                    .value = NULL, .value_len = -1, .timestamp = now};
    }
    rc = coord_append_records(c, e->partition, records, total);
out:
    for (int32_t i = 0; i < n; i++)
        buf_free(&keys[i]);
    free(keys);
    free(records);
    return rc;
}

/* ---- rebuild on start -------------------------------------------------------- */

/* NUL-terminated copies of a record's strings, freed together. */
typedef struct cstr_pool {
    char **items;
    int32_t count;
    int32_t capacity;
} cstr_pool;

/* A NUL-terminated copy of s kept in pool, or NULL (null string, no memory). */
static const char *pool_cstr(cstr_pool *pool, offsets_span s)
{
    if (s.len < 0 || pool->count == pool->capacity)
        return NULL;
    char *out = malloc((size_t)s.len + 1);
    if (!out)
        return NULL;
    if (s.len > 0)
        memcpy(out, s.ptr, (size_t)s.len);
    out[s.len] = '\0';
    pool->items[pool->count++] = out;
    return out;
}

static void pool_free(cstr_pool *pool)
{
    for (int32_t i = 0; i < pool->count; i++)
        free(pool->items[i]);
    free(pool->items);
}

/* Rebuilds e's group from a stored group record. */
static void restore_group(coord_group *e, const offsets_stored_group *sg)
{
    int32_t n = sg->member_count;
    cstr_pool pool = {.capacity = 3 + 4 * n};
    pool.items = calloc((size_t)pool.capacity, sizeof *pool.items);
    group_stored_member *members = calloc((size_t)(n ? n : 1), sizeof *members);
    if (!pool.items || !members)
        goto out;
    for (int32_t i = 0; i < n; i++) {
        const offsets_stored_member *sm = &sg->members[i];
        const char *member_id = pool_cstr(&pool, sm->member_id);
        const char *client_id = pool_cstr(&pool, sm->client_id);
        const char *client_host = pool_cstr(&pool, sm->client_host);
        members[i] = (group_stored_member){
            .member_id = member_id ? member_id : "",
            .instance_id = pool_cstr(&pool, sm->group_instance_id),
            .client_id = client_id ? client_id : "",
            .client_host = client_host ? client_host : "",
            .rebalance_timeout_ms = sm->rebalance_timeout >= 0 ? sm->rebalance_timeout
                                                               : sm->session_timeout,
            .session_timeout_ms = sm->session_timeout,
            .subscription = (const uint8_t *)sm->subscription.ptr,
            .subscription_len = sm->subscription.len,
            .assignment = (const uint8_t *)sm->assignment.ptr,
            .assignment_len = sm->assignment.len};
    }
    group_restore(e->g, pool_cstr(&pool, sg->protocol_type), sg->generation,
                  pool_cstr(&pool, sg->protocol), pool_cstr(&pool, sg->leader),
                  sg->current_state_timestamp, members, n, coord_now());
out:
    free(members);
    pool_free(&pool);
}

static void apply_record(coordinator *c, const batch_record *rec)
{
    offsets_record r;
    char *gid = NULL;
    if (offsets_record_decode(rec->key, rec->key_len, rec->value, rec->value_len, &r) != 0) {
        log_warn("group", "skipping an unreadable record in %s", OFFSETS_TOPIC);
        return;
    }
    if (r.kind == OFFSETS_RECORD_UNKNOWN || r.group_id.len < 0 ||
        !(gid = malloc((size_t)r.group_id.len + 1)))
        goto out;
    if (r.group_id.len > 0)
        memcpy(gid, r.group_id.ptr, (size_t)r.group_id.len);
    gid[r.group_id.len] = '\0';
    coord_group *e = r.tombstone ? coord_lookup(c, gid) : coord_get_or_create(c, gid);
    if (!e)
        goto out;
    if (r.kind == OFFSETS_RECORD_COMMIT) {
        if (r.tombstone)
            offsets_table_delete(e->offsets, r.topic.ptr, (size_t)r.topic.len, r.partition);
        else
            offsets_table_put(e->offsets, r.topic.ptr, (size_t)r.topic.len, r.partition, r.offset,
                              r.leader_epoch, r.metadata.ptr, r.metadata.len > 0 ? (size_t)r.metadata.len : 0,
                              r.commit_timestamp);
        goto out;
    }
    e->tombstoned = r.tombstone;
    if (r.tombstone)
        group_restore(e->g, NULL, 0, NULL, NULL, -1, NULL, 0, coord_now());
    else
        restore_group(e, &r.group);
out:
    free(gid);
    offsets_record_clear(&r);
}

static int load_partition(coordinator *c, partition *p)
{
    int64_t offset = plog_log_start_offset(p->log);
    int64_t end = plog_log_end_offset(p->log);
    uint8_t *data = NULL;
    int rc = 0;
    while (offset < end) {
        plog_slice slice;
        rc = plog_read(p->log, offset, LOAD_READ_BYTES, &slice);
        if (rc != 0 || slice.length <= 0)
            break;
        free(data);
        data = malloc((size_t)slice.length);
        if (!data) {
            rc = ST_ENOMEM;
            break;
        }
        if (pread(slice.fd, data, (size_t)slice.length, slice.file_position) != slice.length) {
            rc = ST_EIO;
            break;
        }
        size_t position = 0;
        int64_t next = offset;
        while (position < (size_t)slice.length) {
            batch_header h;
            if (batch_header_parse(data + position, (size_t)slice.length - position, &h) != 0)
                break;
            size_t total = batch_total_bytes(&h);
            batch_iter *it = NULL;
            if (!(h.attributes & BATCH_ATTR_CONTROL) &&
                batch_iter_open(data + position, total, LIMIT_BATCH_DECOMPRESSED_BYTES, &it) == 0) {
                batch_record rec;
                while (batch_iter_next(it, &rec) == 1)
                    if (h.base_offset + rec.offset_delta >= offset)
                        apply_record(c, &rec);
            }
            batch_iter_close(it);
            position += total;
            next = batch_last_offset(&h) + 1;
        }
        if (next <= offset)
            break; /* no progress: unreadable data */
        offset = next;
    }
    free(data);
    return rc;
}

void coord_load(coordinator *c)
{
    topic *t = coord_offsets_topic(c, false);
    if (!t)
        return;
    int64_t started = clock_mono_ms();
    c->loading = true;
    for (int32_t i = 0; i < t->partition_count; i++) {
        int rc = load_partition(c, &t->partitions[i]);
        if (rc != 0)
            log_error("group", "cannot read %s-%d error=%s", OFFSETS_TOPIC, i, strait_strerror(rc));
    }
    c->loading = false;
    size_t offsets = 0;
    for (size_t b = 0; b < c->bucket_count; b++)
        for (coord_group *e = c->buckets[b], *next; e; e = next) {
            next = e->next;
            offsets += (size_t)offsets_table_count(e->offsets);
            if (group_member_count(e->g) == 0 && offsets_table_count(e->offsets) == 0)
                coord_unlink(c, e); /* deleted, or nothing left to keep */
            else
                coord_arm(e);
        }
    log_info("group", "loaded %s groups=%zu offsets=%zu ms=%lld", OFFSETS_TOPIC, c->group_count,
             offsets, (long long)(clock_mono_ms() - started));
}


void coord_collect_cb(void *arg, const char *topic, int32_t partition, const offset_value *v)
{
    collect_ctx *x = arg;
    if (!x->all && v->commit_timestamp_ms >= x->expire_before_ms)
        return;
    if (x->count == x->capacity) {
        int32_t cap = x->capacity ? x->capacity * 2 : 16;
        coordinator_offset_item *items = realloc(x->items, (size_t)cap * sizeof *items);
        if (!items)
            return;
        x->items = items;
        x->capacity = cap;
    }
    x->items[x->count++] = (coordinator_offset_item){.topic = topic, .topic_len = strlen(topic),
                                                 .partition = partition};
}

/*
 * KIP-211: the offsets of a consumer group expire offsets.retention.minutes
 * after the group became Empty; offsets of a group that never had members
 * (simple commits) expire that long after their own commit. A group left
 * with no offsets is tombstoned and forgotten.
 */
static void expire_group(coordinator *c, coord_group *e, int64_t now_wall)
{
    if (group_current_state(e->g) != GROUP_EMPTY)
        return;
    int64_t retention = c->deps.offsets_retention_minutes * 60000;
    collect_ctx x = {0};
    if (group_protocol_type(e->g))
        x.all = now_wall - group_state_timestamp(e->g) >= retention;
    x.expire_before_ms = now_wall - retention;
    if (x.all || !group_protocol_type(e->g))
        offsets_table_each(e->offsets, coord_collect_cb, &x);
    bool empty_after = x.count == offsets_table_count(e->offsets);
    if (x.count > 0 && coord_write_tombstones(c, e, x.items, x.count, empty_after) == 0) {
        log_info("group", "expired offsets group=%s partitions=%d", group_id(e->g), x.count);
        /* delete from the table last: items point at its topic names */
        if (empty_after) {
            free(x.items);
            group_set_dead(e->g);
            coord_unlink(c, e);
            return;
        }
        for (int32_t i = 0; i < x.count; i++)
            offsets_table_delete(e->offsets, x.items[i].topic, x.items[i].topic_len,
                                 x.items[i].partition);
    }
    free(x.items);
}

void coordinator_tick(coordinator *c)
{
    int64_t now = clock_mono_ms();
    if (now < c->next_retention_check_ms)
        return;
    c->next_retention_check_ms = now + c->deps.offsets_retention_check_interval_ms;
    int64_t now_wall = clock_wall_ms();
    for (size_t b = 0; b < c->bucket_count; b++)
        for (coord_group *e = c->buckets[b], *next; e; e = next) {
            next = e->next;
            expire_group(c, e, now_wall);
        }
}
