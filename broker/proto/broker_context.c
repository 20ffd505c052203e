/*
 * broker_context.c - the topic helpers every handler shares (see
 * broker_context.h): lookup with auto-creation, and the region epoch a new
 * topic or partition starts at.
 */
#include "broker/proto/broker_context.h"

#include "broker/cluster/region_epochs.h"
#include "common/log.h"

topic *broker_topic_get_or_create(broker *b, const char *name, size_t len, bool allow_create)
{
    topic *t = topic_registry_find(b->topics, name, len);
    if (t || !allow_create || !b->config.auto_create_topics_enable)
        return t;
    char err[256];
    int rc = topic_registry_create(b->topics, name, len, -1, NULL, NULL, 0, false, &t, err, sizeof err);
    if (rc != 0) {
        log_warn("broker", "auto-create failed topic=%.*s error=%s", (int)len, name, err);
        return NULL;
    }
    log_info("broker", "auto-created topic topic=%.*s partitions=%d", (int)len, name,
             t->partition_count);
    broker_topic_created(b, t);
    return t;
}

void broker_topic_created(broker *b, topic *t)
{
    region_epochs_raise_topic(b->region, t); /* failures are logged there */
}
