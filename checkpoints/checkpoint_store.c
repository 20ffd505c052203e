/*
 * checkpoint_store.c - the checkpoint store on SQLite: the offset map as
 * ranges and the group checkpoints (format: checkpoint_schema.c).
 *
 * Threads: the copy loop thread of each flow (checkpoint_map_extend,
 * checkpoint_map_last), the group-sync thread of each flow (translate,
 * group_put / each / mark_applied), the sidecar's HTTP thread (range_count,
 * group_each for /status and `offsets translate`) and the sidecar's start-up
 * call into one store. One SQLite connection (opened NOMUTEX) is shared and
 * every public function holds s->lock for its whole duration, SQLite calls
 * included, except while a writer waits for another process's write lock
 * (begin_write: at most CHECKPOINT_BUSY_TIMEOUT_MS, s->lock released between
 * attempts, so readers are not held up); nothing here blocks on anything but
 * SQLite.
 *
 * Durability: WAL with synchronous=NORMAL. A commit survives a crash of the
 * process (kill -9) at once; a power loss or OS crash may lose the last
 * commits, never corrupt the file. That is acceptable because the map is only
 * ever extended AFTER the target acknowledged the records, so what survives
 * never claims a mapping that is not in the target; what is lost is a tail of
 * mappings of records that ARE in the target. Until that tail is re-added,
 * translate() of an offset past the surviving end answers the surviving
 * mapped end, i.e. an earlier target offset: a consumer moved across re-reads
 * those records, it never skips any. The copy loop re-derives its resume
 * point from the target's tail (provenance headers), not from this map, and
 * must re-extend the map from those headers for target records after
 * checkpoint_map_last() before extending it with new batches (extend accepts
 * that; otherwise the lost tail would become a hole that translate() skips).
 * synchronous=FULL would fsync the WAL once per delivered batch for no gain
 * under that rule.
 *
 * Errors: SQLITE_BUSY after busy_timeout and I/O errors are ST_EIO;
 * SQLITE_CORRUPT / SQLITE_NOTADB are ST_ECORRUPT and make the store refuse
 * every later call (sticky), so no translation is ever read from a file
 * known to be damaged. Opening runs PRAGMA quick_check, so a file damaged
 * while the sidecar was stopped is refused at start, not half-way through a
 * translation.
 *
 * Flow faults: a failed checkpoint_map_extend means the target acknowledged
 * records whose pairs are not in the map; from then on the flow's
 * translations fail with the recorded error (checkpoint_flow_fault) until the
 * flow has re-derived the missing pairs from the target tail and cleared it.
 */
#include "checkpoints/checkpoint_store.h"

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoints/checkpoint_schema.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"

/* How long a call waits for another connection's (another process's) write
 * lock before failing with ST_EIO: longer than any of our own transactions
 * (a batch of pairs), short enough that a stuck peer is reported, not hidden. */
#define CHECKPOINT_BUSY_TIMEOUT_MS 5000
/* Pause between attempts to take the write lock (begin_write). */
#define CHECKPOINT_BUSY_RETRY_MS 20
/* Pairs per checkpoint_map_extend call: a delivered batch is at most
 * LIMIT_BATCH_RECORDS-ish; this caps the transaction a caller can open. */
#define CHECKPOINT_EXTEND_PAIRS_MAX (10 * 1000 * 1000)
/* Flows one store records faults for: a sidecar runs one flow per other
 * region, so this is far above any real topology. */
#define CHECKPOINT_FAULT_FLOWS_MAX 64
#define CHECKPOINT_FLOW_NAME_MAX 160

enum statement_id {
    STMT_PARTITION_FIND,
    STMT_PARTITION_INSERT,
    STMT_RANGE_FLOOR,   /* largest source_start <= ? */
    STMT_RANGE_NEXT,    /* smallest source_start > ? */
    STMT_RANGE_FIRST,
    STMT_RANGE_LAST,
    STMT_RANGE_UPSERT,
    STMT_RANGE_PRUNE,
    STMT_RANGE_COUNT,
    STMT_GROUP_PUT,
    STMT_GROUP_EACH,
    STMT_GROUP_MARK,
    STMT_COUNT
};

static const char *const statement_sql[STMT_COUNT] = {
    [STMT_PARTITION_FIND] = "SELECT partition_id FROM map_partitions WHERE flow = ?1 AND topic = ?2 AND partition = ?3",
    [STMT_PARTITION_INSERT] = "INSERT INTO map_partitions (flow, topic, partition) VALUES (?1, ?2, ?3)",
    [STMT_RANGE_FLOOR] = "SELECT source_start, target_start, length FROM map_ranges "
                         "WHERE partition_id = ?1 AND source_start <= ?2 ORDER BY source_start DESC LIMIT 1",
    [STMT_RANGE_NEXT] = "SELECT source_start, target_start, length FROM map_ranges "
                        "WHERE partition_id = ?1 AND source_start > ?2 ORDER BY source_start ASC LIMIT 1",
    [STMT_RANGE_FIRST] = "SELECT source_start, target_start, length FROM map_ranges "
                         "WHERE partition_id = ?1 ORDER BY source_start ASC LIMIT 1",
    [STMT_RANGE_LAST] = "SELECT source_start, target_start, length FROM map_ranges "
                        "WHERE partition_id = ?1 ORDER BY source_start DESC LIMIT 1",
    [STMT_RANGE_UPSERT] = "INSERT OR REPLACE INTO map_ranges (partition_id, source_start, target_start, length) "
                          "VALUES (?1, ?2, ?3, ?4)",
    [STMT_RANGE_PRUNE] = "DELETE FROM map_ranges WHERE partition_id = ?1 AND source_start + length <= ?2 "
                         "AND source_start < (SELECT max(source_start) FROM map_ranges WHERE partition_id = ?1)",
    [STMT_RANGE_COUNT] = "SELECT count(*) FROM map_ranges JOIN map_partitions USING (partition_id) WHERE flow = ?1",
    [STMT_GROUP_PUT] = "INSERT OR REPLACE INTO group_checkpoints (flow, group_id, topic, partition, source_offset, "
                       "target_offset, metadata, checkpointed_at_ms, applied) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [STMT_GROUP_EACH] = "SELECT group_id, topic, partition, source_offset, target_offset, metadata, "
                        "checkpointed_at_ms, applied FROM group_checkpoints "
                        "WHERE flow = ?1 AND (?2 IS NULL OR group_id = ?2) ORDER BY group_id, topic, partition",
    [STMT_GROUP_MARK] = "UPDATE group_checkpoints SET applied = ?5 "
                        "WHERE flow = ?1 AND group_id = ?2 AND topic = ?3 AND partition = ?4",
};

struct checkpoint_store {
    pthread_mutex_t lock;          /* serialises every call; guards all below */
    sqlite3 *db;
    sqlite3_stmt *stmt[STMT_COUNT];
    bool corrupt;                  /* sticky: SQLITE_CORRUPT/NOTADB seen, refuse everything */
    char path[PATH_MAX];
    /* Flows whose map missed a write (checkpoint_flow_fault); a full table
     * faults every flow (overflow_err) rather than forget one. */
    struct {
        char flow[CHECKPOINT_FLOW_NAME_MAX];
        int err;
    } faults[CHECKPOINT_FAULT_FLOWS_MAX];
    int fault_count;
    int overflow_err;
};

/* One range: source [source_start, source_start + length) at target [target_start, ...). */
typedef struct map_range {
    int64_t source_start;
    int64_t target_start;
    int64_t length;
} map_range;

/* ---- helpers; all @locks s->lock held ------------------------------------- */

static int store_error(checkpoint_store *s, int rc, const char *context)
{
    int err = checkpoint_sqlite_error(s->db, rc, s->path, context);
    if (err == ST_ECORRUPT)
        s->corrupt = true;
    return err;
}

static sqlite3_stmt *statement(checkpoint_store *s, enum statement_id id)
{
    sqlite3_stmt *stmt = s->stmt[id];
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return stmt;
}

static int store_lock(checkpoint_store *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->corrupt) {
        pthread_mutex_unlock(&s->lock);
        log_error("checkpoints", "%s: store is corrupt; refusing the call", s->path);
        return ST_ECORRUPT;
    }
    return 0;
}

/* The error recorded for flow, 0 if none. */
static int fault_of(const checkpoint_store *s, const char *flow)
{
    for (int i = 0; i < s->fault_count; i++)
        if (strcmp(s->faults[i].flow, flow) == 0)
            return s->faults[i].err;
    return s->overflow_err;
}

static void fault_record(checkpoint_store *s, const char *flow, int err)
{
    for (int i = 0; i < s->fault_count; i++) {
        if (strcmp(s->faults[i].flow, flow) == 0) {
            if (s->faults[i].err != ST_ECORRUPT) /* corruption is never downgraded */
                s->faults[i].err = err;
            return;
        }
    }
    if (s->fault_count == CHECKPOINT_FAULT_FLOWS_MAX || strlen(flow) >= CHECKPOINT_FLOW_NAME_MAX) {
        s->overflow_err = err;
    } else {
        snprintf(s->faults[s->fault_count].flow, CHECKPOINT_FLOW_NAME_MAX, "%s", flow);
        s->faults[s->fault_count++].err = err;
    }
    log_error("checkpoints", "%s: flow %s: the offset map missed a write (%s); its translations fail "
              "until the flow repairs the map from the target tail", s->path, flow, strait_error_name(err));
}

/* Like store_lock, and also refuses a faulted flow's translations. */
static int store_lock_flow(checkpoint_store *s, const char *flow)
{
    int err = store_lock(s);
    if (err)
        return err;
    err = fault_of(s, flow);
    if (err) {
        pthread_mutex_unlock(&s->lock);
        log_debug("checkpoints", "%s: flow %s: refusing a translation while its offset map is behind the "
                 "target (%s)", s->path, flow, strait_error_name(err));
    }
    return err;
}

static int exec(checkpoint_store *s, const char *sql)
{
    return store_error(s, sqlite3_exec(s->db, sql, NULL, NULL, NULL), sql);
}

/*
 * BEGIN IMMEDIATE, waiting up to CHECKPOINT_BUSY_TIMEOUT_MS for another
 * process's write lock WITHOUT holding s->lock for that long: each attempt
 * fails at once (no busy handler) and s->lock is released between attempts,
 * so this store's readers (/status, translations; WAL lets them read while
 * another process writes) are not held up by a writer waiting for the lock.
 * @locks s->lock held on entry and on return (released in between).
 */
static int begin_write(checkpoint_store *s)
{
    int64_t deadline = clock_mono_ms() + CHECKPOINT_BUSY_TIMEOUT_MS;
    struct timespec pause = {0, CHECKPOINT_BUSY_RETRY_MS * 1000 * 1000};
    for (;;) {
        sqlite3_busy_timeout(s->db, 0);
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        sqlite3_busy_timeout(s->db, CHECKPOINT_BUSY_TIMEOUT_MS);
        if ((rc & 0xff) != SQLITE_BUSY || clock_mono_ms() >= deadline)
            return store_error(s, rc, "BEGIN IMMEDIATE");
        pthread_mutex_unlock(&s->lock);
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&s->lock);
        if (s->corrupt)
            return ST_ECORRUPT;
    }
}

/* Ends a transaction: COMMIT when err is 0, else ROLLBACK (keeping err). */
static int finish_transaction(checkpoint_store *s, int err)
{
    if (!err)
        return exec(s, "COMMIT");
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return err;
}

/* Partition id of (flow, topic, partition); *exists false if none (and
 * create false). create requires an open write transaction. */
static int partition_id(checkpoint_store *s, const char *flow, const char *topic, int32_t partition, bool create,
                        int64_t *id, bool *exists)
{
    sqlite3_stmt *stmt = statement(s, STMT_PARTITION_FIND);
    sqlite3_bind_text(stmt, 1, flow, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, topic, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 3, partition);
    int rc = sqlite3_step(stmt);
    *exists = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(stmt, 0);
        sqlite3_reset(stmt);
        return 0;
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return store_error(s, rc, "partition lookup");
    if (!create)
        return 0;
    stmt = statement(s, STMT_PARTITION_INSERT);
    sqlite3_bind_text(stmt, 1, flow, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, topic, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 3, partition);
    rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return store_error(s, rc, "partition insert");
    *id = sqlite3_last_insert_rowid(s->db);
    *exists = true;
    return 0;
}

/* Runs a range query (FLOOR/NEXT take an offset; FIRST/LAST do not). */
static int range_query(checkpoint_store *s, enum statement_id id, int64_t pid, int64_t offset, map_range *out,
                       bool *found)
{
    sqlite3_stmt *stmt = statement(s, id);
    sqlite3_bind_int64(stmt, 1, pid);
    if (id == STMT_RANGE_FLOOR || id == STMT_RANGE_NEXT)
        sqlite3_bind_int64(stmt, 2, offset);
    int rc = sqlite3_step(stmt);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        out->source_start = sqlite3_column_int64(stmt, 0);
        out->target_start = sqlite3_column_int64(stmt, 1);
        out->length = sqlite3_column_int64(stmt, 2);
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_error(s, rc, "range lookup");
    if (*found && (out->source_start < 0 || out->target_start < 0 || out->length <= 0 ||
                   out->source_start > INT64_MAX - out->length || out->target_start > INT64_MAX - out->length)) {
        log_error("checkpoints", "%s: range (%lld, %lld, %lld) read back is invalid", s->path,
                  (long long)out->source_start, (long long)out->target_start, (long long)out->length);
        s->corrupt = true;
        return ST_ECORRUPT;
    }
    return 0;
}

static int range_write(checkpoint_store *s, int64_t pid, const map_range *r)
{
    sqlite3_stmt *stmt = statement(s, STMT_RANGE_UPSERT);
    sqlite3_bind_int64(stmt, 1, pid);
    sqlite3_bind_int64(stmt, 2, r->source_start);
    sqlite3_bind_int64(stmt, 3, r->target_start);
    sqlite3_bind_int64(stmt, 4, r->length);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? 0 : store_error(s, rc, "range write");
}

/* ---- open / close --------------------------------------------------------- */

/* PRAGMA quick_check: every page and b-tree of the file is read once (O(file
 * size); the map keeps the file small). Damage in pages that the schema check
 * never touches (a map range deep in the file) is found here, at open, instead
 * of on the first translation that happens to read it. */
static int quick_check(checkpoint_store *s)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(5)", -1, &stmt, NULL);
    int problems = 0;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(stmt);
        if (rc != SQLITE_ROW)
            break;
        const char *line = (const char *)sqlite3_column_text(stmt, 0);
        if (line && strcmp(line, "ok") == 0)
            continue;
        problems++;
        log_error("checkpoints", "%s: integrity check: %s", s->path, line ? line : "(null)");
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return store_error(s, rc, "PRAGMA quick_check");
    if (problems > 0) {
        log_error("checkpoints", "%s: the checkpoint store is damaged; refusing to use it (restore it "
                  "from a backup, or move it away to rebuild the offset map from the target tails)", s->path);
        return ST_ECORRUPT;
    }
    return 0;
}

static int configure(checkpoint_store *s)
{
    int rc = sqlite3_busy_timeout(s->db, CHECKPOINT_BUSY_TIMEOUT_MS);
    int err = store_error(s, rc, "busy_timeout");
    /* journal_mode answers with the mode in force; anything but "wal" (a
     * read-only directory, say) is refused rather than silently weaker. */
    sqlite3_stmt *stmt = NULL;
    if (!err) {
        rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(stmt, 0);
            if (!mode || strcmp(mode, "wal") != 0) {
                log_error("checkpoints", "%s: cannot use WAL journal mode (got '%s')", s->path, mode ? mode : "");
                err = ST_EIO;
            }
        } else {
            err = store_error(s, rc, "PRAGMA journal_mode = WAL");
        }
        sqlite3_finalize(stmt);
    }
    if (!err)
        err = exec(s, "PRAGMA synchronous = NORMAL"); /* see the durability note at the top */
    if (!err)
        err = checkpoint_schema_migrate(s->db, s->path);
    if (!err)
        err = quick_check(s);
    if (err == ST_ECORRUPT)
        s->corrupt = true;
    for (int i = 0; !err && i < STMT_COUNT; i++) {
        rc = sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
        err = store_error(s, rc, "prepare");
    }
    return err;
}

int checkpoint_store_open(const char *path, checkpoint_store **out)
{
    *out = NULL;
    if (!path || !*path || strlen(path) >= PATH_MAX)
        return ST_EINVAL;
    if (!sqlite3_threadsafe()) {
        log_error("checkpoints", "libsqlite3 was built without thread support; the store needs it");
        return ST_EUNSUPPORTED;
    }
    checkpoint_store *s = calloc(1, sizeof *s);
    if (!s)
        return ST_ENOMEM;
    snprintf(s->path, sizeof s->path, "%s", path);
    pthread_mutex_init(&s->lock, NULL);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    int err = store_error(s, rc, "open");
    if (!err)
        err = configure(s);
    if (err) {
        log_error("checkpoints", "%s: cannot open the checkpoint store: %s", path, strait_strerror(err));
        checkpoint_store_close(s);
        return err;
    }
    *out = s;
    return 0;
}

const char *checkpoint_store_path(const checkpoint_store *s) { return s->path; }

void checkpoint_store_close(checkpoint_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    if (s->db)
        sqlite3_close(s->db); /* the last connection checkpoints the WAL into the file */
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* ---- the offset map ------------------------------------------------------- */

static int validate_pairs(const checkpoint_pair *pairs, size_t count)
{
    if (count > CHECKPOINT_EXTEND_PAIRS_MAX)
        return ST_ETOOBIG;
    for (size_t i = 0; i < count; i++) {
        if (pairs[i].source_offset < 0 || pairs[i].target_offset < 0 || pairs[i].source_offset == INT64_MAX ||
            pairs[i].target_offset == INT64_MAX)
            return ST_EINVAL;
        if (i > 0 && (pairs[i].source_offset <= pairs[i - 1].source_offset ||
                      pairs[i].target_offset <= pairs[i - 1].target_offset))
            return ST_EINVAL;
    }
    return 0;
}

/* A pair whose source offset is below the mapped end: accepted if the map
 * agrees; ST_ECORRUPT if it maps elsewhere or was recorded as not mirrored. */
static int verify_mapped(checkpoint_store *s, int64_t pid, const map_range *last, const char *where,
                         const checkpoint_pair *p)
{
    map_range r = *last;
    bool found = true;
    if (p->source_offset < last->source_start) {
        int err = range_query(s, STMT_RANGE_FLOOR, pid, p->source_offset, &r, &found);
        if (err)
            return err;
        if (!found)
            return 0; /* below the first range: pruned, nothing left to compare with */
    }
    if (p->source_offset < r.source_start + r.length) {
        int64_t expected = r.target_start + (p->source_offset - r.source_start);
        if (expected == p->target_offset)
            return 0;
        log_error("checkpoints", "%s: %s: source offset %lld is mapped to target %lld, now claimed at %lld",
                  s->path, where, (long long)p->source_offset, (long long)expected, (long long)p->target_offset);
        return ST_ECORRUPT;
    }
    log_error("checkpoints", "%s: %s: source offset %lld was recorded as not mirrored, now claimed at target %lld",
              s->path, where, (long long)p->source_offset, (long long)p->target_offset);
    return ST_ECORRUPT;
}

/* The body of extend, inside the write transaction. */
static int extend_locked(checkpoint_store *s, const char *flow, const char *topic, int32_t partition,
                         const checkpoint_pair *pairs, size_t count)
{
    char where[600];
    snprintf(where, sizeof where, "%s %s-%d", flow, topic, (int)partition);
    int64_t pid = 0;
    bool exists = false, have = false, dirty = false;
    map_range cur = {0, 0, 0};
    int err = partition_id(s, flow, topic, partition, true, &pid, &exists);
    if (!err)
        err = range_query(s, STMT_RANGE_LAST, pid, 0, &cur, &have);
    for (size_t i = 0; !err && i < count; i++) {
        const checkpoint_pair *p = &pairs[i];
        if (have && p->source_offset < cur.source_start + cur.length) {
            err = verify_mapped(s, pid, &cur, where, p); /* only the stored ranges can be ahead of p */
            continue;
        }
        if (have && p->target_offset < cur.target_start + cur.length) {
            log_error("checkpoints", "%s: %s: source offset %lld claimed at target %lld, which the map already "
                      "gives to an earlier record (mapped end %lld)", s->path, where, (long long)p->source_offset,
                      (long long)p->target_offset, (long long)(cur.target_start + cur.length));
            err = ST_ECORRUPT;
            break;
        }
        if (have && p->source_offset == cur.source_start + cur.length &&
            p->target_offset == cur.target_start + cur.length) {
            cur.length++;
            dirty = true;
            continue;
        }
        if (dirty)
            err = range_write(s, pid, &cur);
        cur = (map_range){p->source_offset, p->target_offset, 1};
        have = dirty = true;
    }
    if (!err && dirty)
        err = range_write(s, pid, &cur);
    return err;
}

int checkpoint_map_extend(checkpoint_store *s, const char *flow, const char *topic, int32_t partition,
                          const checkpoint_pair *pairs, size_t count)
{
    if (!s || !flow || !topic || partition < 0 || (count > 0 && !pairs))
        return ST_EINVAL;
    int err = validate_pairs(pairs, count);
    if (err || count == 0)
        return err;
    if ((err = store_lock(s)) != 0)
        return err;
    err = begin_write(s);
    if (!err)
        err = finish_transaction(s, extend_locked(s, flow, topic, partition, pairs, count));
    /* A pair the map contradicts (ST_ECORRUPT with a sound file) or refused
     * arguments leave the map as it was and are the caller's to handle; a
     * failed write (busy, I/O, damage) leaves it behind the target. */
    if (s->corrupt)
        fault_record(s, flow, ST_ECORRUPT);
    else if (err && err != ST_EINVAL && err != ST_ECORRUPT)
        fault_record(s, flow, err);
    pthread_mutex_unlock(&s->lock);
    return err;
}

int checkpoint_flow_fault(checkpoint_store *s, const char *flow)
{
    if (!s || !flow)
        return ST_EINVAL;
    pthread_mutex_lock(&s->lock);
    int err = s->corrupt ? ST_ECORRUPT : fault_of(s, flow);
    pthread_mutex_unlock(&s->lock);
    return err;
}

void checkpoint_flow_fault_clear(checkpoint_store *s, const char *flow)
{
    if (!s || !flow)
        return;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->fault_count; i++) {
        if (strcmp(s->faults[i].flow, flow) != 0 || s->faults[i].err == ST_ECORRUPT)
            continue;
        s->faults[i] = s->faults[--s->fault_count];
        log_info("checkpoints", "%s: flow %s: offset map repaired; translations allowed again", s->path, flow);
        break;
    }
    pthread_mutex_unlock(&s->lock);
}

int checkpoint_store_probe(checkpoint_store *s)
{
    if (!s)
        return ST_EINVAL;
    int err = store_lock(s);
    if (err)
        return err;
    err = begin_write(s);
    if (!err)
        err = exec(s, "ROLLBACK");
    pthread_mutex_unlock(&s->lock);
    return err;
}

static int translate_locked(checkpoint_store *s, int64_t pid, int64_t o, int64_t *target_offset, bool *found)
{
    map_range r, next;
    bool have = false, have_next = false;
    int err = range_query(s, STMT_RANGE_FLOOR, pid, o, &r, &have);
    if (err)
        return err;
    if (!have) { /* o is before everything mapped: the first mapped record is the first >= o */
        err = range_query(s, STMT_RANGE_FIRST, pid, 0, &r, &have);
        if (!err && have) {
            *target_offset = r.target_start;
            *found = true;
        }
        return err;
    }
    *found = true;
    if (o < r.source_start + r.length) {
        *target_offset = r.target_start + (o - r.source_start);
        return 0;
    }
    err = range_query(s, STMT_RANGE_NEXT, pid, o, &next, &have_next);
    if (!err)
        *target_offset = have_next ? next.target_start : r.target_start + r.length;
    return err;
}

int checkpoint_translate(checkpoint_store *s, const char *flow, const char *topic, int32_t partition,
                         int64_t source_offset, int64_t *target_offset, bool *found)
{
    if (!s || !flow || !topic || !target_offset || !found || partition < 0 || source_offset < 0)
        return ST_EINVAL;
    *target_offset = -1;
    *found = false;
    int err = store_lock_flow(s, flow);
    if (err)
        return err;
    int64_t pid = 0;
    bool exists = false;
    err = partition_id(s, flow, topic, partition, false, &pid, &exists);
    if (!err && exists)
        err = translate_locked(s, pid, source_offset, target_offset, found);
    if (err) {
        *target_offset = -1;
        *found = false;
    }
    pthread_mutex_unlock(&s->lock);
    return err;
}

int checkpoint_map_last(checkpoint_store *s, const char *flow, const char *topic, int32_t partition,
                        checkpoint_pair *last, bool *found)
{
    if (!s || !flow || !topic || !last || !found || partition < 0)
        return ST_EINVAL;
    *found = false;
    last->source_offset = last->target_offset = -1;
    int err = store_lock(s);
    if (err)
        return err;
    int64_t pid = 0;
    bool exists = false;
    map_range r;
    err = partition_id(s, flow, topic, partition, false, &pid, &exists);
    if (!err && exists)
        err = range_query(s, STMT_RANGE_LAST, pid, 0, &r, found);
    if (!err && *found) {
        last->source_offset = r.source_start + r.length - 1;
        last->target_offset = r.target_start + r.length - 1;
    } else {
        *found = false;
    }
    pthread_mutex_unlock(&s->lock);
    return err;
}

int checkpoint_map_prune(checkpoint_store *s, const char *flow, const char *topic, int32_t partition,
                         int64_t source_log_start)
{
    if (!s || !flow || !topic || partition < 0 || source_log_start < 0)
        return ST_EINVAL;
    int err = store_lock(s);
    if (err)
        return err;
    if ((err = begin_write(s)) != 0) {
        pthread_mutex_unlock(&s->lock);
        return err;
    }
    int64_t pid = 0;
    bool exists = false;
    err = partition_id(s, flow, topic, partition, false, &pid, &exists);
    if (!err && exists) {
        /* The last range is never dropped: it holds the mapped end, which
         * translate() answers for offsets past it. */
        sqlite3_stmt *stmt = statement(s, STMT_RANGE_PRUNE);
        sqlite3_bind_int64(stmt, 1, pid);
        sqlite3_bind_int64(stmt, 2, source_log_start);
        int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        err = rc == SQLITE_DONE ? 0 : store_error(s, rc, "prune");
        if (!err && sqlite3_changes(s->db) > 0)
            log_debug("checkpoints", "%s: pruned %d ranges of %s %s-%d below %lld", s->path, sqlite3_changes(s->db),
                      flow, topic, (int)partition, (long long)source_log_start);
    }
    err = finish_transaction(s, err);
    pthread_mutex_unlock(&s->lock);
    return err;
}

int checkpoint_map_range_count(checkpoint_store *s, const char *flow, int64_t *count)
{
    if (!s || !flow || !count)
        return ST_EINVAL;
    *count = 0;
    int err = store_lock(s);
    if (err)
        return err;
    sqlite3_stmt *stmt = statement(s, STMT_RANGE_COUNT);
    sqlite3_bind_text(stmt, 1, flow, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    err = rc == SQLITE_ROW ? 0 : store_error(s, rc, "range count");
    pthread_mutex_unlock(&s->lock);
    return err;
}

/* ---- group checkpoints ---------------------------------------------------- */

static bool fits(const char *text, size_t size) { return text && strnlen(text, size) < size; }

int checkpoint_group_put(checkpoint_store *s, const char *flow, const checkpoint_group_offset *g)
{
    if (!s || !flow || !g || !fits(g->group, sizeof g->group) || !fits(g->topic, sizeof g->topic) ||
        !fits(g->metadata, sizeof g->metadata) || g->partition < 0 || g->source_offset < 0 || g->target_offset < 0)
        return ST_EINVAL;
    int err = store_lock_flow(s, flow);
    if (err)
        return err;
    /* The transaction first: begin_write may let other threads use the statements. */
    err = begin_write(s);
    if (err) {
        pthread_mutex_unlock(&s->lock);
        return err;
    }
    sqlite3_stmt *stmt = statement(s, STMT_GROUP_PUT);
    sqlite3_bind_text(stmt, 1, flow, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, g->group, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, g->topic, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 4, g->partition);
    sqlite3_bind_int64(stmt, 5, g->source_offset);
    sqlite3_bind_int64(stmt, 6, g->target_offset);
    sqlite3_bind_text(stmt, 7, g->metadata, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 8, g->checkpointed_at_ms ? g->checkpointed_at_ms : clock_wall_ms());
    sqlite3_bind_int(stmt, 9, g->applied ? 1 : 0);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    err = finish_transaction(s, rc == SQLITE_DONE ? 0 : store_error(s, rc, "group checkpoint put"));
    pthread_mutex_unlock(&s->lock);
    return err;
}

/* Copies a TEXT column into a fixed field; a value that cannot fit was not
 * written by checkpoint_group_put, so it is corruption. */
static int column_text(sqlite3_stmt *stmt, int column, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);
    int bytes = sqlite3_column_bytes(stmt, column);
    if (!text || bytes < 0 || (size_t)bytes >= size)
        return ST_ECORRUPT;
    memcpy(out, text, (size_t)bytes);
    out[bytes] = '\0';
    return 0;
}

static int group_row(sqlite3_stmt *stmt, checkpoint_group_offset *g)
{
    memset(g, 0, sizeof *g);
    int err = column_text(stmt, 0, g->group, sizeof g->group);
    if (!err)
        err = column_text(stmt, 1, g->topic, sizeof g->topic);
    if (!err)
        err = column_text(stmt, 5, g->metadata, sizeof g->metadata);
    g->partition = sqlite3_column_int(stmt, 2);
    g->source_offset = sqlite3_column_int64(stmt, 3);
    g->target_offset = sqlite3_column_int64(stmt, 4);
    g->checkpointed_at_ms = sqlite3_column_int64(stmt, 6);
    g->applied = sqlite3_column_int(stmt, 7) != 0;
    return err;
}

int checkpoint_group_each(checkpoint_store *s, const char *flow, const char *group,
                          int (*fn)(void *arg, const checkpoint_group_offset *g), void *arg)
{
    if (!s || !flow || !fn)
        return ST_EINVAL;
    int err = store_lock_flow(s, flow);
    if (err)
        return err;
    checkpoint_group_offset *row = malloc(sizeof *row);
    if (!row) {
        pthread_mutex_unlock(&s->lock);
        return ST_ENOMEM;
    }
    sqlite3_stmt *stmt = statement(s, STMT_GROUP_EACH);
    sqlite3_bind_text(stmt, 1, flow, -1, SQLITE_STATIC);
    if (group)
        sqlite3_bind_text(stmt, 2, group, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if ((err = group_row(stmt, row)) != 0) {
            log_error("checkpoints", "%s: group checkpoint row of flow %s does not fit its fields", s->path, flow);
            s->corrupt = true;
            break;
        }
        if (fn(arg, row) != 0)
            break;
    }
    sqlite3_reset(stmt);
    if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = store_error(s, rc, "group checkpoint read");
    free(row);
    pthread_mutex_unlock(&s->lock);
    return err;
}

int checkpoint_group_mark_applied(checkpoint_store *s, const char *flow, const char *group, const char *topic,
                                  int32_t partition, bool applied)
{
    if (!s || !flow || !group || !topic || partition < 0)
        return ST_EINVAL;
    int err = store_lock(s);
    if (err)
        return err;
    err = begin_write(s);
    if (err) {
        pthread_mutex_unlock(&s->lock);
        return err;
    }
    sqlite3_stmt *stmt = statement(s, STMT_GROUP_MARK);
    sqlite3_bind_text(stmt, 1, flow, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, group, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, topic, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 4, partition);
    sqlite3_bind_int(stmt, 5, applied ? 1 : 0);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    err = rc == SQLITE_DONE ? 0 : store_error(s, rc, "group checkpoint mark");
    if (!err && sqlite3_changes(s->db) == 0)
        err = ST_ENOTFOUND;
    err = finish_transaction(s, err);
    pthread_mutex_unlock(&s->lock);
    return err;
}
