/*
 * cleaner_swap.c - the loop half of a cleaning and its crash recovery
 * (design and file protocol in cleaner_internal.h): check that the cleaned
 * segments still replace what is in the log, move each cleaned segment in
 * (indexes, then unlink the replaced files, then the .log: the completion
 * point), swap the segment structures, move the cleaner checkpoint; and on
 * open, delete *.cleaned work and complete every *.swap.
 *
 * cleaner_job_apply and cleaner_job_free run on the broker's event-loop
 * thread; cleaner_recover_dir on the thread that opens the log.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/checkpoint_file.h"
#include "broker/log/cleaner_internal.h"
#include "common/file_io.h"
#include "common/error.h"
#include "common/invariant.h"
#include "common/log.h"

#define SEGMENT_NAME_DIGITS 20 /* as segment.h names files */

void (*cleaner_crash_point)(const char *step) = NULL;

static void crash_point(const char *step)
{
    if (cleaner_crash_point != NULL)
        cleaner_crash_point(step);
}

int cleaner_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        if (errno == ENOTDIR)
            return unlink(path) == 0 ? 0 : ST_EIO;
        return errno == ENOENT ? 0 : ST_EIO;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT)
            rc = ST_EIO; /* the work directories hold files only */
    }
    closedir(d);
    if (rmdir(path) != 0 && errno != ENOENT)
        rc = ST_EIO;
    return rc;
}

static int path_of(char *path, const char *dir, const char *name)
{
    int n = snprintf(path, PATH_MAX, "%s/%s", dir, name);
    return n < 0 || n >= PATH_MAX ? ST_EINVAL : 0;
}

/* dir/sub/name */
static int path_of2(char *path, const char *dir, const char *sub, const char *name)
{
    int n = snprintf(path, PATH_MAX, "%s/%s/%s", dir, sub, name);
    return n < 0 || n >= PATH_MAX ? ST_EINVAL : 0;
}

void cleaner_job_free(cleaner_job *job)
{
    if (job == NULL)
        return;
    for (size_t i = 0; i < job->group_count; i++) {
        cleaner_group *g = &job->groups[i];
        segment_close(g->cleaned);
        if (g->created && job->dir != NULL) {
            char path[PATH_MAX];
            if (path_of(path, job->dir, g->dir_name) == 0 && cleaner_remove_tree(path) != 0)
                log_warn("cleaner", "cannot remove work directory path=%s", path);
        }
    }
    for (size_t i = 0; i < job->source_count; i++)
        if (job->sources[i].fd >= 0)
            close(job->sources[i].fd);
    free(job->sources);
    free(job->groups);
    free(job->dir);
    free(job);
}

/* Index in log->segments of the group's first source when all its sources
 * are still there, consecutive, unchanged and below the active segment;
 * else -1. */
static long find_group(const plog *log, const cleaner_job *job, const cleaner_group *g)
{
    const cleaner_source *first = &job->sources[g->first];
    for (size_t i = 0; i + g->count < log->segment_count; i++) {
        if (log->segments[i] != first->seg)
            continue;
        for (size_t k = 0; k < g->count; k++) {
            const cleaner_source *src = &job->sources[g->first + k];
            const segment *seg = log->segments[i + k];
            if (seg != src->seg || seg->base_offset != src->base_offset ||
                seg->size_bytes != src->size_bytes || seg->next_offset != src->next_offset)
                return -1;
        }
        return (long)i;
    }
    return -1;
}

/* Unlinks the three files of the segment based at base in dir. */
static int unlink_segment_files(const char *dir, int64_t base)
{
    static const char *const suffixes[3] = {".log", ".index", ".timeindex"};
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        char name[SEGMENT_FILE_NAME_BYTES], path[PATH_MAX];
        segment_file_name(name, base, suffixes[i]);
        if (path_of(path, dir, name) != 0)
            return ST_EINVAL;
        if (unlink(path) != 0 && errno != ENOENT) {
            log_error("cleaner", "unlink failed path=%s errno=%d", path, errno);
            rc = ST_EIO;
        }
    }
    return rc;
}

/* Moves dir/sub/<base><suffix> to dir/<base><suffix>. missing_ok: a file
 * that is not there is no error. */
static int move_in(const char *dir, const char *sub, int64_t base, const char *suffix, bool missing_ok)
{
    char name[SEGMENT_FILE_NAME_BYTES], from[PATH_MAX], to[PATH_MAX];
    segment_file_name(name, base, suffix);
    if (path_of2(from, dir, sub, name) != 0 || path_of(to, dir, name) != 0)
        return ST_EINVAL;
    if (rename(from, to) == 0 || (missing_ok && errno == ENOENT))
        return 0;
    log_error("cleaner", "rename failed from=%s to=%s errno=%d", from, to, errno);
    return ST_EIO;
}

/* Moves group g's cleaned segment into the log at index at (step 4 of the
 * design). On failure the in-memory segments are untouched (their
 * descriptors stay valid) and recovery finishes the swap on restart. */
static int swap_group(plog *log, cleaner_job *job, cleaner_group *g, size_t at)
{
    /* find_group: the group's sources, consecutive, below the active segment;
     * the cleaned segment replaces exactly their offsets (read_batch keeps
     * every batch inside its source's range) */
    INVARIANT(g->count >= 1 && at + g->count < log->segment_count && g->cleaned != NULL);
    INVARIANT(g->cleaned->base_offset == log->segments[at]->base_offset &&
              g->cleaned->next_offset <= log->segments[at + g->count - 1]->next_offset &&
              g->cleaned->next_offset <= log->segments[at + g->count]->base_offset);
    size_t segments_before = log->segment_count;
    crash_point("swap-begin");
    int rc = move_in(log->dir, g->dir_name, g->base_offset, ".index", false);
    if (rc == 0)
        rc = move_in(log->dir, g->dir_name, g->base_offset, ".timeindex", false);
    if (rc != 0)
        return rc;
    crash_point("indexes-moved");
    for (size_t k = 1; k < g->count && rc == 0; k++)
        rc = unlink_segment_files(log->dir, job->sources[g->first + k].base_offset);
    if (rc != 0)
        return rc;
    crash_point("old-unlinked");
    if ((rc = move_in(log->dir, g->dir_name, g->base_offset, ".log", false)) != 0)
        return rc;
    crash_point("log-moved");
    char work[PATH_MAX];
    if (path_of(work, log->dir, g->dir_name) == 0 && rmdir(work) != 0)
        log_warn("cleaner", "cannot remove swap directory path=%s errno=%d", work, errno);
    g->created = false;
    for (size_t k = 0; k < g->count; k++)
        segment_close(log->segments[at + k]);
    log->segments[at] = g->cleaned;
    memmove(log->segments + at + 1, log->segments + at + g->count,
            (log->segment_count - at - g->count) * sizeof *log->segments);
    log->segment_count -= g->count - 1;
    g->cleaned = NULL;
    INVARIANT(log->segment_count == segments_before - (g->count - 1));
    INVARIANT_EXPENSIVE(plog_segments_ordered(log));
    return 0;
}

int cleaner_job_apply(cleaner_job *job)
{
    plog *log = job->log;
    if (job->rc != 0) {
        if (job->rc == ST_ECORRUPT || job->rc == ST_ECRC || job->rc == ST_ECODEC ||
            job->rc == ST_ETOOBIG) {
            log_error("cleaner", "cannot clean (corrupt data or a batch too big for the offset map), "
                      "partition marked uncleanable until restart dir=%s", log->dir);
            log->cleaner->uncleanable = true;
        }
        return job->rc;
    }
    for (size_t i = 0; i < job->group_count; i++) {
        if (find_group(log, job, &job->groups[i]) < 0) {
            log_info("cleaner", "segments changed while cleaning, result discarded dir=%s", log->dir);
            return ST_ENOTFOUND;
        }
    }
    if (log->io_error != 0)
        return log->io_error;
    int rc = 0;
    INVARIANT(job->clean_end <= plog_active(log)->base_offset); /* never the active segment */
    for (size_t i = 0; rc == 0 && i < job->group_count; i++) {
        cleaner_group *g = &job->groups[i];
        long at = find_group(log, job, g);
        rc = at >= 0 ? swap_group(log, job, g, (size_t)at) : ST_ENOTFOUND;
    }
    if (rc == 0)
        rc = file_fsync_dir(log->dir);
    if (rc != 0) {
        log_error("cleaner", "swap failed, log taken offline dir=%s error=%s", log->dir,
                  strait_error_name(rc));
        log->io_error = ST_EIO; /* recovery completes the swap on restart */
        return ST_EIO;
    }
    crash_point("swapped");
    cleaner_log_state *st = log->cleaner;
    st->first_dirty_offset = job->clean_end;
    st->delete_horizon_ms = job->delete_horizon_ms;
    rc = cleaner_save_checkpoint(log);
    if (rc != 0)
        log_warn("cleaner", "cannot write cleaner checkpoint dir=%s error=%s", log->dir,
                 strait_error_name(rc)); /* only costs a larger next cleaning */
    log_info("cleaner", "cleaned dir=%s segments=%zu groups=%zu bytes_before=%" PRId64
             " bytes_after=%" PRId64 " records_removed=%" PRId64 " first_dirty_offset=%" PRId64,
             log->dir, job->source_count, job->group_count, job->bytes_before, job->bytes_after,
             job->records_removed, job->clean_end);
    return 0;
}

/* ---- recovery --------------------------------------------------------------- */

/* "<20 digits>.<20 digits>.swap" */
static bool parse_swap_name(const char *name, int64_t *base, int64_t *end)
{
    return strlen(name) == 2 * SEGMENT_NAME_DIGITS + 6 && name[SEGMENT_NAME_DIGITS] == '.' &&
           strcmp(name + 2 * SEGMENT_NAME_DIGITS + 1, ".swap") == 0 && segment_name_digits(name, base) &&
           segment_name_digits(name + SEGMENT_NAME_DIGITS + 1, end);
}

static bool has_suffix(const char *name, const char *suffix)
{
    size_t len = strlen(name), suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(name + len - suffix_len, suffix) == 0;
}

/* Deletes every segment file of dir with a base offset in [base, end). */
static int delete_replaced(const char *dir, int64_t base, int64_t end)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return ST_EIO;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int64_t offset;
        const char *suffix = e->d_name + (strlen(e->d_name) >= SEGMENT_NAME_DIGITS ? SEGMENT_NAME_DIGITS : 0);
        bool segment_file = strlen(e->d_name) > SEGMENT_NAME_DIGITS &&
                            (strcmp(suffix, ".log") == 0 || strcmp(suffix, ".index") == 0 ||
                             strcmp(suffix, ".timeindex") == 0);
        if (!segment_file || !segment_name_digits(e->d_name, &offset) || offset < base || offset >= end)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT)
            rc = ST_EIO;
    }
    closedir(d);
    return rc;
}

/* Completes the swap of dir/name replacing [base, end) if its .log is still
 * in it, then removes the directory. */
static int complete_swap(const char *dir, const char *name, int64_t base, int64_t end)
{
    char log_name[SEGMENT_FILE_NAME_BYTES], path[PATH_MAX];
    segment_file_name(log_name, base, ".log");
    if (path_of2(path, dir, name, log_name) != 0)
        return ST_EINVAL;
    int rc = 0;
    if (access(path, F_OK) == 0) {
        log_warn("cleaner", "completing interrupted swap dir=%s base_offset=%" PRId64 " end_offset=%" PRId64,
                 dir, base, end);
        rc = delete_replaced(dir, base, end);
        /* the cleaned indexes belong to the cleaned log; if they were moved
         * already they were just deleted and segment recovery rebuilds them */
        if (rc == 0)
            rc = move_in(dir, name, base, ".index", true);
        if (rc == 0)
            rc = move_in(dir, name, base, ".timeindex", true);
        if (rc == 0)
            rc = move_in(dir, name, base, ".log", false);
    }
    if (rc == 0 && path_of(path, dir, name) == 0)
        rc = cleaner_remove_tree(path);
    return rc;
}

int cleaner_recover_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return ST_EIO;
    int rc = 0;
    bool changed = false;
    struct dirent *e;
    /* two passes: names first, because changing the directory while reading it may skip entries */
    size_t count = 0, capacity = 0;
    char (*swaps)[CLEANER_DIR_NAME_BYTES] = NULL;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        int64_t base, end;
        if (has_suffix(e->d_name, ".cleaned")) {
            char path[PATH_MAX];
            log_warn("cleaner", "deleting unfinished cleaning dir=%s name=%s", dir, e->d_name);
            rc = path_of(path, dir, e->d_name);
            if (rc == 0)
                rc = cleaner_remove_tree(path);
            changed = true;
        } else if (parse_swap_name(e->d_name, &base, &end)) {
            if (count == capacity) {
                capacity = capacity ? capacity * 2 : 4;
                void *grown = realloc(swaps, capacity * sizeof *swaps);
                if (grown == NULL) {
                    rc = ST_ENOMEM;
                    break;
                }
                swaps = grown;
            }
            snprintf(swaps[count++], CLEANER_DIR_NAME_BYTES, "%s", e->d_name);
        }
    }
    closedir(d);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        int64_t base, end;
        parse_swap_name(swaps[i], &base, &end);
        rc = complete_swap(dir, swaps[i], base, end);
        changed = true;
    }
    free(swaps);
    if (rc == 0 && changed)
        rc = file_fsync_dir(dir);
    if (rc != 0)
        log_error("cleaner", "cannot recover cleaner files dir=%s error=%s", dir, strait_error_name(rc));
    return rc == ST_ENOMEM ? rc : rc != 0 ? ST_EIO : 0;
}
