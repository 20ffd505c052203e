/*
 * acl_record.c - the ACL sync's record of the bindings it created in the
 * target region (contract in acl_record.h, table in checkpoint_schema.c
 * version 3). Its own connection to the sidecar's SQLite file, as
 * failover_state.c has: WAL lets it work next to the checkpoint store.
 * Every call holds s->lock; SQLite errors map through checkpoint_sqlite_error.
 */
#include "checkpoints/acl_record.h"

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoints/checkpoint_schema.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"

/* Waiting for the checkpoint store's write lock (its transactions are short). */
#define ACL_RECORD_BUSY_TIMEOUT_MS 5000
/* Rows one flow may hold: far above any real ACL count, bounds the list. */
#define ACL_RECORD_ROWS_MAX 100000

struct acl_record_store {
    pthread_mutex_t lock;
    sqlite3 *db;
    char path[PATH_MAX];
};

static int db_error(acl_record_store *s, int rc, const char *context)
{
    return checkpoint_sqlite_error(s->db, rc, s->path, context);
}

int acl_record_open(const char *path, acl_record_store **out)
{
    *out = NULL;
    if (!path || !*path || strlen(path) >= PATH_MAX)
        return ST_EINVAL;
    acl_record_store *s = calloc(1, sizeof *s);
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
        err = db_error(s, sqlite3_busy_timeout(s->db, ACL_RECORD_BUSY_TIMEOUT_MS), "busy_timeout");
    if (!err)
        err = db_error(s, sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL),
                       "journal_mode");
    if (!err)
        err = checkpoint_schema_migrate(s->db, s->path);
    if (err) {
        log_error("checkpoints", "%s: cannot open the ACL sync record: %s", path,
                  strait_strerror(err));
        acl_record_close(s);
        return err;
    }
    *out = s;
    return 0;
}

void acl_record_close(acl_record_store *s)
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

int acl_record_list(acl_record_store *s, const char *flow, acl_record_binding **out,
                    size_t *count)
{
    *out = NULL;
    *count = 0;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *stmt = NULL;
    acl_record_binding *rows = NULL;
    size_t n = 0, capacity = 0;
    int err = 0;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT resource_type, resource_name, pattern_type, principal, "
                                "host, operation, permission FROM acl_synced_bindings "
                                "WHERE flow = ?1",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(stmt, 1, flow, -1, SQLITE_TRANSIENT);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(stmt);
        if (rc != SQLITE_ROW)
            break;
        if (n == capacity) {
            if (capacity >= ACL_RECORD_ROWS_MAX) {
                err = ST_ETOOBIG;
                break;
            }
            size_t grown = capacity ? capacity * 2 : 16;
            acl_record_binding *bigger = realloc(rows, grown * sizeof *rows);
            if (!bigger) {
                err = ST_ENOMEM;
                break;
            }
            rows = bigger;
            capacity = grown;
        }
        acl_record_binding *b = &rows[n++];
        b->resource_type = sqlite3_column_int(stmt, 0);
        column_text(stmt, 1, b->resource_name, sizeof b->resource_name);
        b->pattern_type = sqlite3_column_int(stmt, 2);
        column_text(stmt, 3, b->principal, sizeof b->principal);
        column_text(stmt, 4, b->host, sizeof b->host);
        b->operation = sqlite3_column_int(stmt, 5);
        b->permission = sqlite3_column_int(stmt, 6);
    }
    sqlite3_finalize(stmt);
    if (!err)
        err = db_error(s, rc, "reading acl_synced_bindings");
    pthread_mutex_unlock(&s->lock);
    if (err) {
        free(rows);
        return err;
    }
    *out = rows;
    *count = n;
    return 0;
}

/* One INSERT or DELETE of b under flow. */
static int write_row(acl_record_store *s, const char *sql, const char *flow,
                     const acl_record_binding *b, const char *context)
{
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, flow, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(stmt, 2, b->resource_type);
        sqlite3_bind_text(stmt, 3, b->resource_name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(stmt, 4, b->pattern_type);
        sqlite3_bind_text(stmt, 5, b->principal, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 6, b->host, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(stmt, 7, b->operation);
        sqlite3_bind_int(stmt, 8, b->permission);
        if (sqlite3_bind_parameter_count(stmt) == 9)
            sqlite3_bind_int64(stmt, 9, clock_wall_ms());
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    int err = db_error(s, rc, context);
    pthread_mutex_unlock(&s->lock);
    return err;
}

int acl_record_add(acl_record_store *s, const char *flow, const acl_record_binding *b)
{
    return write_row(s,
                     "INSERT OR IGNORE INTO acl_synced_bindings (flow, resource_type, "
                     "resource_name, pattern_type, principal, host, operation, permission, "
                     "created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                     flow, b, "recording a synced ACL binding");
}

int acl_record_remove(acl_record_store *s, const char *flow, const acl_record_binding *b)
{
    return write_row(s,
                     "DELETE FROM acl_synced_bindings WHERE flow = ?1 AND resource_type = ?2 "
                     "AND resource_name = ?3 AND pattern_type = ?4 AND principal = ?5 AND "
                     "host = ?6 AND operation = ?7 AND permission = ?8",
                     flow, b, "forgetting a synced ACL binding");
}

bool acl_record_equal(const acl_record_binding *a, const acl_record_binding *b)
{
    return a->resource_type == b->resource_type && a->pattern_type == b->pattern_type &&
           a->operation == b->operation && a->permission == b->permission &&
           !strcmp(a->resource_name, b->resource_name) && !strcmp(a->principal, b->principal) &&
           !strcmp(a->host, b->host);
}
