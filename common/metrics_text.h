/*
 * metrics_text.h - the Prometheus text exposition format (version 0.0.4),
 * written into a buf with a ceiling. Shared by every daemon's /metrics.
 *
 * One metric family is a HELP line, a TYPE line, then its samples:
 *
 *   # HELP strait_broker_requests_total Requests decoded, by API.
 *   # TYPE strait_broker_requests_total counter
 *   strait_broker_requests_total{api="Produce"} 42
 *
 * Escaping (the format's own rules): in HELP text a backslash becomes \\ and
 * a newline \n; in a label value a backslash, a double quote and a newline
 * become \\, \" and \n. Every other byte is copied as is (UTF-8 passes).
 * Metric and label names are ours, never from the wire: they must match
 * [a-zA-Z_:][a-zA-Z0-9_:]* (asserted).
 *
 * Writers never fail individually: like every buf, the first error (the
 * ceiling reached) is sticky and the caller checks buf_ok() once at the end.
 */
#ifndef STRAIT_METRICS_TEXT_H
#define STRAIT_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Content-Type of the exposition format. */
#define METRICS_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One label; value need not be NUL-terminated (value_len bytes). */
typedef struct metrics_label {
    const char *name;
    const char *value;
    size_t value_len;
} metrics_label;

/* True if name is a valid metric or label name. */
bool metrics_text_name_valid(const char *name);

/* "# HELP name help\n# TYPE name type\n"; type is counter, gauge or untyped. */
void metrics_text_family(buf *out, const char *name, const char *type, const char *help);

/* name{labels} value\n, with an integer value (exact, no float rounding). */
void metrics_text_sample_int(buf *out, const char *name, const metrics_label *labels,
                             int label_count, int64_t value);
void metrics_text_sample_uint(buf *out, const char *name, const metrics_label *labels,
                              int label_count, uint64_t value);
/* name{labels} value\n, with a float value (NaN, +Inf and -Inf as the format
 * spells them). */
void metrics_text_sample_double(buf *out, const char *name, const metrics_label *labels,
                                int label_count, double value);

/* Appends value escaped as a label value (without the quotes). */
void metrics_text_escape_label(buf *out, const char *value, size_t len);

#endif
