/*
 * support.c - helpers of the fuzz targets (see support.h) and their shared
 * LLVMFuzzerInitialize.
 */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_io.h"
#include "common/log.h"

static int report_fd = 2;
static char temp_dirs[FUZZ_TEMP_DIRS][PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* before libFuzzer's -close_fd_mask=2 sends fd 2 to /dev/null */
    int fd = dup(2);
    if (fd >= 0)
        report_fd = fd;
    log_set_level(LOG_ERROR);
    return 0;
}

void fuzz_check(bool ok, const char *file, int line, const char *what)
{
    if (ok)
        return;
    char message[512];
    const char *base = strrchr(file, '/');
    int n = snprintf(message, sizeof message, "%s:%d: invariant broken: %s\n",
                     base ? base + 1 : file, line, what);
    if (n > 0) {
        ssize_t written = write(report_fd, message, strlen(message));
        (void)written; /* aborting either way */
    }
    abort();
}

static void remove_temp_dirs(void)
{
    for (int i = 0; i < FUZZ_TEMP_DIRS; i++)
        if (temp_dirs[i][0])
            file_remove_flat_dir(temp_dirs[i]);
}

const char *fuzz_temp_dir_slot(int slot)
{
    if (slot < 0 || slot >= FUZZ_TEMP_DIRS)
        abort();
    char *dir = temp_dirs[slot];
    if (dir[0])
        return dir;
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(dir, PATH_MAX, "%s/strait-fuzz-%d-%d-XXXXXX", base, (int)getpid(), slot);
    if (mkdtemp(dir) == NULL) {
        perror("fuzz: mkdtemp");
        abort();
    }
    static bool registered;
    if (!registered && atexit(remove_temp_dirs) == 0)
        registered = true;
    return dir;
}

const char *fuzz_temp_dir(void) { return fuzz_temp_dir_slot(0); }

void fuzz_write_file(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || file_write_all(fd, data, len) != 0 || close(fd) != 0) {
        perror("fuzz: writing the input file");
        abort();
    }
}

void fuzz_remove_file(const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (unlink(path) != 0 && errno != ENOENT) {
        perror("fuzz: unlink");
        abort();
    }
}

uint64_t fuzz_take(const uint8_t **data, size_t *size, int n)
{
    uint64_t value = 0;
    for (int i = 0; i < n; i++) {
        value <<= 8;
        if (*size > 0) {
            value |= **data;
            (*data)++;
            (*size)--;
        }
    }
    return value;
}
