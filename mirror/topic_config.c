/*
 * topic_config.c - the portable-config filter and a bounded config set
 * (see topic_config.h). Pure; unit-tested in tests/unit/test_mirror_config.c.
 */
#include "mirror/topic_config.h"

#include <string.h>

#include "common/error.h"

static const char *const portable_exact[] = {
    "cleanup.policy",        "max.message.bytes",     "compression.type",
    "message.timestamp.type", "min.compaction.lag.ms", "max.compaction.lag.ms",
    "delete.retention.ms",   "min.cleanable.dirty.ratio",
};
static const char *const portable_prefixes[] = {"retention.", "segment."};

bool mirror_config_portable(const char *name)
{
    if (name == NULL)
        return false;
    for (size_t i = 0; i < sizeof portable_exact / sizeof portable_exact[0]; i++)
        if (strcmp(name, portable_exact[i]) == 0)
            return true;
    for (size_t i = 0; i < sizeof portable_prefixes / sizeof portable_prefixes[0]; i++) {
        size_t n = strlen(portable_prefixes[i]);
        if (strncmp(name, portable_prefixes[i], n) == 0 && name[n] != '\0')
            return true;
    }
    return false;
}

bool mirror_config_keep(const char *name, const char *value, bool is_default, bool is_read_only,
                        bool is_sensitive)
{
    return value != NULL && !is_default && !is_read_only && !is_sensitive &&
           mirror_config_portable(name);
}

const char *mirror_config_set_get(const mirror_config_set *set, const char *name)
{
    for (int i = 0; i < set->count; i++)
        if (strcmp(set->entries[i].name, name) == 0)
            return set->entries[i].value;
    return NULL;
}

int mirror_config_set_put(mirror_config_set *set, const char *name, const char *value)
{
    if (strlen(name) >= MIRROR_CONFIG_NAME_MAX || strlen(value) >= MIRROR_CONFIG_VALUE_MAX)
        return ST_ETOOBIG;
    int slot = -1;
    for (int i = 0; i < set->count; i++)
        if (strcmp(set->entries[i].name, name) == 0)
            slot = i;
    if (slot < 0) {
        if (set->count >= MIRROR_TOPIC_CONFIGS_MAX)
            return ST_ETOOBIG;
        slot = set->count++;
        strcpy(set->entries[slot].name, name); /* length checked above */
    }
    strcpy(set->entries[slot].value, value);
    return 0;
}

bool mirror_config_set_equal(const mirror_config_set *a, const mirror_config_set *b)
{
    if (a->count != b->count)
        return false;
    for (int i = 0; i < a->count; i++) {
        const char *other = mirror_config_set_get(b, a->entries[i].name);
        if (other == NULL || strcmp(other, a->entries[i].value) != 0)
            return false;
    }
    return true;
}
