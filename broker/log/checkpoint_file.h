/*
 * checkpoint_file.h - the small text checkpoint files of a partition
 * directory (leader-epoch-checkpoint, recovery-point-checkpoint,
 * log-start-offset-checkpoint), written atomically and read back through the
 * bounds-checked reader.
 *
 * Text format (Kafka's checkpoint files), ASCII, one item per line:
 *
 *   LINE  FIELD
 *      1  version       always 0
 *      2  entry count   N, 0 <= N <= the caller's maximum
 *    3..  N entries     `columns` decimal int64 values separated by one space
 *
 * A write goes to <name>.tmp, which is fsynced, renamed over <name>, and the
 * directory fsynced, so a crash leaves either the old or the new file. A
 * leftover <name>.tmp is garbage and is deleted when the log is opened.
 *
 * Runs on the event-loop thread of the log that owns the directory.
 */
#ifndef STRAIT_CHECKPOINT_FILE_H
#define STRAIT_CHECKPOINT_FILE_H

#include <stddef.h>
#include <stdint.h>


/* Columns per entry a checkpoint may have. */
#define CHECKPOINT_COLUMNS_MAX 4

/* Writes entries rows of `columns` values (values[row * columns + column])
 * atomically to dir/name. Returns 0 or ST_EIO / ST_EINVAL / ST_ETOOBIG. */
int checkpoint_write(const char *dir, const char *name, const int64_t *values, size_t entries,
                     int columns);

/* Reads dir/name into values (room for entries_max rows of `columns`).
 * Returns 0 with *entries set, ST_ENOTFOUND when the file does not exist,
 * ST_ECORRUPT when it is malformed (bad version, count, number, line, or more
 * entries than entries_max), or ST_EIO. */
int checkpoint_read(const char *dir, const char *name, int columns, int64_t *values,
                    size_t entries_max, size_t *entries);

/* The decoder of checkpoint_read: parses len bytes of a checkpoint file's
 * text (what checkpoint_read reads) with the same results but ST_ENOTFOUND
 * and ST_EIO. */
int checkpoint_parse(const uint8_t *data, size_t len, int columns, int64_t *values,
                     size_t entries_max, size_t *entries);

#endif
