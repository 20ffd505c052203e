/*
 * broker.c - one broker node: opens the data dir and its topics, wires the
 * handlers' context, binds the listener, runs the event loop with a
 * once-a-second tick (flush.ms, segment roll by age, retention, region lease
 * lapse log), and shuts down cleanly on SIGTERM/SIGINT.
 */
#include "broker/broker.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_metrics.h"
#include "broker/cluster/producer_ids.h"
#include "broker/cluster/region_epochs.h"
#include "broker/cluster/region_state.h"
#include "broker/group/coordinator.h"
#include "broker/log/cleaner.h"
#include "broker/log/flusher.h"
#include "broker/metrics/metrics.h"
#include "broker/net/metrics_http.h"
#include "broker/config/listeners.h"
#include "broker/net/server.h"
#include "broker/proto/data_apis.h"
#include "broker/proto/request_park.h"
#include "common/clock.h"
#include "security/sasl_server.h"
#include "security/scram_file.h"
#include "security/scram_store.h"
#include "common/error.h"
#include "common/log.h"
#include "security/acl.h"
#include "security/acl_file.h"

#define BROKER_TICK_MS 1000 /* granularity of flush.ms, segment.ms, retention */

/* Offers every partition log to the cleaner; it starts the filthiest one
 * when its worker is idle. */
static void clean_logs(broker_node *node, int64_t now_ms)
{
    broker *b = &node->context;
    if (node->cleaner == NULL || log_cleaner_busy(node->cleaner))
        return;
    for (int i = 0; i < topic_registry_count(b->topics); i++) {
        topic *t = topic_registry_at(b->topics, i);
        for (int32_t p = 0; p < t->partition_count; p++)
            log_cleaner_consider(node->cleaner, t->partitions[p].log, now_ms);
    }
    log_cleaner_start(node->cleaner);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    broker_node *node = arg;
    broker *b = &node->context;
    int64_t now_ms = clock_wall_ms();
    topic_registry_tick(b->topics, now_ms);
    clean_logs(node, now_ms);
    coordinator_tick(b->coordinator);
    /* logs a region lease that lapsed (decisions never wait for this: the
     * effective role is computed when a request asks) */
    region_state_lease_check(b->region, clock_mono_ms());
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    broker_wake_parked(arg);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    broker_node *node = arg;
    log_info("broker", "shutting down signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    broker_stop(node);
}

/* SIGHUP: the SSL listeners reread their certificate files; connections
 * accepted from now on use them. */
static void reload_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    broker_node *node = arg;
    log_info("broker", "SIGHUP: reloading the listeners' certificates");
    server_reload_tls(node->server);
}

/* Fills b->advertised[] from the listeners, a port 0 taking the bound one;
 * advertised_host/port (handlers without a connection) is listener 0's. */
static void set_advertised(broker *b, const listener_set *set, const struct server *server)
{
    for (int i = 0; i < set->count; i++) {
        broker_advertised_address *a = &b->advertised[i];
        snprintf(a->host, sizeof a->host, "%s", set->items[i].advertised_host);
        a->port = set->items[i].advertised_port ? set->items[i].advertised_port
                                                : server_port(server, i);
    }
    b->advertised_count = set->count;
    snprintf(b->advertised_host, sizeof b->advertised_host, "%s", b->advertised[0].host);
    b->advertised_port = b->advertised[0].port;
}

/* The SASL users (security/scram_store.h) and, when a listener is SASL,
 * Cyrus SASL over them. */
static int users_open(broker *b, const listener_set *listeners)
{
    char why[512] = "";
    const char *dir = topic_registry_data_dir(b->topics);
    b->users = scram_store_new();
    if (!b->users)
        return ST_ENOMEM;
    bool found = false;
    if (scram_file_load(dir, b->users, &found, why, sizeof why) != 0) {
        log_error("broker", "cannot load the SASL users reason=%s", why);
        return ST_ECONFIG;
    }
    if (found && b->config.sasl_users_file[0])
        log_info("broker", "sasl.users.file ignored: the users are in the data dir (%s/%s); "
                 "change them with AlterUserScramCredentials", dir, SCRAM_FILE_NAME);
    if (!found && b->config.sasl_users_file[0]) { /* first start: bootstrap */
        if (scram_store_load_users_file(b->users, b->config.sasl_users_file, SCRAM_ITERATIONS_MIN,
                                        why, sizeof why) != 0) {
            log_error("broker", "cannot load sasl.users.file path=%s reason=%s",
                      b->config.sasl_users_file, why);
            return ST_ECONFIG;
        }
        int rc = scram_file_save(b->users, dir);
        if (rc != 0) {
            log_error("broker", "cannot write the SASL users error=%s", strait_strerror(rc));
            return rc;
        }
        log_info("audit", "users bootstrapped from sasl.users.file path=%s users=%zu",
                 b->config.sasl_users_file, scram_store_user_count(b->users));
    }
    bool sasl = false;
    for (int i = 0; i < listeners->count; i++)
        sasl = sasl || listeners->items[i].protocol == LISTENER_SASL_PLAINTEXT ||
               listeners->items[i].protocol == LISTENER_SASL_SSL;
    if (!sasl)
        return 0;
    if (sasl_server_setup(b->users, why, sizeof why) != 0) {
        log_error("broker", "cannot start SASL reason=%s", why);
        return ST_EIO;
    }
    log_info("broker", "sasl on users=%zu", scram_store_user_count(b->users));
    return 0;
}

static void log_listeners(const listener_set *set, const struct server *server)
{
    for (int i = 0; i < set->count; i++) {
        const listener_endpoint *e = &set->items[i];
        log_info("broker", "listener %s protocol=%s bound=%s:%d advertised=%s:%d%s", e->name,
                 listener_protocol_name(e->protocol), e->host, server_port(server, i),
                 e->advertised_host, e->advertised_port ? e->advertised_port : server_port(server, i),
                 i == set->inter_broker ? " inter.broker" : "");
    }
}

static void render_metrics_page(void *arg, buf *page)
{
    broker_node *node = arg;
    broker_metrics_render(node->context.metrics, node, page);
}

/* Starts the metrics.listener endpoint unless it is off; url gets
 * "http://host:port/metrics" (the port bound) for the start-up log line. */
static int open_metrics_http(broker_node *node, char *url, size_t url_len)
{
    broker *b = &node->context;
    char host[256];
    int port = 0;
    int rc = broker_config_metrics_listener(&b->config, host, sizeof host, &port);
    if (rc == ST_ENOTFOUND)
        return 0; /* metrics.listener is empty: off */
    if (rc != 0) {
        log_error("broker", "cannot parse metrics.listener value=%s", b->config.metrics_listener);
        return ST_ECONFIG;
    }
    rc = metrics_http_open(b->base, host, port, render_metrics_page, node, &node->metrics_http);
    if (rc != 0)
        return rc;
    bool ipv6 = strchr(host, ':') != NULL;
    snprintf(url, url_len, "http://%s%s%s:%d/metrics", ipv6 ? "[" : "", host, ipv6 ? "]" : "",
             metrics_http_port(node->metrics_http));
    return 0;
}

/* coordinator_deps.notify_append: the group coordinator appended to p. */
static void notify_append(void *arg, partition *p) { broker_notify_append(arg, p); }

int broker_open(const broker_config *config, broker_node **out)
{
    broker_node *node = calloc(1, sizeof *node);
    if (!node)
        return ST_ENOMEM;
    broker *b = &node->context;
    b->config = *config;
    int rc = ST_EIO;
    char msg[512];
    listener_set *listeners = malloc(sizeof *listeners);
    if (!listeners) {
        free(node);
        return ST_ENOMEM;
    }
    if (listeners_resolve(config, listeners, msg, sizeof msg) != 0) {
        log_error("broker", "%s", msg);
        rc = ST_ECONFIG;
        goto fail;
    }
    /* the log cleaner's worker posts results with event_active: the base
     * must be created thread-aware and notifiable */
    if (evthread_use_pthreads() != 0)
        goto fail;
    b->base = event_base_new();
    if (!b->base || evthread_make_base_notifiable(b->base) != 0)
        goto fail;
    rc = topic_registry_open(config, &b->topics);
    if (rc != 0) {
        log_error("broker", "cannot open data dir log.dirs=%s error=%s", config->log_dirs,
                  strait_strerror(rc));
        goto fail;
    }
    /* before anything answers a client: a restarted standby must come back
     * redirecting and fencing, never as a plain broker for a moment */
    rc = region_state_open(topic_registry_data_dir(b->topics), &b->region);
    if (rc != 0) {
        log_error("broker", "cannot load the region state error=%s", strait_strerror(rc));
        goto fail;
    }
    if (b->config.authorizer_class_name[0] != '\0') {
        char why[512] = "";
        b->acls = acl_store_new();
        rc = b->acls ? acl_file_load(topic_registry_data_dir(b->topics), b->acls, why, sizeof why)
                     : ST_ENOMEM;
        if (rc != 0) {
            log_error("broker", "cannot load the ACLs error=%s reason=%s", strait_strerror(rc), why);
            goto fail;
        }
        log_info("broker", "authorizer on acls=%zu super.users=%s allow.everyone.if.no.acl.found=%s",
                 acl_store_count(b->acls), b->config.super_users,
                 b->config.allow_everyone_if_no_acl_found ? "true" : "false");
    }
    rc = users_open(b, listeners);
    if (rc != 0)
        goto fail;
    if (region_epochs_raise_all(b->region, b->topics) < 0) {
        rc = ST_EIO;
        goto fail;
    }
    coordinator_deps group_deps = {
        .base = b->base,
        .topics = b->topics,
        .group = {.min_session_timeout_ms = config->group_min_session_timeout_ms,
                  .max_session_timeout_ms = config->group_max_session_timeout_ms,
                  .max_size = config->group_max_size,
                  .initial_rebalance_delay_ms = config->group_initial_rebalance_delay_ms},
        .offsets_topic_num_partitions = config->offsets_topic_num_partitions,
        .offsets_retention_minutes = config->offsets_retention_minutes,
        .offsets_retention_check_interval_ms = config->offsets_retention_check_interval_ms,
        .notify_append = notify_append,
        .notify_arg = b,
    };
    rc = coordinator_open(&group_deps, &b->coordinator);
    if (rc != 0) {
        log_error("broker", "cannot start the group coordinator error=%s", strait_strerror(rc));
        goto fail;
    }
    rc = producer_ids_open(topic_registry_data_dir(b->topics), config->node_id, &b->producer_ids);
    if (rc != 0)
        goto fail;
    /* flush.messages / flush.ms fsyncs run on these workers, never on the
     * loop; Produce waits for them before acknowledging (produce_wait.c) */
    rc = log_flusher_open(b->base, &node->flusher);
    if (rc != 0)
        goto fail;
    topic_registry_set_flusher(b->topics, node->flusher);
    rc = log_cleaner_open(b->base, &node->cleaner);
    if (rc != 0)
        goto fail;
    rc = metrics_open(&b->metrics);
    if (rc != 0)
        goto fail;
    rc = server_open(b, listeners, &node->server);
    if (rc != 0)
        goto fail;
    set_advertised(b, listeners, node->server);
    char metrics_url[320] = "off";
    rc = open_metrics_http(node, metrics_url, sizeof metrics_url);
    if (rc != 0)
        goto fail;
    node->tick_event = event_new(b->base, -1, EV_PERSIST, tick_cb, node);
    struct timeval tick = {.tv_sec = BROKER_TICK_MS / 1000, .tv_usec = (BROKER_TICK_MS % 1000) * 1000};
    event_add(node->tick_event, &tick);
    b->wake_event = event_new(b->base, -1, 0, wake_cb, b);
    node->signal_events[0] = evsignal_new(b->base, SIGTERM, signal_cb, node);
    node->signal_events[1] = evsignal_new(b->base, SIGINT, signal_cb, node);
    node->signal_events[2] = evsignal_new(b->base, SIGHUP, reload_cb, node);
    for (int i = 0; i < 3; i++)
        event_add(node->signal_events[i], NULL);
    signal(SIGPIPE, SIG_IGN);
    log_listeners(listeners, node->server);
    log_info("broker", "started node.id=%d listeners=%d advertised=%s:%d log.dirs=%s "
             "cluster.id=%s topics=%d metrics=%s", config->node_id, listeners->count,
             b->advertised_host, b->advertised_port, config->log_dirs,
             topic_registry_cluster_id(b->topics), topic_registry_count(b->topics), metrics_url);
    free(listeners);
    *out = node;
    return 0;
fail:
    free(listeners);
    broker_close(node);
    return rc;
}

int broker_run(broker_node *node)
{
    int rc = event_base_dispatch(node->context.base);
    return rc < 0 ? ST_EIO : 0;
}

void broker_stop(broker_node *node)
{
    node->stopping = true;
    event_base_loopexit(node->context.base, NULL);
}

void broker_close(broker_node *node)
{
    if (!node)
        return;
    broker *b = &node->context;
    metrics_http_close(node->metrics_http);
    node->metrics_http = NULL;
    server_close(node->server); /* drops parked requests with their connections */
    node->server = NULL;
    coordinator_close(b->coordinator); /* after the server: it drops parked joins */
    b->coordinator = NULL;
    fetch_sessions_release(b);
    if (node->tick_event)
        event_free(node->tick_event);
    if (b->wake_event)
        event_free(b->wake_event);
    for (int i = 0; i < 3; i++)
        if (node->signal_events[i])
            event_free(node->signal_events[i]);
    if (b->topics) {
        topic_registry_close(b->topics);
        log_info("broker", "stopped: logs flushed and closed");
    }
    log_cleaner_close(node->cleaner); /* after the logs: closing a log cancels its cleaning */
    log_flusher_close(node->flusher);  /* after the logs: closing a log settles its fsync */
    producer_ids_close(b->producer_ids);
    region_state_close(b->region);
    acl_store_free(b->acls);
    scram_store_free(b->users);
    metrics_close(b->metrics);
    if (b->base)
        event_base_free(b->base);
    free(node);
}
