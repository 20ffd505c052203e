/*
 * metrics_text.c - Prometheus text exposition format 0.0.4 (see
 * metrics_text.h): family headers, samples, escaping.
 */
#include "common/metrics_text.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_str(buf *out, const char *s) { buf_put(out, s, strlen(s)); }

bool metrics_text_name_valid(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        bool digit = c >= '0' && c <= '9';
        if (!letter && !(digit && p != name))
            return false;
    }
    return true;
}

/* HELP text: backslash and newline escaped. */
static void put_help(buf *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '\\')
            put_str(out, "\\\\");
        else if (*p == '\n')
            put_str(out, "\\n");
        else
            buf_put(out, p, 1);
    }
}

void metrics_text_escape_label(buf *out, const char *value, size_t len)
{
    size_t run = 0; /* unescaped bytes not yet copied, ending at i */
    for (size_t i = 0; i < len; i++) {
        const char *escaped = value[i] == '\\' ? "\\\\" : value[i] == '"' ? "\\\"" :
                              value[i] == '\n' ? "\\n" : NULL;
        if (!escaped) {
            run++;
            continue;
        }
        buf_put(out, value + i - run, run);
        run = 0;
        put_str(out, escaped);
    }
    buf_put(out, value + len - run, run);
}

void metrics_text_family(buf *out, const char *name, const char *type, const char *help)
{
    assert(metrics_text_name_valid(name));
    assert(!strcmp(type, "counter") || !strcmp(type, "gauge") || !strcmp(type, "untyped"));
    put_str(out, "# HELP ");
    put_str(out, name);
    put_str(out, " ");
    put_help(out, help);
    put_str(out, "\n# TYPE ");
    put_str(out, name);
    put_str(out, " ");
    put_str(out, type);
    put_str(out, "\n");
}

/* name{a="x",b="y"} - the part of a sample before its value. */
static void put_series(buf *out, const char *name, const metrics_label *labels, int label_count)
{
    assert(metrics_text_name_valid(name));
    assert(label_count >= 0 && (label_count == 0 || labels != NULL));
    put_str(out, name);
    if (label_count == 0)
        return;
    put_str(out, "{");
    for (int i = 0; i < label_count; i++) {
        assert(metrics_text_name_valid(labels[i].name));
        if (i > 0)
            put_str(out, ",");
        put_str(out, labels[i].name);
        put_str(out, "=\"");
        metrics_text_escape_label(out, labels[i].value, labels[i].value_len);
        put_str(out, "\"");
    }
    put_str(out, "}");
}

void metrics_text_sample_int(buf *out, const char *name, const metrics_label *labels,
                             int label_count, int64_t value)
{
    char text[32];
    put_series(out, name, labels, label_count);
    snprintf(text, sizeof text, " %" PRId64 "\n", value);
    put_str(out, text);
}

void metrics_text_sample_uint(buf *out, const char *name, const metrics_label *labels,
                              int label_count, uint64_t value)
{
    char text[32];
    put_series(out, name, labels, label_count);
    snprintf(text, sizeof text, " %" PRIu64 "\n", value);
    put_str(out, text);
}

void metrics_text_sample_double(buf *out, const char *name, const metrics_label *labels,
                                int label_count, double value)
{
    char text[48];
    put_series(out, name, labels, label_count);
    if (isnan(value))
        snprintf(text, sizeof text, " NaN\n");
    else if (isinf(value))
        snprintf(text, sizeof text, " %sInf\n", value > 0 ? "+" : "-");
    else { /* the shortest text that reads back as the same double */
        snprintf(text, sizeof text, " %.15g\n", value);
        if (strtod(text, NULL) != value)
            snprintf(text, sizeof text, " %.17g\n", value);
    }
    put_str(out, text);
}
