/*
 * topic_config_ops.h - the four IncrementalAlterConfigs operations on a
 * topic's config overrides (SET, DELETE, APPEND, SUBTRACT), on top of
 * topic_config_set's validation.
 *
 * Runs on the broker's event-loop thread (pure functions of their inputs).
 */
#ifndef STRAIT_TOPIC_CONFIG_OPS_H
#define STRAIT_TOPIC_CONFIG_OPS_H

#include <stddef.h>

#include "broker/config/broker_config.h"
#include "broker/log/topic_config.h"

enum topic_config_op {
    TOPIC_CONFIG_OP_SET = 0,
    TOPIC_CONFIG_OP_DELETE = 1,
    TOPIC_CONFIG_OP_APPEND = 2,   /* list configs: add items not yet present */
    TOPIC_CONFIG_OP_SUBTRACT = 3, /* list configs: remove items */
};

/*
 * Applies op to key in tc. APPEND and SUBTRACT start from the effective
 * value (override, else the broker's or Kafka's default, resolved through
 * bc). Returns 0; ST_ECONFIG with err naming the key and reason (unknown key,
 * bad value, APPEND/SUBTRACT on a config that is not a list); or ST_EINVAL
 * (unknown op, or a null value for SET/APPEND/SUBTRACT). tc is unchanged on
 * error.
 */
int topic_config_apply_op(topic_config *tc, const broker_config *bc, const char *key,
                          const char *value, int op, char *err, size_t errlen);

#endif
