/*
 * resume.c - resume point of a partition from the target tail, and repair of
 * the offset map up to that tail (see resume.h).
 */
#include "mirror/resume.h"

#include <stdlib.h>

#include "common/error.h"
#include "common/log.h"
#include "mirror/tail_scan.h"

/* Pairs handed to the store per call while repairing. */
#define RESUME_REPAIR_BATCH 4096

typedef struct repair_state {
    const mirror_resume_request *req;
    checkpoint_pair pairs[RESUME_REPAIR_BATCH];
    size_t count;
    int64_t last_source_offset;
    int64_t last_target_offset;
    int rc;
} repair_state;

static void repair_flush(repair_state *state)
{
    if (state->count == 0 || state->rc != 0)
        return;
    const mirror_resume_request *req = state->req;
    state->rc = checkpoint_map_extend(req->store, req->flow_name, req->source_topic, req->partition,
                                      state->pairs, state->count);
    state->count = 0;
}

static void repair_visit(void *arg, const mirror_tail_record *record)
{
    repair_state *state = arg;
    int64_t source_offset;
    if (!mirror_tail_match(record, state->req->source_region, state->req->partition,
                           &source_offset))
        return;
    /* The map is strictly increasing on both sides; anything else in the
     * target (a re-mirror after a source reset) is not ours to map. */
    if (source_offset <= state->last_source_offset || record->offset <= state->last_target_offset)
        return;
    state->pairs[state->count].source_offset = source_offset;
    state->pairs[state->count].target_offset = record->offset;
    state->count++;
    state->last_source_offset = source_offset;
    state->last_target_offset = record->offset;
    if (state->count == RESUME_REPAIR_BATCH)
        repair_flush(state);
}

static int repair_map(const mirror_resume_request *req, mirror_target_reader *reader,
                      int64_t log_start, const mirror_tail_result *tail)
{
    checkpoint_pair last;
    bool found = false;
    int rc = checkpoint_map_last(req->store, req->flow_name, req->source_topic, req->partition,
                                 &last, &found);
    if (rc != 0)
        return rc;
    if (found && last.target_offset >= tail->target_offset) {
        if (last.target_offset > tail->target_offset)
            log_warn("mirror", "offset map ends past the target tail flow=%s topic=%s "
                     "partition=%d map_target=%lld tail_target=%lld", req->flow_name,
                     req->source_topic, (int)req->partition, (long long)last.target_offset,
                     (long long)tail->target_offset);
        return 0;
    }
    repair_state *state = calloc(1, sizeof *state);
    if (state == NULL)
        return ST_ENOMEM;
    state->req = req;
    state->last_source_offset = found ? last.source_offset : -1;
    state->last_target_offset = found ? last.target_offset : -1;
    int64_t start = found ? last.target_offset + 1 : log_start;
    if (start < log_start)
        start = log_start;
    rc = mirror_target_read(reader, start, tail->target_offset + 1, repair_visit, state);
    repair_flush(state);
    if (rc == 0)
        rc = state->rc;
    if (rc == 0 && state->last_target_offset != tail->target_offset)
        log_warn("mirror", "offset map repair stopped short flow=%s topic=%s partition=%d",
                 req->flow_name, req->source_topic, (int)req->partition);
    else if (rc == 0)
        log_info("mirror", "offset map repaired flow=%s topic=%s partition=%d from_target=%lld "
                 "to_target=%lld", req->flow_name, req->source_topic, (int)req->partition,
                 (long long)start, (long long)tail->target_offset);
    free(state);
    return rc;
}

int mirror_resume_partition(const mirror_resume_request *req, int64_t *start_offset)
{
    int64_t low = 0, high = 0;
    int rc = mirror_target_watermarks(req->tail_consumer, req->target_topic, req->partition,
                                      req->timeout_ms, &low, &high);
    if (rc != 0)
        return rc;
    mirror_target_reader reader = {.consumer = req->tail_consumer,
                                   .topic = req->target_topic,
                                   .partition = req->partition,
                                   .timeout_ms = req->timeout_ms};
    mirror_tail_result tail;
    rc = mirror_tail_scan(low, high, req->source_region, req->partition, mirror_target_read,
                          &reader, &tail);
    if (rc != 0)
        return rc;
    if (!tail.found) {
        *start_offset = RD_KAFKA_OFFSET_BEGINNING;
        log_info("mirror", "resume flow=%s topic=%s partition=%d from=beginning target_end=%lld",
                 req->flow_name, req->source_topic, (int)req->partition, (long long)high);
        return 0;
    }
    rc = repair_map(req, &reader, low, &tail);
    if (rc != 0)
        return rc;
    *start_offset = tail.source_offset + 1;
    log_info("mirror", "resume flow=%s topic=%s partition=%d from=%lld tail_target=%lld",
             req->flow_name, req->source_topic, (int)req->partition, (long long)*start_offset,
             (long long)tail.target_offset);
    return 0;
}
