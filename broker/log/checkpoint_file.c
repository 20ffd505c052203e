/*
 * checkpoint_file.c - atomic write and bounds-checked parse of the small text
 * checkpoint files (format in checkpoint_file.h).
 */
#include "broker/log/checkpoint_file.h"
#include "common/file_io.h"
#include "common/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/invariant.h"
#include "common/log.h"
#include "common/reader.h"

static void format_entries(buf *out, const int64_t *values, size_t entries, int columns)
{
    char line[32 * CHECKPOINT_COLUMNS_MAX + 32];
    int n = snprintf(line, sizeof line, "0\n%zu\n", entries);
    INVARIANT(n > 0 && (size_t)n < sizeof line);
    buf_put(out, line, (size_t)n);
    for (size_t row = 0; row < entries; row++) {
        size_t used = 0;
        for (int column = 0; column < columns; column++) {
            n = snprintf(line + used, sizeof line - used, "%s%lld", column ? " " : "",
                         (long long)values[row * (size_t)columns + (size_t)column]);
            used += (size_t)n;
        }
        /* 20 digits and a sign per column fit the line: never truncated */
        INVARIANT(used < sizeof line);
        line[used++] = '\n';
        buf_put(out, line, used);
    }
}

/* Checked before it is written (INVARIANT_EXPENSIVE): the text parses back
 * to the values. True when there is no memory to check with. */
static bool reads_back(const buf *text, const int64_t *values, size_t entries, int columns)
{
    size_t count = entries * (size_t)columns;
    int64_t *back = malloc(count ? count * sizeof *back : 1);
    if (back == NULL)
        return true;
    size_t back_entries = 0;
    bool same = checkpoint_parse(text->data, text->len, columns, back, entries, &back_entries) == 0 &&
                back_entries == entries && (count == 0 || memcmp(back, values, count * sizeof *back) == 0);
    free(back);
    return same;
}

int checkpoint_write(const char *dir, const char *name, const int64_t *values, size_t entries,
                     int columns)
{
    if (columns < 1 || columns > CHECKPOINT_COLUMNS_MAX)
        return ST_EINVAL;
    INVARIANT(values != NULL || entries == 0);
    buf text;
    buf_init(&text, LIMIT_CHECKPOINT_FILE_BYTES);
    format_entries(&text, values, entries, columns);
    INVARIANT_EXPENSIVE(!buf_ok(&text) || reads_back(&text, values, entries, columns));
    int rc = buf_ok(&text) ? file_write_atomic(dir, name, text.data, text.len) : ST_ETOOBIG;
    if (rc != 0)
        log_error("log", "checkpoint write failed dir=%s name=%s error=%s", dir, name,
                  strait_error_name(rc));
    buf_free(&text);
    return rc;
}

/* Parses one decimal int64 ("-" allowed) followed by the separator byte. */
static int64_t read_decimal(reader *r, uint8_t separator)
{
    bool negative = false;
    if (reader_remaining(r) > 0 && r->pos[0] == '-') {
        negative = true;
        reader_skip(r, 1);
    }
    uint64_t value = 0;
    int digits = 0;
    while (reader_ok(r) && reader_remaining(r) > 0 && r->pos[0] >= '0' && r->pos[0] <= '9') {
        uint64_t digit = (uint64_t)(r->pos[0] - '0');
        if (value > ((uint64_t)INT64_MAX - digit) / 10) {
            reader_fail(r, ST_ECORRUPT, "checkpoint number overflows int64");
            return 0;
        }
        value = value * 10 + digit;
        digits++;
        reader_skip(r, 1);
    }
    const uint8_t *sep = reader_bytes(r, 1);
    if (digits == 0 || sep == NULL || *sep != separator) {
        reader_fail(r, ST_ECORRUPT, "checkpoint number or separator");
        return 0;
    }
    return negative ? -(int64_t)value : (int64_t)value;
}

int checkpoint_parse(const uint8_t *data, size_t len, int columns, int64_t *values,
                     size_t entries_max, size_t *entries)
{
    if (columns < 1 || columns > CHECKPOINT_COLUMNS_MAX)
        return ST_EINVAL;
    reader r;
    reader_init(&r, data, len);
    int64_t version = read_decimal(&r, '\n');
    int64_t count = read_decimal(&r, '\n');
    if (!reader_ok(&r) || version != 0 || count < 0 || (uint64_t)count > entries_max)
        return ST_ECORRUPT;
    /* each entry needs at least two bytes per column ("0 " / "0\n") */
    if ((uint64_t)count * (uint64_t)columns * 2 > reader_remaining(&r))
        return ST_ECORRUPT;
    for (int64_t row = 0; row < count; row++)
        for (int column = 0; column < columns; column++)
            values[(size_t)row * (size_t)columns + (size_t)column] =
                read_decimal(&r, column + 1 < columns ? ' ' : '\n');
    if (!reader_ok(&r) || reader_remaining(&r) != 0)
        return ST_ECORRUPT;
    INVARIANT((uint64_t)count <= entries_max);
    *entries = (size_t)count;
    return 0;
}

int checkpoint_read(const char *dir, const char *name, int columns, int64_t *values,
                    size_t entries_max, size_t *entries)
{
    if (columns < 1 || columns > CHECKPOINT_COLUMNS_MAX)
        return ST_EINVAL;
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return ST_EINVAL;
    char *data = NULL;
    size_t len = 0;
    int rc = file_read_all(path, LIMIT_CHECKPOINT_FILE_BYTES, &data, &len);
    if (rc == ST_ETOOBIG)
        rc = ST_ECORRUPT; /* a checkpoint that large is not one of ours */
    if (rc == 0)
        rc = checkpoint_parse((const uint8_t *)data, len, columns, values, entries_max, entries);
    free(data);
    return rc;
}
