/*
 * offsets_store.c - __consumer_offsets keys and values (layout in
 * offsets_store.h), described as codec tables so that the classic and the
 * flexible (v4) value encodings both come from one description, and the
 * in-memory table of a group's committed offsets.
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
#define VALUE_VERSION_MAX 4 /* first flexible version of both values */

/* ---- schemas ------------------------------------------------------------ */

typedef struct commit_key {
    proto_str group;
    proto_str topic;
    int32_t partition;
} commit_key;

static const proto_field commit_key_fields[] = {
    PF_STR(commit_key, group, 0, 1),
    PF_STR(commit_key, topic, 0, 1),
    PF_I32(commit_key, partition, 0, 1, 0),
};
static PROTO_STRUCT(commit_key_schema, commit_key, commit_key_fields);

typedef struct group_key {
    proto_str group;
} group_key;

static const proto_field group_key_fields[] = {PF_STR(group_key, group, 2, 2)};
static PROTO_STRUCT(group_key_schema, group_key, group_key_fields);

typedef struct commit_value {
    int64_t offset;
    int32_t leader_epoch;
    proto_str metadata;
    int64_t commit_timestamp;
    int64_t expire_timestamp;
} commit_value;

static const proto_field commit_value_fields[] = {
    PF_I64(commit_value, offset, 0, PV_MAX, 0),
    PF_I32(commit_value, leader_epoch, 3, PV_MAX, -1),
    PF_STR(commit_value, metadata, 0, PV_MAX),
    PF_I64(commit_value, commit_timestamp, 0, PV_MAX, 0),
    PF_I64(commit_value, expire_timestamp, 1, 1, -1),
};
static PROTO_STRUCT(commit_value_schema, commit_value, commit_value_fields);

static const proto_field member_fields[] = {
    PF_STR(offsets_stored_member, member_id, 0, PV_MAX),
    PF_NSTR(offsets_stored_member, group_instance_id, 3, PV_MAX, 3),
    PF_STR(offsets_stored_member, client_id, 0, PV_MAX),
    PF_STR(offsets_stored_member, client_host, 0, PV_MAX),
    PF_I32(offsets_stored_member, rebalance_timeout, 1, PV_MAX, -1),
    PF_I32(offsets_stored_member, session_timeout, 0, PV_MAX, 0),
    PF_BYTES(offsets_stored_member, subscription, 0, PV_MAX),
    PF_BYTES(offsets_stored_member, assignment, 0, PV_MAX),
};
static PROTO_STRUCT(member_schema, offsets_stored_member, member_fields);

static const proto_field group_value_fields[] = {
    PF_STR(offsets_stored_group, protocol_type, 0, PV_MAX),
    PF_I32(offsets_stored_group, generation, 0, PV_MAX, 0),
    PF_NSTR(offsets_stored_group, protocol, 0, PV_MAX, 0),
    PF_NSTR(offsets_stored_group, leader, 0, PV_MAX, 0),
    PF_I64(offsets_stored_group, current_state_timestamp, 2, PV_MAX, -1),
    PF_ARRAY(offsets_stored_group, members, 0, PV_MAX, member_schema),
};
static PROTO_STRUCT(group_value_schema, offsets_stored_group, group_value_fields);

/* ---- encoding ------------------------------------------------------------ */

/* Encodes version + value of schema s into out (classic encoding). */
static void encode_versioned(buf *out, const proto_struct *s, int16_t version, const void *value)
{
    proto_out o;
    proto_out_init(&o, out->max);
    o.mem = *out; /* encode in place: no file ranges in these records */
    buf_put_i16(&o.mem, version);
    proto_encode(&o, s, version, false, value);
    *out = o.mem;
}

static proto_str str_n(const char *s, size_t len) { return (proto_str){s, (int32_t)len}; }

void offsets_key_commit(buf *out, const char *group_id, const char *topic, size_t topic_len,
                        int32_t partition)
{
    commit_key k = {proto_str_c(group_id), str_n(topic, topic_len), partition};
    encode_versioned(out, &commit_key_schema, KEY_VERSION_COMMIT, &k);
}

void offsets_value_commit(buf *out, int64_t offset, int32_t leader_epoch, const char *metadata,
                          size_t metadata_len, int64_t commit_timestamp_ms)
{
    commit_value v = {offset, leader_epoch, str_n(metadata ? metadata : "", metadata ? metadata_len : 0),
                      commit_timestamp_ms, -1};
    encode_versioned(out, &commit_value_schema, VALUE_VERSION_COMMIT, &v);
}

void offsets_key_group(buf *out, const char *group_id)
{
    group_key k = {proto_str_c(group_id)};
    encode_versioned(out, &group_key_schema, KEY_VERSION_GROUP, &k);
}

void offsets_value_group(buf *out, const group *g)
{
    int32_t count = group_member_count(g);
    offsets_stored_member *members = count ? calloc((size_t)count, sizeof *members) : NULL;
    if (count && !members) {
        out->err = ST_ENOMEM;
        return;
    }
    const char *protocol = group_protocol_name(g);
    for (int32_t i = 0; i < count; i++) {
        const group_member_info *m = group_member_at(g, i);
        int32_t len;
        const uint8_t *subscription = group_member_metadata(m, protocol, &len);
        members[i] = (offsets_stored_member){
            .member_id = proto_str_c(m->id),
            .group_instance_id = proto_str_c(m->instance_id),
            .client_id = proto_str_c(m->client_id),
            .client_host = proto_str_c(m->client_host),
            .rebalance_timeout = m->rebalance_timeout_ms,
            .session_timeout = m->session_timeout_ms,
            .subscription = {subscription, subscription ? len : 0},
            .assignment = {m->assignment, m->assignment_len},
        };
    }
    const char *type = group_protocol_type(g);
    offsets_stored_group v = {
        .protocol_type = proto_str_c(type ? type : ""),
        .generation = group_generation(g),
        .protocol = proto_str_c(protocol),
        .leader = proto_str_c(group_leader_id(g)),
        .current_state_timestamp = group_state_timestamp(g),
        .members = {members, count},
    };
    encode_versioned(out, &group_value_schema, VALUE_VERSION_GROUP, &v);
    free(members);
}

/* ---- decoding ------------------------------------------------------------ */

int offsets_record_decode(const uint8_t *key, int32_t key_len, const uint8_t *value,
                          int32_t value_len, proto_arena *arena, offsets_record *out)
{
    memset(out, 0, sizeof *out);
    if (!key || key_len < 2)
        return ST_ECORRUPT;
    reader r;
    reader_init(&r, key, (size_t)key_len);
    int16_t key_version = reader_i16(&r);
    out->tombstone = value == NULL || value_len < 0;
    if (key_version == 0 || key_version == 1) {
        commit_key k;
        if (proto_decode(&r, &commit_key_schema, key_version, false, &k, arena) != 0)
            return ST_ECORRUPT;
        out->kind = OFFSETS_RECORD_COMMIT;
        out->group_id = k.group;
        out->topic = k.topic;
        out->partition = k.partition;
    } else if (key_version == 2) {
        group_key k;
        if (proto_decode(&r, &group_key_schema, key_version, false, &k, arena) != 0)
            return ST_ECORRUPT;
        out->kind = OFFSETS_RECORD_GROUP;
        out->group_id = k.group;
    } else {
        return 0; /* newer record types (KIP-848 and later): not ours */
    }
    if (out->tombstone)
        return 0;
    reader_init(&r, value, (size_t)value_len);
    int16_t version = reader_i16(&r);
    if (!reader_ok(&r) || version < 0 || version > VALUE_VERSION_MAX)
        return ST_ECORRUPT;
    bool flexible = version >= VALUE_VERSION_MAX;
    if (out->kind == OFFSETS_RECORD_COMMIT) {
        commit_value v;
        if (proto_decode(&r, &commit_value_schema, version, flexible, &v, arena) != 0)
            return ST_ECORRUPT;
        out->offset = v.offset;
        out->leader_epoch = v.leader_epoch;
        out->metadata = v.metadata;
        out->commit_timestamp = v.commit_timestamp;
        return 0;
    }
    if (proto_decode(&r, &group_value_schema, version, flexible, &out->group, arena) != 0)
        return ST_ECORRUPT;
    return 0;
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
