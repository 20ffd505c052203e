/*
 * coordinator.c - the group coordinator (see coordinator.h): group registry,
 * per-group timers, the deferred finishing of parked JoinGroup/SyncGroup
 * requests, and the API entry points. __consumer_offsets writes, the rebuild
 * on start and offsets expiry are in coordinator_store.c.
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
#include "broker/group/coordinator_internal.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/batch_build.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/reader.h"

group_time coord_now(void) { return (group_time){clock_mono_ms(), clock_wall_ms()}; }

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

coord_group *coord_lookup(const coordinator *c, const char *id)
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

coord_group *coord_get_or_create(coordinator *c, const char *id)
{
    coord_group *e = coord_lookup(c, id);
    if (e)
        return e;
    e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->owner = c;
    group_callbacks cb = c->callbacks;
    cb.arg = e;
    e->g = group_new(id, &c->deps.group, &cb);
    e->offsets = offsets_table_new();
    e->timer = evtimer_new(c->deps.base, timer_cb, e);
    if (!e->g || !e->offsets || !e->timer) {
        group_free(e->g);
        offsets_table_free(e->offsets);
        if (e->timer)
            event_free(e->timer);
        free(e);
        return NULL;
    }
    e->partition = coordinator_partition_for(id, strlen(id), c->deps.offsets_topic_num_partitions);
    topic *t = topic_registry_find(c->deps.topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
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

void coord_unlink(coordinator *c, coord_group *e)
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

void coord_arm(coord_group *e)
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
        coord_unlink(e->owner, e);
    else
        coord_arm(e);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    coord_group *e = arg;
    group_on_time(e->g, coord_now());
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
        coordinator_waiter *w = c->finish[--c->finish_count];
        w->finish(w);
    }
}

void coordinator_forget(coordinator *c, coordinator_waiter *w)
{
    for (size_t i = 0; i < c->finish_count; i++)
        if (c->finish[i] == w) {
            c->finish[i] = c->finish[--c->finish_count];
            return;
        }
    coord_group *e = coord_lookup(c, w->group_id);
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
        coordinator_waiter **list = realloc(c->finish, cap * sizeof *list);
        if (!list) { /* cannot queue: the connection gets no answer and times out */
            log_error("group", "out of memory queueing a response group=%s", w->group_id);
            return;
        }
        c->finish = list;
        c->finish_capacity = cap;
    }
    c->finish[c->finish_count++] = w;
    event_active(c->finish_event, EV_TIMEOUT, 0);
}

static void join_done(void *arg, group *g, void *waiter, const group_join_outcome *o)
{
    coord_group *e = arg;
    coordinator_waiter *w = waiter;
    w->join_fill(w, g, o);
    answered(e->owner, w);
}

static void sync_done(void *arg, group *g, void *waiter, int error, const uint8_t *assignment,
                      int32_t assignment_len)
{
    (void)g;
    coord_group *e = arg;
    coordinator_waiter *w = waiter;
    w->sync_fill(w, error, assignment, assignment_len);
    answered(e->owner, w);
}

/* ---- lifecycle ---------------------------------------------------------------- */

int coordinator_open(const coordinator_deps *deps, coordinator **out)
{
    coordinator *c = calloc(1, sizeof *c);
    if (!c)
        return ST_ENOMEM;
    c->deps = *deps;
    c->bucket_count = 64;
    c->buckets = calloc(c->bucket_count, sizeof *c->buckets);
    c->finish_event = event_new(deps->base, -1, 0, finish_cb, c);
    if (!c->buckets || !c->finish_event) {
        coordinator_close(c);
        return ST_ENOMEM;
    }
    c->callbacks = (group_callbacks){.join_done = join_done, .sync_done = sync_done,
                                     .store = coord_store_group};
    c->next_retention_check_ms = clock_mono_ms() + deps->offsets_retention_check_interval_ms;
    coord_load(c);
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

/* ---- API entry points ----------------------------------------------------------- */

int coordinator_find(coordinator *c)
{
    return coord_offsets_topic(c, true) ? GROUP_OK : GROUP_EUNAVAILABLE;
}

/* Ends one call into a group that ran with w as the current request. */
static bool run_parkable(coordinator *c, coord_group *e, bool done)
{
    c->current = NULL;
    maybe_drop(e);
    return done;
}

bool coordinator_join(coordinator *c, coordinator_waiter *w, const group_join_params *p)
{
    coord_group *e = coord_get_or_create(c, w->group_id);
    if (!e) {
        group_join_outcome o = {.error = GROUP_EUNAVAILABLE, .member_id = p->member_id,
                                .generation = -1, .protocol_name = "", .leader_id = ""};
        w->join_fill(w, NULL, &o);
        return true;
    }
    c->current = w;
    c->current_done = false;
    group_join(e->g, p, w, coord_now());
    return run_parkable(c, e, c->current_done);
}

bool coordinator_sync(coordinator *c, coordinator_waiter *w, const char *member_id,
                      const char *instance_id, int32_t generation,
                      const group_assignment *assignments, int32_t count)
{
    coord_group *e = coord_lookup(c, w->group_id);
    if (!e) {
        w->sync_fill(w, GROUP_EUNKNOWN_MEMBER, NULL, 0);
        return true;
    }
    c->current = w;
    c->current_done = false;
    group_sync(e->g, member_id, instance_id, generation, assignments, count, w, coord_now());
    return run_parkable(c, e, c->current_done);
}

int coordinator_heartbeat(coordinator *c, const char *group_id, const char *member_id,
                          const char *instance_id, int32_t generation)
{
    coord_group *e = coord_lookup(c, group_id);
    if (!e)
        return GROUP_EUNKNOWN_MEMBER;
    int error = group_heartbeat(e->g, member_id, instance_id, generation, coord_now());
    coord_arm(e);
    return error;
}

int coordinator_leave(coordinator *c, const char *group_id, const char *member_id)
{
    coord_group *e = coord_lookup(c, group_id);
    if (!e)
        return GROUP_EUNKNOWN_MEMBER;
    int error = group_leave(e->g, member_id, coord_now());
    maybe_drop(e);
    return error;
}

int coordinator_commit_check(coordinator *c, const char *group_id, const char *member_id,
                             const char *instance_id, int32_t generation)
{
    coord_group *e = coord_lookup(c, group_id);
    if (!e) {
        if (generation >= 0) /* an old generation of a group that is gone */
            return GROUP_EGENERATION;
        return coord_get_or_create(c, group_id) ? GROUP_OK : GROUP_EUNAVAILABLE;
    }
    int error = group_commit_check(e->g, member_id, instance_id, generation, coord_now());
    coord_arm(e);
    return error;
}

void coordinator_commit(coordinator *c, const char *group_id, coordinator_offset_item *commits,
                        int32_t count)
{
    coord_group *e = coord_lookup(c, group_id);
    batch_record *records = calloc((size_t)(count > 0 ? count : 1), sizeof *records);
    buf *bufs = calloc((size_t)(count > 0 ? count : 1) * 2, sizeof *bufs);
    int32_t n = 0, built = 0;
    int rc = ST_ENOMEM;
    if (!e || !records || !bufs)
        goto out;
    int64_t now = clock_wall_ms();
    for (int32_t i = 0; i < count; i++) {
        coordinator_offset_item *x = &commits[i];
        if (x->skip)
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
    rc = coord_append_records(c, e->partition, records, n);
    if (rc == 0)
        for (int32_t i = 0; i < count; i++) {
            coordinator_offset_item *x = &commits[i];
            if (!x->skip && x->error == GROUP_OK &&
                offsets_table_put(e->offsets, x->topic, x->topic_len, x->partition, x->offset,
                                  x->leader_epoch, x->metadata ? x->metadata : "",
                                  x->metadata ? x->metadata_len : 0, now) != 0)
                x->error = GROUP_EINTERNAL; /* written, but not in memory */
        }
out:
    if (rc != 0) /* nothing acknowledged: the client retries */
        for (int32_t i = 0; i < count; i++)
            if (!commits[i].skip && commits[i].error == GROUP_OK)
                commits[i].error = GROUP_EUNAVAILABLE;
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
    coord_group *e = coord_lookup(c, group_id);
    return e ? offsets_table_get(e->offsets, topic, topic_len, partition) : NULL;
}

void coordinator_offsets_each(coordinator *c, const char *group_id, offsets_table_fn fn, void *arg)
{
    coord_group *e = coord_lookup(c, group_id);
    if (e)
        offsets_table_each(e->offsets, fn, arg);
}

const group *coordinator_group(coordinator *c, const char *group_id)
{
    coord_group *e = coord_lookup(c, group_id);
    return e ? e->g : NULL;
}

void coordinator_groups_each(coordinator *c, void (*fn)(void *arg, const group *g), void *arg)
{
    for (size_t b = 0; b < c->bucket_count; b++)
        for (coord_group *e = c->buckets[b]; e; e = e->next)
            fn(arg, e->g);
}

int coordinator_evict_members(coordinator *c, bool (*match)(void *arg, const char *group_id),
                              void *arg)
{
    int evicted = 0;
    for (size_t b = 0; b < c->bucket_count; b++) {
        for (coord_group *e = c->buckets[b]; e; e = e->next) {
            if (group_member_count(e->g) == 0 || !match(arg, group_id(e->g)))
                continue;
            /* leave() frees the member: copy the ids first */
            int32_t n = group_member_count(e->g);
            char **ids = calloc((size_t)n, sizeof *ids);
            for (int32_t i = 0; ids && i < n; i++)
                ids[i] = strdup(group_member_at(e->g, i)->id);
            for (int32_t i = 0; ids && i < n; i++) {
                if (ids[i] && group_leave(e->g, ids[i], coord_now()) == GROUP_OK)
                    evicted++;
                free(ids[i]);
            }
            free(ids);
            log_info("group", "members evicted group=%s members=%d reason=region role change",
                     group_id(e->g), (int)n);
        }
    }
    return evicted;
}

int coordinator_delete_group(coordinator *c, const char *group_id)
{
    coord_group *e = coord_lookup(c, group_id);
    if (!e || group_current_state(e->g) == GROUP_DEAD)
        return GROUP_ENOT_FOUND;
    if (group_current_state(e->g) != GROUP_EMPTY || group_member_count(e->g) > 0)
        return GROUP_ENOT_EMPTY;
    collect_ctx x = {.all = true};
    offsets_table_each(e->offsets, coord_collect_cb, &x);
    int rc = coord_write_tombstones(c, e, x.items, x.count, true);
    free(x.items);
    if (rc != 0)
        return GROUP_EUNAVAILABLE;
    log_info("group", "deleted group=%s", group_id);
    group_set_dead(e->g);
    coord_unlink(c, e);
    return GROUP_OK;
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

int coordinator_offset_delete(coordinator *c, const char *group_id,
                              coordinator_offset_item *partitions, int32_t count)
{
    coord_group *e = coord_lookup(c, group_id);
    if (!e || group_current_state(e->g) == GROUP_DEAD)
        return GROUP_ENOT_FOUND;
    const group *g = e->g;
    bool empty = group_current_state(g) == GROUP_EMPTY;
    const char *type = group_protocol_type(g);
    if (!empty && !(type && strcmp(type, "consumer") == 0))
        return GROUP_ENOT_EMPTY;
    coordinator_offset_item *gone = calloc((size_t)(count > 0 ? count : 1), sizeof *gone);
    if (!gone)
        return GROUP_EINTERNAL;
    int32_t n = 0;
    for (int32_t i = 0; i < count; i++) {
        coordinator_offset_item *x = &partitions[i];
        if (x->skip)
            continue;
        if (!empty && group_subscribes(g, x->topic, x->topic_len))
            x->error = GROUP_ESUBSCRIBED;
        else if (offsets_table_get(e->offsets, x->topic, x->topic_len, x->partition))
            gone[n++] = *x;
    }
    int error = GROUP_OK;
    if (n > 0 && coord_write_tombstones(c, e, gone, n, false) != 0)
        error = GROUP_EUNAVAILABLE;
    else
        for (int32_t i = 0; i < n; i++)
            offsets_table_delete(e->offsets, gone[i].topic, gone[i].topic_len, gone[i].partition);
    free(gone);
    return error;
}
