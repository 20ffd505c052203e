/*
 * replay_main.c - runs a fuzz target's LLVMFuzzerTestOneInput once on every
 * file named on the command line, or in a directory named there (a replay of
 * the committed corpus, not fuzzing). Linked with each tests/fuzz/fuzz_*.c
 * into replay_<target> in the sanitizer build (tests/fuzz/CMakeLists.txt);
 * ctest runs each one over tests/fuzz/corpus/<target>/,
 * so a decoder change that breaks on a known input fails `make test`.
 *
 * Exit status: 0 after the last input, 2 on a usage or I/O error, and a
 * broken invariant or a sanitizer report aborts (non-zero) at that input,
 * whose name is printed first.
 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/file_io.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longest corpus file replayed: corpora hold small files. */
#define REPLAY_FILE_BYTES_MAX (16 * 1024 * 1024)

static int replay_file(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    if (file_read_all(path, REPLAY_FILE_BYTES_MAX, &data, &len) != 0) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return 2;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    /* a copy of exactly len bytes, so reading past the input is caught */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        free(data);
        return 2;
    }
    memcpy(copy, data, len);
    free(data);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of dir in name order; *count gets how many. */
static int replay_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open %s\n", dir);
        return 2;
    }
    char **names = NULL;
    size_t used = 0, capacity = 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (used == capacity) {
            capacity = capacity ? capacity * 2 : 64;
            char **grown = realloc(names, capacity * sizeof *names);
            if (!grown) {
                rc = 2;
                break;
            }
            names = grown;
        }
        names[used] = strdup(e->d_name);
        if (!names[used])
            rc = 2;
        else
            used++;
    }
    closedir(d);
    if (used > 0)
        qsort(names, used, sizeof *names, compare_names);
    for (size_t i = 0; i < used; i++) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = replay_file(path);
            (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    int count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            return 2;
        }
        int rc = S_ISDIR(st.st_mode) ? replay_dir(argv[i], &count) : (count++, replay_file(argv[i]));
        if (rc != 0)
            return rc;
    }
    if (count == 0) {
        fprintf(stderr, "replay: no inputs\n");
        return 2;
    }
    printf("replay: %d inputs, no failure\n", count);
    return 0;
}
