/*
 * fuzz_meta_properties.c - libFuzzer target for a data directory's
 * meta.properties (format in broker/cluster/cluster_meta.h), read at every
 * broker start by cluster_meta_load_or_create.
 *
 * Input: byte 0 picks the configured node.id (0..255) and whether a
 * cluster.id is configured ("fuzz-cluster" when bit 0 of byte 1 is set), the
 * rest is the file. The loader only takes a directory, so the file is
 * written to the target's temporary directory (tmpfs) first; it always
 * exists, so the loader never creates one. Checked: the result is 0,
 * ST_ECORRUPT or ST_ECONFIG (a mismatch with the configuration), with a
 * message for both errors; a loaded identity has a valid cluster id and the
 * configured node id and cluster id.
 * Seeds: tests/fuzz/corpus/meta_properties/ (tests/fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <string.h>

#include "broker/cluster/cluster_meta.h"
#include "common/error.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int32_t node_id = (int32_t)fuzz_take(&data, &size, 1);
    bool configured = fuzz_take(&data, &size, 1) & 1;
    const char *cluster_id = configured ? "fuzz-cluster" : "";
    const char *dir = fuzz_temp_dir();
    fuzz_write_file(dir, CLUSTER_META_FILE, data, size);
    cluster_meta meta;
    char err[512] = "";
    int rc = cluster_meta_load_or_create(dir, cluster_id, node_id, &meta, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc == ST_ECORRUPT || rc == ST_ECONFIG,
                   "a bad or foreign meta.properties is ST_ECORRUPT or ST_ECONFIG");
        FUZZ_CHECK(err[0] != '\0', "an error says why");
        return 0;
    }
    FUZZ_CHECK(cluster_id_valid(meta.cluster_id), "a loaded cluster id is valid");
    FUZZ_CHECK(meta.node_id == node_id, "a loaded node id is the configured one");
    FUZZ_CHECK(!configured || strcmp(meta.cluster_id, cluster_id) == 0,
               "a loaded cluster id is the configured one");
    return 0;
}
