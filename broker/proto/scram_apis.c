/*
 * scram_apis.c - DescribeUserScramCredentials (50) v0 and
 * AlterUserScramCredentials (51) v0 (both flexible): the SASL users of
 * security/scram_store.h, kept in the data dir (security/scram_file.h).
 *
 * Describe needs DESCRIBE on the cluster, Alter needs ALTER on the cluster
 * when an authorizer is on. Mechanism codes are Kafka's: 1 SCRAM-SHA-256,
 * 2 SCRAM-SHA-512. An upsertion carries the salt and SaltedPassword (the
 * client ran the key derivation), never the password. Alter is all or
 * nothing per request for the file: the store is rewritten once, and if that
 * fails every change is undone and each user answers KAFKA_STORAGE_ERROR.
 * Each change is logged (audit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster/topic_registry.h"
#include "broker/proto/api.h"
#include "broker/proto/authorize.h"
#include "broker/proto/broker_context.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/responder.h"
#include "broker/proto/scram_apis.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"
#include "security/acl.h"
#include "security/scram_file.h"
#include "security/scram_store.h"

static const proto_field describe_user_fields[] = {PF_STR(describe_user, name, 0, PV_MAX)};
static PROTO_STRUCT(describe_user_schema, describe_user, describe_user_fields);
static const proto_field describe_request_fields[] = {
    PF_NARRAY(describe_request, users, 0, PV_MAX, 0, describe_user_schema),
};
static PROTO_STRUCT(describe_request_schema, describe_request, describe_request_fields);
static const proto_field credential_info_fields[] = {
    PF_I8(credential_info, mechanism, 0, PV_MAX, 0),
    PF_I32(credential_info, iterations, 0, PV_MAX, 0),
};
static PROTO_STRUCT(credential_info_schema, credential_info, credential_info_fields);
static const proto_field describe_result_fields[] = {
    PF_STR(describe_result, user, 0, PV_MAX),
    PF_I16(describe_result, error_code, 0, PV_MAX, 0),
    PF_NSTR(describe_result, error_message, 0, PV_MAX, 0),
    PF_ARRAY(describe_result, credential_infos, 0, PV_MAX, credential_info_schema),
};
static PROTO_STRUCT(describe_result_schema, describe_result, describe_result_fields);
static const proto_field describe_response_fields[] = {
    PF_I32(describe_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_I16(describe_response, error_code, 0, PV_MAX, 0),
    PF_NSTR(describe_response, error_message, 0, PV_MAX, 0),
    PF_ARRAY(describe_response, results, 0, PV_MAX, describe_result_schema),
};
static PROTO_STRUCT(describe_response_schema, describe_response, describe_response_fields);

static const proto_field deletion_fields[] = {
    PF_STR(deletion, name, 0, PV_MAX),
    PF_I8(deletion, mechanism, 0, PV_MAX, 0),
};
static PROTO_STRUCT(deletion_schema, deletion, deletion_fields);
static const proto_field upsertion_fields[] = {
    PF_STR(upsertion, name, 0, PV_MAX),
    PF_I8(upsertion, mechanism, 0, PV_MAX, 0),
    PF_I32(upsertion, iterations, 0, PV_MAX, 0),
    PF_BYTES(upsertion, salt, 0, PV_MAX),
    PF_BYTES(upsertion, salted_password, 0, PV_MAX),
};
static PROTO_STRUCT(upsertion_schema, upsertion, upsertion_fields);
static const proto_field alter_request_fields[] = {
    PF_ARRAY(alter_request, deletions, 0, PV_MAX, deletion_schema),
    PF_ARRAY(alter_request, upsertions, 0, PV_MAX, upsertion_schema),
};
static PROTO_STRUCT(alter_request_schema, alter_request, alter_request_fields);
static const proto_field alter_result_fields[] = {
    PF_STR(alter_result, user, 0, PV_MAX),
    PF_I16(alter_result, error_code, 0, PV_MAX, 0),
    PF_NSTR(alter_result, error_message, 0, PV_MAX, 0),
};
static PROTO_STRUCT(alter_result_schema, alter_result, alter_result_fields);
static const proto_field alter_response_fields[] = {
    PF_I32(alter_response, throttle_time_ms, 0, PV_MAX, 0),
    PF_ARRAY(alter_response, results, 0, PV_MAX, alter_result_schema),
};
static PROTO_STRUCT(alter_response_schema, alter_response, alter_response_fields);

/* Kafka's mechanism code <-> scram_mechanism; -1 when unknown. */
static int mechanism_of_code(int8_t code)
{
    return code == 1 ? SCRAM_SHA_256 : code == 2 ? SCRAM_SHA_512 : -1;
}

static proto_str message(broker_request *req, const char *format, const char *a, const char *b)
{
    char text[SCRAM_USER_MAX + 256];
    snprintf(text, sizeof text, format, a, b);
    return broker_request_strdup(req, text, NULL);
}

/* A user name as a C string, or false when it cannot be one. */
static bool user_name(proto_str name, char *out)
{
    if (name.len <= 0 || name.len > SCRAM_USER_MAX || memchr(name.ptr, '\0', (size_t)name.len))
        return false;
    memcpy(out, name.ptr, (size_t)name.len);
    out[name.len] = '\0';
    return true;
}

typedef struct name_list {
    char (*names)[SCRAM_USER_MAX + 1];
    size_t count, capacity;
} name_list;

static void collect_name(void *arg, const char *user, const scram_credential *c)
{
    (void)c;
    name_list *l = arg;
    if (l->count > 0 && strcmp(l->names[l->count - 1], user) == 0)
        return; /* each user once: scram_store_each gives a user's credentials together */
    if (l->count < l->capacity)
        snprintf(l->names[l->count++], SCRAM_USER_MAX + 1, "%s", user);
}

static int fill_infos(broker_request *req, describe_result *r, const char *user)
{
    int count = 0;
    for (int m = 0; m < SCRAM_MECHANISM_COUNT; m++)
        count += scram_store_find(req->broker->users, user, (scram_mechanism)m) != NULL;
    if (proto_array_alloc(&req->arena, &r->credential_infos, &credential_info_schema, count))
        return ST_ENOMEM;
    credential_info *infos = r->credential_infos.items;
    int i = 0;
    for (int m = 0; m < SCRAM_MECHANISM_COUNT; m++) {
        const scram_credential *c = scram_store_find(req->broker->users, user, (scram_mechanism)m);
        if (c) {
            infos[i].mechanism = (int8_t)(m + 1);
            infos[i].iterations = c->iterations;
            i++;
        }
    }
    return 0;
}

static int handle_describe(broker_request *req)
{
    const describe_request *in = req->request;
    describe_response *out = req->response;
    if (!authorize_cluster(req, ACL_OP_DESCRIBE)) {
        out->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
        out->error_message = message(req, "principal %s may not %s the cluster",
                                     authorize_principal(req), "describe");
        return PROTO_RESPOND;
    }
    scram_store *users = req->broker->users;
    name_list all = {NULL, 0, 0};
    int32_t count = in->users.count;
    if (in->users.count < 0) { /* every user */
        all.capacity = scram_store_user_count(users);
        all.names = broker_request_alloc(req, (all.capacity ? all.capacity : 1) * sizeof *all.names);
        if (!all.names)
            return PROTO_CLOSE;
        scram_store_each(users, collect_name, &all);
        count = (int32_t)all.count;
    }
    if (proto_array_alloc(&req->arena, &out->results, &describe_result_schema, count))
        return PROTO_CLOSE;
    describe_result *results = out->results.items;
    for (int32_t i = 0; i < count; i++) {
        describe_result *r = &results[i];
        char user[SCRAM_USER_MAX + 1];
        if (in->users.count < 0) {
            snprintf(user, sizeof user, "%s", all.names[i]);
        } else {
            const describe_user *asked = (const describe_user *)in->users.items + i;
            r->user = asked->name;
            if (!user_name(asked->name, user)) {
                r->error_code = KERR_RESOURCE_NOT_FOUND;
                r->error_message = message(req, "Attempt to describe a user credential that "
                                           "does not exist%s%s", "", "");
                continue;
            }
            bool duplicate = false;
            for (int32_t k = 0; k < count; k++) {
                const describe_user *other = (const describe_user *)in->users.items + k;
                duplicate = duplicate || (k != i && other->name.len == asked->name.len &&
                                          memcmp(other->name.ptr, asked->name.ptr,
                                                 (size_t)asked->name.len) == 0);
            }
            if (duplicate) {
                r->error_code = KERR_DUPLICATE_RESOURCE;
                r->error_message = message(req, "Cannot describe SCRAM credentials for the same "
                                           "user twice in a single request: %s%s", user, "");
                continue;
            }
        }
        if (in->users.count < 0)
            r->user = broker_request_strdup(req, user, NULL);
        if (!scram_store_has_user(users, user)) {
            r->error_code = KERR_RESOURCE_NOT_FOUND;
            r->error_message = message(req, "Attempt to describe a user credential that does "
                                       "not exist: %s%s", user, "");
            continue;
        }
        if (fill_infos(req, r, user) != 0)
            return PROTO_CLOSE;
    }
    return PROTO_RESPOND;
}

/* The user of change i (deletions first, then upsertions). */
static proto_str change_name(const alter_request *in, int32_t i)
{
    if (i < in->deletions.count)
        return ((const deletion *)in->deletions.items)[i].name;
    return ((const upsertion *)in->upsertions.items)[i - in->deletions.count].name;
}

static bool same_str(proto_str a, proto_str b)
{
    return a.len == b.len && (a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

static void audit(broker_request *req, const char *what, const char *user, const char *mechanism,
                  const char *outcome)
{
    const proto_responder *r = req->responder;
    log_info("audit", "user %s principal=%s peer=%s user=%s mechanism=%s outcome=%s", what,
             authorize_principal(req), r ? r->peer : "-", user, mechanism, outcome);
}

/* Checks and applies change i; fills result. */
static void apply_change(broker_request *req, const alter_request *in, int32_t i,
                         alter_result *result, bool authorized)
{
    proto_str name = change_name(in, i);
    bool is_deletion = i < in->deletions.count;
    int8_t code = is_deletion ? ((const deletion *)in->deletions.items)[i].mechanism
                              : ((const upsertion *)in->upsertions.items)[i - in->deletions.count]
                                    .mechanism;
    int mechanism = mechanism_of_code(code);
    const char *mechanism_name = mechanism >= 0 ? scram_mechanism_name((scram_mechanism)mechanism)
                                                : "?";
    char user[SCRAM_USER_MAX + 1];
    result->user = name;
    if (!authorized) {
        result->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
        result->error_message = message(req, "principal %s may not alter the cluster%s",
                                        authorize_principal(req), "");
        if (user_name(name, user))
            audit(req, "change refused", user, mechanism_name, "CLUSTER_AUTHORIZATION_FAILED");
        return;
    }
    if (!user_name(name, user)) {
        result->error_code = KERR_UNACCEPTABLE_CREDENTIAL;
        result->error_message = message(req, "Username must not be empty%s%s", "", "");
        return;
    }
    int total = in->deletions.count + in->upsertions.count;
    for (int32_t k = 0; k < total; k++) {
        if (k != i && same_str(change_name(in, k), name)) {
            result->error_code = KERR_DUPLICATE_RESOURCE;
            result->error_message = message(req, "A user credential cannot be altered twice in "
                                            "the same request: %s%s", user, "");
            return;
        }
    }
    if (mechanism < 0) {
        result->error_code = KERR_UNSUPPORTED_SASL_MECHANISM;
        result->error_message = message(req, "Unknown SCRAM mechanism for user %s%s", user, "");
        return;
    }
    if (is_deletion) {
        if (scram_store_delete(req->broker->users, user, (scram_mechanism)mechanism) != 0) {
            result->error_code = KERR_RESOURCE_NOT_FOUND;
            result->error_message = message(req, "Attempt to delete a user credential that does "
                                            "not exist: %s %s", user, mechanism_name);
            return;
        }
        audit(req, "deleted", user, mechanism_name, "ok");
        return;
    }
    const upsertion *u = (const upsertion *)in->upsertions.items + (i - in->deletions.count);
    if (u->iterations < SCRAM_ITERATIONS_MIN || u->iterations > SCRAM_ITERATIONS_MAX) {
        result->error_code = KERR_UNACCEPTABLE_CREDENTIAL;
        result->error_message = message(req, "Iterations must be between 4096 and 16384 for "
                                        "user %s%s", user, "");
        return;
    }
    scram_credential c;
    if (u->salt.len <= 0 || u->salted_password.len <= 0 ||
        scram_credential_from_salted((scram_mechanism)mechanism, u->salted_password.ptr,
                                     (size_t)u->salted_password.len, u->salt.ptr,
                                     (size_t)u->salt.len, u->iterations, &c) != 0 ||
        scram_store_set(req->broker->users, user, &c) != 0) {
        result->error_code = KERR_UNACCEPTABLE_CREDENTIAL;
        result->error_message = message(req, "Salt (1-64 bytes) and a salted password of the "
                                        "mechanism's digest size expected for user %s%s", user,
                                        "");
        return;
    }
    audit(req, "upserted", user, mechanism_name, "ok");
}

static int handle_alter(broker_request *req)
{
    const alter_request *in = req->request;
    alter_response *out = req->response;
    int32_t total = in->deletions.count + in->upsertions.count;
    if (proto_array_alloc(&req->arena, &out->results, &alter_result_schema, total))
        return PROTO_CLOSE;
    alter_result *results = out->results.items;
    bool authorized = authorize_cluster(req, ACL_OP_ALTER);
    scram_store *users = req->broker->users;
    buf before;
    buf_init(&before, LIMIT_SCRAM_FILE_BYTES);
    int rc = scram_file_encode(users, &before);
    bool changed = false;
    for (int32_t i = 0; rc == 0 && i < total; i++) {
        apply_change(req, in, i, &results[i], authorized);
        changed = changed || results[i].error_code == KERR_NONE;
    }
    if (rc == 0 && changed)
        rc = scram_file_save(users, topic_registry_data_dir(req->broker->topics));
    if (rc != 0) {
        char why[256];
        if (before.len > 0)
            scram_file_decode(before.data, before.len, users, why, sizeof why);
        log_error("audit", "user change failed principal=%s error=%s: the users file was not "
                  "written; nothing changed", authorize_principal(req), strait_strerror(rc));
        for (int32_t i = 0; i < total; i++) {
            results[i].user = change_name(in, i);
            results[i].error_code = KERR_KAFKA_STORAGE_ERROR;
            results[i].error_message = message(req, "the users file was not written%s%s", "", "");
        }
    }
    buf_free(&before);
    return PROTO_RESPOND;
}

const proto_api api_describe_user_scram_credentials = {
    .key = 50,
    .name = "DescribeUserScramCredentials",
    .min_version = 0,
    .max_version = 0,
    .flexible_min = 0,
    .request = &describe_request_schema,
    .response = &describe_response_schema,
    .handle = handle_describe,
};

const proto_api api_alter_user_scram_credentials = {
    .key = 51,
    .name = "AlterUserScramCredentials",
    .min_version = 0,
    .max_version = 0,
    .flexible_min = 0,
    .request = &alter_request_schema,
    .response = &alter_response_schema,
    .handle = handle_alter,
};
