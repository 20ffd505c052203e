/*
 * producer_ids.c - durable block allocation of producer ids (scheme and file
 * in producer_ids.h).
 *
 * Runs on the broker's event-loop thread.
 */
#include "broker/cluster/producer_ids.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/checkpoint_file.h"
#include "common/error.h"
#include "common/log.h"

#define COUNTER_LIMIT (INT64_C(1) << PRODUCER_ID_COUNTER_BITS)

_Static_assert(PRODUCER_ID_BLOCK_SIZE > 0 && PRODUCER_ID_BLOCK_SIZE < COUNTER_LIMIT,
               "a block must fit the counter");

struct producer_ids {
    char *data_dir;
    int64_t node_bits;   /* node.id << 32 */
    int64_t next;        /* next counter value to hand out */
    int64_t block_end;   /* counter values below this are reserved on disk */
};

int producer_ids_open(const char *data_dir, int32_t node_id, producer_ids **out)
{
    *out = NULL;
    if (!data_dir || node_id < 0)
        return ST_EINVAL;
    int64_t saved = 0;
    size_t entries = 0;
    int rc = checkpoint_read(data_dir, PRODUCER_ID_BLOCK_FILE, 1, &saved, 1, &entries);
    if (rc == ST_ENOTFOUND) {
        saved = 0;
    } else if (rc == 0 && (entries != 1 || saved < 0 || saved > COUNTER_LIMIT)) {
        rc = ST_ECORRUPT;
    }
    if (rc != 0 && rc != ST_ENOTFOUND) {
        log_error("cluster", "cannot read producer id block file dir=%s file=%s error=%s", data_dir,
                  PRODUCER_ID_BLOCK_FILE, strait_error_name(rc));
        return rc;
    }
    producer_ids *ids = calloc(1, sizeof *ids);
    if (!ids)
        return ST_ENOMEM;
    ids->data_dir = strdup(data_dir);
    if (!ids->data_dir) {
        free(ids);
        return ST_ENOMEM;
    }
    ids->node_bits = (int64_t)node_id << PRODUCER_ID_COUNTER_BITS;
    ids->next = saved;
    ids->block_end = saved;
    *out = ids;
    return 0;
}

void producer_ids_close(producer_ids *ids)
{
    if (!ids)
        return;
    free(ids->data_dir);
    free(ids);
}

int producer_ids_next(producer_ids *ids, int64_t *out)
{
    if (ids->next == ids->block_end) {
        int64_t end = ids->block_end + PRODUCER_ID_BLOCK_SIZE;
        if (end > COUNTER_LIMIT)
            end = COUNTER_LIMIT;
        if (end == ids->next) {
            log_error("cluster", "producer ids of this node are exhausted counter=%" PRId64, ids->next);
            return ST_ETOOBIG;
        }
        int rc = checkpoint_write(ids->data_dir, PRODUCER_ID_BLOCK_FILE, &end, 1, 1);
        if (rc != 0)
            return rc == ST_EIO ? rc : ST_EIO;
        ids->block_end = end;
        log_info("cluster", "reserved producer id block first=%" PRId64 " last=%" PRId64,
                 ids->node_bits | ids->next, ids->node_bits | (end - 1));
    }
    *out = ids->node_bits | ids->next++;
    return 0;
}
