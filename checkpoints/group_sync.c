/*
 * group_sync.c - the group checkpoint task of one flow (see group_sync.h for
 * what a round does and why).
 *
 * Threads: the task's own thread runs rounds every checkpoint_interval_ms;
 * group_sync_run_once runs one on the caller's thread; round_lock keeps
 * rounds from overlapping. status_lock guards `status` and `stopping` and is
 * never held across a network call or a store call. The two librdkafka admin
 * clients (source, target) are used and replaced under round_lock only: a
 * client that holds a coordinator request given up on is destroyed and made
 * anew (the lifetime rule under "admin requests").
 */
#include "checkpoints/group_sync.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "topology/region_client.h"

/* One partition of a group in a round: its stored checkpoint and target name. */
typedef struct sync_item {
    checkpoint_group_offset checkpoint;
    char target_topic[256];
} sync_item;

/* Partitions handled per group per round (the scratch array grows to it): a
 * group committing to more partitions of mirrored topics than this is synced
 * in part and logged. Kafka's own ceiling is far higher, but 100,000
 * partitions of one group would already be ~190 MB of scratch here. */
#define GROUP_SYNC_PARTITIONS_PER_GROUP_MAX 100000

struct group_sync {
    topology topology;            /* a copy: the caller's may go away */
    int flow_index;
    char flow[160];
    checkpoint_store *store;
    rd_kafka_t *source;           /* admin client of the source cluster; NULL after forget_client */
    rd_kafka_t *target;           /* (both under round_lock once the thread runs) */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t round_lock;   /* one round at a time */
    pthread_mutex_t status_lock;  /* guards status, stopping */
    pthread_cond_t wake;          /* signalled by stop */
    bool stopping;
    group_sync_status status;
    /* round scratch, under round_lock */
    sync_item *items;
    size_t item_count;
    size_t item_capacity;
};

/* ---- status --------------------------------------------------------------- */

static bool stopping(group_sync *g)
{
    pthread_mutex_lock(&g->status_lock);
    bool stop = g->stopping;
    pthread_mutex_unlock(&g->status_lock);
    return stop;
}

static void set_error(group_sync *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(group_sync *g, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    log_warn("group_sync", "%s: %s", g->flow, message);
    pthread_mutex_lock(&g->status_lock);
    snprintf(g->status.last_error, sizeof g->status.last_error, "%s", message);
    g->status.last_error_ms = clock_wall_ms();
    pthread_mutex_unlock(&g->status_lock);
}

/* Counters of the round in progress, published when it ends. */
typedef struct round_counts {
    int64_t groups_seen, stored, applied, untranslatable, echoes;
    int skipped_count;
    char skipped[GROUP_SYNC_SKIPPED_LIST_MAX][256];
    bool had_error;
} round_counts;

/* ---- admin requests ------------------------------------------------------- */

/* Lifetime rule of the coordinator requests (issue 12, N5).
 *
 * ListConsumerGroupOffsets, DescribeConsumerGroups and AlterConsumerGroupOffsets
 * go to the group's coordinator. librdkafka 2.0.2 first looks the coordinator
 * up, and that lookup has no timeout of its own: it waits until the
 * coordinator's broker is up. If the request's own timeout fires during that
 * wait (the broker is down, or the link to it is cut), librdkafka fails the
 * request and releases its reply slot, but the lookup stays; when the
 * coordinator is reachable again the lookup releases the slot a second time
 * and the process aborts (rdkafka_queue.h: rd_kafka_enq_once_del_source_return:
 * Assertion `eonce->refcnt > 0'). Still so upstream (librdkafka issue 4605).
 * A timeout that fires after the request was sent is harmless, and so is
 * destroying the client: a terminating client fails its lookups without the
 * second release.
 *
 * So librdkafka's timeout never ends a coordinator request here: it is set to
 * librdkafka's maximum (COORDINATOR_REQUEST_TIMEOUT_MS), admin_call waits
 * GROUP_SYNC_REQUEST_TIMEOUT_MS itself, and a client left with a request it
 * gave up on is destroyed at once (forget_client; a new one is made for the
 * next call), long before librdkafka's timeout could fire. The abandoned
 * request's result, if one ever comes, is dropped with its queue.
 *
 * ListConsumerGroups does not go through a coordinator lookup: it keeps
 * librdkafka's timeout (GROUP_SYNC_REQUEST_TIMEOUT_MS), which also returns the
 * groups of the brokers that did answer. */
#define COORDINATOR_REQUEST_TIMEOUT_MS (3600 * 1000) /* librdkafka 2.0's maximum */
/* How much longer than librdkafka's own timeout the result of a
 * non-coordinator request is waited for (the timeout's result is on its way). */
#define RESULT_GRACE_MS 2000

static bool coordinator_request(rd_kafka_admin_op_t op)
{
    return op == RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS || op == RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS ||
           op == RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS;
}

static rd_kafka_t *admin_client(const char *flow, const char *side, const topology *t, int region_index);

static const char *side_name(bool target)
{
    return target ? "target" : "source";
}

/* The admin client of one side, made anew if forget_client dropped it. */
static rd_kafka_t *client(group_sync *g, bool target)
{
    rd_kafka_t **slot = target ? &g->target : &g->source;
    if (!*slot) {
        const topology_flow *flow = &g->topology.flows[g->flow_index];
        *slot = admin_client(g->flow, side_name(target), &g->topology, target ? flow->target : flow->source);
    }
    return *slot;
}

/* Destroys a side's client that holds a request given up on (the lifetime
 * rule above). */
static void forget_client(group_sync *g, bool target)
{
    rd_kafka_t **slot = target ? &g->target : &g->source;
    rd_kafka_destroy(*slot);
    *slot = NULL;
}

/* Waits up to wait_ms for the result of an admin request on q, in slices so
 * stop is seen; NULL on timeout or stop. */
static rd_kafka_event_t *await_result(group_sync *g, rd_kafka_queue_t *q, int wait_ms)
{
    int64_t deadline = clock_mono_ms() + wait_ms;
    while (clock_mono_ms() < deadline && !stopping(g)) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
        if (ev)
            return ev;
    }
    return NULL;
}

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op, int timeout_ms)
{
    rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(rk, op);
    char err[256];
    if (options)
        rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, err, sizeof err);
    return options;
}

/* Runs one admin call on a side's client: start() issues it on q; returns
 * the result event (caller destroys) or NULL after recording why. A request
 * with no result in time is abandoned: its queue is destroyed here, and for
 * a coordinator request the client too (the lifetime rule above). */
static rd_kafka_event_t *admin_call(group_sync *g, bool target, rd_kafka_admin_op_t op, const char *what,
                                   void (*start)(rd_kafka_t *, const rd_kafka_AdminOptions_t *, rd_kafka_queue_t *,
                                                 void *),
                                   void *arg)
{
    if (stopping(g))
        return NULL;
    rd_kafka_t *rk = client(g, target);
    if (!rk) {
        set_error(g, "%s: no client for the %s region", what, side_name(target));
        return NULL;
    }
    bool coordinator = coordinator_request(op);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *options =
        admin_options(rk, op, coordinator ? COORDINATOR_REQUEST_TIMEOUT_MS : GROUP_SYNC_REQUEST_TIMEOUT_MS);
    rd_kafka_event_t *ev = NULL;
    bool abandoned = false;
    if (q && options) {
        start(rk, options, q, arg);
        ev = await_result(g, q,
                          coordinator ? GROUP_SYNC_REQUEST_TIMEOUT_MS : GROUP_SYNC_REQUEST_TIMEOUT_MS + RESULT_GRACE_MS);
        abandoned = !ev;
    }
    if (!ev && !stopping(g))
        set_error(g, "%s: no answer within %d ms", what, GROUP_SYNC_REQUEST_TIMEOUT_MS);
    if (ev && rd_kafka_event_error(ev)) {
        set_error(g, "%s: %s", what, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        ev = NULL;
    }
    if (options)
        rd_kafka_AdminOptions_destroy(options);
    if (q)
        rd_kafka_queue_destroy(q); /* a result that comes later is dropped */
    if (abandoned && coordinator)
        forget_client(g, target);
    return ev;
}

static void start_list_groups(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q, void *arg)
{
    (void)arg;
    rd_kafka_ListConsumerGroups(rk, o, q);
}

static void start_list_offsets(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q, void *arg)
{
    rd_kafka_ListConsumerGroupOffsets(rk, (rd_kafka_ListConsumerGroupOffsets_t **)&arg, 1, o, q);
}

static void start_describe(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q, void *arg)
{
    const char *group = arg;
    rd_kafka_DescribeConsumerGroups(rk, &group, 1, o, q);
}

static void start_alter(rd_kafka_t *rk, const rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q, void *arg)
{
    rd_kafka_AlterConsumerGroupOffsets(rk, (rd_kafka_AlterConsumerGroupOffsets_t **)&arg, 1, o, q);
}

/* Committed offsets of group on one side (partitions NULL = all). Returns the
 * event owning *out (caller destroys), or NULL. */
static rd_kafka_event_t *fetch_offsets(group_sync *g, bool target, const char *group,
                                       const rd_kafka_topic_partition_list_t *partitions,
                                       const rd_kafka_topic_partition_list_t **out)
{
    char what[400];
    snprintf(what, sizeof what, "reading committed offsets of group '%s' on the %s", group, side_name(target));
    rd_kafka_ListConsumerGroupOffsets_t *request = rd_kafka_ListConsumerGroupOffsets_new(group, partitions);
    rd_kafka_event_t *ev =
        admin_call(g, target, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, what, start_list_offsets, request);
    rd_kafka_ListConsumerGroupOffsets_destroy(request);
    if (!ev)
        return NULL;
    size_t count = 0;
    const rd_kafka_group_result_t **groups =
        rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev), &count);
    const rd_kafka_error_t *error = count == 1 ? rd_kafka_group_result_error(groups[0]) : NULL;
    if (count != 1 || error) {
        set_error(g, "%s: %s", what, error ? rd_kafka_error_string(error) : "no result");
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    *out = rd_kafka_group_result_partitions(groups[0]);
    return ev;
}

/* ---- the origin marker (group_sync.h) ------------------------------------ */

_Static_assert(GROUP_SYNC_REGION_MAX >= TOPOLOGY_NAME_MAX, "a region name fits a marker");

bool group_sync_metadata_origin(const char *metadata, size_t size, char *region, size_t region_size,
                                size_t *body_offset)
{
    size_t prefix = strlen(GROUP_SYNC_ORIGIN_MARKER);
    if (!metadata || size <= prefix || memcmp(metadata, GROUP_SYNC_ORIGIN_MARKER, prefix) != 0)
        return false;
    size_t end = prefix;
    while (end < size && metadata[end] != GROUP_SYNC_ORIGIN_END && metadata[end] != GROUP_SYNC_SAME_AT &&
           metadata[end] != '\0')
        end++;
    size_t length = end - prefix;
    size_t close = end;
    if (close < size && metadata[close] == GROUP_SYNC_SAME_AT) { /* "@<offset>" */
        close++;
        while (close < size && metadata[close] >= '0' && metadata[close] <= '9' && close - end <= 19)
            close++;
        if (close == end + 1)
            return false;
    }
    if (close >= size || metadata[close] != GROUP_SYNC_ORIGIN_END || length == 0 || length >= region_size)
        return false; /* not our marker: plain metadata that happens to start alike */
    memcpy(region, metadata + prefix, length);
    region[length] = '\0';
    if (body_offset)
        *body_offset = close + 1;
    return true;
}

size_t group_sync_metadata_mark(const char *source_region, int64_t same_offset, const char *metadata,
                                size_t size, char *out, size_t out_size)
{
    char origin[GROUP_SYNC_REGION_MAX];
    size_t body = 0;
    if (!group_sync_metadata_origin(metadata, size, origin, sizeof origin, &body))
        snprintf(origin, sizeof origin, "%s", source_region); /* first hop: it originated on the source */
    size_t body_size = metadata && size > body ? strnlen(metadata + body, size - body) : 0;
    char same[24] = "";
    if (same_offset >= 0)
        snprintf(same, sizeof same, "%c%" PRId64, GROUP_SYNC_SAME_AT, same_offset);
    int head = snprintf(out, out_size, "%s%s%s%c", GROUP_SYNC_ORIGIN_MARKER, origin, same, GROUP_SYNC_ORIGIN_END);
    if (head < 0 || (size_t)head >= out_size)
        return (size_t)(head < 0 ? 0 : head) + body_size;
    size_t room = out_size - (size_t)head - 1;
    size_t copied = body_size < room ? body_size : room;
    if (copied > 0) /* metadata may be NULL with nothing to copy */
        memcpy(out + head, metadata + body, copied);
    out[(size_t)head + copied] = '\0';
    return (size_t)head + body_size;
}

/* ---- a round -------------------------------------------------------------- */

typedef struct stored_lookup {
    const char *topic;
    int32_t partition;
    checkpoint_group_offset *out;
    bool found;
} stored_lookup;

static int find_stored(void *arg, const checkpoint_group_offset *c)
{
    stored_lookup *l = arg;
    if (c->partition != l->partition || strcmp(c->topic, l->topic) != 0)
        return 0;
    *l->out = *c;
    l->found = true;
    return 1;
}

/* A store error: ST_ECORRUPT fails the task for good. */
static int store_failed(group_sync *g, int err, const char *what)
{
    set_error(g, "checkpoint store: %s: %s", what, strait_strerror(err));
    if (err == ST_ECORRUPT) {
        pthread_mutex_lock(&g->status_lock);
        g->status.failed = true;
        g->status.running = false;
        pthread_mutex_unlock(&g->status_lock);
    }
    return err;
}

/* Translates and stores one committed partition; adds it to g->items when it
 * still has to be applied to the target. */
static int checkpoint_partition(group_sync *g, const char *group, const rd_kafka_topic_partition_t *p,
                                round_counts *counts)
{
    const topology_flow *flow = &g->topology.flows[g->flow_index];
    if (p->err || p->offset < 0 || !topology_flow_matches_topic(flow, p->topic))
        return 0;
    /* The echo rule (group_sync.h): a commit that a sidecar translated from
     * the flow's target region is never translated back onto it. */
    char origin[GROUP_SYNC_REGION_MAX];
    const char *target_region = g->topology.regions[flow->target].name;
    const char *source_region = g->topology.regions[flow->source].name;
    if (group_sync_metadata_origin(p->metadata, p->metadata_size, origin, sizeof origin, NULL) &&
        strcmp(origin, target_region) == 0) {
        counts->echoes++;
        return 0;
    }
    if (strlen(p->topic) >= sizeof g->items[0].checkpoint.topic)
        return 0;
    if (g->item_count == g->item_capacity) {
        size_t capacity = g->item_capacity ? g->item_capacity * 2 : 64;
        if (capacity > GROUP_SYNC_PARTITIONS_PER_GROUP_MAX) {
            log_warn("group_sync", "%s: group '%s' commits more than %d mirrored partitions; the rest is skipped",
                     g->flow, group, GROUP_SYNC_PARTITIONS_PER_GROUP_MAX);
            return 0;
        }
        sync_item *items = realloc(g->items, capacity * sizeof *items);
        if (!items)
            return ST_ENOMEM;
        g->items = items;
        g->item_capacity = capacity;
    }
    int64_t target_offset = -1;
    bool found = false;
    int err = checkpoint_translate(g->store, g->flow, p->topic, p->partition, p->offset, &target_offset, &found);
    if (err)
        return store_failed(g, err, "translate");
    if (!found) {
        counts->untranslatable++;
        return 0;
    }
    sync_item *item = &g->items[g->item_count];
    memset(item, 0, sizeof *item);
    checkpoint_group_offset *c = &item->checkpoint;
    snprintf(c->group, sizeof c->group, "%s", group);
    snprintf(c->topic, sizeof c->topic, "%s", p->topic);
    c->partition = p->partition;
    c->source_offset = p->offset;
    c->target_offset = target_offset;
    int64_t same_offset = -1;
    if (target_offset == p->offset) {
        /* the commit keeps its number; so does the partition's mirrored tail?
         * Then the members' positions hold in the target too (adoption after
         * a switchover, group_sync.h) */
        checkpoint_pair last;
        bool mapped = false;
        err = checkpoint_map_last(g->store, g->flow, p->topic, p->partition, &last, &mapped);
        if (err)
            return store_failed(g, err, "read the offset map's end");
        if (mapped && last.source_offset == last.target_offset)
            same_offset = p->offset;
    }
    size_t needed = group_sync_metadata_mark(source_region, same_offset, p->metadata, p->metadata_size,
                                             c->metadata, sizeof c->metadata);
    if (needed >= sizeof c->metadata)
        log_warn("group_sync", "%s: group '%s' %s-%d: commit metadata of %zu bytes kept to %zu", g->flow, group,
                 p->topic, (int)p->partition, p->metadata_size, strlen(c->metadata));
    checkpoint_group_offset stored;
    stored_lookup lookup = {p->topic, p->partition, &stored, false};
    err = checkpoint_group_each(g->store, g->flow, group, find_stored, &lookup);
    if (err)
        return store_failed(g, err, "read group checkpoint");
    c->applied = lookup.found && stored.applied && stored.source_offset == c->source_offset &&
                 stored.target_offset == c->target_offset;
    c->checkpointed_at_ms = clock_wall_ms();
    err = checkpoint_group_put(g->store, g->flow, c);
    if (err)
        return store_failed(g, err, "store group checkpoint");
    counts->stored++;
    if (!c->applied) {
        err = topology_target_topic(&g->topology, flow, p->topic, item->target_topic, sizeof item->target_topic);
        if (err) {
            set_error(g, "group '%s': no target name for topic '%s'", group, p->topic);
            return 0;
        }
        g->item_count++;
    }
    return 0;
}

/* True when group has active members on the target; *known false when the
 * target did not say (then nothing is applied). */
static bool active_on_target(group_sync *g, const char *group, bool *known)
{
    char what[400];
    snprintf(what, sizeof what, "describing group '%s' on the target", group);
    *known = false;
    rd_kafka_event_t *ev =
        admin_call(g, true, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, what, start_describe, (void *)group);
    if (!ev)
        return false;
    size_t count = 0;
    const rd_kafka_ConsumerGroupDescription_t **groups =
        rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev), &count);
    bool active = false;
    if (count == 1) {
        const rd_kafka_error_t *error = rd_kafka_ConsumerGroupDescription_error(groups[0]);
        if (!error || rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) {
            *known = true;
            active = !error && rd_kafka_ConsumerGroupDescription_member_count(groups[0]) > 0;
        } else {
            set_error(g, "%s: %s", what, rd_kafka_error_string(error));
        }
    }
    rd_kafka_event_destroy(ev);
    return active;
}

static sync_item *find_item(group_sync *g, const char *target_topic, int32_t partition)
{
    for (size_t i = 0; i < g->item_count; i++)
        if (g->items[i].checkpoint.partition == partition && strcmp(g->items[i].target_topic, target_topic) == 0)
            return &g->items[i];
    return NULL;
}

static int mark_applied(group_sync *g, const sync_item *item)
{
    const checkpoint_group_offset *c = &item->checkpoint;
    int err = checkpoint_group_mark_applied(g->store, g->flow, c->group, c->topic, c->partition, true);
    return err ? store_failed(g, err, "mark applied") : 0;
}

/* A commit refused because the group has members on the target: they
 * arrived between the member check and the commit (a switchover's target
 * adopts the old region's members while promoting, broker/group/
 * coordinator_adopt.c). Their own commits rule there, as for any group with
 * members: not an error. */
static bool refused_for_members(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID || err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
           err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS;
}

static void count_skipped(round_counts *counts, const char *group)
{
    if (counts->skipped_count < GROUP_SYNC_SKIPPED_LIST_MAX)
        snprintf(counts->skipped[counts->skipped_count], sizeof counts->skipped[0], "%s", group);
    counts->skipped_count++;
}

/* Commits the pending items of group to the target, except partitions whose
 * target commit is already at or past the translation. */
static int apply_group(group_sync *g, const char *group, round_counts *counts)
{
    rd_kafka_topic_partition_list_t *wanted = rd_kafka_topic_partition_list_new((int)g->item_count);
    for (size_t i = 0; i < g->item_count; i++)
        rd_kafka_topic_partition_list_add(wanted, g->items[i].target_topic, g->items[i].checkpoint.partition);
    const rd_kafka_topic_partition_list_t *current = NULL;
    rd_kafka_event_t *fetched = fetch_offsets(g, true, group, wanted, &current);
    rd_kafka_topic_partition_list_destroy(wanted);
    if (!fetched) {
        counts->had_error = true;
        return 0;
    }
    rd_kafka_topic_partition_list_t *commit = rd_kafka_topic_partition_list_new((int)g->item_count);
    int err = 0;
    for (size_t i = 0; i < g->item_count && !err; i++) {
        sync_item *item = &g->items[i];
        int64_t committed = -1;
        for (int j = 0; j < current->cnt; j++)
            if (current->elems[j].partition == item->checkpoint.partition && !current->elems[j].err &&
                strcmp(current->elems[j].topic, item->target_topic) == 0)
                committed = current->elems[j].offset;
        if (committed >= item->checkpoint.target_offset) {
            err = mark_applied(g, item); /* already there or further: never move a group backwards */
            continue;
        }
        rd_kafka_topic_partition_t *p =
            rd_kafka_topic_partition_list_add(commit, item->target_topic, item->checkpoint.partition);
        p->offset = item->checkpoint.target_offset;
        size_t metadata_size = strlen(item->checkpoint.metadata);
        if (metadata_size > 0) {
            p->metadata = malloc(metadata_size); /* freed by the list (rd_free is free) */
            if (p->metadata) {
                memcpy(p->metadata, item->checkpoint.metadata, metadata_size);
                p->metadata_size = metadata_size;
            }
        }
    }
    rd_kafka_event_destroy(fetched);
    if (err || commit->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(commit);
        return err;
    }
    char what[400];
    snprintf(what, sizeof what, "committing translated offsets of group '%s' on the target", group);
    rd_kafka_AlterConsumerGroupOffsets_t *request = rd_kafka_AlterConsumerGroupOffsets_new(group, commit);
    rd_kafka_topic_partition_list_destroy(commit);
    rd_kafka_event_t *ev =
        admin_call(g, true, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, what, start_alter, request);
    rd_kafka_AlterConsumerGroupOffsets_destroy(request);
    if (!ev) {
        counts->had_error = true;
        return 0;
    }
    size_t count = 0;
    const rd_kafka_group_result_t **groups =
        rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &count);
    const rd_kafka_error_t *error = count == 1 ? rd_kafka_group_result_error(groups[0]) : NULL;
    const rd_kafka_topic_partition_list_t *result = count == 1 ? rd_kafka_group_result_partitions(groups[0]) : NULL;
    bool members_came = error && refused_for_members(rd_kafka_error_code(error));
    if ((error && !members_came) || !result) {
        set_error(g, "%s: %s", what, error ? rd_kafka_error_string(error) : "no result");
        counts->had_error = true;
    }
    for (int j = 0; result && j < result->cnt && !err; j++) {
        const rd_kafka_topic_partition_t *p = &result->elems[j];
        sync_item *item = find_item(g, p->topic, p->partition);
        if (!item)
            continue;
        if (p->err && refused_for_members(p->err)) {
            members_came = true;
            continue;
        }
        if (p->err) {
            set_error(g, "%s: %s-%d: %s", what, p->topic, (int)p->partition, rd_kafka_err2str(p->err));
            counts->had_error = true;
            continue;
        }
        err = mark_applied(g, item);
        if (!err)
            counts->applied++;
    }
    if (members_came)
        count_skipped(counts, group);
    rd_kafka_event_destroy(ev);
    return err;
}

/* Checkpoints one source group and applies it where allowed. */
static int sync_group(group_sync *g, const char *group, round_counts *counts)
{
    const rd_kafka_topic_partition_list_t *offsets = NULL;
    rd_kafka_event_t *ev = fetch_offsets(g, false, group, NULL, &offsets);
    if (!ev) {
        counts->had_error = true;
        return 0;
    }
    g->item_count = 0;
    int err = 0;
    for (int i = 0; i < offsets->cnt && !err; i++)
        err = checkpoint_partition(g, group, &offsets->elems[i], counts);
    if (err == ST_ENOMEM) {
        set_error(g, "group '%s': out of memory", group);
        counts->had_error = true;
        err = 0;
    }
    rd_kafka_event_destroy(ev);
    if (err || g->item_count == 0)
        return err;
    bool known = false;
    if (active_on_target(g, group, &known)) {
        count_skipped(counts, group);
        return 0;
    }
    if (!known) {
        counts->had_error = true;
        return 0;
    }
    return apply_group(g, group, counts);
}

static int run_round_locked(group_sync *g)
{
    int64_t started = clock_mono_ms();
    round_counts counts;
    memset(&counts, 0, sizeof counts);
    const topology_flow *flow = &g->topology.flows[g->flow_index];
    rd_kafka_event_t *ev = admin_call(g, false, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS,
                                      "listing groups on the source", start_list_groups, NULL);
    if (!ev)
        return ST_EIO;
    size_t count = 0;
    const rd_kafka_ConsumerGroupListing_t **listing =
        rd_kafka_ListConsumerGroups_result_valid(rd_kafka_event_ListConsumerGroups_result(ev), &count);
    size_t error_count = 0;
    const rd_kafka_error_t **errors =
        rd_kafka_ListConsumerGroups_result_errors(rd_kafka_event_ListConsumerGroups_result(ev), &error_count);
    if (error_count > 0) {
        set_error(g, "listing groups on the source: %s", rd_kafka_error_string(errors[0]));
        counts.had_error = true;
    }
    int err = 0;
    for (size_t i = 0; i < count && !err && !stopping(g); i++) {
        const char *group = rd_kafka_ConsumerGroupListing_group_id(listing[i]);
        if (!group || !*group || strlen(group) >= sizeof g->items[0].checkpoint.group ||
            !topology_flow_matches_group(flow, group))
            continue;
        if (counts.groups_seen >= GROUP_SYNC_GROUPS_PER_ROUND_MAX) {
            log_warn("group_sync", "%s: more than %d matching groups; the rest waits for a later round", g->flow,
                     GROUP_SYNC_GROUPS_PER_ROUND_MAX);
            break;
        }
        counts.groups_seen++;
        err = sync_group(g, group, &counts);
    }
    rd_kafka_event_destroy(ev);
    pthread_mutex_lock(&g->status_lock);
    group_sync_status *s = &g->status;
    s->rounds++;
    s->last_run_ms = clock_wall_ms();
    s->last_run_duration_ms = clock_mono_ms() - started;
    s->groups_seen = counts.groups_seen;
    s->checkpoints_stored = counts.stored;
    s->checkpoints_stored_total += counts.stored;
    s->applied = counts.applied;
    s->applied_total += counts.applied;
    s->untranslatable = counts.untranslatable;
    s->echoes_skipped = counts.echoes;
    s->echoes_skipped_total += counts.echoes;
    s->skipped_active_count = counts.skipped_count;
    memcpy(s->skipped_active, counts.skipped, sizeof s->skipped_active);
    if (!err && !counts.had_error)
        s->last_error[0] = '\0';
    pthread_mutex_unlock(&g->status_lock);
    return err ? err : counts.had_error ? ST_EIO : 0;
}

int group_sync_run_once(group_sync *g)
{
    if (!g)
        return ST_EINVAL;
    pthread_mutex_lock(&g->round_lock);
    pthread_mutex_lock(&g->status_lock);
    bool failed = g->status.failed;
    pthread_mutex_unlock(&g->status_lock);
    int err = failed ? ST_ECORRUPT : run_round_locked(g);
    pthread_mutex_unlock(&g->round_lock);
    return err;
}

/* ---- thread and lifetime -------------------------------------------------- */

static void *sync_thread(void *arg)
{
    group_sync *g = arg;
    log_info("group_sync", "%s: group checkpoints every %lld ms", g->flow,
             (long long)g->topology.checkpoint_interval_ms);
    bool reported = false;
    for (;;) {
        int err = group_sync_run_once(g);
        if (err == ST_ECORRUPT && !reported) {
            log_error("group_sync", "%s: checkpoint store is corrupt; group checkpoints stopped", g->flow);
            reported = true;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = (int64_t)until.tv_nsec + (g->topology.checkpoint_interval_ms % 1000) * 1000000;
        until.tv_sec += (time_t)(g->topology.checkpoint_interval_ms / 1000 + ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        pthread_mutex_lock(&g->status_lock);
        while (!g->stopping && pthread_cond_timedwait(&g->wake, &g->status_lock, &until) == 0) {
        }
        bool stop = g->stopping;
        pthread_mutex_unlock(&g->status_lock);
        if (stop)
            break;
    }
    return NULL;
}

static void rdkafka_log(const rd_kafka_t *rk, int level, const char *facility, const char *message)
{
    (void)rk;
    enum log_level ours = level <= 3 ? LOG_ERROR : level <= 4 ? LOG_WARN : level <= 6 ? LOG_INFO : LOG_DEBUG;
    log_write(ours, "group_sync", "librdkafka %s: %s", facility, message);
}

static rd_kafka_t *admin_client(const char *flow, const char *side, const topology *t,
                                int region_index)
{
    const topology_region *region = &t->regions[region_index];
    char err[512];
    char client_id[256];
    /* the sidecar prefix: standby brokers answer it locally, not by redirect */
    snprintf(client_id, sizeof client_id, "strait-sidecar-group-sync-%s", flow);
    /* the region's address and link security (TLS, SASL) */
    rd_kafka_conf_t *conf = region_client_conf_new(t, region_index, client_id, err, sizeof err);
    if (!conf) {
        log_error("group_sync", "%s: %s client for region %s: %s", flow, side, region->name, err);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, rdkafka_log);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err); /* takes conf on success */
    if (!rk) {
        log_error("group_sync", "%s: %s client for region %s: %s", flow, side, region->name, err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static void destroy(group_sync *g)
{
    if (g->source)
        rd_kafka_destroy(g->source);
    if (g->target)
        rd_kafka_destroy(g->target);
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->status_lock);
    pthread_mutex_destroy(&g->round_lock);
    free(g->items);
    free(g);
}

int group_sync_start(const topology *t, int flow_index, checkpoint_store *store, group_sync **out)
{
    *out = NULL;
    if (!t || !store || flow_index < 0 || flow_index >= t->flow_count || t->checkpoint_interval_ms <= 0)
        return ST_EINVAL;
    const topology_flow *flow = &t->flows[flow_index];
    if (flow->source < 0 || flow->source >= t->region_count || flow->target < 0 || flow->target >= t->region_count)
        return ST_EINVAL;
    group_sync *g = calloc(1, sizeof *g);
    if (!g)
        return ST_ENOMEM;
    g->topology = *t;
    g->flow_index = flow_index;
    g->store = store;
    snprintf(g->flow, sizeof g->flow, "%s->%s", t->regions[flow->source].name, t->regions[flow->target].name);
    snprintf(g->status.flow, sizeof g->status.flow, "%s", g->flow);
    pthread_mutex_init(&g->round_lock, NULL);
    pthread_mutex_init(&g->status_lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->wake, &attr);
    pthread_condattr_destroy(&attr);
    g->source = admin_client(g->flow, "source", t, flow->source);
    g->target = admin_client(g->flow, "target", t, flow->target);
    if (!g->source || !g->target) {
        destroy(g);
        return ST_ECONFIG;
    }
    g->status.running = true;
    if (pthread_create(&g->thread, NULL, sync_thread, g) != 0) {
        destroy(g);
        return ST_ENOMEM;
    }
    g->thread_started = true;
    *out = g;
    return 0;
}

void group_sync_stop(group_sync *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->status_lock);
    g->stopping = true;
    pthread_cond_broadcast(&g->wake);
    pthread_mutex_unlock(&g->status_lock);
    if (g->thread_started)
        pthread_join(g->thread, NULL);
    destroy(g);
}

int group_sync_status_get(group_sync *g, group_sync_status *out)
{
    if (!g || !out)
        return ST_EINVAL;
    pthread_mutex_lock(&g->status_lock);
    *out = g->status;
    out->running = g->status.running && !g->stopping;
    pthread_mutex_unlock(&g->status_lock);
    return 0;
}
