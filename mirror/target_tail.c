/*
 * target_tail.c - the librdkafka side of the resume scan: reads a range of
 * one target partition with a group-less consumer (manual assignment) and
 * hands each record's offset and strait.src values to the scan.
 *
 * Runs on the flow's thread; the consumer is the flow's own tail consumer.
 */
#include "mirror/tail_scan.h"

#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "mirror/flow.h"

static void refresh_metadata(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rkt == NULL)
        return;
    /* Lifetime: rd_kafka_metadata waits on a reply queue of its own and drops a
     * reply that comes after timeout_ms; no coordinator lookup is involved (the
     * hazard described in checkpoints/group_sync.c does not apply). */
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
}

int mirror_target_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition,
                             int timeout_ms, int64_t *low, int64_t *high)
{
    /* Lifetime: librdkafka 2.0.2 waits here until both ListOffsets requests
     * have an answer or fail (their own socket timeout), not only timeout_ms
     * (fixed upstream in 2.3.0); a reply after it returns is dropped. */
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk, topic, partition, low, high, timeout_ms);
    if (err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
        /* A partition added since this handle last refreshed its metadata
         * (which it does only every few minutes for unassigned topics). */
        refresh_metadata(rk, topic, timeout_ms);
        err = rd_kafka_query_watermark_offsets(rk, topic, partition, low, high, timeout_ms);
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_warn("mirror", "watermarks failed topic=%s partition=%d error=%s", topic,
                 (int)partition, rd_kafka_err2str(err));
        return ST_EIO;
    }
    return 0;
}

static int assign_one(rd_kafka_t *consumer, const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    if (list == NULL)
        return ST_ENOMEM;
    rd_kafka_topic_partition_list_add(list, topic, partition)->offset = offset;
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer, list);
    rd_kafka_topic_partition_list_destroy(list);
    return err == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : ST_EIO;
}

static void visit_message(const rd_kafka_message_t *m, mirror_tail_visit_fn visit, void *visit_arg)
{
    mirror_tail_record record = {.offset = m->offset};
    rd_kafka_headers_t *headers = NULL;
    if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers != NULL) {
        const void *value = NULL;
        size_t size = 0;
        /* every value in header order: the last one is the hop that wrote
         * the record here, the earlier ones (relays) are kept too */
        for (size_t i = 0; rd_kafka_header_get(headers, i, MIRROR_PROVENANCE_HEADER, &value,
                                               &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             i++) {
            if (record.provenance != NULL && record.earlier_count < MIRROR_TAIL_EARLIER_MAX) {
                record.earlier[record.earlier_count] = record.provenance;
                record.earlier_size[record.earlier_count] = record.provenance_size;
                record.earlier_count++;
            }
            record.provenance = value;
            record.provenance_size = size;
        }
    }
    visit(visit_arg, &record);
}

int mirror_target_read(void *read_arg, int64_t start, int64_t end, mirror_tail_visit_fn visit,
                       void *visit_arg)
{
    mirror_target_reader *reader = read_arg;
    if (start >= end)
        return 0;
    int rc = assign_one(reader->consumer, reader->topic, reader->partition, start);
    if (rc != 0)
        return rc;
    int64_t deadline = clock_mono_ms() + reader->timeout_ms;
    rc = ST_EIO;
    while (clock_mono_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(reader->consumer, 200);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            rc = 0; /* the rest of the range is gone (compaction, gaps) */
            break;
        }
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            log_debug("mirror", "tail read topic=%s partition=%d error=%s", reader->topic,
                      (int)reader->partition, rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue; /* librdkafka retries transient errors itself */
        }
        int64_t offset = m->offset;
        if (offset >= start && offset < end)
            visit_message(m, visit, visit_arg);
        rd_kafka_message_destroy(m);
        if (offset >= end - 1) {
            rc = 0;
            break;
        }
    }
    if (rc != 0)
        log_warn("mirror", "tail read timed out topic=%s partition=%d range=[%lld,%lld)",
                 reader->topic, (int)reader->partition, (long long)start, (long long)end);
    rd_kafka_assign(reader->consumer, NULL);
    return rc;
}
