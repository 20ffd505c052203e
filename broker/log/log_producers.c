/*
 * log_producers.c - the producer state of a partition log over its lifetime:
 * rebuilt on open, updated on append, snapshotted at roll and clean close,
 * pruned with the segments, expired on tick.
 *
 * Recovery (plog_producers_recover, the last step of plog_recover, once the
 * log end is known and any torn tail is cut):
 *   1. snapshots above the log end describe batches that are gone (a
 *      truncated tail): deleted;
 *   2. the newest snapshot at or above the first segment's base that loads
 *      and checks is the starting point; damaged ones are deleted, older
 *      ones tried in turn; snapshots below the first segment's base are not
 *      used (their producers' batches are gone; forgetting them only makes
 *      the producers "unknown", which KIP-360 accepts, while stale entries
 *      could refuse a live producer as out of order);
 *   3. the batch headers from that offset (or from the first segment) to the
 *      log end are replayed, a 61-byte read per batch. After a clean close
 *      the snapshot is at the log end and nothing is replayed; after a kill -9
 *      at most the batches since the last roll are.
 *
 * Which snapshots are kept: one per segment (written when it became active,
 * at its base) plus the newest; older snapshots inside the active segment
 * (from earlier clean closes) are deleted when a new one is written, and
 * those below the first segment when segments are dropped.
 *
 * Runs on the broker's event-loop thread; not thread-safe.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "broker/log/log_producers.h"
#include "broker/log/partition_log_internal.h"
#include "broker/log/producer_snapshot.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/invariant.h"
#include "common/limits.h"
#include "common/log.h"

/* Kafka's producer.id.expiration.check.interval.ms default: expiry is a scan
 * over every producer of the partition, so not on every tick. */
#define PRODUCER_EXPIRATION_CHECK_INTERVAL_MS 600000

void plog_producer_check(const plog *log, const batch_header *h, producer_check_result *out)
{
    producer_state_check(log->producers, h, out);
}

size_t plog_producer_count(const plog *log) { return producer_state_count(log->producers); }

const producer_entry *plog_producer_find(const plog *log, int64_t producer_id)
{
    return producer_state_find(log->producers, producer_id);
}

void plog_producers_on_append(plog *log, const batch_header *h, int64_t now_ms)
{
    if (h->producer_id < 0)
        return;
    /* called once the batch is in the log, which now ends right after it */
    INVARIANT(log->producers != NULL && batch_last_offset(h) + 1 == log->log_end_offset);
    int rc = producer_state_update(log->producers, h, now_ms);
    if (rc != 0) /* the batch is written; only its duplicate detection is lost */
        log_error("log", "cannot record producer batch dir=%s producer_id=%" PRId64 " error=%s",
                  log->dir, h->producer_id, strait_error_name(rc));
}

/* Replays the headers of every batch at or after from_offset. */
static int replay(plog *log, int64_t from_offset, int64_t now_ms, int64_t *batches)
{
    *batches = 0;
    for (size_t i = 0; i < log->segment_count; i++) {
        const segment *seg = log->segments[i];
        if (seg->next_offset <= from_offset)
            continue;
        int64_t position = 0;
        batch_header h;
        if (seg->base_offset < from_offset) {
            int rc = segment_find_offset(seg, from_offset, &position, &h);
            if (rc == ST_ENOTFOUND)
                continue;
            if (rc != 0)
                return rc;
        }
        while (position < seg->size_bytes) {
            int rc = segment_read_header(seg, position, &h);
            if (rc != 0)
                return rc == ST_EIO ? rc : ST_ECORRUPT;
            if (h.producer_id >= 0 && batch_last_offset(&h) >= from_offset) {
                rc = producer_state_update(log->producers, &h, now_ms);
                if (rc != 0)
                    return rc;
                ++*batches;
            }
            position += (int64_t)batch_total_bytes(&h);
        }
    }
    return 0;
}

/* Loads the newest usable snapshot (steps 1 and 2 above); *loaded = its
 * offset, or -1 when none could be used (the map is then empty). */
static int load_newest_snapshot(plog *log, int64_t *loaded)
{
    *loaded = -1;
    int64_t *offsets = NULL;
    size_t count = 0;
    int rc = producer_snapshot_list(log->dir, &offsets, &count);
    if (rc != 0)
        return rc;
    int64_t first_base = log->segments[0]->base_offset;
    for (size_t i = count; i-- > 0 && rc == 0;) {
        int64_t offset = offsets[i];
        if (offset > log->log_end_offset) {
            log_warn("log", "deleting producer snapshot beyond the log end dir=%s offset=%" PRId64
                     " log_end_offset=%" PRId64, log->dir, offset, log->log_end_offset);
            rc = producer_snapshot_delete(log->dir, offset);
            continue;
        }
        if (*loaded >= 0 || offset < first_base) {
            if (offset < first_base)
                rc = producer_snapshot_delete(log->dir, offset);
            continue;
        }
        int read_rc = producer_snapshot_read(log->dir, offset, log->producers);
        if (read_rc == 0) {
            *loaded = offset;
        } else if (read_rc == ST_ECORRUPT || read_rc == ST_ECRC) {
            log_warn("log", "deleting damaged producer snapshot dir=%s offset=%" PRId64 " error=%s",
                     log->dir, offset, strait_error_name(read_rc));
            rc = producer_snapshot_delete(log->dir, offset);
        } else if (read_rc != ST_ENOTFOUND) {
            rc = read_rc;
        }
    }
    free(offsets);
    if (rc != 0)
        producer_state_clear(log->producers);
    INVARIANT(*loaded == -1 || (*loaded >= first_base && *loaded <= log->log_end_offset));
    return rc;
}

int plog_producers_recover(plog *log)
{
    /* the last step of plog_recover: the segments and the log end are final */
    INVARIANT(log->segment_count >= 1 && log->log_end_offset == plog_active(log)->next_offset);
    int64_t now_ms = clock_wall_ms();
    if (!log->producers) {
        int rc = producer_state_create(LIMIT_PRODUCERS_PER_PARTITION, &log->producers);
        if (rc != 0)
            return rc;
    }
    producer_state_clear(log->producers);
    int64_t loaded = -1, batches = 0;
    int rc = load_newest_snapshot(log, &loaded);
    int64_t from = loaded >= 0 ? loaded : log->segments[0]->base_offset;
    if (rc == 0)
        rc = replay(log, from, now_ms, &batches);
    if (rc != 0) {
        log_error("log", "cannot rebuild producer state dir=%s error=%s", log->dir,
                  strait_error_name(rc));
        return rc;
    }
    size_t expired = producer_state_expire(log->producers, now_ms, log->config.producer_id_expiration_ms);
    log->producers_snapshot_offset = batches == 0 ? loaded : -1;
    log->producers_expire_checked_ms = now_ms;
    if (loaded >= 0 || batches > 0)
        log_info("log", "producer state loaded dir=%s snapshot_offset=%" PRId64
                 " replayed_batches=%" PRId64 " producers=%zu expired=%zu", log->dir, loaded,
                 batches, producer_state_count(log->producers), expired);
    return 0;
}

/* Deletes snapshots below the first segment and, with inside_active, those
 * strictly inside the active segment (earlier clean closes); never newest. */
static void prune(plog *log, int64_t newest, bool inside_active)
{
    int64_t *offsets = NULL;
    size_t count = 0;
    if (producer_snapshot_list(log->dir, &offsets, &count) != 0)
        return;
    int64_t first_base = log->segments[0]->base_offset;
    int64_t active_base = plog_active(log)->base_offset;
    for (size_t i = 0; i < count; i++) {
        int64_t offset = offsets[i];
        bool below = offset < first_base;
        bool inside = inside_active && offset > active_base;
        if ((below || inside) && offset != newest)
            producer_snapshot_delete(log->dir, offset);
    }
    free(offsets);
}

void plog_producers_snapshot(plog *log)
{
    int64_t offset = log->log_end_offset;
    if (!log->producers || log->producers_snapshot_offset == offset)
        return;
    int rc = producer_snapshot_write(log->producers, log->dir, offset);
    if (rc != 0) { /* not fatal: recovery replays from an older snapshot */
        log_warn("log", "producer snapshot failed dir=%s offset=%" PRId64 " error=%s", log->dir,
                 offset, strait_error_name(rc));
        return;
    }
    log->producers_snapshot_offset = offset;
    INVARIANT(offset >= log->segments[0]->base_offset); /* prune keeps the newest */
    prune(log, offset, true);
}

void plog_forget_producers(plog *log)
{
    if (!log->producers || producer_state_count(log->producers) == 0)
        return;
    size_t forgotten = producer_state_count(log->producers);
    producer_state_clear(log->producers);
    log->producers_snapshot_offset = -1; /* force the (empty) snapshot at the log end */
    plog_producers_snapshot(log);
    log_info("log", "producer state forgotten dir=%s producers=%zu", log->dir, forgotten);
}

void plog_producers_prune(plog *log)
{
    if (log->producers)
        prune(log, log->producers_snapshot_offset, false);
}

void plog_producers_tick(plog *log, int64_t now_ms)
{
    int64_t expiration_ms = log->config.producer_id_expiration_ms;
    int64_t interval_ms = expiration_ms < PRODUCER_EXPIRATION_CHECK_INTERVAL_MS
                              ? expiration_ms : PRODUCER_EXPIRATION_CHECK_INTERVAL_MS;
    if (!log->producers || now_ms - log->producers_expire_checked_ms < interval_ms)
        return;
    log->producers_expire_checked_ms = now_ms;
    size_t expired = producer_state_expire(log->producers, now_ms, expiration_ms);
    if (expired > 0)
        log_info("log", "expired idle producers dir=%s expired=%zu remaining=%zu", log->dir, expired,
                 producer_state_count(log->producers));
}

void plog_producers_free(plog *log)
{
    producer_state_free(log->producers);
    log->producers = NULL;
}
