/*
 * broker_push.c - the region's failover role to its brokers as dynamic
 * broker configs (contract in broker_push.h). One short-lived librdkafka
 * client per call: pushes are rare (a state change, a retry), and a fresh
 * client never carries stale metadata from before a region came back.
 */
#include "failover/broker_push.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "common/error.h"
#include "common/log.h"
#include "failover/roles.h"
#include "topology/region_client.h"

#define PUSH_BROKERS_MAX 64
#define PUSH_LIST_BYTES 4096

rd_kafka_t *failover_sidecar_client(const topology *t, int region, const char *self,
                                    const char *purpose, rd_kafka_type_t type,
                                    const char *log_level, char *err, size_t errlen)
{
    char errstr[512], client_id[128];
    snprintf(client_id, sizeof client_id, "%s-%s-%s", REGION_SIDECAR_CLIENT_ID_PREFIX, self,
             purpose);
    /* the region's address and link security (TLS, SASL) */
    rd_kafka_conf_t *conf = region_client_conf_new(t, region, client_id, err, errlen);
    if (!conf)
        return NULL;
    if (rd_kafka_conf_set(conf, "log_level", log_level, errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "librdkafka config: %s", errstr);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!rk)
        snprintf(err, errlen, "librdkafka client: %s", errstr);
    return rk;
}

/* The client pushes and reads the region's own brokers. */
static rd_kafka_t *admin_client(const topology *t, int region, char *err, size_t errlen)
{
    return failover_sidecar_client(t, region, t->regions[region].name, "roles",
                                   RD_KAFKA_PRODUCER, "3", err, errlen);
}

typedef struct broker_entry {
    int32_t id;
    char host[256];
    int port;
} broker_entry;

static int list_brokers(rd_kafka_t *rk, const topology *t, int region, int timeout_ms,
                        broker_entry *out, int *count, char *err, size_t errlen)
{
    /* Lifetime: rd_kafka_metadata waits on a reply queue of its own and drops a
     * reply that comes after timeout_ms; no coordinator lookup is involved (the
     * hazard described in checkpoints/group_sync.c does not apply). */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "region %s (%s) does not answer Metadata: %s",
                 t->regions[region].name, t->regions[region].bootstrap, rd_kafka_err2str(e));
        return ST_EIO;
    }
    int n = 0;
    for (int i = 0; i < md->broker_cnt && n < PUSH_BROKERS_MAX; i++) {
        out[n].id = md->brokers[i].id;
        snprintf(out[n].host, sizeof out[n].host, "%s", md->brokers[i].host);
        out[n].port = md->brokers[i].port;
        n++;
    }
    rd_kafka_metadata_destroy(md);
    *count = n;
    if (n == 0) {
        snprintf(err, errlen, "region %s lists no brokers", t->regions[region].name);
        return ST_EIO;
    }
    return 0;
}

int failover_region_brokers(const topology *t, int region, char *out, size_t outlen, char *err,
                            size_t errlen)
{
    out[0] = '\0';
    rd_kafka_t *rk = admin_client(t, region, err, errlen);
    if (!rk)
        return ST_EIO;
    broker_entry brokers[PUSH_BROKERS_MAX];
    int count = 0;
    int rc = list_brokers(rk, t, region, FAILOVER_PUSH_TIMEOUT_MS, brokers, &count, err, errlen);
    size_t used = 0;
    for (int i = 0; rc == 0 && i < count; i++) {
        int n = snprintf(out + used, outlen - used, "%s%" PRId32 "@%s:%d", i ? "," : "",
                         brokers[i].id, brokers[i].host, brokers[i].port);
        if (n < 0 || (size_t)n >= outlen - used) {
            snprintf(err, errlen, "broker list of region %s is too long", t->regions[region].name);
            rc = ST_ETOOBIG;
        } else {
            used += (size_t)n;
        }
    }
    rd_kafka_destroy(rk);
    return rc;
}

/* Every identity-named flow into or out of region: the flows whose topics
 * keep their names, so a standby region must protect them. */
static bool flow_redirected(const topology_flow *f, int region)
{
    return f->naming == TOPOLOGY_NAMING_IDENTITY && (f->source == region || f->target == region);
}

static bool list_has(const char *const *items, int count, const char *p)
{
    for (int i = 0; i < count; i++)
        if (strcmp(items[i], p) == 0)
            return true;
    return false;
}

/* Joins items with commas into out. A pattern that does not fit is left
 * out and *dropped counts it (out always holds whole patterns). */
static void join_patterns(const char *const *items, int count, char *out, size_t outlen,
                          int *dropped)
{
    size_t used = 0;
    out[0] = '\0';
    *dropped = 0;
    for (int i = 0; i < count; i++) {
        size_t n = strlen(items[i]) + (used ? 1 : 0);
        if (used + n >= outlen) {
            (*dropped)++;
            continue;
        }
        snprintf(out + used, outlen - used, "%s%s", used ? "," : "", items[i]);
        used += n;
    }
}

int failover_redirect_patterns(const topology *t, int region, char *topics, size_t topics_len,
                               char *exclude, size_t exclude_len, char *err, size_t errlen)
{
    const char *inc[TOPOLOGY_FLOWS_MAX * TOPOLOGY_PATTERN_MAX]; /* 8 KiB of pointers */
    const char *common[TOPOLOGY_PATTERN_MAX];
    int include_count = 0, common_count = 0;
    bool first = true;
    for (int i = 0; i < t->flow_count; i++) {
        const topology_flow *f = &t->flows[i];
        if (!flow_redirected(f, region))
            continue;
        /* the union of the includes, each pattern once */
        for (int j = 0; j < f->topic_count; j++)
            if (!list_has(inc, include_count, f->topics[j]))
                inc[include_count++] = f->topics[j];
        /* the intersection of the excludes: the first flow's list, then
         * only what every later flow excludes too */
        if (first) {
            for (int j = 0; j < f->exclude_count; j++)
                if (!list_has(common, common_count, f->topics_exclude[j]))
                    common[common_count++] = f->topics_exclude[j];
            first = false;
            continue;
        }
        int kept = 0;
        for (int k = 0; k < common_count; k++) {
            bool everywhere = false;
            for (int j = 0; j < f->exclude_count && !everywhere; j++)
                everywhere = strcmp(common[k], f->topics_exclude[j]) == 0;
            if (everywhere)
                common[kept++] = common[k];
        }
        common_count = kept;
    }
    int dropped = 0;
    join_patterns(inc, include_count, topics, topics_len, &dropped);
    if (dropped > 0) {
        /* protecting fewer topics than the flows mirror is a split-brain risk */
        snprintf(err, errlen, "region %s: the include patterns of its flows do not fit in "
                 REGION_KEY_TOPICS " (%zu bytes)", t->regions[region].name, topics_len - 1);
        return ST_ETOOBIG;
    }
    /* excluding fewer only costs availability on a standby */
    join_patterns(common, common_count, exclude, exclude_len, &dropped);
    return 0;
}

/* The group patterns of every identity flow touching region, each once. */
static int flow_groups(const topology *t, int region, char *out, size_t outlen, char *err,
                       size_t errlen)
{
    const char *items[TOPOLOGY_FLOWS_MAX * TOPOLOGY_PATTERN_MAX];
    int count = 0;
    for (int i = 0; i < t->flow_count; i++) {
        const topology_flow *f = &t->flows[i];
        if (!flow_redirected(f, region))
            continue;
        for (int j = 0; j < f->group_count; j++)
            if (!list_has(items, count, f->groups[j]))
                items[count++] = f->groups[j];
    }
    int dropped = 0;
    join_patterns(items, count, out, outlen, &dropped);
    if (dropped > 0) {
        snprintf(err, errlen, "region %s: the group patterns of its flows do not fit in "
                 REGION_KEY_GROUPS " (%zu bytes)", t->regions[region].name, outlen - 1);
        return ST_ETOOBIG;
    }
    return 0;
}

static rd_kafka_resp_err_t set_config(rd_kafka_ConfigResource_t *r, const char *name,
                                      const char *value)
{
    return rd_kafka_ConfigResource_set_config(r, name, value);
}

/* Waits for the admin result of type want on queue; 0, or ST_EIO with err.
 * Lifetime (DescribeConfigs and AlterConfigs of BROKER resources: sent to
 * that broker, no coordinator lookup): librdkafka's own timeout, timeout_ms,
 * produces a result before this wait ends; one that comes later still is
 * dropped with the queue, which the caller destroys after its last poll. */
static int admin_wait(rd_kafka_queue_t *queue, int timeout_ms, rd_kafka_event_type_t want,
                      const char *what, rd_kafka_event_t **out, char *err, size_t errlen)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, timeout_ms + 1000);
    *out = ev;
    if (!ev) {
        snprintf(err, errlen, "%s timed out", what);
        return ST_EIO;
    }
    if (rd_kafka_event_type(ev) != want) {
        snprintf(err, errlen, "%s: unexpected admin event %s", what, rd_kafka_event_name(ev));
        return ST_EIO;
    }
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "%s failed: %s", what, rd_kafka_event_error_string(ev));
        return ST_EIO;
    }
    return 0;
}

/* The lease anchor of one broker: its strait.region.clock.ms, read with a
 * DescribeConfigs of its BROKER resource (one call per broker: librdkafka
 * sends a BROKER resource to that broker). Decimal text into out. */
static int read_anchor(rd_kafka_t *rk, const char *region, const broker_entry *b, int timeout_ms,
                       char *out, size_t outlen, char *err, size_t errlen)
{
    char id[16], what[128];
    snprintf(id, sizeof id, "%" PRId32, b->id);
    snprintf(what, sizeof what, "region %s broker %s: DescribeConfigs %s", region, id,
             REGION_KEY_CLOCK_MS);
    rd_kafka_ConfigResource_t *resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_BROKER, id);
    set_config(resource, REGION_KEY_CLOCK_MS, NULL); /* only this name is asked for */
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *options =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, NULL, 0);
    rd_kafka_DescribeConfigs(rk, &resource, 1, options, queue);
    rd_kafka_event_t *ev = NULL;
    int rc = admin_wait(queue, timeout_ms, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, what, &ev, err,
                        errlen);
    out[0] = '\0';
    if (rc == 0) {
        size_t n = 0;
        const rd_kafka_ConfigResource_t **done = rd_kafka_DescribeConfigs_result_resources(
            rd_kafka_event_DescribeConfigs_result(ev), &n);
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (rd_kafka_ConfigResource_error(done[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                snprintf(err, errlen, "%s: %s", what, rd_kafka_ConfigResource_error_string(done[i]));
                rc = ST_EIO;
                break;
            }
            size_t entries = 0;
            const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(done[i], &entries);
            for (size_t j = 0; j < entries; j++) {
                const char *value = rd_kafka_ConfigEntry_value(e[j]);
                if (!strcmp(rd_kafka_ConfigEntry_name(e[j]), REGION_KEY_CLOCK_MS) && value)
                    snprintf(out, outlen, "%s", value);
            }
        }
        if (rc == 0 && !out[0]) {
            snprintf(err, errlen, "%s: the broker does not report it", what);
            rc = ST_EIO;
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_queue_destroy(queue);
    rd_kafka_ConfigResource_destroy(resource);
    return rc;
}

/* Sends one broker's region state and waits for its answer. */
static int alter_broker(rd_kafka_t *rk, const char *name, rd_kafka_ConfigResource_t *resource,
                        int timeout_ms, char *err, size_t errlen)
{
    int rc = 0;
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
    rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, NULL, 0);
    rd_kafka_AlterConfigs(rk, &resource, 1, options, queue);
    /* lifetime as in admin_wait */
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, timeout_ms + 1000);
    if (!ev) {
        snprintf(err, errlen, "region %s: AlterConfigs timed out", name);
        rc = ST_EIO;
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "region %s: AlterConfigs failed: %s", name,
                 rd_kafka_event_error_string(ev));
        rc = ST_EIO;
    } else {
        const rd_kafka_AlterConfigs_result_t *result = rd_kafka_event_AlterConfigs_result(ev);
        size_t n = 0;
        const rd_kafka_ConfigResource_t **done = rd_kafka_AlterConfigs_result_resources(result, &n);
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (rd_kafka_ConfigResource_error(done[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                snprintf(err, errlen, "region %s broker %s refused its role: %s", name,
                         rd_kafka_ConfigResource_name(done[i]),
                         rd_kafka_ConfigResource_error_string(done[i]));
                rc = ST_EIO;
            }
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_queue_destroy(queue);
    return rc;
}

int failover_push_roles(const topology *t, int region, const failover_state *st,
                        const failover_push_options *opt, char *err, size_t errlen)
{
    const char *name = t->regions[region].name;
    enum failover_role role = failover_role_of(st, name);
    char redirect[PUSH_LIST_BYTES] = "", topics[PUSH_LIST_BYTES], groups[PUSH_LIST_BYTES];
    char exclude[PUSH_LIST_BYTES];
    char epoch[32];
    snprintf(epoch, sizeof epoch, "%" PRId64, st->epoch);
    int active = topology_region_index(t, st->active);
    if (active < 0) {
        snprintf(err, errlen, "active region '%s' is not in the topology", st->active);
        return ST_EINVAL;
    }
    int rc = failover_redirect_patterns(t, region, topics, sizeof topics, exclude, sizeof exclude,
                                        err, errlen);
    if (rc == 0)
        rc = flow_groups(t, region, groups, sizeof groups, err, errlen);
    if (rc != 0)
        return rc;
    if (role == FAILOVER_ROLE_STANDBY) { /* a standby must know where to send clients */
        rc = failover_region_brokers(t, active, redirect, sizeof redirect, err, errlen);
        if (rc != 0) /* nothing was sent to this region's brokers (broker_push.h) */
            return rc == ST_EIO ? ST_ENOTFOUND : rc;
    }

    char lease[32];
    snprintf(lease, sizeof lease, "%" PRId64, opt->lease_ms);
    rd_kafka_t *rk = opt->client ? opt->client : admin_client(t, region, err, errlen);
    if (!rk)
        return ST_EIO;
    broker_entry brokers[PUSH_BROKERS_MAX];
    int count = 0;
    int timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : FAILOVER_PUSH_TIMEOUT_MS;
    rc = list_brokers(rk, t, region, timeout_ms, brokers, &count, err, errlen);
    /* every broker's lease anchor first, then the sender's decision: the
     * lease this change renews runs from a time the broker read before it
     * (region_state.h), however long the change then takes to arrive */
    char anchors[PUSH_BROKERS_MAX][32];
    for (int i = 0; rc == 0 && i < count; i++)
        rc = read_anchor(rk, name, &brokers[i], timeout_ms, anchors[i], sizeof anchors[i], err,
                         errlen);
    if (rc == 0 && opt->proceed && !opt->proceed(opt->proceed_arg)) {
        snprintf(err, errlen, "region %s: the push was called off after the anchors were read "
                 "(the state it carries is no longer this sidecar's to send)", name);
        rc = ST_EINVAL;
    }
    rd_kafka_ConfigResource_t *resources[PUSH_BROKERS_MAX];
    int made = 0;
    for (int i = 0; rc == 0 && i < count; i++, made++) {
        char id[16];
        snprintf(id, sizeof id, "%" PRId32, brokers[i].id);
        resources[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_BROKER, id);
        set_config(resources[i], REGION_KEY_ROLE, failover_role_name(role));
        set_config(resources[i], REGION_KEY_EPOCH, epoch);
        set_config(resources[i], REGION_KEY_ACTIVE, st->active);
        set_config(resources[i], REGION_KEY_BROKERS, redirect);
        set_config(resources[i], REGION_KEY_TOPICS, topics);
        /* always sent (AlterConfigs replaces): an exclude removed from the
         * topology is cleared on the brokers */
        set_config(resources[i], REGION_KEY_TOPICS_EXCLUDE, exclude);
        set_config(resources[i], REGION_KEY_GROUPS, groups);
        if (opt->lease_ms > 0)
            set_config(resources[i], REGION_KEY_LEASE_MS, lease);
        set_config(resources[i], REGION_KEY_LEASE_ANCHOR_MS, anchors[i]);
    }
    /* one AlterConfigs per broker: librdkafka (2.0.2) refuses a call that
     * holds more than one BROKER resource, since each goes to its own broker */
    for (int i = 0; rc == 0 && i < count; i++)
        rc = alter_broker(rk, name, resources[i], timeout_ms, err, errlen);
    for (int i = 0; i < made; i++) /* AlterConfigs copied them */
        rd_kafka_ConfigResource_destroy(resources[i]);
    if (!opt->client)
        rd_kafka_destroy(rk);
    if (rc == 0 && !opt->quiet)
        log_info("failover", "roles pushed region=%s role=%s epoch=%s brokers=%d redirect=%s "
                 "lease_ms=%" PRId64, name, failover_role_name(role), epoch, count,
                 redirect[0] ? redirect : "-", opt->lease_ms);
    return rc;
}
