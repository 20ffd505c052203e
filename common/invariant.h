/*
 * invariant.h - assertions that run: the code's own invariants checked where
 * they must hold (preconditions, postconditions, "never"), TigerBeetle's
 * habit. Hostile or corrupt bytes from a socket or a file are never checked
 * here: they return an error value (common/error.h). An invariant that
 * fails means strait itself is wrong.
 *
 * Two strengths:
 *
 *   INVARIANT(condition)            always compiled in, in every build
 *                                   (release RelWithDebInfo included).
 *   INVARIANT_EXPENSIVE(condition)  compiled in unless NDEBUG: the Debug
 *                                   builds (make asan, make fuzz) and the
 *                                   unit tests built with them.
 *
 * Why INVARIANT stays on in the release build: CMake's RelWithDebInfo adds
 * -DNDEBUG, so a plain assert() disappears exactly where a broken invariant
 * costs most. In the storage code a broken invariant means the broker is
 * about to write bytes it will not be able to read back (an offset that goes
 * backwards, an index entry out of order) or to acknowledge data it did not
 * keep; stopping the process is then safer than continuing, because recovery
 * on restart checks every unflushed byte and truncates a torn tail, while a
 * wrong acknowledgement or a corrupt segment cannot be taken back. The
 * checks kept on are O(1) comparisons of values already in registers, beside
 * a pwrite or a pread: too cheap to measure.
 *
 * INVARIANT_EXPENSIVE is for checks that cost a loop or a read (every index
 * entry ordered, a header read back after a write): worth it under the
 * sanitizers and the fuzzer, not on every produce request in production.
 * A plain assert() is the same strength as INVARIANT_EXPENSIVE.
 *
 * A failure logs "invariant failed" with the expression, file, line and
 * function on stderr and aborts (a core dump for the post-mortem).
 */
#ifndef STRAIT_INVARIANT_H
#define STRAIT_INVARIANT_H

_Noreturn void invariant_failed(const char *expression, const char *file, int line,
                                const char *function);

#define INVARIANT(condition)                                                     \
    do {                                                                         \
        if (__builtin_expect(!(condition), 0))                                   \
            invariant_failed(#condition, __FILE__, __LINE__, __func__);          \
    } while (0)

#ifdef NDEBUG
/* never evaluated (short circuit), but type-checked and its variables and
 * check functions still count as used, so the release build warns of
 * nothing; the optimiser removes it */
#define INVARIANT_EXPENSIVE(condition) ((void)(0 && (condition)))
#else
#define INVARIANT_EXPENSIVE(condition) INVARIANT(condition)
#endif

#endif
