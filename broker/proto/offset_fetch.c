/*
 * offset_fetch.c - OffsetFetch (key 9) v1-5.
 *
 * Request (never flexible in this range):
 *   FIELD                    VERSIONS  TYPE
 *   group_id                 0+        string
 *   topics[]                 0+        nullable from v2 (null = every committed
 *                                      partition of the group):
 *     name                   0+        string
 *     partition_indexes      0+        []int32
 * Response:
 *   throttle_time_ms         3+        int32
 *   topics[]                 0+        name string, partitions[]:
 *     partition_index        0+        int32
 *     committed_offset       0+        int64, -1 = nothing committed
 *     committed_leader_epoch 5+        int32, -1 = unknown
 *     metadata               0+        nullable string ("" when nothing committed)
 *     error_code             0+        int16
 *   error_code               2+        int16 (group-level)
 *
 * A group (or partition) without commits answers offset -1 and no error, as
 * Kafka does, so consumers fall back to auto.offset.reset.
 *
 * Deviation: from v2 an empty topics array is read like null (every
 * committed partition). librdkafka 2.0.2 sends an empty array for "all"
 * below OffsetFetch v6 (ListConsumerGroupOffsets without partitions); Kafka
 * would answer nothing, which no client asks for on purpose.
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/group/coordinator.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/group_apis.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/region_redirect.h"

static const proto_field topic_fields[] = {
    PF_STR(offset_fetch_topic, name, 0, PV_MAX),
    PF_ARRAY(offset_fetch_topic, partition_indexes, 0, PV_MAX, proto_int32_element),
};
static PROTO_STRUCT(topic_schema, offset_fetch_topic, topic_fields);

static const proto_field request_fields[] = {
    PF_STR(offset_fetch_request, group_id, 0, PV_MAX),
    PF_NARRAY(offset_fetch_request, topics, 0, PV_MAX, 2, topic_schema),
};
static PROTO_STRUCT(request_schema, offset_fetch_request, request_fields);

static const proto_field partition_response_fields[] = {
    PF_I32(offset_fetch_partition_response, partition_index, 0, PV_MAX, 0),
    PF_I64(offset_fetch_partition_response, committed_offset, 0, PV_MAX, -1),
    PF_I32(offset_fetch_partition_response, committed_leader_epoch, 5, PV_MAX, -1),
    PF_NSTR(offset_fetch_partition_response, metadata, 0, PV_MAX, 0),
    PF_I16(offset_fetch_partition_response, error_code, 0, PV_MAX, 0),
};
static PROTO_STRUCT(partition_response_schema, offset_fetch_partition_response,
                    partition_response_fields);

static const proto_field topic_response_fields[] = {
    PF_STR(offset_fetch_topic_response, name, 0, PV_MAX),
    PF_ARRAY(offset_fetch_topic_response, partitions, 0, PV_MAX, partition_response_schema),
};
static PROTO_STRUCT(topic_response_schema, offset_fetch_topic_response, topic_response_fields);

static const proto_field response_fields[] = {
    PF_I32(offset_fetch_response, throttle_time_ms, 3, PV_MAX, 0),
    PF_ARRAY(offset_fetch_response, topics, 0, PV_MAX, topic_response_schema),
    PF_I16(offset_fetch_response, error_code, 2, PV_MAX, 0),
};
static PROTO_STRUCT(response_schema, offset_fetch_response, response_fields);

/* Fills one partition from the committed value (NULL = none). */
static void fill_partition(broker_request *req, offset_fetch_partition_response *po,
                           int32_t partition, const offset_value *v)
{
    po->partition_index = partition;
    po->error_code = KERR_NONE;
    po->committed_offset = v ? v->offset : -1;
    po->committed_leader_epoch = v ? v->leader_epoch : -1;
    po->metadata = proto_str_c("");
    if (v && v->metadata_len > 0) { /* bytes: a NUL inside is data */
        size_t len = v->metadata_len;
        char *copy = broker_request_alloc(req, len + 1);
        if (copy) {
            memcpy(copy, v->metadata, len);
            po->metadata = (proto_str){copy, (int32_t)len};
        }
    }
}

/* ---- every committed partition (topics = null) ---- */

typedef struct fetch_all_item {
    const char *topic;
    int32_t partition;
    const offset_value *value;
} fetch_all_item;

typedef struct fetch_all_ctx {
    broker_request *req;      /* topics it may not READ are left out */
    fetch_all_item *items;
    int32_t count, capacity;
    bool failed;
} fetch_all_ctx;

static void collect(void *arg, const char *topic, int32_t partition, const offset_value *v)
{
    fetch_all_ctx *x = arg;
    if (!authorize_quiet(x->req, ACL_OP_READ, ACL_RESOURCE_TOPIC, topic, strlen(topic)))
        return;
    if (x->count == x->capacity) {
        int32_t cap = x->capacity ? x->capacity * 2 : 64;
        fetch_all_item *items = realloc(x->items, (size_t)cap * sizeof *items);
        if (!items) {
            x->failed = true;
            return;
        }
        x->items = items;
        x->capacity = cap;
    }
    x->items[x->count++] = (fetch_all_item){topic, partition, v};
}

static int fetch_all(broker_request *req, const char *group_id)
{
    offset_fetch_response *out = req->response;
    fetch_all_ctx x = {.req = req};
    coordinator_offsets_each(req->broker->coordinator, group_id, collect, &x);
    int rc = PROTO_RESPOND;
    /* the table yields each topic's partitions together */
    int32_t topics = 0;
    for (int32_t i = 0; i < x.count; i++)
        topics += i == 0 || strcmp(x.items[i].topic, x.items[i - 1].topic) != 0;
    if (x.failed || proto_array_alloc(&req->arena, &out->topics, &topic_response_schema, topics)) {
        out->error_code = KERR_UNKNOWN_SERVER_ERROR;
        out->topics = (proto_array){NULL, 0};
        goto out;
    }
    for (int32_t i = 0, t = -1; i < x.count; i++) {
        offset_fetch_topic_response *to;
        if (i == 0 || strcmp(x.items[i].topic, x.items[i - 1].topic) != 0) {
            int32_t n = 1;
            while (i + n < x.count && strcmp(x.items[i + n].topic, x.items[i].topic) == 0)
                n++;
            to = (offset_fetch_topic_response *)out->topics.items + ++t;
            size_t len = strlen(x.items[i].topic);
            char *name = broker_request_alloc(req, len + 1);
            if (!name || proto_array_alloc(&req->arena, &to->partitions, &partition_response_schema, n)) {
                rc = PROTO_CLOSE;
                goto out;
            }
            memcpy(name, x.items[i].topic, len);
            to->name = (proto_str){name, (int32_t)len};
            to->partitions.count = 0; /* filled below */
        }
        to = (offset_fetch_topic_response *)out->topics.items + t;
        fill_partition(req, (offset_fetch_partition_response *)to->partitions.items + to->partitions.count++,
                       x.items[i].partition, x.items[i].value);
    }
out:
    free(x.items);
    return rc;
}

/* The group is coordinated in the active region (region_redirect.h):
 * NOT_COORDINATOR at the top (v2+) and on every partition asked (v1 has
 * only the per-partition code). */
static int respond_group_error(broker_request *req, int16_t error)
{
    const offset_fetch_request *in = req->request;
    offset_fetch_response *out = req->response;
    out->error_code = error;
    int32_t topics = in->topics.count > 0 ? in->topics.count : 0;
    if (proto_array_alloc(&req->arena, &out->topics, &topic_response_schema, topics))
        return PROTO_CLOSE;
    for (int32_t i = 0; i < topics; i++) {
        const offset_fetch_topic *t = (const offset_fetch_topic *)in->topics.items + i;
        offset_fetch_topic_response *to = (offset_fetch_topic_response *)out->topics.items + i;
        to->name = t->name;
        if (proto_array_alloc(&req->arena, &to->partitions, &partition_response_schema,
                              t->partition_indexes.count))
            return PROTO_CLOSE;
        for (int32_t j = 0; j < t->partition_indexes.count; j++) {
            offset_fetch_partition_response *po =
                (offset_fetch_partition_response *)to->partitions.items + j;
            fill_partition(req, po, ((const proto_int32 *)t->partition_indexes.items)[j].value,
                           NULL);
            po->error_code = error;
        }
    }
    return PROTO_RESPOND;
}

static int handle_offset_fetch(broker_request *req)
{
    const offset_fetch_request *in = req->request;
    offset_fetch_response *out = req->response;
    bool ok = true;
    char *group_id = group_api_cstr(req, in->group_id, &ok);
    if (!ok || !group_id) {
        out->error_code = ok ? KERR_INVALID_GROUP_ID : KERR_UNKNOWN_SERVER_ERROR;
        return PROTO_RESPOND;
    }
    int16_t region_error = authorize_group_error(req, group_id, strlen(group_id));
    if (region_error)
        return respond_group_error(req, region_error);
    /* null = every partition; so is an empty array from v2, which is how
     * librdkafka 2.x encodes "all" below the flexible versions (it leaves the
     * array count at its 0 placeholder), and asks for nothing otherwise */
    if (in->topics.count < 0 || (in->topics.count == 0 && req->api_version >= 2))
        return fetch_all(req, group_id);
    if (proto_array_alloc(&req->arena, &out->topics, &topic_response_schema, in->topics.count))
        return PROTO_CLOSE;
    for (int32_t i = 0; i < in->topics.count; i++) {
        const offset_fetch_topic *t = (const offset_fetch_topic *)in->topics.items + i;
        offset_fetch_topic_response *to = (offset_fetch_topic_response *)out->topics.items + i;
        to->name = t->name;
        if (proto_array_alloc(&req->arena, &to->partitions, &partition_response_schema,
                              t->partition_indexes.count))
            return PROTO_CLOSE;
        bool denied = !authorize_str(req, ACL_OP_READ, ACL_RESOURCE_TOPIC, t->name);
        for (int32_t j = 0; j < t->partition_indexes.count; j++) {
            int32_t partition = ((const proto_int32 *)t->partition_indexes.items)[j].value;
            if (denied) {
                offset_fetch_partition_response *po =
                    (offset_fetch_partition_response *)to->partitions.items + j;
                fill_partition(req, po, partition, NULL);
                po->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            const offset_value *v = coordinator_offset(req->broker->coordinator, group_id, t->name.ptr,
                                                       t->name.len > 0 ? (size_t)t->name.len : 0,
                                                       partition);
            fill_partition(req, (offset_fetch_partition_response *)to->partitions.items + j,
                           partition, v);
        }
    }
    return PROTO_RESPOND;
}

const proto_api api_offset_fetch = {
    .key = 9,
    .name = "OffsetFetch",
    .min_version = 1,
    .max_version = 5,
    .flexible_min = 6,
    .request = &request_schema,
    .response = &response_schema,
    .handle = handle_offset_fetch,
};
