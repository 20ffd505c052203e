/*
 * topic_config_ops.c - SET / DELETE / APPEND / SUBTRACT on topic config
 * overrides (topic_config_ops.h).
 */
#include "broker/cluster/topic_config_ops.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

/* Items a list config may hold; cleanup.policy has two possible values and
 * the throttled-replica lists are bounded by the value length anyway. */
#define LIST_ITEMS_MAX 64

/* Topic configs whose values are comma-separated lists (APPEND/SUBTRACT). */
static bool config_is_list(const char *key)
{
    return strcmp(key, "cleanup.policy") == 0 ||
           strcmp(key, "leader.replication.throttled.replicas") == 0 ||
           strcmp(key, "follower.replication.throttled.replicas") == 0;
}

/* Splits a comma-separated list in place into items (trimmed, empties
 * dropped). Returns the item count (at most max). */
static int split_list(char *text, char **items, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *item = strtok_r(text, ",", &save); item && n < max;
         item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        size_t len = strlen(item);
        while (len > 0 && item[len - 1] == ' ')
            item[--len] = '\0';
        if (len > 0)
            items[n++] = item;
    }
    return n;
}

/* APPEND (subtract=false) or SUBTRACT value's items to/from the effective
 * value of key in tc. */
static int edit_list(topic_config *tc, const broker_config *bc, const char *key,
                     const char *value, bool subtract, char *err, size_t errlen)
{
    if (!topic_config_known(key))
        return topic_config_set(tc, key, NULL, err, errlen); /* names the unknown key */
    if (!config_is_list(key)) {
        snprintf(err, errlen, "cannot %s '%.64s': it is not a list config",
                 subtract ? "SUBTRACT from" : "APPEND to", key);
        return ST_ECONFIG;
    }
    char current[TOPIC_CONFIG_VALUE_MAX], edit[TOPIC_CONFIG_VALUE_MAX];
    char result[TOPIC_CONFIG_VALUE_MAX];
    if (topic_config_get(tc, bc, key, current, sizeof current) < 0) {
        snprintf(err, errlen, "unknown topic config '%.64s'", key);
        return ST_ECONFIG;
    }
    if (strlen(value) >= sizeof edit) {
        snprintf(err, errlen, "%.64s: value too long", key);
        return ST_ECONFIG;
    }
    snprintf(edit, sizeof edit, "%s", value);
    char *have[LIST_ITEMS_MAX], *change[LIST_ITEMS_MAX];
    int have_count = split_list(current, have, LIST_ITEMS_MAX);
    int change_count = split_list(edit, change, LIST_ITEMS_MAX);
    size_t used = 0;
    result[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        char **items = pass == 0 ? have : change;
        int count = pass == 0 ? have_count : change_count;
        if (pass == 1 && subtract)
            break;
        for (int i = 0; i < count; i++) {
            bool listed = false;
            char **others = pass == 0 ? change : have;
            int other_count = pass == 0 ? change_count : have_count;
            for (int j = 0; j < other_count; j++)
                listed = listed || strcmp(items[i], others[j]) == 0;
            /* pass 0 keeps current items (minus subtracted ones); pass 1
             * appends new items not already present. */
            if ((pass == 0 && subtract && listed) || (pass == 1 && listed))
                continue;
            int n = snprintf(result + used, sizeof result - used, "%s%s", used ? "," : "",
                             items[i]);
            if (n < 0 || (size_t)n >= sizeof result - used) {
                snprintf(err, errlen, "%.64s: value too long", key);
                return ST_ECONFIG;
            }
            used += (size_t)n;
        }
    }
    return topic_config_set(tc, key, result, err, errlen);
}

int topic_config_apply_op(topic_config *tc, const broker_config *bc, const char *key,
                          const char *value, int op, char *err, size_t errlen)
{
    switch (op) {
    case TOPIC_CONFIG_OP_SET:
        if (!value) {
            snprintf(err, errlen, "SET of '%.64s' needs a value", key);
            return ST_EINVAL;
        }
        return topic_config_set(tc, key, value, err, errlen);
    case TOPIC_CONFIG_OP_DELETE: /* unknown keys fail in topic_config_set */
        return topic_config_set(tc, key, NULL, err, errlen);
    case TOPIC_CONFIG_OP_APPEND:
    case TOPIC_CONFIG_OP_SUBTRACT:
        if (!value) {
            snprintf(err, errlen, "%s of '%.64s' needs a value",
                     op == TOPIC_CONFIG_OP_APPEND ? "APPEND" : "SUBTRACT", key);
            return ST_EINVAL;
        }
        return edit_list(tc, bc, key, value, op == TOPIC_CONFIG_OP_SUBTRACT, err, errlen);
    default:
        snprintf(err, errlen, "unknown config operation %d for '%.64s'", op, key);
        return ST_EINVAL;
    }
}

