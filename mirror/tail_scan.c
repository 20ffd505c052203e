/*
 * tail_scan.c - the backward scan for the last record of a flow in a target
 * partition (see tail_scan.h). Pure logic over a reader callback.
 */
#include "mirror/tail_scan.h"

#include <string.h>

#include "common/error.h"
#include "mirror/provenance.h"

static bool value_match(const void *value, size_t size, const char *source_region,
                        int32_t partition, int64_t *source_offset)
{
    if (value == NULL)
        return false;
    mirror_provenance p;
    if (mirror_provenance_parse(value, size, &p) != 0)
        return false; /* someone else's header: not ours, keep looking */
    if (strcmp(p.region, source_region) != 0 || p.partition != partition)
        return false;
    *source_offset = p.offset;
    return true;
}

bool mirror_tail_match(const mirror_tail_record *record, const char *source_region,
                       int32_t partition, int64_t *source_offset)
{
    if (record->provenance == NULL)
        return false;
    if (value_match(record->provenance, record->provenance_size, source_region, partition,
                    source_offset))
        return true;
    int earlier = record->earlier_count < MIRROR_TAIL_EARLIER_MAX ? record->earlier_count
                                                                  : MIRROR_TAIL_EARLIER_MAX;
    for (int i = 0; i < earlier; i++)
        if (value_match(record->earlier[i], record->earlier_size[i], source_region, partition,
                        source_offset))
            return true;
    return false;
}

typedef struct scan_state {
    const char *source_region;
    int32_t partition;
    mirror_tail_result *result;
} scan_state;

/* Records arrive in increasing order, so the last match of a chunk wins. */
static void scan_visit(void *arg, const mirror_tail_record *record)
{
    scan_state *state = arg;
    int64_t source_offset;
    if (!mirror_tail_match(record, state->source_region, state->partition, &source_offset))
        return;
    if (state->result->found && record->offset <= state->result->target_offset)
        return; /* a reader must not go backwards; ignore if it does */
    state->result->found = true;
    state->result->source_offset = source_offset;
    state->result->target_offset = record->offset;
}

int mirror_tail_scan(int64_t log_start, int64_t high_watermark, const char *source_region,
                     int32_t partition, mirror_tail_read_fn read, void *read_arg,
                     mirror_tail_result *out)
{
    if (log_start < 0 || high_watermark < log_start || source_region == NULL || read == NULL ||
        out == NULL)
        return ST_EINVAL;
    out->found = false;
    out->source_offset = -1;
    out->target_offset = -1;
    scan_state state = {.source_region = source_region, .partition = partition, .result = out};
    int64_t end = high_watermark;
    int64_t chunk = MIRROR_TAIL_CHUNK_RECORDS;
    while (end > log_start) {
        int64_t start = end - chunk > log_start ? end - chunk : log_start;
        int rc = read(read_arg, start, end, scan_visit, &state);
        if (rc != 0)
            return rc;
        if (out->found)
            return 0;
        end = start;
        if (chunk < MIRROR_TAIL_CHUNK_RECORDS_MAX)
            chunk *= 2;
    }
    return 0;
}
