/*
 * failover_state.c - the region state and its audit history in the sidecar's
 * SQLite file (contract in failover_state.h, tables in checkpoint_schema.c).
 *
 * Its own connection to the file the checkpoint store also uses (WAL lets
 * both work), with synchronous=FULL: a state change is rare and must survive
 * a power loss, because a region that forgot it was demoted could accept
 * writes again. Every call holds s->lock; SQLite errors map through
 * checkpoint_sqlite_error (BUSY beyond the timeout -> ST_EIO, damage ->
 * ST_ECORRUPT) and are never turned into a default state.
 */
#include "checkpoints/failover_state.h"

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoints/checkpoint_schema.h"
#include "common/error.h"
#include "common/log.h"

/* Waiting for the checkpoint store's write lock (its transactions are short). */
#define FAILOVER_BUSY_TIMEOUT_MS 5000

struct failover_store {
    pthread_mutex_t lock;
    sqlite3 *db;
    char path[PATH_MAX];
};

static int db_error(failover_store *s, int rc, const char *context)
{
    return checkpoint_sqlite_error(s->db, rc, s->path, context);
}

static int exec(failover_store *s, const char *sql)
{
    return db_error(s, sqlite3_exec(s->db, sql, NULL, NULL, NULL), sql);
}

int failover_store_open(const char *path, failover_store **out)
{
    *out = NULL;
    if (!path || !*path || strlen(path) >= PATH_MAX)
        return ST_EINVAL;
    failover_store *s = calloc(1, sizeof *s);
    if (!s)
        return ST_ENOMEM;
    snprintf(s->path, sizeof s->path, "%s", path);
    pthread_mutex_init(&s->lock, NULL);
    int err = db_error(s, sqlite3_open_v2(path, &s->db,
                                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                              SQLITE_OPEN_FULLMUTEX,
                                          NULL),
                       "open");
    if (!err)
        err = db_error(s, sqlite3_busy_timeout(s->db, FAILOVER_BUSY_TIMEOUT_MS), "busy_timeout");
    if (!err)
        err = exec(s, "PRAGMA journal_mode = WAL");
    if (!err)
        err = exec(s, "PRAGMA synchronous = FULL");
    if (!err)
        err = checkpoint_schema_migrate(s->db, s->path);
    if (err) {
        log_error("failover", "%s: cannot open the failover state: %s", path, strait_strerror(err));
        failover_store_close(s);
        return err;
    }
    *out = s;
    return 0;
}

void failover_store_close(failover_store *s)
{
    if (!s)
        return;
    if (s->db)
        sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void column_text(sqlite3_stmt *stmt, int column, char *out, size_t outlen)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);
    snprintf(out, outlen, "%s", text ? (const char *)text : "");
}

static int load_locked(failover_store *s, failover_state *out, bool *found)
{
    memset(out, 0, sizeof *out);
    *found = false;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT epoch, active, fenced, promoting, operation, target, step, "
                                "actor, updated_at_ms, previous FROM failover_state WHERE id = 1",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *found = true;
        out->epoch = sqlite3_column_int64(stmt, 0);
        column_text(stmt, 1, out->active, sizeof out->active);
        column_text(stmt, 2, out->fenced, sizeof out->fenced);
        column_text(stmt, 3, out->promoting, sizeof out->promoting);
        column_text(stmt, 4, out->operation, sizeof out->operation);
        column_text(stmt, 5, out->target, sizeof out->target);
        column_text(stmt, 6, out->step, sizeof out->step);
        column_text(stmt, 7, out->actor, sizeof out->actor);
        out->updated_at_ms = sqlite3_column_int64(stmt, 8);
        column_text(stmt, 9, out->previous, sizeof out->previous);
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(stmt);
    int err = db_error(s, rc, "reading failover_state");
    if (!err && *found && (out->epoch < 1 || !out->active[0])) {
        log_error("failover", "%s: stored failover state is invalid (epoch %lld, active '%s')",
                  s->path, (long long)out->epoch, out->active);
        return ST_ECORRUPT;
    }
    return err;
}

int failover_state_load(failover_store *s, failover_state *out, bool *found)
{
    pthread_mutex_lock(&s->lock);
    int err = load_locked(s, out, found);
    pthread_mutex_unlock(&s->lock);
    return err;
}

bool failover_state_same(const failover_state *a, const failover_state *b)
{
    return a->epoch == b->epoch && !strcmp(a->active, b->active) &&
           !strcmp(a->fenced, b->fenced) && !strcmp(a->promoting, b->promoting) &&
           !strcmp(a->operation, b->operation) && !strcmp(a->target, b->target) &&
           !strcmp(a->step, b->step) && !strcmp(a->previous, b->previous);
}

static int event_insert(failover_store *s, const failover_event *ev)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO failover_history (at_ms, actor, operation, from_region, "
                                "to_region, epoch, lag_records, outcome, detail) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, ev->at_ms);
        sqlite3_bind_text(stmt, 2, ev->actor, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, ev->operation, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, ev->from, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 5, ev->to, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 6, ev->epoch);
        sqlite3_bind_int64(stmt, 7, ev->lag_records);
        sqlite3_bind_text(stmt, 8, ev->outcome, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 9, ev->detail, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    return db_error(s, rc, "appending to failover_history");
}

static int state_write(failover_store *s, const failover_state *next)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT OR REPLACE INTO failover_state (id, epoch, active, fenced, "
                                "promoting, operation, target, step, actor, updated_at_ms, previous) "
                                "VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, next->epoch);
        sqlite3_bind_text(stmt, 2, next->active, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, next->fenced, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, next->promoting, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 5, next->operation, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 6, next->target, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 7, next->step, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 8, next->actor, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 9, next->updated_at_ms);
        sqlite3_bind_text(stmt, 10, next->previous, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    return db_error(s, rc, "writing failover_state");
}

int failover_state_store(failover_store *s, const failover_state *next, const failover_event *ev,
                         bool *changed, char *why, size_t whylen)
{
    *changed = false;
    if (next->epoch < 1 || !next->active[0]) {
        snprintf(why, whylen, "epoch must be at least 1 and active must name a region");
        return ST_EINVAL;
    }
    pthread_mutex_lock(&s->lock);
    int err = exec(s, "BEGIN IMMEDIATE");
    failover_state stored;
    bool found = false;
    if (!err)
        err = load_locked(s, &stored, &found);
    if (!err && found && next->epoch < stored.epoch) {
        snprintf(why, whylen, "epoch %lld is older than the stored epoch %lld",
                 (long long)next->epoch, (long long)stored.epoch);
        err = ST_EINVAL;
    } else if (!err && found && next->epoch == stored.epoch) {
        if (!failover_state_same(next, &stored)) {
            snprintf(why, whylen,
                     "epoch %lld is already stored with a different state (active %s, "
                     "operation '%s' step '%s')",
                     (long long)stored.epoch, stored.active, stored.operation, stored.step);
            err = ST_EINVAL;
        }
    } else if (!err) {
        err = state_write(s, next);
        if (!err && ev)
            err = event_insert(s, ev);
        if (!err)
            *changed = true;
    }
    if (!err) {
        err = exec(s, "COMMIT");
    } else {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        *changed = false;
    }
    pthread_mutex_unlock(&s->lock);
    return err;
}

int failover_event_add(failover_store *s, const failover_event *ev)
{
    pthread_mutex_lock(&s->lock);
    int err = event_insert(s, ev);
    pthread_mutex_unlock(&s->lock);
    return err;
}

int failover_event_each(failover_store *s, int limit,
                        int (*fn)(void *arg, const failover_event *ev), void *arg)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT id, at_ms, actor, operation, from_region, to_region, epoch, "
                                "lag_records, outcome, detail FROM (SELECT * FROM failover_history "
                                "ORDER BY id DESC LIMIT ?1) ORDER BY id ASC",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(stmt, 1, limit);
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            failover_event ev;
            memset(&ev, 0, sizeof ev);
            ev.id = sqlite3_column_int64(stmt, 0);
            ev.at_ms = sqlite3_column_int64(stmt, 1);
            column_text(stmt, 2, ev.actor, sizeof ev.actor);
            column_text(stmt, 3, ev.operation, sizeof ev.operation);
            column_text(stmt, 4, ev.from, sizeof ev.from);
            column_text(stmt, 5, ev.to, sizeof ev.to);
            ev.epoch = sqlite3_column_int64(stmt, 6);
            ev.lag_records = sqlite3_column_int64(stmt, 7);
            column_text(stmt, 8, ev.outcome, sizeof ev.outcome);
            column_text(stmt, 9, ev.detail, sizeof ev.detail);
            if (fn(arg, &ev) != 0) {
                rc = SQLITE_DONE;
                break;
            }
        }
    }
    sqlite3_finalize(stmt);
    int err = db_error(s, rc, "reading failover_history");
    pthread_mutex_unlock(&s->lock);
    return err;
}
