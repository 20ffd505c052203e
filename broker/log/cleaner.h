/*
 * cleaner.h - log compaction (cleanup.policy=compact): the background
 * cleaner that keeps only the latest record per key in the sealed segments
 * of a partition (Kafka's LogCleaner; design notes in cleaner_internal.h).
 *
 * One log_cleaner per broker owns one worker thread. On every broker tick the
 * loop offers each partition log (log_cleaner_consider) and then starts the
 * filthiest eligible one (log_cleaner_start) when the worker is idle. The
 * worker scans and rewrites on its own file descriptors; the result is posted
 * back to the loop (event_active on an event of the broker's base, which must
 * be notifiable: evthread_use_pthreads() before event_base_new()), and the
 * loop swaps the cleaned segments into the log.
 *
 * Every function here runs on the broker's event-loop thread unless noted.
 */
#ifndef STRAIT_CLEANER_H
#define STRAIT_CLEANER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/partition_log.h"

struct event_base;
typedef struct log_cleaner log_cleaner;

/* Starts the worker thread and registers the completion event on base.
 * Returns 0, ST_ENOMEM or ST_EIO. */
int log_cleaner_open(struct event_base *base, log_cleaner **out);

/* Cancels the running job (its partial files are removed), joins the thread.
 * Close every log first (plog_close detaches its job). NULL is allowed. */
void log_cleaner_close(log_cleaner *cleaner);

/* Offers one partition log for cleaning at now_ms (wall clock): a log with
 * the compact policy whose dirty ratio reached min.cleanable.dirty.ratio,
 * whose oldest dirty batch is older than max.compaction.lag.ms, or whose
 * tombstone delete horizon has passed becomes a candidate; the filthiest
 * candidate of the round is remembered. */
void log_cleaner_consider(log_cleaner *cleaner, plog *log, int64_t now_ms);

/* Ends a round of log_cleaner_consider: hands the best candidate to the
 * worker if it is idle. */
void log_cleaner_start(log_cleaner *cleaner);

/* True while a cleaning job is queued, running, or waiting for its swap. */
bool log_cleaner_busy(const log_cleaner *cleaner);

/*
 * Cleans log synchronously on the calling thread (scan, rewrite and swap),
 * as the worker would at now_ms; for tests and tools. Returns 0 when a
 * cleaning ran, ST_ENOTFOUND when the log is not eligible (below the dirty
 * ratio, nothing cleanable, policy not compact), or an error.
 */
int cleaner_clean_now(plog *log, int64_t now_ms);

/* Offset up to which the log was cleaned (the first dirty offset, persisted
 * in cleaner-offset-checkpoint); the log start when it never was. */
int64_t cleaner_first_dirty_offset(plog *log);

/* Share of the cleanable bytes not yet cleaned, 0..1, at now_ms. */
double cleaner_dirty_ratio(plog *log, int64_t now_ms);

/*
 * Produce-side rule of compacted topics (Kafka's LogValidator): every record
 * needs a key. Returns 0 when all records of the (validated) batch have a
 * key, ST_EINVAL when one has none (Kafka: INVALID_RECORD "Compacted topic
 * cannot accept message without key"), or ST_E* for a batch that does not
 * decode. Any thread.
 */
int cleaner_check_keys(const uint8_t *data, size_t len);

#endif
