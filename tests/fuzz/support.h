/*
 * support.h - what the fuzz targets share (tests/fuzz/support.c): a checked
 * invariant that names itself before aborting, a private temporary directory
 * (on tmpfs when there is one) for the decoders that only read a path, and
 * writing an input there as a file.
 *
 * Logging: the decoders log every corrupt file at error level. Under
 * libFuzzer run-fuzz.sh passes -close_fd_mask=2 so those lines go nowhere;
 * LLVMFuzzerInitialize (support.c) keeps a copy of the real stderr first, so
 * a broken invariant is still reported. The replay driver (replay_main.c)
 * calls the same initialisation.
 */
#ifndef STRAIT_FUZZ_SUPPORT_H
#define STRAIT_FUZZ_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Aborts with "TARGET: invariant broken: WHAT" on the saved stderr unless ok. */
#define FUZZ_CHECK(ok, what) fuzz_check((ok), __FILE__, __LINE__, (what))
void fuzz_check(bool ok, const char *file, int line, const char *what);

/* A directory of this process, created on first use and removed (with the
 * files in it) at exit; fuzz_temp_dir is slot 0. */
#define FUZZ_TEMP_DIRS 2
const char *fuzz_temp_dir(void);
const char *fuzz_temp_dir_slot(int slot);

/* Replaces dir/name with len bytes of data (aborts on I/O errors: the
 * harness's failure, not the decoder's). */
void fuzz_write_file(const char *dir, const char *name, const uint8_t *data, size_t len);

/* Removes dir/name if it exists. */
void fuzz_remove_file(const char *dir, const char *name);

/* Reads a big-endian integer of n bytes (1..8) at *data and advances past it;
 * 0 for bytes past the end (the input is what it is). */
uint64_t fuzz_take(const uint8_t **data, size_t *size, int n);

#endif
