/*
 * config_value.h - parsing of configuration values (integers, booleans,
 * choices, lists) with messages that quote the bad value, and the
 * did-you-mean lookup for unknown keys.
 */
#ifndef STRAIT_CONFIG_VALUE_H
#define STRAIT_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Value syntax shared by the broker config, topic configs and the topology. Each returns 0 or
 * ST_ECONFIG with a reason in msg that quotes the value, e.g.
 * "expected an integer between 1 and 2147483647, got 'abc'".
 */
/* Decimal integer, optional sign, nothing else, min <= value <= max. */
int config_value_parse_int(const char *value, int64_t min, int64_t max, int64_t *out, char *msg,
                            size_t msglen);
/* true or false, any case. */
int config_value_parse_bool(const char *value, bool *out, char *msg, size_t msglen);
/* One of choices ("a|b|c"), case-sensitive as in Kafka. */
int config_value_parse_choice(const char *value, const char *choices, char *msg, size_t msglen);
/* A non-empty comma-separated list of choices ("compact|delete"), written
 * to normal without blanks or repeats ("compact,delete"). */
int config_value_parse_list(const char *value, const char *choices, char *normal,
                             size_t normallen, char *msg, size_t msglen);
/* The name in names[0..count) closest to word within edit distance 2, or NULL. */
const char *config_value_closest(const char *word, const char *const *names, int count);

/* value as it appears in a message: at most 64 bytes, controls as '?'. */
const char *config_value_quoted(const char *value, char *out, size_t outlen);

/* Trims blanks around [*start, *start+len): moves *start, returns the new length. */
size_t config_value_trim(const char **start, size_t len);
/* Appends word to the comma-separated list in out; false if it does not fit. */
bool config_value_list_append(char *out, size_t outlen, const char *word, size_t len);

#endif
