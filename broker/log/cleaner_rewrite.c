/*
 * cleaner_rewrite.c - the worker half of a cleaning (design in
 * cleaner_internal.h): the key -> latest offset map over the dirty section,
 * the producer id -> last batch map over the cleaned range, the grouping of
 * segments, and the rewrite of each group into a complete cleaned segment
 * in its own work directory, fsynced and renamed to .swap.
 *
 * Runs on the cleaner's worker thread. It touches only the job: the source
 * segments are read through the job's own dup()ed descriptors, the output
 * is new files; nothing of the plog is read or written here.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/batch_build.h"
#include "broker/log/checkpoint_file.h"
#include "broker/log/cleaner_internal.h"
#include "broker/log/cleaner_offset_map.h"
#include "broker/log/compression.h"
#include "common/file_io.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/log.h"

/* Returned inside this file when the loop cancelled the job. */
#define CLEANER_CANCELLED 1

/* What the worker carries while cleaning. */
typedef struct rewrite_ctx {
    cleaner_job *job;
    cleaner_offset_map keys;      /* key -> latest offset in [first_dirty, clean_end) */
    cleaner_offset_map producers; /* producer id -> base offset of its last batch */
    bool producers_overflow;      /* keep every emptied producer batch */
    buf batch;                    /* the batch being read */
    buf out;                      /* the batch being rebuilt */
    buf section;                  /* its records section before compression */
    buf record;                   /* one record body */
} rewrite_ctx;

static bool cancelled(const cleaner_job *job) { return atomic_load(&job->cancelled); }

/* Reads the batch at position of src into ctx->batch and checks its CRC.
 * *header gets it. */
static int read_batch(rewrite_ctx *ctx, const cleaner_source *src, int64_t position, batch_header *header)
{
    uint8_t bytes[BATCH_HEADER_BYTES];
    int64_t available = src->size_bytes - position;
    if (available < BATCH_HEADER_BYTES)
        return ST_ECORRUPT;
    int rc = file_pread_all(src->fd, bytes, sizeof bytes, position);
    if (rc == 0)
        rc = batch_header_decode(bytes, sizeof bytes, (uint64_t)available, header);
    if (rc != 0)
        return rc == ST_EIO ? rc : ST_ECORRUPT;
    /* a sealed segment's batches lie in its offset range; one outside it
     * (damaged bytes below the recovery point, never scanned) would put
     * offsets of another segment into the cleaned one */
    if (header->base_offset < src->base_offset || batch_last_offset(header) >= src->next_offset)
        return ST_ECORRUPT;
    size_t total = batch_total_bytes(header);
    if (total > (size_t)LIMIT_CLEANER_BATCH_BYTES)
        return ST_ETOOBIG;
    buf_reset(&ctx->batch);
    uint8_t *data = buf_reserve(&ctx->batch, total);
    if (data == NULL)
        return ctx->batch.err ? ctx->batch.err : ST_ENOMEM;
    if ((rc = file_pread_all(src->fd, data, total, position)) != 0)
        return rc;
    ctx->batch.len = total;
    return batch_crc_ok(data, total) ? 0 : ST_ECRC;
}

/* ---- maps --------------------------------------------------------------- */

/* Adds the keyed records of the batch in ctx->batch at offsets >= from.
 * ST_ETOOBIG when the map is full (entries added so far stay: they point at
 * records that are kept, so they only remove older ones). */
static int map_batch(rewrite_ctx *ctx, const batch_header *h, int64_t from)
{
    batch_iter *it;
    int rc = batch_iter_open(ctx->batch.data, ctx->batch.len, LIMIT_BATCH_DECOMPRESSED_BYTES, &it);
    if (rc != 0)
        return rc;
    batch_record rec;
    while ((rc = batch_iter_next(it, &rec)) == 1) {
        int64_t offset = h->base_offset + rec.offset_delta;
        if (offset < from || rec.key_len < 0)
            continue;
        rc = cleaner_offset_map_put(&ctx->keys, rec.key, (size_t)rec.key_len, offset);
        if (rc != 0)
            break;
    }
    batch_iter_close(it);
    return rc < 0 ? rc : 0;
}

/* The key map over [first_dirty, end); sets job->clean_end to end, or to the
 * base of the batch where the map filled up. */
static int build_key_map(rewrite_ctx *ctx)
{
    cleaner_job *job = ctx->job;
    job->clean_end = job->end;
    for (size_t i = 0; i < job->source_count; i++) {
        const cleaner_source *src = &job->sources[i];
        if (src->next_offset <= job->first_dirty)
            continue;
        for (int64_t position = 0; position < src->size_bytes;) {
            if (cancelled(job))
                return CLEANER_CANCELLED;
            batch_header h;
            int rc = read_batch(ctx, src, position, &h);
            if (rc != 0)
                return rc;
            position += (int64_t)batch_total_bytes(&h);
            if (batch_last_offset(&h) < job->first_dirty || (h.attributes & BATCH_ATTR_CONTROL))
                continue;
            rc = map_batch(ctx, &h, job->first_dirty);
            if (rc == ST_ETOOBIG) {
                if (h.base_offset <= job->first_dirty)
                    return ST_ETOOBIG; /* not even one batch fits: no progress possible */
                log_warn("cleaner", "offset map full, cleaning up to offset dir=%s clean_end=%" PRId64,
                         job->dir, h.base_offset);
                job->clean_end = h.base_offset;
                return 0;
            }
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* producer id -> base offset of its last batch below clean_end (headers
 * only). */
static int build_producer_map(rewrite_ctx *ctx)
{
    cleaner_job *job = ctx->job;
    for (size_t i = 0; i < job->source_count && !ctx->producers_overflow; i++) {
        const cleaner_source *src = &job->sources[i];
        if (src->base_offset >= job->clean_end)
            break;
        for (int64_t position = 0; position < src->size_bytes;) {
            uint8_t bytes[BATCH_HEADER_BYTES];
            batch_header h;
            int64_t available = src->size_bytes - position;
            int rc = available < BATCH_HEADER_BYTES ? ST_ECORRUPT
                                                    : file_pread_all(src->fd, bytes, sizeof bytes, position);
            if (rc == 0)
                rc = batch_header_decode(bytes, sizeof bytes, (uint64_t)available, &h);
            if (rc != 0)
                return rc == ST_EIO ? rc : ST_ECORRUPT;
            position += (int64_t)batch_total_bytes(&h);
            if (h.producer_id < 0 || h.base_offset >= job->clean_end)
                continue;
            uint8_t id[8];
            store_i64(id, h.producer_id);
            rc = cleaner_offset_map_put(&ctx->producers, id, sizeof id, h.base_offset);
            if (rc == ST_ETOOBIG) {
                ctx->producers_overflow = true;
                break;
            }
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* ---- one batch ------------------------------------------------------------ */

/* The fate of one record (Kafka's shouldRetainRecord). */
static bool keep_record(const rewrite_ctx *ctx, const batch_header *h, const batch_record *rec)
{
    if (rec->key_len < 0)
        return false; /* compacted topics need keys; an unkeyed record cannot be the latest */
    int64_t offset = h->base_offset + rec->offset_delta;
    if (offset < cleaner_offset_map_get(&ctx->keys, rec->key, (size_t)rec->key_len))
        return false;
    if (rec->value_len >= 0)
        return true;
    bool has_horizon = (h->attributes & BATCH_ATTR_DELETE_HORIZON) != 0;
    return !has_horizon || ctx->job->now_ms < h->base_timestamp;
}

/* Appends one record (framing in batch.h) to section. */
static int encode_record(rewrite_ctx *ctx, const batch_record *rec, int64_t base_timestamp)
{
    buf *b = &ctx->record;
    buf_reset(b);
    buf_put_i8(b, 0);
    buf_put_varint(b, (int64_t)((uint64_t)rec->timestamp - (uint64_t)base_timestamp));
    buf_put_varint(b, rec->offset_delta);
    buf_put_varint(b, rec->key_len);
    if (rec->key_len > 0)
        buf_put(b, rec->key, (size_t)rec->key_len);
    buf_put_varint(b, rec->value_len);
    if (rec->value_len > 0)
        buf_put(b, rec->value, (size_t)rec->value_len);
    buf_put_varint(b, rec->header_count);
    for (int32_t i = 0; i < rec->header_count; i++) {
        const batch_record_header *hd = &rec->headers[i];
        buf_put_varint(b, hd->key_len);
        if (hd->key_len > 0)
            buf_put(b, hd->key, (size_t)hd->key_len);
        buf_put_varint(b, hd->value_len);
        if (hd->value_len > 0)
            buf_put(b, hd->value, (size_t)hd->value_len);
    }
    if (!buf_ok(b))
        return b->err;
    buf_put_varint(&ctx->section, (int64_t)b->len);
    buf_put(&ctx->section, b->data, b->len);
    return ctx->section.err;
}

/* Writes the 61-byte header of a rebuilt batch into ctx->out (length and CRC
 * patched by finish_batch). */
static void put_header(buf *out, const batch_header *h, int16_t attributes, int64_t base_timestamp,
                       int64_t max_timestamp, int32_t record_count)
{
    buf_put_i64(out, h->base_offset);
    buf_put_i32(out, 0);
    buf_put_i32(out, h->partition_leader_epoch);
    buf_put_i8(out, 2);
    buf_put_i32(out, 0);
    buf_put_i16(out, attributes);
    buf_put_i32(out, h->last_offset_delta); /* kept: the producer's last sequence stays derivable */
    buf_put_i64(out, base_timestamp);
    buf_put_i64(out, max_timestamp);
    buf_put_i64(out, h->producer_id);
    buf_put_i16(out, h->producer_epoch);
    buf_put_i32(out, h->base_sequence);
    buf_put_i32(out, record_count);
}

static int finish_batch(buf *out)
{
    if (!buf_ok(out))
        return out->err;
    if (out->len - BATCH_LOG_OVERHEAD > INT32_MAX)
        return ST_ETOOBIG;
    buf_patch_i32(out, BATCH_OFFSET_LENGTH, (int32_t)(out->len - BATCH_LOG_OVERHEAD));
    buf_patch_i32(out, BATCH_OFFSET_CRC, (int32_t)batch_crc_compute(out->data, out->len));
    return 0;
}

/* An empty batch in place of h (Kafka's writeEmptyHeader): no records,
 * uncompressed, same offsets and producer fields. */
static int build_empty(rewrite_ctx *ctx, const batch_header *h)
{
    buf_reset(&ctx->out);
    int16_t attributes = (int16_t)(h->attributes & (BATCH_ATTR_LOG_APPEND_TIME | BATCH_ATTR_TRANSACTIONAL |
                                                     BATCH_ATTR_CONTROL));
    put_header(&ctx->out, h, attributes, h->max_timestamp, h->max_timestamp, 0);
    return finish_batch(&ctx->out);
}

/* Re-encodes the kept records of the batch in ctx->batch with its codec. */
static int build_kept(rewrite_ctx *ctx, const batch_header *h, int32_t kept, int64_t horizon_ms,
                      int64_t first_timestamp, int64_t max_timestamp)
{
    int64_t base_timestamp = horizon_ms >= 0 ? horizon_ms : first_timestamp;
    int16_t attributes = h->attributes;
    if (horizon_ms >= 0)
        attributes |= BATCH_ATTR_DELETE_HORIZON;
    if (h->attributes & BATCH_ATTR_LOG_APPEND_TIME)
        max_timestamp = h->max_timestamp;
    buf_reset(&ctx->section);
    batch_iter *it;
    int rc = batch_iter_open(ctx->batch.data, ctx->batch.len, LIMIT_BATCH_DECOMPRESSED_BYTES, &it);
    if (rc != 0)
        return rc;
    batch_record rec;
    while ((rc = batch_iter_next(it, &rec)) == 1) {
        if (keep_record(ctx, h, &rec) && (rc = encode_record(ctx, &rec, base_timestamp)) != 0)
            break;
    }
    batch_iter_close(it);
    if (rc < 0)
        return rc;
    buf_reset(&ctx->out);
    put_header(&ctx->out, h, attributes, base_timestamp, max_timestamp, kept);
    int codec = batch_codec_of(h);
    if (codec == BATCH_CODEC_NONE)
        buf_put(&ctx->out, ctx->section.data, ctx->section.len);
    else if ((rc = compression_compress(codec, ctx->section.data, ctx->section.len, &ctx->out)) != 0)
        return rc;
    return finish_batch(&ctx->out);
}

/* Batch outcomes. */
enum { BATCH_COPY, BATCH_DROP, BATCH_REBUILT };

static int64_t saturating_add(int64_t a, int64_t b)
{
    return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b;
}

/*
 * Decides the batch in ctx->batch: copied as is, dropped, or rebuilt into
 * ctx->out. must_keep: the group's last batch, kept at least empty.
 * *tombstone_horizon gets the delete horizon of the written batch when it
 * keeps a tombstone, else -1.
 */
static int clean_batch(rewrite_ctx *ctx, const batch_header *h, bool must_keep, int *outcome,
                       int64_t *tombstone_horizon)
{
    cleaner_job *job = ctx->job;
    *tombstone_horizon = -1;
    *outcome = BATCH_COPY;
    if ((h->attributes & BATCH_ATTR_CONTROL) || h->base_offset >= job->clean_end)
        return 0;
    batch_iter *it;
    int rc = batch_iter_open(ctx->batch.data, ctx->batch.len, LIMIT_BATCH_DECOMPRESSED_BYTES, &it);
    if (rc != 0)
        return rc;
    int32_t kept = 0, total = 0, tombstones = 0;
    int64_t first_timestamp = -1, max_timestamp = -1;
    batch_record rec;
    while ((rc = batch_iter_next(it, &rec)) == 1) {
        total++;
        if (!keep_record(ctx, h, &rec))
            continue;
        if (kept++ == 0)
            first_timestamp = rec.timestamp;
        if (rec.timestamp > max_timestamp)
            max_timestamp = rec.timestamp;
        tombstones += rec.value_len < 0;
    }
    batch_iter_close(it);
    if (rc < 0)
        return rc;
    job->records_removed += total - kept;
    bool has_horizon = (h->attributes & BATCH_ATTR_DELETE_HORIZON) != 0;
    int64_t horizon = has_horizon ? h->base_timestamp : -1;
    if (tombstones > 0 && !has_horizon)
        horizon = saturating_add(job->now_ms, job->config.delete_retention_ms);
    if (tombstones > 0)
        *tombstone_horizon = horizon;
    if (kept == 0) { /* also an empty batch an earlier cleaning kept */
        uint8_t id[8];
        store_i64(id, h->producer_id);
        bool last_of_producer = h->producer_id >= 0 &&
            (ctx->producers_overflow ||
             cleaner_offset_map_get(&ctx->producers, id, sizeof id) == h->base_offset);
        if (!must_keep && !last_of_producer) {
            *outcome = BATCH_DROP;
            return 0;
        }
        *outcome = BATCH_REBUILT;
        return build_empty(ctx, h);
    }
    if (kept == total && (tombstones == 0 || has_horizon))
        return 0; /* nothing removed, nothing to stamp: the original bytes */
    *outcome = BATCH_REBUILT;
    return build_kept(ctx, h, kept, tombstones > 0 || has_horizon ? horizon : -1, first_timestamp,
                      max_timestamp);
}

/* ---- one group ------------------------------------------------------------ */

static int path_in(char *path, const char *dir, const char *name)
{
    int n = snprintf(path, PATH_MAX, "%s/%s", dir, name);
    return n < 0 || n >= PATH_MAX ? ST_EINVAL : 0;
}

/* Appends one batch to the cleaned segment. */
static int write_batch(segment *seg, const uint8_t *data, size_t len, int32_t index_interval_bytes)
{
    batch_header h;
    int rc = batch_header_parse(data, len, &h);
    if (rc == 0)
        rc = segment_append(seg, data, len, &h, index_interval_bytes);
    return rc;
}

/* Rewrites the sources of group g into its work directory. */
static int rewrite_sources(rewrite_ctx *ctx, cleaner_group *g)
{
    cleaner_job *job = ctx->job;
    for (size_t i = g->first; i < g->first + g->count; i++) {
        const cleaner_source *src = &job->sources[i];
        bool last_source = i + 1 == g->first + g->count;
        for (int64_t position = 0; position < src->size_bytes;) {
            if (cancelled(job))
                return CLEANER_CANCELLED;
            batch_header h;
            int rc = read_batch(ctx, src, position, &h);
            if (rc != 0)
                return rc;
            position += (int64_t)batch_total_bytes(&h);
            int outcome;
            int64_t horizon;
            /* the last batch stays (empty if need be) when it ends the cleaned
             * range, so no offset gap precedes the uncleaned part, or when the
             * group would be left empty, so no segment is */
            bool last_batch = last_source && position >= src->size_bytes;
            bool final_group = g == &job->groups[job->group_count - 1];
            bool must_keep = last_batch && (final_group || g->cleaned->size_bytes == 0);
            rc = clean_batch(ctx, &h, must_keep, &outcome, &horizon);
            if (rc == 0 && outcome == BATCH_COPY)
                rc = write_batch(g->cleaned, ctx->batch.data, ctx->batch.len, job->config.index_interval_bytes);
            else if (rc == 0 && outcome == BATCH_REBUILT)
                rc = write_batch(g->cleaned, ctx->out.data, ctx->out.len, job->config.index_interval_bytes);
            if (rc != 0)
                return rc;
            if (outcome != BATCH_DROP && horizon >= 0 &&
                (job->delete_horizon_ms < 0 || horizon < job->delete_horizon_ms))
                job->delete_horizon_ms = horizon;
        }
        job->bytes_before += src->size_bytes;
    }
    return 0;
}

/* Writes group g as <base>.cleaned/, fsyncs it and renames it
 * <base>.<end>.swap (the commit point of recovery). */
static int rewrite_group(rewrite_ctx *ctx, cleaner_group *g)
{
    cleaner_job *job = ctx->job;
    char work[PATH_MAX], swap[PATH_MAX];
    char name[SEGMENT_FILE_NAME_BYTES];
    segment_file_name(name, g->base_offset, "");
    snprintf(g->dir_name, sizeof g->dir_name, "%s.cleaned", name);
    int rc = path_in(work, job->dir, g->dir_name);
    if (rc != 0)
        return rc;
    cleaner_remove_tree(work); /* a leftover of a failed run */
    if (mkdir(work, 0755) != 0) {
        log_error("cleaner", "cannot create work directory path=%s errno=%d", work, errno);
        return ST_EIO;
    }
    g->created = true;
    rc = segment_create(work, g->base_offset, job->config.segment_index_bytes, job->now_ms, &g->cleaned);
    if (rc == 0)
        rc = rewrite_sources(ctx, g);
    if (rc == 0)
        rc = segment_seal(g->cleaned);
    if (rc == 0)
        rc = segment_flush(g->cleaned);
    if (rc == 0)
        rc = file_fsync_dir(work);
    if (rc != 0)
        return rc;
    job->bytes_after += g->cleaned->size_bytes;
    if (cleaner_crash_point != NULL)
        cleaner_crash_point("cleaned-written");
    char swap_name[CLEANER_DIR_NAME_BYTES];
    snprintf(swap_name, sizeof swap_name, "%s.%020" PRId64 ".swap", name, g->end_offset);
    if ((rc = path_in(swap, job->dir, swap_name)) != 0)
        return rc;
    if (rename(work, swap) != 0) {
        log_error("cleaner", "rename failed from=%s to=%s errno=%d", work, swap, errno);
        return ST_EIO;
    }
    memcpy(g->dir_name, swap_name, sizeof swap_name);
    rc = file_fsync_dir(job->dir);
    if (rc == 0 && cleaner_crash_point != NULL)
        cleaner_crash_point("swap-committed");
    return rc;
}

/* Groups consecutive sources below clean_end so that a group's bytes fit
 * segment.bytes and its offsets fit int32 relative offsets. */
static int plan_groups(cleaner_job *job)
{
    job->groups = calloc(job->source_count > 0 ? job->source_count : 1, sizeof *job->groups);
    if (job->groups == NULL)
        return ST_ENOMEM;
    int64_t max_bytes = job->config.segment_bytes < INT32_MAX ? job->config.segment_bytes : INT32_MAX;
    size_t i = 0;
    while (i < job->source_count && job->sources[i].base_offset < job->clean_end) {
        cleaner_group *g = &job->groups[job->group_count++];
        const cleaner_source *first = &job->sources[i];
        g->first = i;
        g->base_offset = first->base_offset;
        int64_t bytes = first->size_bytes;
        size_t j = i + 1;
        while (j < job->source_count && job->sources[j].base_offset < job->clean_end &&
               bytes + job->sources[j].size_bytes <= max_bytes &&
               job->sources[j].next_offset - g->base_offset <= INT32_MAX) {
            bytes += job->sources[j].size_bytes;
            j++;
        }
        g->count = j - i;
        const cleaner_source *last = &job->sources[j - 1];
        g->end_offset = last->next_offset > last->base_offset ? last->next_offset : last->base_offset + 1;
        i = j;
    }
    return 0;
}

void cleaner_job_run(cleaner_job *job)
{
    rewrite_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.job = job;
    cleaner_offset_map_init(&ctx.keys, LIMIT_CLEANER_OFFSET_MAP_BYTES);
    cleaner_offset_map_init(&ctx.producers, LIMIT_CLEANER_PRODUCER_MAP_BYTES);
    buf_init(&ctx.batch, LIMIT_CLEANER_BATCH_BYTES);
    buf_init(&ctx.out, LIMIT_CLEANER_BATCH_BYTES);
    buf_init(&ctx.section, LIMIT_BATCH_DECOMPRESSED_BYTES);
    buf_init(&ctx.record, LIMIT_BATCH_DECOMPRESSED_BYTES);
    int rc = build_key_map(&ctx);
    if (rc == 0)
        rc = build_producer_map(&ctx);
    if (rc == 0)
        rc = plan_groups(job);
    for (size_t i = 0; rc == 0 && i < job->group_count; i++)
        rc = rewrite_group(&ctx, &job->groups[i]);
    if (rc == CLEANER_CANCELLED)
        log_info("cleaner", "cleaning cancelled dir=%s", job->dir);
    else if (rc != 0)
        log_error("cleaner", "cleaning failed dir=%s error=%s", job->dir, strait_error_name(rc));
    job->rc = rc == CLEANER_CANCELLED ? ST_EINVAL : rc;
    cleaner_offset_map_free(&ctx.keys);
    cleaner_offset_map_free(&ctx.producers);
    buf_free(&ctx.batch);
    buf_free(&ctx.out);
    buf_free(&ctx.section);
    buf_free(&ctx.record);
}
