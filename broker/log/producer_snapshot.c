/*
 * producer_snapshot.c - encode, decode, write, read and list the producer
 * snapshot files of a partition directory (format in producer_snapshot.h).
 *
 * Runs on the event-loop thread of the log that owns the directory.
 */
#include "broker/log/producer_snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/checkpoint_file.h"
#include "broker/log/segment.h"
#include "common/crc32c.h"
#include "common/file_io.h"
#include "common/error.h"
#include "common/invariant.h"
#include "common/log.h"
#include "common/reader.h"

#define SNAPSHOT_MAGIC 0x53545053u /* "STPS" */
#define SNAPSHOT_VERSION 1
#define SNAPSHOT_CRC_POSITION 8
#define SNAPSHOT_CRC_COVERED_FROM 12
#define SNAPSHOT_LIST_MAX 100000 /* more snapshot files than this: refuse, the dir is garbage */

/* ---- encode / decode ----------------------------------------------------- */

typedef struct encode_state {
    buf *out;
    size_t entries;   /* encoded so far */
    size_t batches;
} encode_state;

static void encode_entry(void *arg, const producer_entry *e)
{
    encode_state *state = arg;
    buf *out = state->out;
    /* the map never holds an entry the decoder would refuse for its shape */
    INVARIANT(e->producer_id >= 0 && e->batch_count >= 1 && e->batch_count <= PRODUCER_BATCHES_CACHED);
    state->entries++;
    state->batches += e->batch_count;
    buf_put_i64(out, e->producer_id);
    buf_put_i64(out, e->last_activity_ms);
    buf_put_i16(out, e->producer_epoch);
    buf_put_i16(out, (int16_t)e->batch_count);
    for (int i = 0; i < e->batch_count; i++) {
        const producer_batch *b = &e->batches[i];
        buf_put_i32(out, b->first_sequence);
        buf_put_i32(out, b->last_sequence);
        buf_put_i64(out, b->first_offset);
        buf_put_i64(out, b->last_offset);
        buf_put_i64(out, b->timestamp_ms);
    }
}

int producer_snapshot_encode(const producer_state *ps, int64_t offset, buf *out)
{
    size_t start = out->len;
    buf_put_i32(out, (int32_t)SNAPSHOT_MAGIC);
    buf_put_i16(out, SNAPSHOT_VERSION);
    buf_put_i16(out, 0);
    buf_put_i32(out, 0); /* crc, patched below */
    buf_put_i64(out, offset);
    INVARIANT(producer_state_count(ps) <= LIMIT_PRODUCERS_PER_PARTITION);
    buf_put_i32(out, (int32_t)producer_state_count(ps));
    encode_state state = {.out = out};
    producer_state_each(ps, encode_entry, &state);
    if (!buf_ok(out))
        return out->err;
    /* the count written is the number of entries that follow, sized as the
     * decoder reads them */
    INVARIANT(state.entries == producer_state_count(ps) &&
              out->len - start == PRODUCER_SNAPSHOT_HEADER_BYTES +
                                      state.entries * PRODUCER_SNAPSHOT_ENTRY_BYTES +
                                      state.batches * PRODUCER_SNAPSHOT_BATCH_BYTES);
    uint32_t crc = crc32c(0, out->data + start + SNAPSHOT_CRC_COVERED_FROM,
                          out->len - start - SNAPSHOT_CRC_COVERED_FROM);
    buf_patch_i32(out, start + SNAPSHOT_CRC_POSITION, (int32_t)crc);
    return 0;
}

/* One producer entry; false (reader failed or entry invalid) on bad data. */
static bool decode_entry(reader *r, int64_t snapshot_offset, producer_entry *e)
{
    memset(e, 0, sizeof *e);
    e->producer_id = reader_i64(r);
    e->last_activity_ms = reader_i64(r);
    e->producer_epoch = reader_i16(r);
    int16_t batch_count = reader_i16(r);
    if (!reader_ok(r) || batch_count < 1 || batch_count > PRODUCER_BATCHES_CACHED)
        return false;
    e->batch_count = (uint8_t)batch_count;
    for (int i = 0; i < batch_count; i++) {
        producer_batch *b = &e->batches[i];
        b->first_sequence = reader_i32(r);
        b->last_sequence = reader_i32(r);
        b->first_offset = reader_i64(r);
        b->last_offset = reader_i64(r);
        b->timestamp_ms = reader_i64(r);
    }
    return reader_ok(r) && producer_entry_valid(e, snapshot_offset);
}

int producer_snapshot_decode(const uint8_t *data, size_t len, int64_t expected_offset,
                             producer_state *ps)
{
    producer_state_clear(ps);
    reader r;
    reader_init(&r, data, len);
    uint32_t magic = reader_u32(&r);
    int16_t version = reader_i16(&r);
    int16_t reserved = reader_i16(&r);
    uint32_t crc = reader_u32(&r);
    if (!reader_ok(&r) || magic != SNAPSHOT_MAGIC || version != SNAPSHOT_VERSION || reserved != 0)
        return ST_ECORRUPT;
    if (crc32c(0, data + SNAPSHOT_CRC_COVERED_FROM, len - SNAPSHOT_CRC_COVERED_FROM) != crc)
        return ST_ECRC;
    int64_t offset = reader_i64(&r);
    int32_t count = reader_check_count(&r, reader_i32(&r), LIMIT_PRODUCERS_PER_PARTITION,
                                       PRODUCER_SNAPSHOT_ENTRY_BYTES + PRODUCER_SNAPSHOT_BATCH_BYTES);
    if (!reader_ok(&r) || offset != expected_offset || count < 0)
        return ST_ECORRUPT;
    int rc = 0;
    for (int32_t i = 0; i < count && rc == 0; i++) {
        producer_entry e;
        if (!decode_entry(&r, offset, &e) || producer_state_find(ps, e.producer_id) != NULL)
            rc = ST_ECORRUPT; /* bad field, or the same producer twice */
        else
            rc = producer_state_put(ps, &e);
    }
    if (rc == 0 && reader_remaining(&r) != 0)
        rc = ST_ECORRUPT; /* trailing bytes */
    if (rc != 0)
        producer_state_clear(ps);
    /* every entry went in once (a smaller map forgets the least active) */
    INVARIANT(rc != 0 || producer_state_count(ps) <= (size_t)count);
    return rc;
}

/* ---- files --------------------------------------------------------------- */

static int snapshot_path(char *out, size_t len, const char *dir, int64_t offset, const char *extra)
{
    int n = snprintf(out, len, "%s/%020" PRId64 "%s%s", dir, offset, PRODUCER_SNAPSHOT_SUFFIX, extra);
    return n < 0 || (size_t)n >= len ? ST_EINVAL : 0;
}

int producer_snapshot_write(const producer_state *ps, const char *dir, int64_t offset)
{
    char name[64];
    int n = snprintf(name, sizeof name, "%020" PRId64 "%s", offset, PRODUCER_SNAPSHOT_SUFFIX);
    if (n < 0 || (size_t)n >= sizeof name)
        return ST_EINVAL;
    buf data;
    buf_init(&data, PRODUCER_SNAPSHOT_BYTES_MAX);
    int rc = producer_snapshot_encode(ps, offset, &data);
    if (rc == 0)
        rc = file_write_atomic(dir, name, data.data, data.len);
    if (rc != 0)
        log_error("log", "producer snapshot write failed dir=%s name=%s error=%s", dir, name,
                  strait_error_name(rc));
    buf_free(&data);
    return rc;
}

int producer_snapshot_read(const char *dir, int64_t offset, producer_state *ps)
{
    char path[PATH_MAX];
    if (snapshot_path(path, sizeof path, dir, offset, "") != 0)
        return ST_EINVAL;
    char *data = NULL;
    size_t len = 0;
    int rc = file_read_all(path, PRODUCER_SNAPSHOT_BYTES_MAX, &data, &len);
    if (rc == ST_ETOOBIG)
        rc = ST_ECORRUPT; /* no snapshot of ours is that large */
    if (rc == 0)
        rc = producer_snapshot_decode((const uint8_t *)data, len, offset, ps);
    free(data);
    return rc;
}

static int compare_offsets(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int producer_snapshot_list(const char *dir, int64_t **offsets, size_t *count)
{
    *offsets = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return ST_EIO;
    int64_t *list = NULL;
    size_t n = 0, capacity = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        int64_t offset;
        if (!segment_file_name_parse(e->d_name, PRODUCER_SNAPSHOT_SUFFIX, &offset))
            continue;
        if (n == capacity) {
            if (capacity >= SNAPSHOT_LIST_MAX) {
                rc = ST_ETOOBIG;
                break;
            }
            capacity = capacity ? capacity * 2 : 8;
            int64_t *grown = realloc(list, capacity * sizeof *grown);
            if (!grown) {
                rc = ST_ENOMEM;
                break;
            }
            list = grown;
        }
        list[n++] = offset;
    }
    closedir(d);
    if (rc != 0) {
        free(list);
        return rc;
    }
    if (n > 1)
        qsort(list, n, sizeof *list, compare_offsets);
    *offsets = list;
    *count = n;
    return 0;
}

int producer_snapshot_delete(const char *dir, int64_t offset)
{
    char path[PATH_MAX];
    if (snapshot_path(path, sizeof path, dir, offset, "") != 0)
        return ST_EINVAL;
    if (unlink(path) != 0 && errno != ENOENT) {
        log_error("log", "cannot delete producer snapshot path=%s errno=%d", path, errno);
        return ST_EIO;
    }
    return 0;
}
