/*
 * coordinator.c - the group coordinator (see coordinator.h): group registry,
 * per-group timers, the deferred finishing of parked JoinGroup/SyncGroup
 * requests, __consumer_offsets writes and the rebuild on start, and the
 * offsets.retention.minutes expiry.
 *
 * Registry: a chained hash table of entries (state machine, offsets table,
 * timer, __consumer_offsets partition), grown at load factor 1.
 *
 * A group that is Empty with no offsets, no pending member and generation 0
 * is dropped right after the request that created it (a failed join leaves
 * nothing behind); an Empty group whose offsets all expired is tombstoned
 * and dropped by the retention check, as Kafka's cleanup does.
 */
#include "broker/group/coordinator.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/log/batch.h"
#include "broker/log/batch_build.h"
#include "broker/proto/api.h"
#include "broker/proto/kafka_error.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/reader.h"

#define OFFSETS_SEGMENT_BYTES "104857600"   /* Kafka's offsets.topic.segment.bytes */
#define LOAD_READ_BYTES (1024 * 1024)        /* __consumer_offsets read per step on start */
#define RECORD_BUF_BYTES ((size_t)LIMIT_BATCH_DECOMPRESSED_BYTES)

typedef struct coord_group {
    coordinator *owner;
    group *g;
    offsets_table *offsets;
    struct event *timer;
    int32_t partition;         /* of __consumer_offsets */
    bool tombstoned;           /* load: the last group record was a tombstone */
    struct coord_group *next;  /* hash chain */
} coord_group;

struct coordinator {
    broker *broker;
    coord_group **buckets;
    size_t bucket_count;       /* power of two */
    size_t group_count;
    group_config config;
    group_callbacks callbacks;
    coordinator_waiter *current; /* request being handled now */
    bool current_done;           /* ... and already answered */
    struct broker_request **finish; /* answered parked requests to send */
    size_t finish_count, finish_capacity;
    struct event *finish_event;
    int64_t next_retention_check_ms;
    bool loading;              /* rebuilding: no writes, no timers */
};

static group_time now_time(void) { return (group_time){clock_mono_ms(), clock_wall_ms()}; }

/* ---- hashing --------------------------------------------------------------- */

int32_t coordinator_java_hash(const char *s, size_t len)
{
    uint32_t h = 0;
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    while (p < end) {
        uint32_t cp = *p++;
        int extra = cp >= 0xf0 ? 3 : cp >= 0xe0 ? 2 : cp >= 0xc0 ? 1 : 0;
        if (cp >= 0x80 && extra > 0 && end - p >= extra) {
            cp &= 0x3fu >> extra;
            for (int i = 0; i < extra; i++)
                cp = (cp << 6) | (*p++ & 0x3fu);
        }
        if (cp >= 0x10000) { /* a surrogate pair in UTF-16 */
            cp -= 0x10000;
            h = 31 * h + (0xd800 + (cp >> 10));
            h = 31 * h + (0xdc00 + (cp & 0x3ff));
        } else {
            h = 31 * h + cp;
        }
    }
    return (int32_t)h;
}

int32_t coordinator_partition_for(const char *group_id, size_t len, int32_t partitions)
{
    int32_t h = coordinator_java_hash(group_id, len);
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h); /* Kafka's Utils.abs */
    return partitions > 0 ? a % partitions : 0;
}

static size_t bucket_of(const coordinator *c, const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = id; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return (size_t)h & (c->bucket_count - 1);
}

static coord_group *lookup(const coordinator *c, const char *id)
{
    if (!id)
        return NULL;
    for (coord_group *e = c->buckets[bucket_of(c, id)]; e; e = e->next)
        if (strcmp(group_id(e->g), id) == 0)
            return e;
    return NULL;
}

static void grow(coordinator *c)
{
    size_t count = c->bucket_count * 2;
    coord_group **buckets = calloc(count, sizeof *buckets);
    if (!buckets)
        return; /* longer chains, still correct */
    coord_group **old = c->buckets;
    size_t old_count = c->bucket_count;
    c->buckets = buckets;
    c->bucket_count = count;
    for (size_t i = 0; i < old_count; i++)
        for (coord_group *e = old[i], *next; e; e = next) {
            next = e->next;
            size_t b = bucket_of(c, group_id(e->g));
            e->next = c->buckets[b];
            c->buckets[b] = e;
        }
    free(old);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg);

static coord_group *get_or_create(coordinator *c, const char *id)
{
    coord_group *e = lookup(c, id);
    if (e)
        return e;
    e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->owner = c;
    group_callbacks cb = c->callbacks;
    cb.arg = e;
    e->g = group_new(id, &c->config, &cb);
    e->offsets = offsets_table_new();
    e->timer = evtimer_new(c->broker->base, timer_cb, e);
    if (!e->g || !e->offsets || !e->timer) {
        group_free(e->g);
        offsets_table_free(e->offsets);
        if (e->timer)
            event_free(e->timer);
        free(e);
        return NULL;
    }
    e->partition = coordinator_partition_for(id, strlen(id), c->broker->config.offsets_topic_num_partitions);
    topic *t = topic_registry_find(c->broker->topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
    if (t && t->partition_count > 0) /* the topic's real count wins over the config */
        e->partition = coordinator_partition_for(id, strlen(id), t->partition_count);
    if (c->group_count >= c->bucket_count)
        grow(c);
    size_t b = bucket_of(c, id);
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->group_count++;
    return e;
}

static void entry_free(coord_group *e)
{
    group_free(e->g);
    offsets_table_free(e->offsets);
    if (e->timer)
        event_free(e->timer);
    free(e);
}

static void unlink_entry(coordinator *c, coord_group *e)
{
    coord_group **pp = &c->buckets[bucket_of(c, group_id(e->g))];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = e->next;
        c->group_count--;
    }
    entry_free(e);
}

/* ---- timers and cleanup ---------------------------------------------------- */

static void arm(coord_group *e)
{
    if (e->owner->loading)
        return;
    int64_t deadline = group_next_deadline(e->g);
    if (deadline == INT64_MAX) {
        evtimer_del(e->timer);
        return;
    }
    int64_t wait = deadline - clock_mono_ms();
    if (wait < 0)
        wait = 0;
    struct timeval tv = {.tv_sec = wait / 1000, .tv_usec = (wait % 1000) * 1000};
    evtimer_add(e->timer, &tv);
}

/* Drops a group that holds nothing worth keeping (never persisted). */
static void maybe_drop(coord_group *e)
{
    const group *g = e->g;
    if (group_current_state(g) == GROUP_EMPTY && group_generation(g) == 0 &&
        group_member_count(g) == 0 && group_pending_count(g) == 0 &&
        offsets_table_count(e->offsets) == 0)
        unlink_entry(e->owner, e);
    else
        arm(e);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    coord_group *e = arg;
    group_on_time(e->g, now_time());
    maybe_drop(e);
}

/* ---- answering parked requests --------------------------------------------- */

static void finish_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    coordinator *c = arg;
    /* pop one at a time: finishing may re-enter and queue more, and a
     * connection closing meanwhile removes its request from the list */
    while (c->finish_count > 0) {
        struct broker_request *req = c->finish[--c->finish_count];
        req->on_abandon = NULL;
        broker_request_finish(req);
    }
}

static void abandon(struct broker_request *req)
{
    coordinator *c = req->broker->coordinator;
    coordinator_waiter *w = req->handler_state;
    for (size_t i = 0; i < c->finish_count; i++)
        if (c->finish[i] == req) {
            c->finish[i] = c->finish[--c->finish_count];
            return;
        }
    coord_group *e = lookup(c, w->group_id);
    if (e)
        group_forget_waiter(e->g, w);
}

static void answered(coordinator *c, coordinator_waiter *w)
{
    if (w == c->current) {
        c->current_done = true;
        return;
    }
    if (c->finish_count == c->finish_capacity) {
        size_t cap = c->finish_capacity ? c->finish_capacity * 2 : 16;
        struct broker_request **list = realloc(c->finish, cap * sizeof *list);
        if (!list) { /* cannot queue: the connection gets no answer and times out */
            log_error("group", "out of memory queueing a response group=%s", w->group_id);
            return;
        }
        c->finish = list;
        c->finish_capacity = cap;
    }
    c->finish[c->finish_count++] = w->req;
    event_active(c->finish_event, EV_TIMEOUT, 0);
}

static void join_done(void *arg, group *g, void *waiter, const group_join_outcome *o)
{
    coord_group *e = arg;
    coordinator_waiter *w = waiter;
    w->join_fill(w->req, g, o);
    answered(e->owner, w);
}

static void sync_done(void *arg, group *g, void *waiter, int16_t error, const uint8_t *assignment,
                      int32_t assignment_len)
{
    (void)g;
    coord_group *e = arg;
    coordinator_waiter *w = waiter;
    w->sync_fill(w->req, error, assignment, assignment_len);
    answered(e->owner, w);
}

/* ---- __consumer_offsets ---------------------------------------------------- */

static topic *offsets_topic(coordinator *c, bool create)
{
    topic *t = topic_registry_find(c->broker->topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
    if (t || !create)
        return t;
    const char *keys[] = {"cleanup.policy", "segment.bytes", "compression.type"};
    const char *values[] = {"compact", OFFSETS_SEGMENT_BYTES, "producer"};
    char err[256];
    int rc = topic_registry_create(c->broker->topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC),
                                   c->broker->config.offsets_topic_num_partitions, keys, values, 3,
                                   false, &t, err, sizeof err);
    if (rc != 0) {
        log_error("group", "cannot create %s error=%s", OFFSETS_TOPIC, err);
        return NULL;
    }
    log_info("group", "created %s partitions=%d", OFFSETS_TOPIC, t->partition_count);
    return t;
}

/* Appends records as one batch to the group's partition. 0 or ST_E*. */
static int append_records(coordinator *c, int32_t partition_index, const batch_record *records,
                          int32_t count)
{
    if (count == 0)
        return 0;
    topic *t = offsets_topic(c, true);
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
    buf_free(&b);
    if (rc != 0) {
        log_error("group", "cannot write %s-%d error=%s", OFFSETS_TOPIC, partition_index,
                  strait_strerror(rc));
        return rc;
    }
    broker_notify_append(c->broker, p);
    return 0;
}

static void store_group(void *arg, group *g)
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
        append_records(e->owner, e->partition, &r, 1);
    }
    buf_free(&key);
    buf_free(&value);
}

/* Writes tombstones for the listed offsets (and the group when with_group). */
static int write_tombstones(coordinator *c, coord_group *e, const coordinator_offset_item *parts,
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
    rc = append_records(c, e->partition, records, total);
out:
    for (int32_t i = 0; i < n; i++)
        buf_free(&keys[i]);
    free(keys);
    free(records);
    return rc;
}

/* ---- rebuild on start -------------------------------------------------------- */

/* A NUL-terminated copy of s in arena, or NULL (null string, no memory). */
static char *arena_cstr(proto_arena *arena, const proto_str *s)
{
    if (s->len < 0)
        return NULL;
    char *out = proto_arena_alloc(arena, (size_t)s->len + 1);
    if (out && s->len > 0)
        memcpy(out, s->ptr, (size_t)s->len);
    return out;
}

static void apply_record(coordinator *c, const batch_record *rec)
{
    proto_arena arena;
    proto_arena_init(&arena, LIMIT_DECODE_ARENA_BYTES);
    offsets_record r;
    char *gid;
    if (offsets_record_decode(rec->key, rec->key_len, rec->value, rec->value_len, &arena, &r) != 0) {
        log_warn("group", "skipping an unreadable record in %s", OFFSETS_TOPIC);
        goto out;
    }
    if (r.kind == OFFSETS_RECORD_UNKNOWN || !(gid = arena_cstr(&arena, &r.group_id)))
        goto out;
    coord_group *e = r.tombstone ? lookup(c, gid) : get_or_create(c, gid);
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
    if (r.tombstone) {
        group_restore(e->g, NULL, 0, NULL, NULL, -1, NULL, 0, now_time());
        goto out;
    }
    /* strings of the stored group as C strings (arena copies) */
    const offsets_stored_group *sg = &r.group;
    int32_t n = sg->members.count > 0 ? sg->members.count : 0;
    group_stored_member *members = proto_arena_alloc(&arena, sizeof *members * (size_t)(n ? n : 1));
    if (!members)
        goto out;
    for (int32_t i = 0; i < n; i++) {
        const offsets_stored_member *sm = (const offsets_stored_member *)sg->members.items + i;
        const char *member_id = arena_cstr(&arena, &sm->member_id);
        const char *client_id = arena_cstr(&arena, &sm->client_id);
        const char *client_host = arena_cstr(&arena, &sm->client_host);
        members[i] = (group_stored_member){
            .member_id = member_id ? member_id : "",
            .instance_id = arena_cstr(&arena, &sm->group_instance_id),
            .client_id = client_id ? client_id : "",
            .client_host = client_host ? client_host : "",
            .rebalance_timeout_ms = sm->rebalance_timeout >= 0 ? sm->rebalance_timeout
                                                               : sm->session_timeout,
            .session_timeout_ms = sm->session_timeout,
            .subscription = sm->subscription.ptr,
            .subscription_len = sm->subscription.len,
            .assignment = sm->assignment.ptr,
            .assignment_len = sm->assignment.len};
    }
    group_restore(e->g, arena_cstr(&arena, &sg->protocol_type), sg->generation,
                  arena_cstr(&arena, &sg->protocol), arena_cstr(&arena, &sg->leader),
                  sg->current_state_timestamp, members, n, now_time());
out:
    proto_arena_free(&arena);
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

static void load(coordinator *c)
{
    topic *t = offsets_topic(c, false);
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
                unlink_entry(c, e); /* deleted, or nothing left to keep */
            else
                arm(e);
        }
    log_info("group", "loaded %s groups=%zu offsets=%zu ms=%lld", OFFSETS_TOPIC, c->group_count,
             offsets, (long long)(clock_mono_ms() - started));
}

/* ---- lifecycle ---------------------------------------------------------------- */

int coordinator_open(broker *b, coordinator **out)
{
    coordinator *c = calloc(1, sizeof *c);
    if (!c)
        return ST_ENOMEM;
    c->broker = b;
    c->bucket_count = 64;
    c->buckets = calloc(c->bucket_count, sizeof *c->buckets);
    c->finish_event = event_new(b->base, -1, 0, finish_cb, c);
    if (!c->buckets || !c->finish_event) {
        coordinator_close(c);
        return ST_ENOMEM;
    }
    const broker_config *bc = &b->config;
    c->config = (group_config){
        .min_session_timeout_ms = bc->group_min_session_timeout_ms,
        .max_session_timeout_ms = bc->group_max_session_timeout_ms,
        .max_size = bc->group_max_size,
        .initial_rebalance_delay_ms = bc->group_initial_rebalance_delay_ms,
    };
    c->callbacks = (group_callbacks){.join_done = join_done, .sync_done = sync_done,
                                     .store = store_group};
    c->next_retention_check_ms = clock_mono_ms() + bc->offsets_retention_check_interval_ms;
    load(c);
    *out = c;
    return 0;
}

void coordinator_close(coordinator *c)
{
    if (!c)
        return;
    /* parked requests were dropped with their connections (server_close) */
    for (size_t b = 0; c->buckets && b < c->bucket_count; b++)
        for (coord_group *e = c->buckets[b], *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    free(c->buckets);
    free(c->finish);
    if (c->finish_event)
        event_free(c->finish_event);
    free(c);
}

/* ---- retention ------------------------------------------------------------------ */

typedef struct collect_ctx {
    coordinator_offset_item *items;
    int32_t count;
    int32_t capacity;
    bool all;                  /* take every offset */
    int64_t expire_before_ms;  /* else: commit timestamps before this */
} collect_ctx;

static void collect_cb(void *arg, const char *topic, int32_t partition, const offset_value *v)
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
    int64_t retention = c->broker->config.offsets_retention_minutes * 60000;
    collect_ctx x = {0};
    if (group_protocol_type(e->g))
        x.all = now_wall - group_state_timestamp(e->g) >= retention;
    x.expire_before_ms = now_wall - retention;
    if (x.all || !group_protocol_type(e->g))
        offsets_table_each(e->offsets, collect_cb, &x);
    bool empty_after = x.count == offsets_table_count(e->offsets);
    if (x.count > 0 && write_tombstones(c, e, x.items, x.count, empty_after) == 0) {
        log_info("group", "expired offsets group=%s partitions=%d", group_id(e->g), x.count);
        /* delete from the table last: items point at its topic names */
        if (empty_after) {
            free(x.items);
            group_set_dead(e->g);
            unlink_entry(c, e);
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
    c->next_retention_check_ms = now + c->broker->config.offsets_retention_check_interval_ms;
    int64_t now_wall = clock_wall_ms();
    for (size_t b = 0; b < c->bucket_count; b++)
        for (coord_group *e = c->buckets[b], *next; e; e = next) {
            next = e->next;
            expire_group(c, e, now_wall);
        }
}

/* ---- API entry points ----------------------------------------------------------- */

int16_t coordinator_find(coordinator *c)
{
    return offsets_topic(c, true) ? KERR_NONE : KERR_COORDINATOR_NOT_AVAILABLE;
}

/* Runs one call into a group with w as the current request. */
static bool run_parkable(coordinator *c, coord_group *e, coordinator_waiter *w, bool done)
{
    c->current = NULL;
    maybe_drop(e);
    if (!done)
        w->req->on_abandon = abandon;
    return done;
}

bool coordinator_join(coordinator *c, coordinator_waiter *w, const group_join_params *p)
{
    coord_group *e = get_or_create(c, w->group_id);
    if (!e) {
        group_join_outcome o = {.error = KERR_COORDINATOR_NOT_AVAILABLE, .member_id = p->member_id,
                                .generation = -1, .protocol_name = "", .leader_id = ""};
        w->join_fill(w->req, NULL, &o);
        return true;
    }
    c->current = w;
    c->current_done = false;
    group_join(e->g, p, w, now_time());
    return run_parkable(c, e, w, c->current_done);
}

bool coordinator_sync(coordinator *c, coordinator_waiter *w, const char *member_id,
                      const char *instance_id, int32_t generation,
                      const group_assignment *assignments, int32_t count)
{
    coord_group *e = lookup(c, w->group_id);
    if (!e) {
        w->sync_fill(w->req, KERR_UNKNOWN_MEMBER_ID, NULL, 0);
        return true;
    }
    c->current = w;
    c->current_done = false;
    group_sync(e->g, member_id, instance_id, generation, assignments, count, w, now_time());
    return run_parkable(c, e, w, c->current_done);
}

int16_t coordinator_heartbeat(coordinator *c, const char *group_id, const char *member_id,
                              const char *instance_id, int32_t generation)
{
    coord_group *e = lookup(c, group_id);
    if (!e)
        return KERR_UNKNOWN_MEMBER_ID;
    int16_t error = group_heartbeat(e->g, member_id, instance_id, generation, now_time());
    arm(e);
    return error;
}

int16_t coordinator_leave(coordinator *c, const char *group_id, const char *member_id)
{
    coord_group *e = lookup(c, group_id);
    if (!e)
        return KERR_UNKNOWN_MEMBER_ID;
    int16_t error = group_leave(e->g, member_id, now_time());
    maybe_drop(e);
    return error;
}

int16_t coordinator_commit_check(coordinator *c, const char *group_id, const char *member_id,
                                 const char *instance_id, int32_t generation)
{
    coord_group *e = lookup(c, group_id);
    if (!e) {
        if (generation >= 0) /* an old generation of a group that is gone */
            return KERR_ILLEGAL_GENERATION;
        return get_or_create(c, group_id) ? KERR_NONE : KERR_COORDINATOR_NOT_AVAILABLE;
    }
    int16_t error = group_commit_check(e->g, member_id, instance_id, generation, now_time());
    arm(e);
    return error;
}

void coordinator_commit(coordinator *c, const char *group_id, coordinator_offset_item *commits,
                        int32_t count)
{
    coord_group *e = lookup(c, group_id);
    batch_record *records = calloc((size_t)(count > 0 ? count : 1), sizeof *records);
    buf *bufs = calloc((size_t)(count > 0 ? count : 1) * 2, sizeof *bufs);
    int32_t n = 0, built = 0;
    int rc = ST_ENOMEM;
    if (!e || !records || !bufs)
        goto out;
    int64_t now = clock_wall_ms();
    for (int32_t i = 0; i < count; i++) {
        coordinator_offset_item *x = &commits[i];
        if (x->error != KERR_NONE)
            continue;
        buf *key = &bufs[2 * built], *value = &bufs[2 * built + 1];
        buf_init(key, RECORD_BUF_BYTES);
        buf_init(value, RECORD_BUF_BYTES);
        built++;
        offsets_key_commit(key, group_id, x->topic, x->topic_len, x->partition);
        offsets_value_commit(value, x->offset, x->leader_epoch, x->metadata, x->metadata_len, now);
        if (!buf_ok(key) || !buf_ok(value))
            goto out;
        records[n++] = (batch_record){.key = key->data, .key_len = (int32_t)key->len,
                                      .value = value->data, .value_len = (int32_t)value->len,
                                      .timestamp = now};
    }
    rc = append_records(c, e->partition, records, n);
    if (rc == 0)
        for (int32_t i = 0; i < count; i++) {
            coordinator_offset_item *x = &commits[i];
            if (x->error == KERR_NONE &&
                offsets_table_put(e->offsets, x->topic, x->topic_len, x->partition, x->offset,
                                  x->leader_epoch, x->metadata ? x->metadata : "",
                                  x->metadata ? x->metadata_len : 0, now) != 0)
                x->error = KERR_UNKNOWN_SERVER_ERROR; /* written, but not in memory */
        }
out:
    if (rc != 0) /* nothing acknowledged: the client retries */
        for (int32_t i = 0; i < count; i++)
            if (commits[i].error == KERR_NONE)
                commits[i].error = KERR_COORDINATOR_NOT_AVAILABLE;
    for (int32_t i = 0; i < 2 * built; i++)
        buf_free(&bufs[i]);
    free(bufs);
    free(records);
    if (e)
        maybe_drop(e);
}

const offset_value *coordinator_offset(coordinator *c, const char *group_id, const char *topic,
                                       size_t topic_len, int32_t partition)
{
    coord_group *e = lookup(c, group_id);
    return e ? offsets_table_get(e->offsets, topic, topic_len, partition) : NULL;
}

void coordinator_offsets_each(coordinator *c, const char *group_id, offsets_table_fn fn, void *arg)
{
    coord_group *e = lookup(c, group_id);
    if (e)
        offsets_table_each(e->offsets, fn, arg);
}

const group *coordinator_group(coordinator *c, const char *group_id)
{
    coord_group *e = lookup(c, group_id);
    return e ? e->g : NULL;
}

void coordinator_groups_each(coordinator *c, void (*fn)(void *arg, const group *g), void *arg)
{
    for (size_t b = 0; b < c->bucket_count; b++)
        for (coord_group *e = c->buckets[b]; e; e = e->next)
            fn(arg, e->g);
}

int16_t coordinator_delete_group(coordinator *c, const char *group_id)
{
    coord_group *e = lookup(c, group_id);
    if (!e || group_current_state(e->g) == GROUP_DEAD)
        return KERR_GROUP_ID_NOT_FOUND;
    if (group_current_state(e->g) != GROUP_EMPTY || group_member_count(e->g) > 0)
        return KERR_NON_EMPTY_GROUP;
    collect_ctx x = {.all = true};
    offsets_table_each(e->offsets, collect_cb, &x);
    int rc = write_tombstones(c, e, x.items, x.count, true);
    free(x.items);
    if (rc != 0)
        return KERR_COORDINATOR_NOT_AVAILABLE;
    log_info("group", "deleted group=%s", group_id);
    group_set_dead(e->g);
    unlink_entry(c, e);
    return KERR_NONE;
}

/* Does a consumer-protocol subscription (version int16, topics []string,
 * ...) name topic? Unreadable metadata counts as subscribed (be safe). */
static bool subscribes_to(const uint8_t *meta, int32_t len, const char *topic, size_t topic_len)
{
    reader r;
    reader_init(&r, meta, len > 0 ? (size_t)len : 0);
    reader_i16(&r);
    int32_t count = reader_i32(&r);
    if (!reader_ok(&r) || count < 0)
        return true;
    for (int32_t i = 0; i < count && reader_ok(&r); i++) {
        int16_t n = reader_i16(&r);
        const uint8_t *name = n > 0 ? reader_bytes(&r, (size_t)n) : NULL;
        if (reader_ok(&r) && n >= 0 && (size_t)n == topic_len &&
            (n == 0 || memcmp(name, topic, topic_len) == 0))
            return true;
    }
    return !reader_ok(&r);
}

static bool group_subscribes(const group *g, const char *topic, size_t topic_len)
{
    for (int32_t i = 0; i < group_member_count(g); i++) {
        int32_t len;
        const uint8_t *meta = group_member_metadata(group_member_at(g, i), group_protocol_name(g), &len);
        if (!meta || subscribes_to(meta, len, topic, topic_len))
            return true;
    }
    return false;
}

int16_t coordinator_offset_delete(coordinator *c, const char *group_id,
                                  coordinator_offset_item *partitions, int32_t count)
{
    coord_group *e = lookup(c, group_id);
    if (!e || group_current_state(e->g) == GROUP_DEAD)
        return KERR_GROUP_ID_NOT_FOUND;
    const group *g = e->g;
    bool empty = group_current_state(g) == GROUP_EMPTY;
    const char *type = group_protocol_type(g);
    if (!empty && !(type && strcmp(type, "consumer") == 0))
        return KERR_NON_EMPTY_GROUP;
    coordinator_offset_item *gone = calloc((size_t)(count > 0 ? count : 1), sizeof *gone);
    if (!gone)
        return KERR_UNKNOWN_SERVER_ERROR;
    int32_t n = 0;
    for (int32_t i = 0; i < count; i++) {
        coordinator_offset_item *x = &partitions[i];
        if (x->error != KERR_NONE)
            continue;
        if (!empty && group_subscribes(g, x->topic, x->topic_len))
            x->error = KERR_GROUP_SUBSCRIBED_TO_TOPIC;
        else if (offsets_table_get(e->offsets, x->topic, x->topic_len, x->partition))
            gone[n++] = *x;
    }
    int16_t error = KERR_NONE;
    if (n > 0 && write_tombstones(c, e, gone, n, false) != 0)
        error = KERR_COORDINATOR_NOT_AVAILABLE;
    else
        for (int32_t i = 0; i < n; i++)
            offsets_table_delete(e->offsets, gone[i].topic, gone[i].topic_len, gone[i].partition);
    free(gone);
    return error;
}
