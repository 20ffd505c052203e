/*
 * compression.c - gzip, snappy (xerial framing or raw), lz4 (frames) and zstd
 * behind one interface (formats and contract in compression.h).
 *
 * Decompression writes into a buf whose ceiling is max_bytes + 1: the one
 * byte of head room tells "exactly max_bytes" apart from "more than
 * max_bytes" without asking the codec to predict its output. Output space is
 * reserved a chunk at a time (the chunk doubles with the buffer), so a small
 * input that claims a huge output costs only what it really produces, up to
 * the cap.
 */
#include "broker/log/compression.h"

#include <limits.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "broker/log/batch.h"
#include "common/error.h"
#include "common/reader.h"

/* Smallest piece of output space handed to a decompressor. */
#define COMPRESSION_CHUNK_MIN_BYTES (16 * 1024)
/* Largest piece: zlib counts in 32-bit uInt, keep every codec well below. */
#define COMPRESSION_CHUNK_MAX_BYTES (64 * 1024 * 1024)
/* snappy-java's default block size (SnappyOutputStream), which Kafka uses. */
#define COMPRESSION_SNAPPY_BLOCK_BYTES (32 * 1024)
/* Kafka's default compression.zstd.level / librdkafka's default. */
#define COMPRESSION_ZSTD_LEVEL 3
/* zstd window bounds for decompression. Producers at levels <= 19 declare at
 * most 2^23 for streams of unknown size, so that much is always accepted;
 * beyond it the window may grow to cover max_bytes but never past zstd's own
 * default limit (2^27). The window is what the decoder allocates. */
#define COMPRESSION_ZSTD_WINDOW_LOG_FLOOR 23
#define COMPRESSION_ZSTD_WINDOW_LOG_CEILING 27

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER_BYTES 16
#define XERIAL_VERSION 1
#define XERIAL_COMPATIBLE_VERSION 1

int compression_codec_known(int codec)
{
    return codec >= BATCH_CODEC_GZIP && codec <= BATCH_CODEC_ZSTD;
}

const char *compression_codec_name(int codec)
{
    static const char *const names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    return codec >= 0 && codec <= BATCH_CODEC_ZSTD ? names[codec] : "unknown";
}

/* Reserves the next piece of output space: what the buffer has free, at least
 * a chunk, never past its ceiling. Returns NULL with *rc set (ST_ETOOBIG at
 * the ceiling, or the buffer's error). */
static uint8_t *output_space(buf *out, size_t *avail, int *rc)
{
    size_t room = out->max - out->len;
    if (room == 0) {
        *rc = ST_ETOOBIG;
        return NULL;
    }
    size_t want = out->cap - out->len;
    if (want < COMPRESSION_CHUNK_MIN_BYTES)
        want = COMPRESSION_CHUNK_MIN_BYTES;
    if (want > COMPRESSION_CHUNK_MAX_BYTES)
        want = COMPRESSION_CHUNK_MAX_BYTES;
    if (want > room)
        want = room;
    uint8_t *space = buf_reserve(out, want);
    if (!space) {
        *rc = out->err;
        return NULL;
    }
    *avail = want;
    return space;
}

/* ---- gzip ------------------------------------------------------------- */

static int gzip_decompress(const uint8_t *in, size_t in_len, buf *out)
{
    if (in_len > UINT_MAX)
        return ST_ETOOBIG;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return ST_ENOMEM;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)in_len;
    int rc = 0;
    for (;;) {
        size_t avail;
        uint8_t *space = output_space(out, &avail, &rc);
        if (!space)
            break;
        zs.next_out = space;
        zs.avail_out = (uInt)avail;
        int z = inflate(&zs, Z_NO_FLUSH);
        out->len += avail - zs.avail_out;
        if (z == Z_STREAM_END && zs.avail_in == 0)
            break;
        if (z == Z_STREAM_END) { /* another gzip member follows */
            if (inflateReset(&zs) != Z_OK)
                rc = ST_ECODEC;
        } else if (z != Z_OK && !(z == Z_BUF_ERROR && zs.avail_out == 0)) {
            /* Z_BUF_ERROR with room left: the input ended mid-stream */
            rc = z == Z_MEM_ERROR ? ST_ENOMEM : ST_ECODEC;
        }
        if (rc != 0)
            break;
    }
    inflateEnd(&zs);
    return rc;
}

static int gzip_compress(const uint8_t *in, size_t in_len, buf *out)
{
    if (in_len > UINT_MAX / 2)
        return ST_ETOOBIG;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return ST_ENOMEM;
    size_t bound = deflateBound(&zs, (uLong)in_len);
    int rc = 0;
    uint8_t *space = buf_reserve(out, bound);
    if (!space) {
        rc = out->err;
    } else {
        zs.next_in = (Bytef *)(uintptr_t)in;
        zs.avail_in = (uInt)in_len;
        zs.next_out = space;
        zs.avail_out = (uInt)bound;
        if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
            rc = ST_ECODEC;
        else
            out->len += bound - zs.avail_out;
    }
    deflateEnd(&zs);
    return rc;
}

/* ---- snappy ----------------------------------------------------------- */

/* One raw snappy block. Its declared length is trusted for the allocation
 * only after the cap check and after snappy validated the whole block (which
 * proves it really expands to that length). */
static int snappy_block_decompress(const uint8_t *in, size_t in_len, size_t max_bytes, buf *out)
{
    size_t length;
    if (snappy_uncompressed_length((const char *)in, in_len, &length) != SNAPPY_OK)
        return ST_ECODEC;
    if (length > max_bytes - out->len)
        return ST_ETOOBIG;
    if (snappy_validate_compressed_buffer((const char *)in, in_len) != SNAPPY_OK)
        return ST_ECODEC;
    if (length == 0)
        return 0; /* validated: an empty block; buf_reserve(0) may return NULL */
    uint8_t *space = buf_reserve(out, length);
    if (!space)
        return out->err;
    size_t produced = length;
    if (snappy_uncompress((const char *)in, in_len, (char *)space, &produced) != SNAPPY_OK || produced != length)
        return ST_ECODEC;
    out->len += length;
    return 0;
}

static int snappy_xerial_decompress(const uint8_t *in, size_t in_len, size_t max_bytes, buf *out)
{
    reader r;
    reader_init(&r, in + XERIAL_HEADER_BYTES, in_len - XERIAL_HEADER_BYTES);
    while (reader_remaining(&r) > 0) {
        int32_t block_len = reader_i32(&r);
        if (block_len <= 0)
            return ST_ECODEC; /* also a truncated length field */
        const uint8_t *block = reader_bytes(&r, (size_t)block_len);
        if (!block)
            return ST_ECODEC;
        int rc = snappy_block_decompress(block, (size_t)block_len, max_bytes, out);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int snappy_decompress(const uint8_t *in, size_t in_len, size_t max_bytes, buf *out)
{
    if (in_len >= XERIAL_HEADER_BYTES && memcmp(in, xerial_magic, sizeof xerial_magic) == 0)
        return snappy_xerial_decompress(in, in_len, max_bytes, out);
    return snappy_block_decompress(in, in_len, max_bytes, out);
}

static int snappy_compress_xerial(const uint8_t *in, size_t in_len, buf *out)
{
    buf_put(out, xerial_magic, sizeof xerial_magic);
    buf_put_i32(out, XERIAL_VERSION);
    buf_put_i32(out, XERIAL_COMPATIBLE_VERSION);
    for (size_t done = 0; done < in_len && buf_ok(out);) {
        size_t chunk = in_len - done;
        if (chunk > COMPRESSION_SNAPPY_BLOCK_BYTES)
            chunk = COMPRESSION_SNAPPY_BLOCK_BYTES;
        size_t bound = snappy_max_compressed_length(chunk);
        size_t length_pos = out->len;
        buf_put_i32(out, 0);
        uint8_t *space = buf_reserve(out, bound);
        if (!space)
            break;
        size_t produced = bound;
        if (snappy_compress((const char *)in + done, chunk, (char *)space, &produced) != SNAPPY_OK)
            return ST_ECODEC;
        out->len += produced;
        buf_patch_i32(out, length_pos, (int32_t)produced);
        done += chunk;
    }
    return out->err;
}

/* ---- lz4 -------------------------------------------------------------- */

static int lz4_decompress(const uint8_t *in, size_t in_len, buf *out)
{
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return ST_ENOMEM;
    size_t pos = 0, hint = 1; /* hint 0: the last frame ended */
    int rc = 0;
    while (pos < in_len || hint != 0) {
        size_t avail;
        uint8_t *space = output_space(out, &avail, &rc);
        if (!space)
            break;
        size_t produced = avail, consumed = in_len - pos;
        hint = LZ4F_decompress(dctx, space, &produced, in + pos, &consumed, NULL);
        if (LZ4F_isError(hint)) {
            rc = ST_ECODEC;
            break;
        }
        pos += consumed;
        out->len += produced;
        if (consumed == 0 && produced == 0) {
            rc = ST_ECODEC; /* the input ended inside a frame */
            break;
        }
    }
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

static int lz4_compress(const uint8_t *in, size_t in_len, buf *out)
{
    /* What Kafka's Java client writes: 64 KiB independent blocks. */
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    size_t bound = LZ4F_compressFrameBound(in_len, &prefs);
    uint8_t *space = buf_reserve(out, bound);
    if (!space)
        return out->err;
    size_t produced = LZ4F_compressFrame(space, bound, in, in_len, &prefs);
    if (LZ4F_isError(produced))
        return ST_ECODEC;
    out->len += produced;
    return 0;
}

/* ---- zstd ------------------------------------------------------------- */

static int zstd_window_log_max(size_t max_bytes)
{
    int log = COMPRESSION_ZSTD_WINDOW_LOG_FLOOR;
    while (log < COMPRESSION_ZSTD_WINDOW_LOG_CEILING && ((size_t)1 << log) < max_bytes)
        log++;
    return log;
}

static int zstd_decompress(const uint8_t *in, size_t in_len, size_t max_bytes, buf *out)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx)
        return ST_ENOMEM;
    int rc = 0;
    if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, zstd_window_log_max(max_bytes))))
        rc = ST_ECODEC;
    ZSTD_inBuffer input = {in, in_len, 0};
    size_t hint = 1; /* 0: the last frame was decoded and flushed */
    while (rc == 0 && (input.pos < input.size || hint != 0)) {
        size_t avail;
        uint8_t *space = output_space(out, &avail, &rc);
        if (!space)
            break;
        ZSTD_outBuffer output = {space, avail, 0};
        size_t consumed_before = input.pos;
        hint = ZSTD_decompressStream(dctx, &output, &input);
        if (ZSTD_isError(hint)) {
            rc = ZSTD_getErrorCode(hint) == ZSTD_error_memory_allocation ? ST_ENOMEM : ST_ECODEC;
            break;
        }
        out->len += output.pos;
        if (output.pos == 0 && input.pos == consumed_before)
            rc = ST_ECODEC; /* the input ended inside a frame */
    }
    ZSTD_freeDCtx(dctx);
    return rc;
}

static int zstd_compress(const uint8_t *in, size_t in_len, buf *out)
{
    size_t bound = ZSTD_compressBound(in_len);
    uint8_t *space = buf_reserve(out, bound);
    if (!space)
        return out->err;
    size_t produced = ZSTD_compress(space, bound, in, in_len, COMPRESSION_ZSTD_LEVEL);
    if (ZSTD_isError(produced))
        return ST_ECODEC;
    out->len += produced;
    return 0;
}

/* ---- dispatch --------------------------------------------------------- */

int compression_compress(int codec, const uint8_t *in, size_t in_len, buf *out)
{
    if (!buf_ok(out))
        return out->err;
    size_t start = out->len;
    int rc;
    switch (codec) {
    case BATCH_CODEC_GZIP: rc = gzip_compress(in, in_len, out); break;
    case BATCH_CODEC_SNAPPY: rc = snappy_compress_xerial(in, in_len, out); break;
    case BATCH_CODEC_LZ4: rc = lz4_compress(in, in_len, out); break;
    case BATCH_CODEC_ZSTD: rc = zstd_compress(in, in_len, out); break;
    default: rc = ST_ECODEC; break;
    }
    if (rc == 0)
        rc = out->err;
    if (rc != 0)
        out->len = start;
    return rc;
}

int compression_decompress(int codec, const uint8_t *in, size_t in_len, size_t max_bytes, buf *out)
{
    /* One byte of head room above the cap: see the top of this file. */
    buf_init(out, max_bytes < SIZE_MAX ? max_bytes + 1 : SIZE_MAX);
    int rc;
    switch (codec) {
    case BATCH_CODEC_GZIP: rc = gzip_decompress(in, in_len, out); break;
    case BATCH_CODEC_SNAPPY: rc = snappy_decompress(in, in_len, max_bytes, out); break;
    case BATCH_CODEC_LZ4: rc = lz4_decompress(in, in_len, out); break;
    case BATCH_CODEC_ZSTD: rc = zstd_decompress(in, in_len, max_bytes, out); break;
    default: rc = ST_ECODEC; break;
    }
    if (rc == 0 && out->len > max_bytes)
        rc = ST_ETOOBIG;
    return rc;
}
