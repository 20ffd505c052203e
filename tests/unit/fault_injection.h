/*
 * fault_injection.h - fail the Nth allocation or I/O call, for the fault
 * loops of the storage and checkpoint unit tests (SQLite's faultsim and
 * curl's "fail every allocation in turn" habit).
 *
 * How it hooks: the test programs that use it are linked with
 * -Wl,--wrap=<function> for every function below (CMakeLists.txt,
 * FAULT_INJECTION_TESTS), so each call that strait_core or the test makes to,
 * say, pwrite goes to __wrap_pwrite in fault_injection.c, which counts it
 * and either fails it (returning what the real call returns on failure,
 * with errno set) or calls the real one. Calls made inside shared libraries
 * (libc's own, SQLite's, cmocka's) are not wrapped; SQLite's allocations and
 * file writes are reached through sqlite3_config and a VFS instead
 * (test_checkpoint_faults.c), which ask fault_should_fail.
 * Nothing in the product changes; a program not linked this way has none
 * of these symbols.
 *
 * A loop: for n = 1, 2, ...: set up, fault_arm(kind, n, persistent), run the
 * operation, fault_disarm(); when fault_failures(kind) is 0 the operation ran
 * without reaching call n, which ends the loop; otherwise it must have
 * failed cleanly (an error value, no crash, no leak under ASan) and what is
 * on disk must still recover.
 *
 * Counters are atomic: the flusher's and the cleaner's worker threads call
 * fsync and write too.
 */
#ifndef STRAIT_FAULT_INJECTION_H
#define STRAIT_FAULT_INJECTION_H

#include <stdbool.h>

enum fault_kind {
    FAULT_ALLOC,    /* malloc, calloc, realloc, strdup, opendir: ENOMEM */
    FAULT_WRITE,    /* write, pwrite: ENOSPC */
    FAULT_SYNC,     /* fsync, fdatasync: EIO */
    FAULT_RENAME,   /* rename: EIO */
    FAULT_OPEN,     /* open: EIO (EMFILE-like: the file is not created) */
    FAULT_TRUNCATE, /* ftruncate: EIO */
    FAULT_READ,     /* read, pread: EIO */
    FAULT_KINDS
};

/* Counts calls of kind from now on; call number nth (1-based) fails, and
 * with persistent every later one too. Other kinds are disarmed. */
void fault_arm(enum fault_kind kind, long nth, bool persistent);
/* Stops failing and counting. */
void fault_disarm(void);
/* Calls of the armed kind since fault_arm, and how many of them failed. */
long fault_calls(enum fault_kind kind);
long fault_failures(enum fault_kind kind);
/* For hooks outside the wrapped functions (SQLite's allocator and VFS):
 * counts one call of kind and says whether it must fail. */
bool fault_should_fail(enum fault_kind kind);
const char *fault_kind_name(enum fault_kind kind);

/*
 * Power loss, for one flat directory (a partition directory), on tmpfs or
 * any file system (the model is ours, not the kernel's):
 *   fault_power_track(dir)  takes what dir holds now as durable, then
 *                           records what each later fsync makes durable: a
 *                           file's fsync/fdatasync its whole contents (by
 *                           inode), the directory's fsync its names;
 *   fault_power_cut()       stops recording: what was durable stays so, and
 *                           whatever the program does next (close, say) is
 *                           lost with the power;
 *   fault_power_restore()   puts dir back to the durable state: names the
 *                           directory's last fsync did not hold are removed,
 *                           the ones it held get their inode's last fsynced
 *                           contents (empty when never fsynced), renames and
 *                           unlinks since then undone. Stops tracking.
 * Subdirectories are left alone.
 */
void fault_power_track(const char *dir);
void fault_power_cut(void);
void fault_power_restore(void);

#endif
