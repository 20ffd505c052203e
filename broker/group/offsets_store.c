/*
 * offsets_store.c - __consumer_offsets keys and values (layout in
 * offsets_store.h), written in the classic encoding and read in every
 * version Kafka writes (the flexible v4 values too), through the bounded
 * reader; and the in-memory table of a group's committed offsets.
 *
 * The table keeps, per topic, a dense array indexed by partition (consumer
 * groups commit whole topics, and partitions are bounded by
 * LIMIT_PARTITIONS_PER_TOPIC); topics are found by a linear scan, which is
 * cheap for the handful of topics a group consumes.
 */
#include "broker/group/offsets_store.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/limits.h"
#include "common/reader.h"

#define KEY_VERSION_COMMIT 1
#define KEY_VERSION_GROUP 2
#define VALUE_VERSION_COMMIT 3
#define VALUE_VERSION_GROUP 3
#define VALUE_VERSION_FLEXIBLE 4 /* first flexible version of both values */

/* ---- encoding (classic) ---------------------------------------------------- */

static void put_string(buf *out, const char *s, size_t len)
{
    buf_put_i16(out, (int16_t)len);
    buf_put(out, s, len);
}

static void put_cstring(buf *out, const char *s) { put_string(out, s, strlen(s)); }

static void put_nullable_cstring(buf *out, const char *s)
{
    if (s)
        put_cstring(out, s);
    else
        buf_put_i16(out, -1);
}

static void put_bytes(buf *out, const uint8_t *data, int32_t len)
{
    buf_put_i32(out, len > 0 ? len : 0);
    if (len > 0)
        buf_put(out, data, (size_t)len);
}

void offsets_key_commit(buf *out, const char *group_id, const char *topic, size_t topic_len,
                        int32_t partition)
{
    if (strlen(group_id) > INT16_MAX || topic_len > INT16_MAX) {
        out->err = ST_ETOOBIG;
        return;
    }
    buf_put_i16(out, KEY_VERSION_COMMIT);
    put_cstring(out, group_id);
    put_string(out, topic, topic_len);
    buf_put_i32(out, partition);
}

void offsets_value_commit(buf *out, int64_t offset, int32_t leader_epoch, const char *metadata,
                          size_t metadata_len, int64_t commit_timestamp_ms)
{
    if (!metadata)
        metadata_len = 0;
    if (metadata_len > INT16_MAX) {
        out->err = ST_ETOOBIG;
        return;
    }
    buf_put_i16(out, VALUE_VERSION_COMMIT);
    buf_put_i64(out, offset);
    buf_put_i32(out, leader_epoch);
    put_string(out, metadata ? metadata : "", metadata_len);
    buf_put_i64(out, commit_timestamp_ms);
}

void offsets_key_group(buf *out, const char *group_id)
{
    if (strlen(group_id) > INT16_MAX) {
        out->err = ST_ETOOBIG;
        return;
    }
    buf_put_i16(out, KEY_VERSION_GROUP);
    put_cstring(out, group_id);
}

static bool fits_string(const char *s) { return !s || strlen(s) <= INT16_MAX; }

void offsets_value_group(buf *out, const group *g)
{
    const char *type = group_protocol_type(g);
    const char *protocol = group_protocol_name(g);
    const char *leader = group_leader_id(g);
    if (!fits_string(type) || !fits_string(protocol) || !fits_string(leader)) {
        out->err = ST_ETOOBIG;
        return;
    }
    int32_t count = group_member_count(g);
    buf_put_i16(out, VALUE_VERSION_GROUP);
    put_cstring(out, type ? type : "");
    buf_put_i32(out, group_generation(g));
    put_nullable_cstring(out, protocol);
    put_nullable_cstring(out, leader);
    buf_put_i64(out, group_state_timestamp(g));
    buf_put_i32(out, count);
    for (int32_t i = 0; i < count; i++) {
        const group_member_info *m = group_member_at(g, i);
        if (!fits_string(m->id) || !fits_string(m->instance_id) || !fits_string(m->client_id) ||
            !fits_string(m->client_host)) {
            out->err = ST_ETOOBIG;
            return;
        }
        int32_t len;
        const uint8_t *subscription = group_member_metadata(m, protocol, &len);
        put_cstring(out, m->id);
        put_nullable_cstring(out, m->instance_id);
        put_cstring(out, m->client_id ? m->client_id : "");
        put_cstring(out, m->client_host ? m->client_host : "");
        buf_put_i32(out, m->rebalance_timeout_ms);
        buf_put_i32(out, m->session_timeout_ms);
        put_bytes(out, subscription, subscription ? len : 0);
        put_bytes(out, m->assignment, m->assignment_len);
    }
}

/* ---- decoding ---------------------------------------------------------------- */

/* One value being read: its version decides the encoding of every field. */
typedef struct value_reader {
    reader r;
    int16_t version;
    bool flexible;
} value_reader;

/* A string (wide = false: int16 length) or bytes (wide = true: int32) field. */
static offsets_span read_span(value_reader *v, bool wide, bool nullable)
{
    int64_t n;
    if (v->flexible)
        n = (int64_t)reader_uvarint(&v->r) - 1;
    else
        n = wide ? reader_i32(&v->r) : reader_i16(&v->r);
    if (!reader_ok(&v->r))
        return (offsets_span){NULL, -1};
    if (n < -1 || (n == -1 && !nullable)) {
        reader_fail(&v->r, ST_ECORRUPT, wide ? "bytes length" : "string length");
        return (offsets_span){NULL, -1};
    }
    if (n == -1)
        return (offsets_span){NULL, -1};
    const uint8_t *data = n > 0 ? reader_bytes(&v->r, (size_t)n) : NULL;
    return (offsets_span){(const char *)data, (int32_t)n};
}

static offsets_span read_string(value_reader *v) { return read_span(v, false, false); }
static offsets_span read_nullable_string(value_reader *v) { return read_span(v, false, true); }
static offsets_span read_bytes(value_reader *v) { return read_span(v, true, false); }

/* The tagged fields that end a struct in a flexible version: skipped (none
 * of them is one strait uses). */
static void skip_tagged_fields(value_reader *v)
{
    if (!v->flexible)
        return;
    uint32_t count = reader_uvarint(&v->r);
    if (reader_ok(&v->r) && count > reader_remaining(&v->r) / 2) {
        reader_fail(&v->r, ST_ECORRUPT, "tagged field count");
        return;
    }
    for (uint32_t i = 0; i < count && reader_ok(&v->r); i++) {
        reader_uvarint(&v->r); /* tag */
        uint32_t size = reader_uvarint(&v->r);
        reader_skip(&v->r, size);
    }
}

/* Commit key v0/v1: group string, topic string, partition int32. */
static void read_commit_value(value_reader *v, offsets_record *out)
{
    out->offset = reader_i64(&v->r);
    out->leader_epoch = v->version >= 3 ? reader_i32(&v->r) : -1;
    out->metadata = read_string(v);
    out->commit_timestamp = reader_i64(&v->r);
    if (v->version == 1)
        reader_i64(&v->r); /* expire_timestamp, ignored as Kafka does since 2.1 */
    skip_tagged_fields(v);
}

/* The least bytes one stored member takes in this version. */
static size_t member_min_bytes(const value_reader *v)
{
    size_t strings = v->version >= 3 ? 4 : 3;
    size_t ints = v->version >= 1 ? 2 : 1;
    if (v->flexible) /* one-byte lengths, two bytes fields, a tag count */
        return strings + 4 * ints + 2 + 1;
    return 2 * strings + 4 * ints + 4 + 4;
}

static int read_group_value(value_reader *v, offsets_stored_group *g)
{
    g->protocol_type = read_string(v);
    g->generation = reader_i32(&v->r);
    g->protocol = read_nullable_string(v);
    g->leader = read_nullable_string(v);
    g->current_state_timestamp = v->version >= 2 ? reader_i64(&v->r) : -1;
    int64_t count = v->flexible ? (int64_t)reader_uvarint(&v->r) - 1 : reader_i32(&v->r);
    if (!reader_ok(&v->r))
        return ST_ECORRUPT;
    if (count < 0 || reader_check_count(&v->r, count, INT32_MAX, member_min_bytes(v)) < 0)
        return ST_ECORRUPT;
    if (count > 0) {
        g->members = calloc((size_t)count, sizeof *g->members);
        if (!g->members)
            return ST_ENOMEM;
    }
    g->member_count = (int32_t)count;
    for (int32_t i = 0; i < g->member_count && reader_ok(&v->r); i++) {
        offsets_stored_member *m = &g->members[i];
        m->member_id = read_string(v);
        m->group_instance_id = v->version >= 3 ? read_nullable_string(v) : (offsets_span){NULL, -1};
        m->client_id = read_string(v);
        m->client_host = read_string(v);
        m->rebalance_timeout = v->version >= 1 ? reader_i32(&v->r) : -1;
        m->session_timeout = reader_i32(&v->r);
        m->subscription = read_bytes(v);
        m->assignment = read_bytes(v);
        skip_tagged_fields(v);
    }
    skip_tagged_fields(v);
    return reader_ok(&v->r) ? 0 : ST_ECORRUPT;
}

int offsets_record_decode(const uint8_t *key, int32_t key_len, const uint8_t *value,
                          int32_t value_len, offsets_record *out)
{
    memset(out, 0, sizeof *out);
    if (!key || key_len < 2)
        return ST_ECORRUPT;
    value_reader k = {.version = 0, .flexible = false};
    reader_init(&k.r, key, (size_t)key_len);
    int16_t key_version = reader_i16(&k.r);
    out->tombstone = value == NULL || value_len < 0;
    if (key_version == 0 || key_version == 1) {
        out->kind = OFFSETS_RECORD_COMMIT;
        out->group_id = read_string(&k);
        out->topic = read_string(&k);
        out->partition = reader_i32(&k.r);
    } else if (key_version == 2) {
        out->kind = OFFSETS_RECORD_GROUP;
        out->group_id = read_string(&k);
    } else {
        return 0; /* newer record types (KIP-848 and later): not ours */
    }
    if (!reader_ok(&k.r))
        return ST_ECORRUPT;
    if (out->tombstone)
        return 0;
    value_reader v;
    reader_init(&v.r, value, (size_t)value_len);
    v.version = reader_i16(&v.r);
    if (!reader_ok(&v.r) || v.version < 0 || v.version > VALUE_VERSION_FLEXIBLE)
        return ST_ECORRUPT;
    v.flexible = v.version >= VALUE_VERSION_FLEXIBLE;
    if (out->kind == OFFSETS_RECORD_COMMIT) {
        read_commit_value(&v, out);
        return reader_ok(&v.r) ? 0 : ST_ECORRUPT;
    }
    int rc = read_group_value(&v, &out->group);
    if (rc != 0)
        offsets_record_clear(out);
    return rc;
}

void offsets_record_clear(offsets_record *r)
{
    free(r->group.members);
    r->group.members = NULL;
    r->group.member_count = 0;
}

/* ---- offsets table -------------------------------------------------------- */

typedef struct topic_offsets {
    char *name;
    size_t name_len;
    offset_value *values;  /* capacity entries, indexed by partition */
    bool *present;
    int32_t capacity;
} topic_offsets;

struct offsets_table {
    topic_offsets *topics;
    int32_t topic_count;
    int32_t topic_capacity;
    int32_t count;         /* committed (topic, partition) pairs */
};

offsets_table *offsets_table_new(void) { return calloc(1, sizeof(offsets_table)); }

void offsets_table_free(offsets_table *t)
{
    if (!t)
        return;
    for (int32_t i = 0; i < t->topic_count; i++) {
        topic_offsets *to = &t->topics[i];
        for (int32_t p = 0; p < to->capacity; p++)
            if (to->present[p])
                free(to->values[p].metadata);
        free(to->values);
        free(to->present);
        free(to->name);
    }
    free(t->topics);
    free(t);
}

static topic_offsets *topic_find(const offsets_table *t, const char *topic, size_t len)
{
    for (int32_t i = 0; i < t->topic_count; i++)
        if (t->topics[i].name_len == len && memcmp(t->topics[i].name, topic, len) == 0)
            return &t->topics[i];
    return NULL;
}

const offset_value *offsets_table_get(const offsets_table *t, const char *topic, size_t topic_len,
                                      int32_t partition)
{
    const topic_offsets *to = topic_find(t, topic, topic_len);
    if (!to || partition < 0 || partition >= to->capacity || !to->present[partition])
        return NULL;
    return &to->values[partition];
}

int offsets_table_put(offsets_table *t, const char *topic, size_t topic_len, int32_t partition,
                      int64_t offset, int32_t leader_epoch, const char *metadata,
                      size_t metadata_len, int64_t commit_timestamp_ms)
{
    if (partition < 0 || partition >= LIMIT_PARTITIONS_PER_TOPIC)
        return ST_EINVAL;
    topic_offsets *to = topic_find(t, topic, topic_len);
    if (!to) {
        if (t->topic_count == t->topic_capacity) {
            int32_t cap = t->topic_capacity ? t->topic_capacity * 2 : 4;
            topic_offsets *topics = realloc(t->topics, (size_t)cap * sizeof *topics);
            if (!topics)
                return ST_ENOMEM;
            t->topics = topics;
            t->topic_capacity = cap;
        }
        char *name = malloc(topic_len + 1);
        if (!name)
            return ST_ENOMEM;
        memcpy(name, topic, topic_len);
        name[topic_len] = '\0';
        to = &t->topics[t->topic_count++];
        *to = (topic_offsets){.name = name, .name_len = topic_len};
    }
    if (partition >= to->capacity) {
        int32_t cap = to->capacity ? to->capacity : 8;
        while (cap <= partition)
            cap *= 2;
        if (cap > LIMIT_PARTITIONS_PER_TOPIC)
            cap = LIMIT_PARTITIONS_PER_TOPIC;
        offset_value *values = realloc(to->values, (size_t)cap * sizeof *values);
        if (!values)
            return ST_ENOMEM;
        to->values = values;
        bool *present = realloc(to->present, (size_t)cap * sizeof *present);
        if (!present)
            return ST_ENOMEM;
        to->present = present;
        memset(present + to->capacity, 0, (size_t)(cap - to->capacity) * sizeof *present);
        to->capacity = cap;
    }
    char *copy = malloc(metadata_len + 1);
    if (!copy)
        return ST_ENOMEM;
    if (metadata_len)
        memcpy(copy, metadata, metadata_len);
    copy[metadata_len] = '\0';
    if (to->present[partition])
        free(to->values[partition].metadata);
    else
        t->count++;
    to->present[partition] = true;
    to->values[partition] = (offset_value){offset, leader_epoch, copy, metadata_len, commit_timestamp_ms};
    return 0;
}

bool offsets_table_delete(offsets_table *t, const char *topic, size_t topic_len, int32_t partition)
{
    topic_offsets *to = topic_find(t, topic, topic_len);
    if (!to || partition < 0 || partition >= to->capacity || !to->present[partition])
        return false;
    free(to->values[partition].metadata);
    to->present[partition] = false;
    t->count--;
    return true;
}

int32_t offsets_table_count(const offsets_table *t) { return t->count; }

void offsets_table_each(const offsets_table *t, offsets_table_fn fn, void *arg)
{
    for (int32_t i = 0; i < t->topic_count; i++) {
        const topic_offsets *to = &t->topics[i];
        for (int32_t p = 0; p < to->capacity; p++)
            if (to->present[p])
                fn(arg, to->name, p, &to->values[p]);
    }
}
