/*
 * file_io.h - small-file helpers: complete writes, atomic replacement, bounded
 * reads, directory creation, fsync and removal. Errors are ST_E* values.
 */
#ifndef STRAIT_FILE_IO_H
#define STRAIT_FILE_IO_H

#include <stddef.h>
#include <stdint.h>

/* Writes all len bytes to fd (retrying short writes and EINTR). 0 or ST_EIO. */
int file_write_all(int fd, const void *data, size_t len);

/* Writes len bytes to dir/name atomically: dir/name.tmp is written and
 * fsynced, renamed over dir/name, and dir fsynced. 0 or ST_EIO / ST_EINVAL. */
int file_write_atomic(const char *dir, const char *name, const void *data, size_t len);

/* Reads all of path into a malloc'ed NUL-terminated buffer (*out, *len).
 * ST_ENOTFOUND if absent, ST_ETOOBIG above max_bytes, ST_EIO otherwise. */
int file_read_all(const char *path, size_t max_bytes, char **out, size_t *len);

/* file_read_all of dir/name; the full path is written to path (pathlen
 * bytes) for the caller's messages. On an error other than ST_ENOTFOUND,
 * why says "PATH: reason". */
int file_read_in_dir(const char *dir, const char *name, size_t max_bytes, char **out, size_t *len,
                     char *path, size_t pathlen, char *why, size_t whylen);

/* fsyncs a directory after entries in it changed. 0 or ST_EIO. */
int file_fsync_dir(const char *dir);

/* mkdir -p (mode 0755). 0 or ST_EIO. */
int file_mkdirs(const char *path);

/* Removes a directory that holds only files (a partition directory), best
 * effort; failures are logged. */
void file_remove_flat_dir(const char *path);

/* Reads exactly len bytes at position. 0, ST_ETRUNCATED (end of file first)
 * or ST_EIO. */
int file_pread_all(int fd, void *data, size_t len, int64_t position);

/* Writes all len bytes at position. 0 or ST_EIO. */
int file_pwrite_all(int fd, const void *data, size_t len, int64_t position);

#endif
