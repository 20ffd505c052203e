/*
 * init_producer_id.c - InitProducerId (key 22): advertised v0-4, flexible
 * from v2 (compact strings, tagged fields, request header v2 and response
 * header v1), both encodings from the one field table below.
 *
 * Request:
 *   FIELD                   VERSIONS  TYPE
 *   transactional_id        0+        nullable string
 *   transaction_timeout_ms  0+        int32
 *   producer_id             3+        int64, default -1 (KIP-360)
 *   producer_epoch          3+        int16, default -1
 * Response:
 *   throttle_time_ms        0+        int32
 *   error_code              0+        int16
 *   producer_id             0+        int64, -1 on error
 *   producer_epoch          0+        int16, -1 on error
 * (v1 = v0; v2 is flexible; v3 adds the two request fields; v4 only lets the
 * broker answer PRODUCER_FENCED, which a transaction coordinator sends.)
 *
 * Behaviour, as Kafka's transaction coordinator:
 * - transactional_id null (an idempotent producer): a new producer id with
 *   epoch 0, every time. Kafka ignores producer_id/producer_epoch here too: a
 *   KIP-360 re-initialisation of an idempotent producer simply gets a fresh
 *   id, which can never be fenced and never collides (producer_ids.h).
 * - transactional_id "": INVALID_REQUEST.
 * - any other transactional_id: strait has no transactions yet, so no
 *   transaction coordinator is available: COORDINATOR_NOT_AVAILABLE, the
 *   retriable answer Kafka gives while its coordinator is not loaded.
 * - a producer id cannot be persisted (disk error) or the node's ids are
 *   exhausted: COORDINATOR_NOT_AVAILABLE as well (retriable), and logged.
 *
 * Runs on the broker's event-loop thread.
 */
#include <inttypes.h>
#include <stdint.h>

#include "broker/cluster/producer_ids.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/producer_apis.h"
#include "common/error.h"
#include "common/log.h"

/* ---- field tables ------------------------------------------------------- */

static const proto_field request_fields[] = {
    PF_NSTR(init_producer_id_request, transactional_id, 0, PV_MAX, 0),
    PF_I32(init_producer_id_request, transaction_timeout_ms, 0, PV_MAX, 0),
    PF_I64(init_producer_id_request, producer_id, 3, PV_MAX, -1),
    PF_I16(init_producer_id_request, producer_epoch, 3, PV_MAX, -1),
};
static PROTO_STRUCT(request_schema, init_producer_id_request, request_fields);

static const proto_field response_fields[] = {
    PF_I32(init_producer_id_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_I16(init_producer_id_response, error_code, 0, PV_MAX, 0),
    PF_I64(init_producer_id_response, producer_id, 0, PV_MAX, -1),
    PF_I16(init_producer_id_response, producer_epoch, 0, PV_MAX, 0),
};
static PROTO_STRUCT(response_schema, init_producer_id_response, response_fields);

/* ---- handler ------------------------------------------------------------ */

static int handle_init_producer_id(broker_request *req)
{
    const init_producer_id_request *in = req->request;
    init_producer_id_response *out = req->response;
    out->throttle_time_ms = 0;
    out->producer_id = -1;
    out->producer_epoch = -1;
    if (in->transactional_id.len == 0) {
        out->error_code = KERR_INVALID_REQUEST;
        return PROTO_RESPOND;
    }
    if (in->transactional_id.len > 0 &&
        !authorize_str(req, ACL_OP_WRITE, ACL_RESOURCE_TRANSACTIONAL_ID, in->transactional_id)) {
        out->error_code = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        return PROTO_RESPOND;
    }
    /* an idempotent producer: IDEMPOTENT_WRITE on the cluster, or WRITE on
     * some topic (Kafka 3.x, KIP-679) */
    if (in->transactional_id.len < 0 && !authorize_idempotent_write(req)) {
        out->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
        return PROTO_RESPOND;
    }
    if (in->transactional_id.len > 0) {
        log_debug("producer", "transactional InitProducerId refused transactional_id=%.*s",
                  (int)in->transactional_id.len, in->transactional_id.ptr);
        out->error_code = KERR_COORDINATOR_NOT_AVAILABLE;
        return PROTO_RESPOND;
    }
    broker *b = req->broker;
    int64_t producer_id = -1;
    int rc = b->producer_ids ? producer_ids_next(b->producer_ids, &producer_id) : ST_EIO;
    if (rc != 0) {
        log_error("producer", "cannot allocate a producer id error=%s", strait_error_name(rc));
        out->error_code = KERR_COORDINATOR_NOT_AVAILABLE;
        return PROTO_RESPOND;
    }
    out->error_code = KERR_NONE;
    out->producer_id = producer_id;
    out->producer_epoch = 0;
    log_debug("producer", "allocated producer_id=%" PRId64 " client_id=%.*s previous_producer_id=%" PRId64,
              producer_id, req->client_id.len > 0 ? (int)req->client_id.len : 0,
              req->client_id.len > 0 ? req->client_id.ptr : "", in->producer_id);
    return PROTO_RESPOND;
}

const proto_api api_init_producer_id = {
    .key = 22,
    .name = "InitProducerId",
    .min_version = 0,
    .max_version = 4,
    .flexible_min = 2,
    .request = &request_schema,
    .response = &response_schema,
    .handle = handle_init_producer_id,
};
