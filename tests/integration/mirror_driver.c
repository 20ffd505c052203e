/*
 * mirror_driver.c - test tool: runs ONE mirror flow without the sidecar
 * process, so integration tests can drive, kill -9 and restart it.
 *
 *   mirror_driver --topology FILE --source REGION --target REGION --state DB
 *
 * Loads the topology (topology_load), opens the checkpoint store at DB, starts
 * the flow and runs until SIGTERM/SIGINT, then stops it (flush) and exits 0.
 * Every second it prints one status line to stdout:
 *   status copied=N skipped_loop=N lag=N error="..."
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoints/checkpoint_store.h"
#include "common/error.h"
#include "mirror/flow.h"
#include "topology/topology.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

static int find_flow(const topology *t, const char *source, const char *target)
{
    for (int i = 0; i < t->flow_count; i++)
        if (strcmp(t->regions[t->flows[i].source].name, source) == 0 &&
            strcmp(t->regions[t->flows[i].target].name, target) == 0)
            return i;
    return -1;
}

static void print_status(mirror_flow *flow)
{
    mirror_flow_status s;
    if (mirror_flow_status_get(flow, &s) != 0)
        return;
    int64_t lag = 0;
    for (int i = 0; i < s.partition_count; i++)
        lag += s.partitions[i].lag_records;
    printf("status copied=%lld skipped_loop=%lld partitions=%d lag=%lld running=%d error=\"%s\"\n",
           (long long)s.records_copied, (long long)s.records_skipped_loop, s.partition_count,
           (long long)lag, s.running ? 1 : 0, s.last_error);
    fflush(stdout);
    mirror_flow_status_free(&s);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *source = NULL, *target = NULL, *state = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--topology") == 0)
            path = argv[i + 1];
        else if (strcmp(argv[i], "--source") == 0)
            source = argv[i + 1];
        else if (strcmp(argv[i], "--target") == 0)
            target = argv[i + 1];
        else if (strcmp(argv[i], "--state") == 0)
            state = argv[i + 1];
    }
    if (path == NULL || source == NULL || target == NULL || state == NULL) {
        fprintf(stderr, "usage: mirror_driver --topology FILE --source R --target R --state DB\n");
        return 2;
    }
    static topology t;
    char err[1024];
    if (topology_load(path, &t, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    int index = find_flow(&t, source, target);
    if (index < 0) {
        fprintf(stderr, "no flow %s -> %s in %s\n", source, target, path);
        return 2;
    }
    checkpoint_store *store = NULL;
    int rc = checkpoint_store_open(state, &store);
    if (rc != 0) {
        fprintf(stderr, "checkpoint store %s: %s\n", state, strait_strerror(rc));
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    mirror_flow *flow = NULL;
    rc = mirror_flow_start(&t, index, store, &flow);
    if (rc != 0) {
        fprintf(stderr, "flow start: %s\n", strait_strerror(rc));
        checkpoint_store_close(store);
        return 1;
    }
    int ticks = 0;
    while (!stop_requested) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (++ticks % 10 == 0)
            print_status(flow);
    }
    mirror_flow_stop(flow);
    checkpoint_store_close(store);
    printf("stopped\n");
    return 0;
}
