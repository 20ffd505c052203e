/* batch_recompress.c - re-encode a batch with another codec (see
 * batch_recompress.h). Records are read with the batch iterator and written
 * again with the batch builder, so both ends share the one record format. */
#include "broker/log/batch_recompress.h"

#include <stdlib.h>
#include <string.h>

#include "broker/log/batch.h"
#include "broker/log/batch_build.h"
#include "common/error.h"

/* Copies the iterator's current record and its headers into owned memory:
 * the iterator reuses its header array on every call. */
static int copy_record(const batch_record *in, batch_record *out, batch_record_header **headers)
{
    *out = *in;
    *headers = NULL;
    if (in->header_count > 0) {
        *headers = malloc((size_t)in->header_count * sizeof **headers);
        if (!*headers)
            return ST_ENOMEM;
        memcpy(*headers, in->headers, (size_t)in->header_count * sizeof **headers);
        out->headers = *headers;
    }
    return 0;
}

int batch_recompress(const uint8_t *data, size_t len, int codec, size_t max_decompressed_bytes,
                     buf *out)
{
    batch_iter *it = NULL;
    int rc = batch_iter_open(data, len, max_decompressed_bytes, &it);
    if (rc != 0)
        return rc;
    const batch_header *h = batch_iter_header(it);
    int32_t count = h->record_count;
    batch_record *records = calloc(count > 0 ? (size_t)count : 1, sizeof *records);
    batch_record_header **headers = calloc(count > 0 ? (size_t)count : 1, sizeof *headers);
    int32_t seen = 0;
    if (!records || !headers) {
        rc = ST_ENOMEM;
        goto out;
    }
    batch_record rec;
    while ((rc = batch_iter_next(it, &rec)) == 1) {
        if (seen == count || rec.offset_delta != seen) {
            rc = ST_ECORRUPT; /* producer batches have deltas 0..count-1 */
            goto out;
        }
        rc = copy_record(&rec, &records[seen], &headers[seen]);
        if (rc != 0)
            goto out;
        seen++;
    }
    if (rc != 0 || seen != count) {
        rc = rc != 0 ? rc : ST_ECORRUPT;
        goto out;
    }
    batch_build_params params;
    batch_build_params_default(&params);
    params.codec = codec;
    params.base_offset = h->base_offset;
    params.partition_leader_epoch = h->partition_leader_epoch;
    params.producer_id = h->producer_id;
    params.producer_epoch = h->producer_epoch;
    params.base_sequence = h->base_sequence;
    params.extra_attributes = (int16_t)(h->attributes & (BATCH_ATTR_TRANSACTIONAL | BATCH_ATTR_CONTROL));
    rc = batch_build(out, &params, records, count);
out:
    if (headers)
        for (int32_t i = 0; i < seen; i++)
            free(headers[i]);
    free(headers);
    free(records);
    batch_iter_close(it);
    return rc;
}
