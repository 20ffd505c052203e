/*
 * fault_injection.c - the wrapped allocation and I/O functions (contract in
 * fault_injection.h). Each __wrap_X asks fault_should_fail for its kind and
 * either fails the way X fails or calls __real_X.
 */
#include "fault_injection.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static _Atomic int armed_kind = -1;
static _Atomic long armed_nth;
static _Atomic bool armed_persistent;
static _Atomic long calls[FAULT_KINDS];
static _Atomic long failures[FAULT_KINDS];

void fault_arm(enum fault_kind kind, long nth, bool persistent)
{
    atomic_store(&armed_kind, -1);
    for (int i = 0; i < FAULT_KINDS; i++) {
        atomic_store(&calls[i], 0);
        atomic_store(&failures[i], 0);
    }
    atomic_store(&armed_nth, nth);
    atomic_store(&armed_persistent, persistent);
    atomic_store(&armed_kind, (int)kind);
}

void fault_disarm(void) { atomic_store(&armed_kind, -1); }

long fault_calls(enum fault_kind kind) { return atomic_load(&calls[kind]); }

long fault_failures(enum fault_kind kind) { return atomic_load(&failures[kind]); }

bool fault_should_fail(enum fault_kind kind)
{
    if (atomic_load(&armed_kind) != (int)kind)
        return false;
    long call = atomic_fetch_add(&calls[kind], 1) + 1;
    long nth = atomic_load(&armed_nth);
    bool fail = call == nth || (call > nth && atomic_load(&armed_persistent));
    if (fail)
        atomic_fetch_add(&failures[kind], 1);
    return fail;
}

const char *fault_kind_name(enum fault_kind kind)
{
    static const char *const names[FAULT_KINDS] = {"alloc", "write", "sync", "rename",
                                                   "open", "truncate", "read"};
    return (unsigned)kind < FAULT_KINDS ? names[kind] : "?";
}

/* ---- the wrapped functions (linked with -Wl,--wrap=NAME) --------------------- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
DIR *__real_opendir(const char *path);
ssize_t __real_write(int fd, const void *data, size_t len);
ssize_t __real_pwrite(int fd, const void *data, size_t len, off_t position);
int __real_rename(const char *from, const char *to);
int __real_open(const char *path, int flags, ...);
int __real_ftruncate(int fd, off_t len);
ssize_t __real_read(int fd, void *data, size_t len);
ssize_t __real_pread(int fd, void *data, size_t len, off_t position);
/* what _FORTIFY_SOURCE turns read and pread into when the buffer size is known */
ssize_t __real___read_chk(int fd, void *data, size_t len, size_t data_bytes);
ssize_t __real___pread_chk(int fd, void *data, size_t len, off_t position, size_t data_bytes);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
DIR *__wrap_opendir(const char *path);
ssize_t __wrap_write(int fd, const void *data, size_t len);
ssize_t __wrap_pwrite(int fd, const void *data, size_t len, off_t position);
int __wrap_fsync(int fd);
int __wrap_fdatasync(int fd);
int __wrap_rename(const char *from, const char *to);
int __wrap_open(const char *path, int flags, ...);
int __wrap_ftruncate(int fd, off_t len);
ssize_t __wrap_read(int fd, void *data, size_t len);
ssize_t __wrap_pread(int fd, void *data, size_t len, off_t position);
ssize_t __wrap___read_chk(int fd, void *data, size_t len, size_t data_bytes);
ssize_t __wrap___pread_chk(int fd, void *data, size_t len, off_t position, size_t data_bytes);

#define FAIL_WITH(kind, error, value) \
    do {                              \
        if (fault_should_fail(kind)) { \
            errno = (error);          \
            return (value);           \
        }                             \
    } while (0)

void *__wrap_malloc(size_t size)
{
    FAIL_WITH(FAULT_ALLOC, ENOMEM, NULL);
    return __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size)
{
    FAIL_WITH(FAULT_ALLOC, ENOMEM, NULL);
    return __real_calloc(count, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    FAIL_WITH(FAULT_ALLOC, ENOMEM, NULL);
    return __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
    FAIL_WITH(FAULT_ALLOC, ENOMEM, NULL);
    return __real_strdup(s);
}

DIR *__wrap_opendir(const char *path)
{
    FAIL_WITH(FAULT_ALLOC, ENOMEM, NULL);
    return __real_opendir(path);
}

ssize_t __wrap_write(int fd, const void *data, size_t len)
{
    FAIL_WITH(FAULT_WRITE, ENOSPC, -1);
    return __real_write(fd, data, len);
}

ssize_t __wrap_pwrite(int fd, const void *data, size_t len, off_t position)
{
    FAIL_WITH(FAULT_WRITE, ENOSPC, -1);
    return __real_pwrite(fd, data, len, position);
}

/* These programs never lose power: an fsync that is not failed succeeds
 * without going to the disk (the loops run thousands of them, and each real
 * one costs milliseconds). A bad descriptor still fails as it would. */
int __wrap_fsync(int fd)
{
    FAIL_WITH(FAULT_SYNC, EIO, -1);
    return fcntl(fd, F_GETFD) < 0 ? -1 : 0;
}

int __wrap_fdatasync(int fd)
{
    FAIL_WITH(FAULT_SYNC, EIO, -1);
    return fcntl(fd, F_GETFD) < 0 ? -1 : 0;
}

int __wrap_rename(const char *from, const char *to)
{
    FAIL_WITH(FAULT_RENAME, EIO, -1);
    return __real_rename(from, to);
}

int __wrap_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    FAIL_WITH(FAULT_OPEN, EIO, -1);
    return __real_open(path, flags, mode);
}

int __wrap_ftruncate(int fd, off_t len)
{
    FAIL_WITH(FAULT_TRUNCATE, EIO, -1);
    return __real_ftruncate(fd, len);
}

ssize_t __wrap_read(int fd, void *data, size_t len)
{
    FAIL_WITH(FAULT_READ, EIO, -1);
    return __real_read(fd, data, len);
}

ssize_t __wrap_pread(int fd, void *data, size_t len, off_t position)
{
    FAIL_WITH(FAULT_READ, EIO, -1);
    return __real_pread(fd, data, len, position);
}

ssize_t __wrap___read_chk(int fd, void *data, size_t len, size_t data_bytes)
{
    FAIL_WITH(FAULT_READ, EIO, -1);
    return __real___read_chk(fd, data, len, data_bytes);
}

ssize_t __wrap___pread_chk(int fd, void *data, size_t len, off_t position, size_t data_bytes)
{
    FAIL_WITH(FAULT_READ, EIO, -1);
    return __real___pread_chk(fd, data, len, position, data_bytes);
}
