/*
 * file_io.c - the small-file helpers every module persists with: complete
 * writes, atomic replacement (write tmp, fsync, rename, fsync the directory),
 * bounded whole-file reads, mkdir -p and flat directory removal.
 */
#include "common/file_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"

int file_write_all(int fd, const void *bytes, size_t len)
{
    const uint8_t *data = bytes;
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ST_EIO;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int file_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ST_EIO;
    int rc = fsync(fd) == 0 ? 0 : ST_EIO;
    int saved = errno;
    close(fd);
    if (rc != 0)
        log_error("file", "fsync of directory failed dir=%s errno=%d", dir, saved);
    return rc;
}

int file_write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
    char path[PATH_MAX], tmp_path[PATH_MAX];
    int n1 = snprintf(path, sizeof path, "%s/%s", dir, name);
    int n2 = snprintf(tmp_path, sizeof tmp_path, "%s/%s.tmp", dir, name);
    if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof path || (size_t)n2 >= sizeof tmp_path)
        return ST_EINVAL;
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_error("file", "cannot create file path=%s errno=%d", tmp_path, errno);
        return ST_EIO;
    }
    int rc = file_write_all(fd, data, len);
    if (rc == 0 && fsync(fd) != 0)
        rc = ST_EIO;
    if (close(fd) != 0 && rc == 0)
        rc = ST_EIO;
    if (rc == 0 && rename(tmp_path, path) != 0)
        rc = ST_EIO;
    if (rc != 0) {
        log_error("file", "cannot write file path=%s errno=%d", path, errno);
        unlink(tmp_path);
        return rc;
    }
    return file_fsync_dir(dir);
}

int file_read_all(const char *path, size_t max_bytes, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ST_ENOTFOUND : ST_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return ST_EIO;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max_bytes) {
        close(fd);
        return ST_ETOOBIG;
    }
    size_t size = (size_t)st.st_size;
    char *data = malloc(size + 1);
    if (!data) {
        close(fd);
        return ST_ENOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            /* not "take what is there": a checkpoint or state file cut
             * short by a read error can still parse (a line fewer, a
             * shorter number) and would be believed */
            int saved = errno;
            log_error("file", "read failed path=%s errno=%d", path, saved);
            close(fd);
            free(data);
            return ST_EIO;
        }
        if (n == 0)
            break; /* shrank underneath us: take what is there */
        got += (size_t)n;
    }
    close(fd);
    data[got] = '\0';
    *out = data;
    *len = got;
    return 0;
}

int file_mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s", path);
    if (n <= 0 || (size_t)n >= sizeof tmp)
        return ST_EINVAL;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return ST_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return ST_EIO;
    struct stat st;
    if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode))
        return ST_EIO;
    return 0;
}

/* Removes a partition directory whose log could not be opened for
 * plog_delete (flat: partition directories hold only files). */
void file_remove_flat_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    char file[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int n = snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        if (n > 0 && (size_t)n < sizeof file && unlink(file) != 0)
            log_warn("file", "cannot remove file path=%s errno=%d", file, errno);
    }
    closedir(d);
    if (rmdir(path) != 0 && errno != ENOENT)
        log_warn("file", "cannot remove directory path=%s errno=%d", path, errno);
}

int file_pread_all(int fd, void *bytes, size_t len, int64_t position)
{
    uint8_t *data = bytes;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, data + got, len - got, (off_t)(position + (int64_t)got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ST_EIO;
        if (n == 0)
            return ST_ETRUNCATED;
        got += (size_t)n;
    }
    return 0;
}

int file_pwrite_all(int fd, const void *bytes, size_t len, int64_t position)
{
    const uint8_t *data = bytes;
    while (len > 0) {
        ssize_t n = pwrite(fd, data, len, (off_t)position);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ST_EIO;
        data += n;
        len -= (size_t)n;
        position += n;
    }
    return 0;
}

int file_read_in_dir(const char *dir, const char *name, size_t max_bytes, char **out, size_t *len,
                     char *path, size_t pathlen, char *why, size_t whylen)
{
    *out = NULL;
    *len = 0;
    if (snprintf(path, pathlen, "%s/%s", dir, name) >= (int)pathlen) {
        snprintf(why, whylen, "path too long");
        return ST_EINVAL;
    }
    int rc = file_read_all(path, max_bytes, out, len);
    if (rc != 0 && rc != ST_ENOTFOUND)
        snprintf(why, whylen, "%s: %s", path, strait_strerror(rc));
    return rc;
}
