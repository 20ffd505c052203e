/*
 * fault_injection.c - the wrapped allocation and I/O functions (contract in
 * fault_injection.h). Each __wrap_X asks fault_should_fail for its kind and
 * either fails the way X fails or calls __real_X.
 */
#include "fault_injection.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* ---- power loss (fault_injection.h) ------------------------------------------------ */

#define POWER_FILES_MAX 512
#define POWER_NAME_BYTES 256

typedef struct durable_file { /* the last fsynced contents of an inode */
    ino_t inode;
    uint8_t *data;
    size_t len;
} durable_file;

typedef struct durable_name { /* a name the directory's last fsync held */
    char name[POWER_NAME_BYTES];
    ino_t inode;
} durable_name;

static pthread_mutex_t power_lock = PTHREAD_MUTEX_INITIALIZER;
static bool power_tracking;   /* under power_lock */
static bool power_recording;
static char power_dir[PATH_MAX];
static ino_t power_dir_inode;
static durable_file power_files[POWER_FILES_MAX];
static size_t power_file_count;
static durable_name power_names[POWER_FILES_MAX];
static size_t power_name_count;

void *__real_malloc(size_t size);
DIR *__real_opendir(const char *path);
int __real_open(const char *path, int flags, ...);
ssize_t __real_write(int fd, const void *data, size_t len);
ssize_t __real_pread(int fd, void *data, size_t len, off_t position);

/* Under power_lock: the contents of inode, open at path (a name or
 * /proc/self/fd/N, which reaches the inode even once unlinked), now durable.
 * Read through a descriptor of our own: the program's may be write-only. */
static void record_file(const char *path, ino_t inode)
{
    int fd = __real_open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_ino != inode)
        abort();
    off_t size = st.st_size;
    durable_file *slot = NULL;
    for (size_t i = 0; i < power_file_count && !slot; i++)
        if (power_files[i].inode == inode)
            slot = &power_files[i];
    if (!slot) {
        if (power_file_count == POWER_FILES_MAX)
            abort(); /* a test with more files than the model holds */
        slot = &power_files[power_file_count++];
        slot->inode = inode;
        slot->data = NULL;
    }
    uint8_t *data = __real_malloc(size > 0 ? (size_t)size : 1);
    if (!data)
        abort();
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t n = __real_pread(fd, data + got, (size_t)size - got, (off_t)got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    free(slot->data);
    slot->data = data;
    slot->len = got;
}

/* Under power_lock: the names in the directory now, durable. */
static void record_names(void)
{
    power_name_count = 0;
    DIR *d = __real_opendir(power_dir);
    if (!d)
        abort();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (power_name_count == POWER_FILES_MAX || strlen(e->d_name) >= POWER_NAME_BYTES)
            abort();
        durable_name *n = &power_names[power_name_count++];
        snprintf(n->name, sizeof n->name, "%s", e->d_name);
        n->inode = st.st_ino;
    }
    closedir(d);
}

/* A successful fsync of fd: records what it made durable, if it is the
 * tracked directory or a file in it. */
static void power_synced(int fd)
{
    pthread_mutex_lock(&power_lock);
    if (power_recording) {
        struct stat st;
        char link[64], path[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        size_t dir_len = strlen(power_dir);
        if (n > 0 && fstat(fd, &st) == 0) {
            path[n] = '\0';

            if (S_ISDIR(st.st_mode) && st.st_ino == power_dir_inode)
                record_names();
            else if (S_ISREG(st.st_mode) && (size_t)n > dir_len && strncmp(path, power_dir, dir_len) == 0 &&
                     path[dir_len] == '/' && strchr(path + dir_len + 1, '/') == NULL)
                record_file(link, st.st_ino);
        }
    }
    pthread_mutex_unlock(&power_lock);
}

void fault_power_track(const char *dir)
{
    pthread_mutex_lock(&power_lock);
    for (size_t i = 0; i < power_file_count; i++)
        free(power_files[i].data);
    power_file_count = 0;
    snprintf(power_dir, sizeof power_dir, "%s", dir);
    struct stat st;
    if (stat(dir, &st) != 0)
        abort();
    power_dir_inode = st.st_ino;
    record_names();
    for (size_t i = 0; i < power_name_count; i++) {
        char path[PATH_MAX + POWER_NAME_BYTES];
        snprintf(path, sizeof path, "%s/%s", power_dir, power_names[i].name);
        record_file(path, power_names[i].inode);
    }
    power_tracking = power_recording = true;
    pthread_mutex_unlock(&power_lock);
}

void fault_power_cut(void)
{
    pthread_mutex_lock(&power_lock);
    power_recording = false;
    pthread_mutex_unlock(&power_lock);
}

void fault_power_restore(void)
{
    pthread_mutex_lock(&power_lock);
    if (!power_tracking)
        abort();
    power_recording = power_tracking = false;
    /* names the directory does not durably hold go */
    DIR *d = __real_opendir(power_dir);
    if (!d)
        abort();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        bool durable = false;
        for (size_t i = 0; i < power_name_count && !durable; i++)
            durable = strcmp(power_names[i].name, e->d_name) == 0;
        if (!durable && unlinkat(dirfd(d), e->d_name, 0) != 0)
            abort();
    }
    closedir(d);
    /* the durable ones get their inode's durable contents */
    for (size_t i = 0; i < power_name_count; i++) {
        const durable_file *f = NULL;
        for (size_t k = 0; k < power_file_count && !f; k++)
            if (power_files[k].inode == power_names[i].inode)
                f = &power_files[k];
        char path[PATH_MAX + POWER_NAME_BYTES];
        snprintf(path, sizeof path, "%s/%s", power_dir, power_names[i].name);
        int fd = __real_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            abort();
        size_t done = 0;
        while (f && done < f->len) {
            ssize_t n = __real_write(fd, f->data + done, f->len - done);
            if (n <= 0)
                abort();
            done += (size_t)n;
        }
        close(fd);
    }
    for (size_t i = 0; i < power_file_count; i++)
        free(power_files[i].data);
    power_file_count = power_name_count = 0;
    pthread_mutex_unlock(&power_lock);
}

/* ---- the wrapped functions (linked with -Wl,--wrap=NAME) --------------------- */

void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
ssize_t __real_pwrite(int fd, const void *data, size_t len, off_t position);
int __real_rename(const char *from, const char *to);
int __real_ftruncate(int fd, off_t len);
ssize_t __real_read(int fd, void *data, size_t len);
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

/* An fsync that is not failed succeeds without going to the disk (the loops
 * run thousands of them, and each real one costs milliseconds; power loss
 * is the model's, fault_power_*): it records what it made durable. A bad
 * descriptor still fails as it would. */
int __wrap_fsync(int fd)
{
    FAIL_WITH(FAULT_SYNC, EIO, -1);
    if (fcntl(fd, F_GETFD) < 0)
        return -1;
    power_synced(fd);
    return 0;
}

int __wrap_fdatasync(int fd)
{
    FAIL_WITH(FAULT_SYNC, EIO, -1);
    if (fcntl(fd, F_GETFD) < 0)
        return -1;
    power_synced(fd);
    return 0;
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
