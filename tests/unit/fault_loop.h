/*
 * fault_loop.h - the loop the fault tests run (fault_injection.h): a
 * scenario (prepare, the operation, verify, cleanup) is run with the 1st,
 * 2nd, ... call of each kind failing, once (transient) and from then on
 * (persistent), until the operation no longer reaches call n; and the
 * temporary directories the scenarios work in.
 *
 * Header-only (static functions) because every tests/unit/test_*.c is its own
 * program. Include after <cmocka.h> and log_test_helpers.h.
 */
#ifndef STRAIT_FAULT_LOOP_H
#define STRAIT_FAULT_LOOP_H

#include "fault_injection.h"
#include "log_test_helpers.h"

/* An operation that reaches more calls than this is a runaway loop. */
#define FAULT_LOOP_CALLS_MAX 20000

/* A test_dir in memory when /dev/shm exists: the loops create and remove
 * thousands of files, and a disk's journal makes that take minutes. */
static inline void fault_dir_make(test_dir *d)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(d->root, sizeof d->root, "%s/strait-faults-XXXXXX", base);
    assert_non_null(mkdtemp(d->root));
    snprintf(d->log, sizeof d->log, "%s/topic-0", d->root);
}

typedef struct fault_case {
    enum fault_kind kind;
    bool persistent;
} fault_case;

static const fault_case fault_cases[] = {
    {FAULT_ALLOC, false},    {FAULT_ALLOC, true},  {FAULT_WRITE, false},   {FAULT_WRITE, true},
    {FAULT_SYNC, false},     {FAULT_SYNC, true},   {FAULT_RENAME, false},  {FAULT_RENAME, true},
    {FAULT_OPEN, false},     {FAULT_OPEN, true},   {FAULT_TRUNCATE, false}, {FAULT_TRUNCATE, true},
    {FAULT_READ, false},     {FAULT_READ, true},
};

/* One scenario: prepare builds the state before the operation, run is the
 * operation under the fault (returns its rc), verify checks what is left
 * with no fault armed (rc and whether any call failed), cleanup removes it. */
typedef struct scenario {
    const char *name;
    void (*prepare)(void *ctx);
    int (*run)(void *ctx);
    void (*verify)(void *ctx, int rc, bool faulted);
    void (*cleanup)(void *ctx);
} scenario;

/* Runs sc with the 1st, 2nd, ... call of each kind failing until the
 * operation no longer reaches call n. Returns the total of runs. */
static inline long fault_loop(const scenario *sc, void *ctx)
{
    long runs = 0;
    for (size_t c = 0; c < sizeof fault_cases / sizeof fault_cases[0]; c++) {
        const fault_case *fc = &fault_cases[c];
        long n = 1;
        for (;; n++) {
            assert_true(n <= FAULT_LOOP_CALLS_MAX);
            sc->prepare(ctx);
            fault_arm(fc->kind, n, fc->persistent);
            int rc = sc->run(ctx);
            long failed = fault_failures(fc->kind);
            fault_disarm();
            sc->verify(ctx, rc, failed > 0);
            sc->cleanup(ctx);
            runs++;
            if (failed == 0) {
                assert_int_equal(rc, 0); /* nothing failed: the operation must have worked */
                break;
            }
        }
        print_message("  %s: %s %s: %ld calls reached, each failed in turn\n", sc->name, fault_kind_name(fc->kind),
                      fc->persistent ? "persistent" : "transient", n - 1);
    }
    return runs;
}

#endif
