/*
 * fetch.c - Fetch (key 1) v4-11: reads partitions as file ranges spliced
 * into the response (sendfile), long polls, and incremental fetch sessions
 * (KIP-227).
 *
 * Request (never flexible in this range):
 *   FIELD                  VERSIONS  TYPE
 *   replica_id             0+        int32, -1 for consumers
 *   max_wait_ms            0+        int32
 *   min_bytes              0+        int32
 *   max_bytes              3+        int32 (response budget, KIP-74)
 *   isolation_level        4+        int8
 *   session_id             7+        int32
 *   session_epoch          7+        int32
 *   topics[]               0+        topic string, partitions[]:
 *     partition            0+        int32
 *     current_leader_epoch 9+        int32
 *     fetch_offset         0+        int64
 *     log_start_offset     5+        int64 (followers only)
 *     partition_max_bytes  0+        int32
 *   forgotten_topics_data[] 7+       topic string, partitions int32[]
 *   rack_id                11+       string (ignored)
 * Response:
 *   throttle_time_ms       1+        int32
 *   error_code             7+        int16 (session errors)
 *   session_id             7+        int32
 *   responses[]            0+        topic string, partitions[]:
 *     partition_index      0+        int32
 *     error_code           0+        int16
 *     high_watermark       0+        int64
 *     last_stable_offset   4+        int64 (= high watermark: no transactions yet)
 *     log_start_offset     5+        int64
 *     aborted_transactions[] 4+      producer_id int64, first_offset int64 (always empty)
 *     preferred_read_replica 11+     int32 (-1)
 *     records              0+        nullable records
 *
 * Reading: partitions in request order; each gets at most partition_max_bytes
 * and what is left of the response budget, except that the first partition
 * that has data always gets its first whole batch (KIP-74) so consumers
 * progress past large batches; a later partition whose first batch does not
 * fit gets no records this time. Errors give -1 offsets and no records, as
 * Kafka does.
 *
 * Long poll: with fewer than min_bytes and max_wait_ms > 0 the request is
 * parked until an append wakes it or the wait ends; it is then read again.
 * Any partition error answers at once. max_wait_ms is clamped to
 * fetch.wait.limit.ms (LIMIT_FETCH_WAIT_MS_DEFAULT: 5 minutes), so a client
 * asking for INT32_MAX ms cannot park a request, and stop its connection
 * being read, for 24 days; the clamped fetch is answered like any other
 * whose wait ended (with what there is, maybe nothing).
 *
 * Sessions: epoch -1 is sessionless (and closes session_id if given); epoch
 * 0 opens a session holding the request's partitions (any old session_id is
 * closed first); epoch > 0 is incremental: the request's partitions are added
 * or updated, forgotten ones removed, and the response carries only
 * partitions with news (records, a high-watermark or log-start change, or an
 * error). The cache is per process, bounded (count and partitions, LRU
 * eviction); a session that would exceed a bound is declined (session_id 0,
 * which KIP-227 allows) or, when an incremental request grows it too far,
 * closed with FETCH_SESSION_ID_NOT_FOUND so the client starts a full fetch.
 * Sessions hold topic names and numbers only, never log pointers.
 *
 * On a standby broker, a topic matching strait.redirect.topics answers
 * NOT_LEADER_OR_FOLLOWER to every client but the sidecar (region_redirect.h),
 * so a consumer still reading the old region re-reads metadata and follows
 * the redirect; the KIP-320 epoch check applies to the local epoch otherwise.
 * After an unplanned failover, the partitions of groups still to rejoin here
 * answer no records for a while (held_for_rejoin, coordinator_rejoin.c).
 *
 * Runs on the broker's event-loop thread (the session cache has no lock).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "broker/group/coordinator.h"
#include "broker/metrics/metrics.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/data_apis.h"
#include "broker/proto/region_redirect.h"
#include "broker/proto/request_park.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"


_Static_assert(LIMIT_FETCH_SESSION_PARTITIONS <= LIMIT_FETCH_SESSION_CACHE_PARTITIONS,
               "a session must fit in the cache");

#define FETCH_NEVER_SENT INT64_MIN /* a session partition whose state was never sent */

/* ---- field tables ------------------------------------------------------ */

static const proto_field partition_fields[] = {
    PF_I32(fetch_partition, partition, 0, PV_MAX, 0),
    PF_I32(fetch_partition, current_leader_epoch, 9, PV_MAX, -1),
    PF_I64(fetch_partition, fetch_offset, 0, PV_MAX, 0),
    PF_I64(fetch_partition, log_start_offset, 5, PV_MAX, -1),
    PF_I32(fetch_partition, partition_max_bytes, 0, PV_MAX, 0),
};
static PROTO_STRUCT(partition_schema, fetch_partition, partition_fields);

static const proto_field topic_fields[] = {
    PF_STR(fetch_topic, topic, 0, PV_MAX),
    PF_ARRAY(fetch_topic, partitions, 0, PV_MAX, partition_schema),
};
static PROTO_STRUCT(topic_schema, fetch_topic, topic_fields);

static const proto_field forgotten_topic_fields[] = {
    PF_STR(fetch_forgotten_topic, topic, 7, PV_MAX),
    PF_ARRAY(fetch_forgotten_topic, partitions, 7, PV_MAX, proto_int32_element),
};
static PROTO_STRUCT(forgotten_topic_schema, fetch_forgotten_topic, forgotten_topic_fields);

static const proto_field request_fields[] = {
    PF_I32(fetch_request, replica_id, 0, PV_MAX, -1),
    PF_I32(fetch_request, max_wait_ms, 0, PV_MAX, 0),
    PF_I32(fetch_request, min_bytes, 0, PV_MAX, 0),
    PF_I32(fetch_request, max_bytes, 3, PV_MAX, INT32_MAX),
    PF_I8(fetch_request, isolation_level, 4, PV_MAX, 0),
    PF_I32(fetch_request, session_id, 7, PV_MAX, 0),
    PF_I32(fetch_request, session_epoch, 7, PV_MAX, -1),
    PF_ARRAY(fetch_request, topics, 0, PV_MAX, topic_schema),
    PF_ARRAY(fetch_request, forgotten_topics_data, 7, PV_MAX, forgotten_topic_schema),
    PF_STR(fetch_request, rack_id, 11, PV_MAX),
};
static PROTO_STRUCT(request_schema, fetch_request, request_fields);

static const proto_field aborted_fields[] = {
    PF_I64(fetch_aborted_transaction, producer_id, 4, PV_MAX, 0),
    PF_I64(fetch_aborted_transaction, first_offset, 4, PV_MAX, 0),
};
static PROTO_STRUCT(aborted_schema, fetch_aborted_transaction, aborted_fields);

static const proto_field partition_data_fields[] = {
    PF_I32(fetch_partition_data, partition_index, 0, PV_MAX, 0),
    PF_I16(fetch_partition_data, error_code, 0, PV_MAX, 0),
    PF_I64(fetch_partition_data, high_watermark, 0, PV_MAX, 0),
    PF_I64(fetch_partition_data, last_stable_offset, 4, PV_MAX, -1),
    PF_I64(fetch_partition_data, log_start_offset, 5, PV_MAX, -1),
    PF_NARRAY(fetch_partition_data, aborted_transactions, 4, PV_MAX, 4, aborted_schema),
    PF_I32(fetch_partition_data, preferred_read_replica, 11, PV_MAX, -1),
    PF_RECORDS(fetch_partition_data, records, 0, PV_MAX),
};
static PROTO_STRUCT(partition_data_schema, fetch_partition_data, partition_data_fields);

static const proto_field topic_response_fields[] = {
    PF_STR(fetch_topic_response, topic, 0, PV_MAX),
    PF_ARRAY(fetch_topic_response, partitions, 0, PV_MAX, partition_data_schema),
};
static PROTO_STRUCT(topic_response_schema, fetch_topic_response, topic_response_fields);

static const proto_field response_fields[] = {
    PF_I32(fetch_response, throttle_time_ms, 1, PV_MAX, 0),
    PF_I16(fetch_response, error_code, 7, PV_MAX, 0),
    PF_I32(fetch_response, session_id, 7, PV_MAX, 0),
    PF_ARRAY(fetch_response, responses, 0, PV_MAX, topic_response_schema),
};
static PROTO_STRUCT(response_schema, fetch_response, response_fields);

/* ---- per-request state --------------------------------------------------- */

/* One partition to read, and the result of its last read. */
typedef struct fetch_item {
    proto_str topic;              /* points into the frame or the request arena */
    int32_t partition_index;
    int32_t current_leader_epoch;
    int64_t fetch_offset;
    int32_t max_bytes;
    int64_t sent_high_watermark;  /* session: last sent values (change detection) */
    int64_t sent_log_start_offset;
    int16_t error_code;
    int64_t high_watermark;
    int64_t log_start_offset;
    proto_records records;
    bool denied;                  /* not authorized (authorize.h): TOPIC_AUTHORIZATION_FAILED */
} fetch_item;

typedef struct fetch_state {
    fetch_item *items;
    int32_t count;
    int32_t session_id;       /* 0 = sessionless */
    bool incremental;         /* send only partitions with news */
    int64_t deadline_mono_ms; /* end of the long poll */
} fetch_state;

/* ---- session cache ------------------------------------------------------- */

typedef struct session_partition {
    char *topic;              /* owned, NUL-terminated */
    int32_t partition_index;
    int32_t current_leader_epoch;
    int64_t fetch_offset;
    int32_t max_bytes;
    int64_t sent_high_watermark;
    int64_t sent_log_start_offset;
} session_partition;

typedef struct fetch_session {
    const broker *owner;
    int32_t id;
    int32_t next_epoch;       /* the epoch the next incremental request must carry */
    uint64_t last_used;       /* LRU stamp */
    int32_t count;
    int32_t capacity;
    session_partition *partitions; /* capacity slots, grown on demand */
} fetch_session;

/* Event-loop thread only. */
static struct {
    fetch_session *sessions[LIMIT_FETCH_SESSIONS];
    int count;
    int64_t partitions;       /* over all sessions */
    uint64_t clock;
    uint64_t random_state;
} cache;

static int32_t session_new_id(void)
{
    if (cache.random_state == 0) {
        uint64_t seed = 0;
        if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
            seed = (uint64_t)clock_mono_ms() * 0x9E3779B97F4A7C15ull;
        cache.random_state = seed | 1;
    }
    for (;;) {
        /* xorshift64: ids only need to be unlikely to collide */
        uint64_t x = cache.random_state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        cache.random_state = x;
        int32_t id = (int32_t)(x & 0x7fffffff);
        bool used = id == 0;
        for (int i = 0; i < cache.count && !used; i++)
            used = cache.sessions[i]->id == id;
        if (!used)
            return id;
    }
}

static int session_slot(const broker *b, int32_t id)
{
    for (int i = 0; i < cache.count; i++)
        if (cache.sessions[i]->id == id && cache.sessions[i]->owner == b)
            return i;
    return -1;
}

static void session_remove_at(int slot)
{
    fetch_session *s = cache.sessions[slot];
    for (int32_t i = 0; i < s->count; i++)
        free(s->partitions[i].topic);
    cache.partitions -= s->count;
    free(s->partitions);
    free(s);
    cache.sessions[slot] = cache.sessions[--cache.count];
}

static void session_close(const broker *b, int32_t id)
{
    int slot = session_slot(b, id);
    if (slot >= 0)
        session_remove_at(slot);
}

void fetch_sessions_release(const broker *b)
{
    for (int i = cache.count - 1; i >= 0; i--)
        if (cache.sessions[i]->owner == b)
            session_remove_at(i);
}

/* Evicts least recently used sessions until one more with partitions fits. */
static void session_make_room(int32_t partitions)
{
    while (cache.count > 0 && (cache.count >= LIMIT_FETCH_SESSIONS ||
                               cache.partitions + partitions > LIMIT_FETCH_SESSION_CACHE_PARTITIONS)) {
        int oldest = 0;
        for (int i = 1; i < cache.count; i++)
            if (cache.sessions[i]->last_used < cache.sessions[oldest]->last_used)
                oldest = i;
        log_debug("fetch", "evicting fetch session id=%d partitions=%d", cache.sessions[oldest]->id,
                  cache.sessions[oldest]->count);
        session_remove_at(oldest);
    }
}

static int32_t session_find_partition(const fetch_session *s, proto_str topic, int32_t index,
                                      int32_t hint)
{
    if (hint >= 0 && hint < s->count && s->partitions[hint].partition_index == index &&
        proto_str_eq(topic, s->partitions[hint].topic))
        return hint;
    for (int32_t i = 0; i < s->count; i++)
        if (s->partitions[i].partition_index == index && proto_str_eq(topic, s->partitions[i].topic))
            return i;
    return -1;
}

/* Adds or updates one partition; false when the session is full or out of memory. */
static bool session_upsert(fetch_session *s, proto_str topic, const fetch_partition *fp)
{
    int32_t i = session_find_partition(s, topic, fp->partition, -1);
    if (i < 0) {
        if (s->count >= LIMIT_FETCH_SESSION_PARTITIONS || topic.len <= 0 ||
            topic.len > LIMIT_TOPIC_NAME_LENGTH ||
            cache.partitions >= LIMIT_FETCH_SESSION_CACHE_PARTITIONS)
            return false;
        if (s->count == s->capacity) {
            int32_t capacity = s->capacity ? s->capacity * 2 : 16;
            if (capacity > LIMIT_FETCH_SESSION_PARTITIONS)
                capacity = LIMIT_FETCH_SESSION_PARTITIONS;
            session_partition *grown = realloc(s->partitions, (size_t)capacity * sizeof *grown);
            if (!grown)
                return false;
            s->partitions = grown;
            s->capacity = capacity;
        }
        char *name = malloc((size_t)topic.len + 1);
        if (!name)
            return false;
        memcpy(name, topic.ptr, (size_t)topic.len);
        name[topic.len] = '\0';
        i = s->count++;
        cache.partitions++;
        s->partitions[i] = (session_partition){.topic = name, .partition_index = fp->partition,
                                               .sent_high_watermark = FETCH_NEVER_SENT,
                                               .sent_log_start_offset = FETCH_NEVER_SENT};
    }
    s->partitions[i].current_leader_epoch = fp->current_leader_epoch;
    s->partitions[i].fetch_offset = fp->fetch_offset;
    s->partitions[i].max_bytes = fp->partition_max_bytes;
    return true;
}

static void session_forget(fetch_session *s, proto_str topic, int32_t index)
{
    int32_t i = session_find_partition(s, topic, index, -1);
    if (i < 0)
        return;
    free(s->partitions[i].topic);
    memmove(&s->partitions[i], &s->partitions[i + 1],
            (size_t)(s->count - i - 1) * sizeof s->partitions[0]);
    s->count--;
    cache.partitions--;
}

/* ---- building the work list ---------------------------------------------- */

static int items_from_request(broker_request *req, const fetch_request *in, fetch_state *st)
{
    int64_t total = 0;
    for (int32_t i = 0; i < in->topics.count; i++)
        total += ((const fetch_topic *)in->topics.items)[i].partitions.count;
    if (total > INT32_MAX / 2)
        return ST_ETOOBIG;
    st->count = (int32_t)total;
    st->items = total ? broker_request_alloc(req, (size_t)total * sizeof *st->items) : NULL;
    if (total && !st->items)
        return ST_ENOMEM;
    int32_t n = 0;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const fetch_topic *ft = (const fetch_topic *)in->topics.items + i;
        for (int32_t j = 0; j < ft->partitions.count; j++) {
            const fetch_partition *fp = (const fetch_partition *)ft->partitions.items + j;
            st->items[n++] = (fetch_item){
                .topic = ft->topic, .partition_index = fp->partition,
                .current_leader_epoch = fp->current_leader_epoch, .fetch_offset = fp->fetch_offset,
                .max_bytes = fp->partition_max_bytes, .sent_high_watermark = FETCH_NEVER_SENT,
                .sent_log_start_offset = FETCH_NEVER_SENT};
        }
    }
    return 0;
}

/* Copies a session's partitions into the request (the session may be
 * evicted while the request is parked). */
static int items_from_session(broker_request *req, const fetch_session *s, fetch_state *st)
{
    st->count = s->count;
    st->items = s->count ? broker_request_alloc(req, (size_t)s->count * sizeof *st->items) : NULL;
    if (s->count && !st->items)
        return ST_ENOMEM;
    proto_str name = proto_str_null();
    for (int32_t i = 0; i < s->count; i++) {
        const session_partition *sp = &s->partitions[i];
        if (!proto_str_eq(name, sp->topic)) { /* one copy per run of one topic */
            size_t len = strlen(sp->topic);
            char *copy = broker_request_alloc(req, len + 1);
            if (!copy)
                return ST_ENOMEM;
            memcpy(copy, sp->topic, len);
            name = (proto_str){copy, (int32_t)len};
        }
        st->items[i] = (fetch_item){
            .topic = name, .partition_index = sp->partition_index,
            .current_leader_epoch = sp->current_leader_epoch, .fetch_offset = sp->fetch_offset,
            .max_bytes = sp->max_bytes, .sent_high_watermark = sp->sent_high_watermark,
            .sent_log_start_offset = sp->sent_log_start_offset};
    }
    return 0;
}

/* Creates a session for a full request; declines (id 0) when it would not fit. */
static int32_t session_create(const broker *b, const fetch_request *in)
{
    int64_t total = 0;
    for (int32_t i = 0; i < in->topics.count; i++)
        total += ((const fetch_topic *)in->topics.items)[i].partitions.count;
    if (total > LIMIT_FETCH_SESSION_PARTITIONS)
        return 0;
    session_make_room((int32_t)total);
    fetch_session *s = calloc(1, sizeof *s);
    if (!s)
        return 0;
    *s = (fetch_session){.owner = b, .id = session_new_id(), .next_epoch = 1,
                         .last_used = ++cache.clock};
    cache.sessions[cache.count++] = s;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const fetch_topic *ft = (const fetch_topic *)in->topics.items + i;
        for (int32_t j = 0; j < ft->partitions.count; j++)
            if (!session_upsert(s, ft->topic, (const fetch_partition *)ft->partitions.items + j)) {
                int32_t id = s->id;
                session_close(b, id);
                return 0;
            }
    }
    return s->id;
}

/* Resolves the session part of a v7+ request into st. Returns KERR_NONE, a
 * session error for the top-level error_code, or a negative ST_E*. */
static int session_prepare(broker_request *req, const fetch_request *in, fetch_state *st)
{
    broker *b = req->broker;
    if (in->session_epoch == -1) { /* final: close, then fetch without a session */
        if (in->session_id != 0)
            session_close(b, in->session_id);
        return items_from_request(req, in, st);
    }
    if (in->session_epoch == 0) { /* full request opening a new session */
        if (in->session_id != 0)
            session_close(b, in->session_id);
        st->session_id = session_create(b, in);
        return items_from_request(req, in, st);
    }
    if (in->session_epoch < -1)
        return KERR_INVALID_FETCH_SESSION_EPOCH;
    int slot = session_slot(b, in->session_id);
    if (slot < 0)
        return KERR_FETCH_SESSION_ID_NOT_FOUND;
    fetch_session *s = cache.sessions[slot];
    if (in->session_epoch != s->next_epoch)
        return KERR_INVALID_FETCH_SESSION_EPOCH;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const fetch_topic *ft = (const fetch_topic *)in->topics.items + i;
        for (int32_t j = 0; j < ft->partitions.count; j++)
            if (!session_upsert(s, ft->topic, (const fetch_partition *)ft->partitions.items + j)) {
                session_remove_at(slot);
                return KERR_FETCH_SESSION_ID_NOT_FOUND;
            }
    }
    for (int32_t i = 0; i < in->forgotten_topics_data.count; i++) {
        const fetch_forgotten_topic *ff = (const fetch_forgotten_topic *)in->forgotten_topics_data.items + i;
        for (int32_t j = 0; j < ff->partitions.count; j++)
            session_forget(s, ff->topic, ((const proto_int32 *)ff->partitions.items)[j].value);
    }
    s->next_epoch = s->next_epoch == INT32_MAX ? 1 : s->next_epoch + 1;
    s->last_used = ++cache.clock;
    st->session_id = s->id;
    st->incremental = true;
    return items_from_session(req, s, st);
}

/* Records what a finished response told the client, for change detection. */
static void session_remember(const broker *b, const fetch_state *st, const bool *included)
{
    int slot = session_slot(b, st->session_id);
    if (slot < 0)
        return; /* evicted or closed meanwhile */
    fetch_session *s = cache.sessions[slot];
    for (int32_t i = 0; i < st->count; i++) {
        if (!included[i])
            continue;
        const fetch_item *it = &st->items[i];
        int32_t k = session_find_partition(s, it->topic, it->partition_index, i);
        if (k < 0)
            continue;
        bool ok = it->error_code == KERR_NONE;
        s->partitions[k].sent_high_watermark = ok ? it->high_watermark : FETCH_NEVER_SENT;
        s->partitions[k].sent_log_start_offset = ok ? it->log_start_offset : FETCH_NEVER_SENT;
    }
}

/* ---- reading ------------------------------------------------------------- */

/* After an unplanned failover, a mirrored partition a group synced from the
 * old region has commits for is read by clients once that group rejoined
 * here (broker/group/coordinator_rejoin.c); the sidecar reads it always. */
static bool held_for_rejoin(broker_request *req, const fetch_item *it)
{
    broker *b = req->broker;
    return b->coordinator && !region_request_from_sidecar(req) &&
           region_state_topic_matches(b->region, it->topic.ptr, (size_t)it->topic.len) &&
           coordinator_rejoin_holds(b->coordinator, it->topic.ptr, (size_t)it->topic.len,
                                    it->partition_index);
}

/*
 * Reads one partition within *budget bytes; *have_data says whether an
 * earlier partition already returned records (KIP-74). Returns the bytes
 * taken.
 */
static int64_t read_item(broker_request *req, fetch_item *it, int64_t *budget, bool *have_data)
{
    it->records = (proto_records){.len = 0};
    it->high_watermark = -1;
    it->log_start_offset = -1;
    partition *p;
    if (it->denied) {
        it->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
        return 0;
    }
    it->error_code = data_partition_find(req->broker, it->topic, it->partition_index, &p);
    if (it->error_code == KERR_NONE &&
        region_redirects_topic(req, it->topic.ptr, (size_t)it->topic.len))
        it->error_code = KERR_NOT_LEADER_OR_FOLLOWER; /* led by the active region */
    if (it->error_code == KERR_NONE)
        it->error_code = data_leader_epoch_check(p->log, it->current_leader_epoch);
    if (it->error_code != KERR_NONE)
        return 0;
    int64_t start = plog_log_start_offset(p->log);
    int64_t high_watermark = plog_high_watermark(p->log);
    if (held_for_rejoin(req, it)) {
        it->high_watermark = high_watermark; /* no records yet, as on an idle partition */
        it->log_start_offset = start;
        return 0;
    }
    if (it->fetch_offset < start || it->fetch_offset > high_watermark) {
        it->error_code = KERR_OFFSET_OUT_OF_RANGE;
        return 0;
    }
    it->high_watermark = high_watermark;
    it->log_start_offset = start;
    int64_t limit = it->max_bytes < *budget ? it->max_bytes : *budget;
    if (limit < 0)
        limit = 0;
    if (it->fetch_offset == high_watermark || (limit == 0 && *have_data))
        return 0;
    plog_slice slice;
    int rc = plog_read(p->log, it->fetch_offset, (int32_t)limit, &slice);
    if (rc == ST_ERANGE) {
        it->error_code = KERR_OFFSET_OUT_OF_RANGE;
        it->high_watermark = it->log_start_offset = -1;
        return 0;
    }
    if (rc != 0) {
        /* v4-5 clients do not know KAFKA_STORAGE_ERROR; Kafka sends them
         * NOT_LEADER_OR_FOLLOWER so they refresh and retry. */
        it->error_code = req->api_version >= 6 ? KERR_KAFKA_STORAGE_ERROR : KERR_NOT_LEADER_OR_FOLLOWER;
        it->high_watermark = it->log_start_offset = -1;
        log_warn("fetch", "read failed topic=%.*s partition=%d offset=%lld error=%s",
                 (int)it->topic.len, it->topic.ptr, it->partition_index,
                 (long long)it->fetch_offset, strait_strerror(rc));
        return 0;
    }
    if (slice.length <= 0 || (*have_data && slice.length > limit))
        return 0; /* only the first partition with data may exceed its limits */
    it->records = (proto_records){.ptr = NULL, .len = slice.length, .in_file = true, .fd = slice.fd,
                                  .file_position = slice.file_position};
    *have_data = true;
    *budget -= slice.length;
    if (*budget < 0)
        *budget = 0;
    return slice.length;
}

/* Reads every item; *any_error when some partition failed. Returns the bytes. */
static int64_t read_all(broker_request *req, fetch_state *st, bool *any_error)
{
    const fetch_request *in = req->request;
    int64_t budget = in->max_bytes < LIMIT_FETCH_RESPONSE_BYTES ? in->max_bytes : LIMIT_FETCH_RESPONSE_BYTES;
    bool have_data = false;
    int64_t bytes = 0;
    *any_error = false;
    for (int32_t i = 0; i < st->count; i++) {
        bytes += read_item(req, &st->items[i], &budget, &have_data);
        *any_error |= st->items[i].error_code != KERR_NONE;
    }
    return bytes;
}

/* ---- response ------------------------------------------------------------ */

static bool item_has_news(const fetch_item *it)
{
    return it->error_code != KERR_NONE || it->records.len > 0 ||
           it->high_watermark != it->sent_high_watermark ||
           it->log_start_offset != it->sent_log_start_offset;
}

/* Fills req->response from the items; consecutive items of one topic share a
 * topic entry. Called once per request, so the arena does not grow on wakes. */
static int build_response(broker_request *req, fetch_state *st)
{
    fetch_response *out = req->response;
    out->session_id = st->session_id;
    bool *included = st->count ? broker_request_alloc(req, (size_t)st->count * sizeof(bool)) : NULL;
    if (st->count && !included)
        return ST_ENOMEM;
    int32_t topics = 0;
    const fetch_item *previous = NULL;
    for (int32_t i = 0; i < st->count; i++) {
        const fetch_item *it = &st->items[i];
        included[i] = !st->incremental || item_has_news(it);
        if (!included[i])
            continue;
        if (!previous || previous->topic.len != it->topic.len ||
            memcmp(previous->topic.ptr, it->topic.ptr, (size_t)it->topic.len) != 0)
            topics++;
        previous = it;
    }
    if (proto_array_alloc(&req->arena, &out->responses, &topic_response_schema, topics))
        return ST_ENOMEM;
    fetch_topic_response *tr = NULL;
    int32_t t = -1;
    previous = NULL;
    for (int32_t i = 0; i < st->count; i++) {
        const fetch_item *it = &st->items[i];
        if (!included[i])
            continue;
        if (!previous || previous->topic.len != it->topic.len ||
            memcmp(previous->topic.ptr, it->topic.ptr, (size_t)it->topic.len) != 0) {
            int32_t run = 0;
            for (int32_t k = i; k < st->count; k++) {
                if (!included[k])
                    continue;
                if (st->items[k].topic.len != it->topic.len ||
                    memcmp(st->items[k].topic.ptr, it->topic.ptr, (size_t)it->topic.len) != 0)
                    break;
                run++;
            }
            tr = (fetch_topic_response *)out->responses.items + ++t;
            tr->topic = it->topic;
            if (proto_array_alloc(&req->arena, &tr->partitions, &partition_data_schema, run))
                return ST_ENOMEM;
            tr->partitions.count = 0; /* filled below, up to run */
        }
        previous = it;
        fetch_partition_data *pd = (fetch_partition_data *)tr->partitions.items + tr->partitions.count++;
        pd->partition_index = it->partition_index;
        pd->error_code = it->error_code;
        pd->high_watermark = it->high_watermark;
        pd->last_stable_offset = it->high_watermark; /* no transactions: LSO = HW */
        pd->log_start_offset = it->log_start_offset;
        pd->aborted_transactions = (proto_array){NULL, 0};
        pd->preferred_read_replica = -1;
        pd->records = it->records;
    }
    if (st->session_id != 0)
        session_remember(req->broker, st, included);
    return 0;
}

/* ---- handler ------------------------------------------------------------- */

/* Consumers need READ on each topic; a replica (replica_id >= 0) needs
 * CLUSTER_ACTION on the cluster. Decided once per request, not per wake. */
static void authorize_items(broker_request *req, fetch_state *st)
{
    if (!authorize_enabled(req))
        return;
    const fetch_request *in = req->request;
    if (in->replica_id >= 0) {
        bool allowed = authorize_cluster(req, ACL_OP_CLUSTER_ACTION);
        for (int32_t i = 0; i < st->count; i++)
            st->items[i].denied = !allowed;
        return;
    }
    for (int32_t i = 0; i < st->count; i++) {
        fetch_item *it = &st->items[i];
        const fetch_item *previous = i > 0 ? &st->items[i - 1] : NULL;
        if (previous && previous->topic.len == it->topic.len &&
            (it->topic.len <= 0 ||
             memcmp(previous->topic.ptr, it->topic.ptr, (size_t)it->topic.len) == 0))
            it->denied = previous->denied;
        else
            it->denied = !authorize_str(req, ACL_OP_READ, ACL_RESOURCE_TOPIC, it->topic);
    }
}

static void fetch_on_wake(broker_request *req, bool timed_out);

/* Reads, then answers, or parks until data arrives or the wait ends. */
static int fetch_run(broker_request *req, bool timed_out)
{
    const fetch_request *in = req->request;
    fetch_state *st = req->handler_state;
    bool any_error;
    int64_t bytes = read_all(req, st, &any_error);
    int64_t wait_ms = st->deadline_mono_ms - clock_mono_ms();
    bool answer = timed_out || wait_ms <= 0 || st->count == 0 || any_error || bytes >= in->min_bytes;
    if (!answer && broker_request_park(req, wait_ms, fetch_on_wake) == 0)
        return PROTO_PARKED;
    if (build_response(req, st) != 0) {
        fetch_response *out = req->response;
        out->responses = (proto_array){NULL, 0}; /* an empty answer: the client fetches again */
    } else {
        metrics_count_fetch(req->broker->metrics, bytes);
    }
    return PROTO_RESPOND;
}

static void fetch_on_wake(broker_request *req, bool timed_out)
{
    if (fetch_run(req, timed_out) == PROTO_PARKED)
        return;
    broker_request_finish(req);
}

int64_t fetch_wait_ms(int32_t max_wait_ms, int64_t limit_ms)
{
    if (max_wait_ms <= 0)
        return 0;
    return max_wait_ms < limit_ms ? max_wait_ms : limit_ms;
}

static int handle_fetch(broker_request *req)
{
    const fetch_request *in = req->request;
    fetch_response *out = req->response;
    fetch_state *st = broker_request_alloc(req, sizeof *st);
    if (!st)
        return PROTO_CLOSE;
    req->handler_state = st;
    st->deadline_mono_ms = clock_mono_ms() + fetch_wait_ms(in->max_wait_ms,
                                                         req->broker->config.fetch_wait_limit_ms);
    int rc;
    if (req->api_version >= 7 && !(in->session_id == 0 && in->session_epoch == -1))
        rc = session_prepare(req, in, st);
    else
        rc = items_from_request(req, in, st);
    if (rc < 0)
        return PROTO_CLOSE; /* arena exhausted: the request is absurdly large */
    if (rc > 0) {
        out->error_code = (int16_t)rc; /* session error: no partitions, session 0 */
        out->session_id = 0;
        return PROTO_RESPOND;
    }
    authorize_items(req, st);
    return fetch_run(req, false);
}

const proto_api api_fetch = {
    .key = 1,
    .name = "Fetch",
    .min_version = 4,
    .max_version = 11,
    .flexible_min = PV_NEVER,
    .request = &request_schema,
    .response = &response_schema,
    .handle = handle_fetch,
};
