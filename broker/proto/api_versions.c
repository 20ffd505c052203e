/*
 * api_versions.c - ApiVersions (key 18), versions 0-4.
 *
 * The answer is generated from proto_apis (api_table.c), so what strait
 * advertises is exactly what it implements. v3+ requests carry the client's
 * software name and version (KIP-511), checked as Kafka checks them.
 * The response always uses response header v0 (dispatch.c).
 */
#include <ctype.h>
#include <stddef.h>

#include "broker/proto/api.h"
#include "broker/proto/api_versions.h"
#include "broker/proto/kafka_error.h"

static const proto_field request_fields[] = {
    PF_STR(api_versions_request, client_software_name, 3, PV_MAX),
    PF_STR(api_versions_request, client_software_version, 3, PV_MAX),
};
static PROTO_STRUCT(api_versions_request_schema, api_versions_request, request_fields);

static const proto_field key_fields[] = {
    PF_I16(api_versions_key, api_key, 0, PV_MAX, 0),
    PF_I16(api_versions_key, min_version, 0, PV_MAX, 0),
    PF_I16(api_versions_key, max_version, 0, PV_MAX, 0),
};
static PROTO_STRUCT(api_versions_key_schema, api_versions_key, key_fields);

static const proto_field response_fields[] = {
    PF_I16(api_versions_response, error_code, 0, PV_MAX, 0),
    PF_ARRAY(api_versions_response, api_keys, 0, PV_MAX, api_versions_key_schema),
    PF_I32(api_versions_response, throttle_time_ms, 1, PV_MAX, 0),
};
static PROTO_STRUCT(api_versions_response_schema, api_versions_response, response_fields);

/* KIP-511: [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? */
static bool software_field_valid(proto_str s)
{
    if (s.len <= 0)
        return false;
    for (int32_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        bool edge = i == 0 || i == s.len - 1;
        if (!isalnum(ch) && (edge || (ch != '-' && ch != '.')))
            return false;
    }
    return true;
}

static int handle_api_versions(broker_request *req)
{
    const api_versions_request *in = req->request;
    api_versions_response *out = req->response;
    if (req->api_version >= 3 &&
        (!software_field_valid(in->client_software_name) ||
         !software_field_valid(in->client_software_version))) {
        out->error_code = KERR_INVALID_REQUEST;
    }
    if (proto_array_alloc(&req->arena, &out->api_keys, &api_versions_key_schema, proto_api_count))
        return PROTO_CLOSE;
    api_versions_key *keys = out->api_keys.items;
    for (int i = 0; i < proto_api_count; i++) {
        keys[i].api_key = proto_apis[i]->key;
        keys[i].min_version = proto_apis[i]->min_version;
        keys[i].max_version = proto_apis[i]->max_version;
    }
    return PROTO_RESPOND;
}

const proto_api api_api_versions = {
    .key = 18,
    .name = "ApiVersions",
    .min_version = 0,
    .max_version = 4,
    .flexible_min = 3,
    .request = &api_versions_request_schema,
    .response = &api_versions_response_schema,
    .handle = handle_api_versions,
};
