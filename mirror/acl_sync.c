/*
 * acl_sync.c - a flow's ACL sync cycle over librdkafka's admin API
 * (DescribeAcls, CreateAcls, DeleteAcls; contract in acl_sync.h, rules in
 * acl_sync_rules.c, the record of what it created in
 * checkpoints/acl_record.c).
 *
 * One cycle: list every binding of the source and of the target; translate
 * the source's into the bindings the target should hold (D); create those of
 * D the target lacks (recorded first, so a crash never leaves a created
 * binding the sync would take for a local one); delete the recorded ones no
 * longer in D (forgotten after the delete succeeded). A binding of D that
 * the target already holds without a record is someone else's: left alone,
 * and never recorded.
 *
 * librdkafka (2.0.2) drops the error code of a DescribeAcls answer: a
 * broker without an authorizer (SECURITY_DISABLED) or a refusal
 * (CLUSTER_AUTHORIZATION_FAILED) reads as an empty list, which would make
 * the sync delete everything it created. So an empty list is confirmed with
 * a DeleteAcls whose filter matches nothing (host "": every binding has a
 * host), whose error librdkafka does report; an unconfirmed empty list
 * skips the cycle. On the target the sync needs ALTER on the cluster anyway;
 * on the source, a principal that may only DESCRIBE sees an empty source
 * list refused (docs/security.md says so).
 */
#include "mirror/acl_sync.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoints/acl_record.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "mirror/acl_sync_rules.h"

/* Bindings one DescribeAcls answer may hold that the sync looks at. */
#define ACL_SYNC_BINDINGS_MAX 100000

enum authority { AUTHORITY_UNKNOWN = -1, AUTHORITY_NO = 0, AUTHORITY_YES = 1 };

struct mirror_acl_sync {
    const topology *topology;
    const topology_flow *flow;
    char name[160];
    const char *source_region;
    const char *target_region;
    acl_record_store *record;
    acl_sync_principals sidecars;
    bool reverse_syncs;          /* a flow target -> source syncs ACLs too */
    atomic_int authority;        /* enum authority, from the failover state */
    char record_problem[300];    /* why record is NULL with sync_acls on */

    pthread_mutex_t lock;        /* guards status */
    mirror_acl_sync_status status;
};

/* A list of bindings (Kafka codes). */
typedef struct binding_list {
    acl_record_binding *items;
    size_t count;
    size_t capacity;
} binding_list;

static int list_push(binding_list *list, const acl_record_binding *b)
{
    if (list->count == list->capacity) {
        if (list->capacity >= ACL_SYNC_BINDINGS_MAX)
            return ST_ETOOBIG;
        size_t grown = list->capacity ? list->capacity * 2 : 16;
        acl_record_binding *bigger = realloc(list->items, grown * sizeof *bigger);
        if (!bigger)
            return ST_ENOMEM;
        list->items = bigger;
        list->capacity = grown;
    }
    list->items[list->count++] = *b;
    return 0;
}

static bool list_has(const acl_record_binding *items, size_t count, const acl_record_binding *b)
{
    for (size_t i = 0; i < count; i++)
        if (acl_record_equal(&items[i], b))
            return true;
    return false;
}

/* Sets state and reason; logs only when they change. */
static void report(mirror_acl_sync *s, const char *state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(mirror_acl_sync *s, const char *state, const char *fmt, ...)
{
    char reason[sizeof s->status.reason];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&s->lock);
    bool changed = strcmp(s->status.state, state) != 0 || strcmp(s->status.reason, reason) != 0;
    bool was_ok = !strcmp(s->status.state, "ok");
    snprintf(s->status.state, sizeof s->status.state, "%s", state);
    snprintf(s->status.reason, sizeof s->status.reason, "%s", reason);
    pthread_mutex_unlock(&s->lock);
    if (!changed)
        return;
    if (!strcmp(state, "refused"))
        log_warn("mirror", "flow=%s acl sync refused: %s; retrying every refresh, logged again "
                 "only when the reason changes", s->name, reason);
    else if (!strcmp(state, "paused"))
        log_info("mirror", "flow=%s acl sync paused: %s", s->name, reason);
    else if (!was_ok)
        log_info("mirror", "flow=%s acl sync running", s->name);
}

/* Lifetime of the ACL requests below (DescribeAcls, CreateAcls, DeleteAcls:
 * the controller, no coordinator lookup): librdkafka's own timeout, timeout_ms,
 * produces a result before each caller's wait (timeout_ms + 1000) ends; one
 * that comes later still is dropped with the queue the caller destroys. */
static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                              int timeout_ms)
{
    rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(rk, op);
    if (options)
        rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, NULL, 0);
    return options;
}

static void from_librdkafka(const rd_kafka_AclBinding_t *b, acl_record_binding *out, bool *fits)
{
    memset(out, 0, sizeof *out);
    const char *name = rd_kafka_AclBinding_name(b), *principal = rd_kafka_AclBinding_principal(b),
               *host = rd_kafka_AclBinding_host(b);
    *fits = name && principal && host && strlen(name) < sizeof out->resource_name &&
            strlen(principal) < sizeof out->principal && strlen(host) < sizeof out->host;
    if (!*fits)
        return;
    out->resource_type = rd_kafka_AclBinding_restype(b);
    out->pattern_type = rd_kafka_AclBinding_resource_pattern_type(b);
    out->operation = rd_kafka_AclBinding_operation(b);
    out->permission = rd_kafka_AclBinding_permission_type(b);
    snprintf(out->resource_name, sizeof out->resource_name, "%s", name);
    snprintf(out->principal, sizeof out->principal, "%s", principal);
    snprintf(out->host, sizeof out->host, "%s", host);
}

/* The error of a DeleteAcls whose filter (host "") matches nothing: 0 when
 * the region has an authorizer and lets us change its ACLs. */
static int confirm_empty(rd_kafka_t *rk, int timeout_ms, char *why, size_t whylen)
{
    char errstr[256];
    rd_kafka_AclBindingFilter_t *filter = rd_kafka_AclBindingFilter_new(
        RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, "",
        RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof errstr);
    if (!filter) {
        snprintf(why, whylen, "%s", errstr);
        return ST_EINVAL;
    }
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *options = admin_options(rk, RD_KAFKA_ADMIN_OP_DELETEACLS, timeout_ms);
    rd_kafka_DeleteAcls(rk, &filter, 1, options, queue);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, timeout_ms + 1000);
    int rc = ST_EIO;
    if (!ev) {
        snprintf(why, whylen, "no answer to DeleteAcls within %d ms", timeout_ms);
    } else if (rd_kafka_event_error(ev)) {
        snprintf(why, whylen, "%s", rd_kafka_event_error_string(ev));
    } else {
        size_t count = 0;
        const rd_kafka_DeleteAcls_result_response_t **responses =
            rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &count);
        const rd_kafka_error_t *error =
            count == 1 ? rd_kafka_DeleteAcls_result_response_error(responses[0]) : NULL;
        if (count != 1)
            snprintf(why, whylen, "DeleteAcls answered %zu results for 1 filter", count);
        else if (error)
            snprintf(why, whylen, "%s: %s", rd_kafka_error_name(error), rd_kafka_error_string(error));
        else
            rc = 0;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_AclBinding_destroy(filter);
    rd_kafka_queue_destroy(queue);
    return rc;
}

/* Every binding of a region (empty answers confirmed), or an error in why. */
static int describe_all(rd_kafka_t *rk, int timeout_ms, binding_list *out, char *why,
                        size_t whylen)
{
    char errstr[256];
    rd_kafka_AclBindingFilter_t *filter = rd_kafka_AclBindingFilter_new(
        RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, NULL,
        RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof errstr);
    if (!filter) {
        snprintf(why, whylen, "%s", errstr);
        return ST_EINVAL;
    }
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *options =
        admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBEACLS, timeout_ms);
    rd_kafka_DescribeAcls(rk, filter, options, queue);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, timeout_ms + 1000);
    int rc = ST_EIO;
    if (!ev) {
        snprintf(why, whylen, "no answer to DescribeAcls within %d ms", timeout_ms);
    } else if (rd_kafka_event_error(ev)) {
        snprintf(why, whylen, "DescribeAcls: %s", rd_kafka_event_error_string(ev));
    } else {
        size_t count = 0;
        const rd_kafka_AclBinding_t **acls =
            rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &count);
        rc = 0;
        for (size_t i = 0; i < count && rc == 0; i++) {
            acl_record_binding b;
            bool fits = false;
            from_librdkafka(acls[i], &b, &fits);
            if (fits)
                rc = list_push(out, &b);
        }
        if (rc != 0)
            snprintf(why, whylen, "DescribeAcls: %s", strait_strerror(rc));
        else if (count == 0)
            rc = confirm_empty(rk, timeout_ms, why, whylen);
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_AclBinding_destroy(filter);
    rd_kafka_queue_destroy(queue);
    return rc;
}

static rd_kafka_AclBinding_t *to_librdkafka(const acl_record_binding *b, bool filter)
{
    char errstr[256];
    if (filter)
        return rd_kafka_AclBindingFilter_new(
            (rd_kafka_ResourceType_t)b->resource_type, b->resource_name,
            (rd_kafka_ResourcePatternType_t)b->pattern_type, b->principal, b->host,
            (rd_kafka_AclOperation_t)b->operation, (rd_kafka_AclPermissionType_t)b->permission,
            errstr, sizeof errstr);
    return rd_kafka_AclBinding_new(
        (rd_kafka_ResourceType_t)b->resource_type, b->resource_name,
        (rd_kafka_ResourcePatternType_t)b->pattern_type, b->principal, b->host,
        (rd_kafka_AclOperation_t)b->operation, (rd_kafka_AclPermissionType_t)b->permission,
        errstr, sizeof errstr);
}

/*
 * CreateAcls (create) or DeleteAcls with exact filters (!create) of items;
 * done[i] says which succeeded. 0 when the request was answered (some
 * bindings may still have failed: the first failure is in why).
 */
static int change(rd_kafka_t *rk, bool create, const acl_record_binding *items, size_t count,
                  bool *done, int timeout_ms, char *why, size_t whylen)
{
    rd_kafka_AclBinding_t **acls = calloc(count, sizeof *acls);
    if (!acls)
        return ST_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        done[i] = false;
        acls[i] = to_librdkafka(&items[i], !create);
        if (!acls[i]) {
            rd_kafka_AclBinding_destroy_array(acls, i);
            free(acls);
            snprintf(why, whylen, "librdkafka refused binding %s", items[i].resource_name);
            return ST_EINVAL;
        }
    }
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *options = admin_options(
        rk, create ? RD_KAFKA_ADMIN_OP_CREATEACLS : RD_KAFKA_ADMIN_OP_DELETEACLS, timeout_ms);
    if (create)
        rd_kafka_CreateAcls(rk, acls, count, options, queue);
    else
        rd_kafka_DeleteAcls(rk, acls, count, options, queue);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, timeout_ms + 1000);
    int rc = ST_EIO;
    const char *api = create ? "CreateAcls" : "DeleteAcls";
    if (!ev) {
        snprintf(why, whylen, "no answer to %s within %d ms", api, timeout_ms);
    } else if (rd_kafka_event_error(ev)) {
        snprintf(why, whylen, "%s: %s", api, rd_kafka_event_error_string(ev));
    } else {
        rc = 0;
        size_t answered = 0;
        const rd_kafka_acl_result_t **created = NULL;
        const rd_kafka_DeleteAcls_result_response_t **deleted = NULL;
        if (create)
            created = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &answered);
        else
            deleted = rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev),
                                                           &answered);
        for (size_t i = 0; i < count && i < answered; i++) {
            const rd_kafka_error_t *error =
                create ? rd_kafka_acl_result_error(created[i])
                       : rd_kafka_DeleteAcls_result_response_error(deleted[i]);
            done[i] = error == NULL;
            if (error && why[0] == '\0')
                snprintf(why, whylen, "%s: %s: %s", api, rd_kafka_error_name(error),
                         rd_kafka_error_string(error));
        }
        if (answered != count && why[0] == '\0')
            snprintf(why, whylen, "%s answered %zu results for %zu bindings", api, answered, count);
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_AclBinding_destroy_array(acls, count);
    free(acls);
    rd_kafka_queue_destroy(queue);
    return rc;
}

static bool reverse_flow_syncs(const topology *t, const topology_flow *flow)
{
    for (int i = 0; i < t->flow_count; i++)
        if (t->flows[i].source == flow->target && t->flows[i].target == flow->source &&
            t->flows[i].sync_acls)
            return true;
    return false;
}

int mirror_acl_sync_open(const topology *t, const topology_flow *flow, const char *flow_name,
                         const char *store_path, mirror_acl_sync **out)
{
    *out = NULL;
    mirror_acl_sync *s = calloc(1, sizeof *s);
    if (!s)
        return ST_ENOMEM;
    s->topology = t;
    s->flow = flow;
    snprintf(s->name, sizeof s->name, "%s", flow_name);
    s->source_region = t->regions[flow->source].name;
    s->target_region = t->regions[flow->target].name;
    s->reverse_syncs = reverse_flow_syncs(t, flow);
    atomic_init(&s->authority, AUTHORITY_UNKNOWN);
    pthread_mutex_init(&s->lock, NULL);
    s->status.enabled = flow->sync_acls;
    if (flow->sync_acls) {
        /* a record that cannot be opened stops the ACL sync, not the flow */
        int rc = acl_record_open(store_path, &s->record);
        if (rc != 0)
            snprintf(s->record_problem, sizeof s->record_problem,
                     "cannot open the sync's record in %s: %s", store_path, strait_strerror(rc));
        acl_sync_sidecar_principals(t, &s->sidecars);
    }
    *out = s;
    return 0;
}

void mirror_acl_sync_close(mirror_acl_sync *s)
{
    if (!s)
        return;
    acl_record_close(s->record);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void mirror_acl_sync_set_source_active(mirror_acl_sync *s, bool active)
{
    atomic_store(&s->authority, active ? AUTHORITY_YES : AUTHORITY_NO);
}

void mirror_acl_sync_status_get(mirror_acl_sync *s, mirror_acl_sync_status *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->status;
    pthread_mutex_unlock(&s->lock);
}

/* May this cycle change the target? Reports why not. */
static bool authoritative(mirror_acl_sync *s)
{
    if (s->topology->failover_configured) {
        int authority = atomic_load(&s->authority);
        if (authority == AUTHORITY_YES)
            return true;
        report(s, "paused", authority == AUTHORITY_UNKNOWN
                                ? "waiting for the failover state"
                                : "source region %s is not the active region; ACLs are synced "
                                  "from the active region only",
               s->source_region);
        return false;
    }
    if (!s->reverse_syncs)
        return true;
    report(s, "paused", "flows run both ways between %s and %s and no failover section says "
           "which region is authoritative: set sync_acls: false on one of them, or add a "
           "failover section", s->source_region, s->target_region);
    return false;
}

/* The bindings the target should hold, deduplicated. */
static int desired_bindings(mirror_acl_sync *s, const binding_list *source,
                            const char *const *topics, int topic_count, binding_list *out)
{
    for (size_t i = 0; i < source->count; i++) {
        acl_record_binding b;
        if (!acl_sync_translate(s->topology, s->flow, topics, topic_count, &s->sidecars,
                                &source->items[i], &b) ||
            list_has(out->items, out->count, &b))
            continue;
        int rc = list_push(out, &b);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Creates what the target lacks (recorded first). Returns the count created. */
static int64_t create_missing(mirror_acl_sync *s, rd_kafka_t *target, const binding_list *desired,
                              const binding_list *current, const binding_list *recorded,
                              int timeout_ms, char *why, size_t whylen)
{
    binding_list missing = {0};
    for (size_t i = 0; i < desired->count; i++) {
        const acl_record_binding *b = &desired->items[i];
        if (list_has(current->items, current->count, b))
            continue; /* present: recorded (ours) or local (left alone) */
        if (!list_has(recorded->items, recorded->count, b) &&
            acl_record_add(s->record, s->name, b) != 0) {
            snprintf(why, whylen, "cannot record a binding in the sidecar's state file");
            break;
        }
        if (list_push(&missing, b) != 0)
            break;
    }
    int64_t created = 0;
    bool *done = missing.count ? calloc(missing.count, sizeof *done) : NULL;
    if (missing.count && done &&
        change(target, true, missing.items, missing.count, done, timeout_ms, why, whylen) == 0) {
        for (size_t i = 0; i < missing.count; i++) {
            char text[1200];
            acl_sync_binding_text(&missing.items[i], text, sizeof text);
            if (done[i]) {
                created++;
                log_info("mirror", "flow=%s acl sync created in %s: %s", s->name,
                         s->target_region, text);
            } else {
                acl_record_remove(s->record, s->name, &missing.items[i]);
            }
        }
    } else if (missing.count) {
        for (size_t i = 0; i < missing.count; i++)
            acl_record_remove(s->record, s->name, &missing.items[i]);
    }
    free(done);
    free(missing.items);
    return created;
}

/* Deletes the recorded bindings no longer desired (forgotten afterwards). */
static int64_t delete_stale(mirror_acl_sync *s, rd_kafka_t *target, const binding_list *desired,
                            const binding_list *current, const binding_list *recorded,
                            int timeout_ms, char *why, size_t whylen)
{
    binding_list stale = {0};
    for (size_t i = 0; i < recorded->count; i++) {
        const acl_record_binding *b = &recorded->items[i];
        if (list_has(desired->items, desired->count, b))
            continue;
        if (!list_has(current->items, current->count, b))
            acl_record_remove(s->record, s->name, b); /* already gone from the target */
        else if (list_push(&stale, b) != 0)
            break;
    }
    int64_t deleted = 0;
    bool *done = stale.count ? calloc(stale.count, sizeof *done) : NULL;
    if (stale.count && done &&
        change(target, false, stale.items, stale.count, done, timeout_ms, why, whylen) == 0) {
        for (size_t i = 0; i < stale.count; i++) {
            if (!done[i])
                continue;
            char text[1200];
            acl_sync_binding_text(&stale.items[i], text, sizeof text);
            log_info("mirror", "flow=%s acl sync deleted from %s (gone from %s): %s", s->name,
                     s->target_region, s->source_region, text);
            acl_record_remove(s->record, s->name, &stale.items[i]);
            deleted++;
        }
    }
    free(done);
    free(stale.items);
    return deleted;
}

void mirror_acl_sync_run(mirror_acl_sync *s, rd_kafka_t *source, rd_kafka_t *target,
                         const char *const *topics, int topic_count, int timeout_ms)
{
    if (!s->flow->sync_acls) {
        report(s, "off", "sync_acls: false in the topology");
        return;
    }
    if (!s->record) {
        report(s, "refused", "%s", s->record_problem);
        return;
    }
    if (!authoritative(s))
        return;
    binding_list from_source = {0}, in_target = {0}, desired = {0};
    acl_record_binding *recorded_items = NULL;
    size_t recorded_count = 0;
    char why[300] = "";
    if (describe_all(source, timeout_ms, &from_source, why, sizeof why) != 0) {
        report(s, "refused", "source region %s: %s", s->source_region, why);
        goto out;
    }
    if (describe_all(target, timeout_ms, &in_target, why, sizeof why) != 0) {
        report(s, "refused", "target region %s: %s", s->target_region, why);
        goto out;
    }
    int rc = desired_bindings(s, &from_source, topics, topic_count, &desired);
    if (rc == 0)
        rc = acl_record_list(s->record, s->name, &recorded_items, &recorded_count);
    if (rc != 0) {
        report(s, "refused", "%s", strait_strerror(rc));
        goto out;
    }
    binding_list recorded = {recorded_items, recorded_count, recorded_count};
    int64_t created = create_missing(s, target, &desired, &in_target, &recorded, timeout_ms, why,
                                     sizeof why);
    int64_t deleted = delete_stale(s, target, &desired, &in_target, &recorded, timeout_ms, why,
                                   sizeof why);
    if (why[0]) {
        report(s, "refused", "target region %s: %s", s->target_region, why);
    } else {
        report(s, "ok", "%s", "");
    }
    free(recorded_items);
    recorded_items = NULL;
    int64_t bindings = 0;
    if (acl_record_list(s->record, s->name, &recorded_items, &recorded_count) == 0)
        bindings = (int64_t)recorded_count;
    pthread_mutex_lock(&s->lock);
    s->status.created_total += created;
    s->status.deleted_total += deleted;
    s->status.bindings = bindings;
    if (!why[0])
        s->status.last_sync_ms = clock_wall_ms();
    pthread_mutex_unlock(&s->lock);
out:
    free(recorded_items);
    free(from_source.items);
    free(in_target.items);
    free(desired.items);
}
