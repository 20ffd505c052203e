/*
 * fuzz_topology.c - libFuzzer target for the topology file (DESIGN.md §6),
 * loaded by topology_load (topology/topology.c) through common/yaml_map.h
 * with indexed sequences.
 * Functions called: topology_load, topology_region_index,
 * topology_flow_matches_topic, topology_flow_matches_group,
 * topology_target_topic, topology_flow_name.
 *
 * Input: the YAML text. topology_load only takes a path, so the input is
 * written to the target's temporary directory (tmpfs) first. Checked: a
 * refusal is ST_ECONFIG with a message naming the file; a loaded topology has
 * 1..TOPOLOGY_REGIONS_MAX uniquely named regions, flows whose source and
 * target are two different regions, at most TOPOLOGY_PATTERN_MAX patterns per
 * list, failover.active a region; matching, naming and the flow's name run on
 * every flow.
 * Seeds: tests/fuzz/corpus/topology/ (tests/fuzz/make-seeds.sh).
 */
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "common/error.h"
#include "topology/topology.h"
#include "support.h"

static void check_flow(const topology *t, const topology_flow *f)
{
    static const char *const names[] = {"orders", "payments.eu", "__consumer_offsets", "x"};
    FUZZ_CHECK(f->source >= 0 && f->source < t->region_count && f->target >= 0 &&
                   f->target < t->region_count && f->source != f->target,
               "a flow joins two different regions");
    FUZZ_CHECK(f->topic_count >= 0 && f->topic_count <= TOPOLOGY_PATTERN_MAX &&
                   f->exclude_count >= 0 && f->exclude_count <= TOPOLOGY_PATTERN_MAX &&
                   f->group_count >= 0 && f->group_count <= TOPOLOGY_PATTERN_MAX,
               "pattern counts in range");
    char out[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        topology_flow_matches_topic(f, names[i]);
        topology_flow_matches_group(f, names[i]);
        int rc = topology_target_topic(t, f, names[i], out, sizeof out);
        FUZZ_CHECK(rc == 0 || rc == ST_ETOOBIG, "a target topic or too long");
    }
    topology_flow_name(t, f, out, sizeof out);
    FUZZ_CHECK(strstr(out, "->") != NULL, "a flow name");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_temp_dir();
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/topology.yaml", dir);
    fuzz_write_file(dir, "topology.yaml", data, size);
    static topology loaded; /* 1.6 MB: not on the stack, and not allocated per input */
    topology *t = &loaded;
    char err[1024] = "";
    int rc = topology_load(path, t, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc == ST_ECONFIG, "a refused topology is ST_ECONFIG");
        FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0, "the message names the file");
        return 0;
    }
    FUZZ_CHECK(t->region_count >= 1 && t->region_count <= TOPOLOGY_REGIONS_MAX,
               "a region count in range");
    FUZZ_CHECK(t->flow_count >= 0 && t->flow_count <= TOPOLOGY_FLOWS_MAX, "a flow count in range");
    for (int i = 0; i < t->region_count; i++)
        FUZZ_CHECK(t->regions[i].name[0] != '\0' &&
                       topology_region_index(t, t->regions[i].name) == i,
                   "regions are named uniquely");
    FUZZ_CHECK(t->failover_active >= 0 && t->failover_active < t->region_count,
               "failover.active is a region");
    for (int i = 0; i < t->flow_count; i++)
        check_flow(t, &t->flows[i]);
    return 0;
}
