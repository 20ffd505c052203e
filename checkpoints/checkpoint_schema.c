/*
 * checkpoint_schema.c - the on-disk format of the checkpoint store and its
 * ordered migrations. The format is documented here, where it is created.
 *
 * File: one SQLite database in WAL mode, PRAGMA application_id = "STRT"
 * (0x53545254), PRAGMA user_version = schema version (3 today).
 *
 * Version 1
 *
 *   map_partitions            one row per (flow, source topic, partition)
 *     partition_id   INTEGER  primary key (rowid), referenced by map_ranges
 *     flow           TEXT     "<source region>-><target region>"
 *     topic          TEXT     SOURCE topic name (partitions match on both sides)
 *     partition      INTEGER  partition number
 *     UNIQUE (flow, topic, partition)
 *
 *   map_ranges                the offset map, WITHOUT ROWID, clustered on its key
 *     partition_id   INTEGER  map_partitions.partition_id
 *     source_start   INTEGER  first source offset of the range (>= 0)
 *     target_start   INTEGER  its target offset (>= 0)
 *     length         INTEGER  records in the range (> 0): source offsets
 *                             [source_start, source_start + length) were
 *                             written at [target_start, target_start + length)
 *     PRIMARY KEY (partition_id, source_start)  -- the lookup by source offset
 *   Invariants (checked by checkpoint_map_extend before writing): ranges of a
 *   partition do not overlap on either side and are increasing on both sides
 *   in source_start order; two adjacent ranges are never contiguous on both
 *   sides (they would have been one range).
 *   Why normalised instead of (flow, topic, partition, ...) per range: with a
 *   gap every 100 records a million records are 10,000 ranges, and repeating
 *   two strings in each would more than double the file.
 *
 *   group_checkpoints          WITHOUT ROWID
 *     flow, group_id, topic, partition   PRIMARY KEY (topic = SOURCE topic)
 *     source_offset      INTEGER  committed on the source
 *     target_offset      INTEGER  checkpoint_translate(source_offset)
 *     metadata           TEXT     the source commit's metadata, copied
 *     checkpointed_at_ms INTEGER  wall clock when stored
 *     applied            INTEGER  0/1: committed to the target cluster
 *
 * Version 2 (failover state, DESIGN.md §8; read and written by failover_state.c)
 *
 *   failover_state             at most one row (id = 1): this sidecar's copy of
 *                              the deployment's region state
 *     id             INTEGER  always 1
 *     epoch          INTEGER  region epoch (>= 1); only ever grows
 *     active         TEXT     region clients are sent to
 *     fenced         TEXT     region refusing writes during a switchover, or ''
 *     promoting      TEXT     region taking over (groups held), or ''
 *     operation      TEXT     '' or the operation in progress: switchover,
 *                             failover, failback
 *     target         TEXT     the operation's target region, or ''
 *     previous       TEXT     the region active when the operation began, or ''
 *     step           TEXT     the operation's last completed step, or ''
 *     actor          TEXT     who made the change ("user@host" of the CLI)
 *     updated_at_ms  INTEGER  wall clock of the change
 *
 *   failover_history           audit trail, one row per applied change
 *     id             INTEGER  primary key (rowid), increasing
 *     at_ms          INTEGER  wall clock
 *     actor, operation, from_region, to_region  TEXT
 *     epoch          INTEGER  the epoch the change produced
 *     lag_records    INTEGER  mirror lag into the target at that moment (-1 unknown)
 *     outcome        TEXT     e.g. fenced, promoting, completed, aborted, adopted
 *     detail         TEXT     free text for people
 *
 * Version 3 (ACL sync, mirror/acl_sync.c; read and written by acl_record.c)
 *
 *   acl_synced_bindings        WITHOUT ROWID: the ACL bindings a flow's ACL sync
 *                              created in its TARGET region (and only those:
 *                              a binding that already existed there is never
 *                              recorded, so it is never removed by the sync)
 *     flow           TEXT     "<source region>-><target region>"
 *     resource_type  INTEGER  Kafka's code: 2 topic, 3 group
 *     resource_name  TEXT     the name as created in the target (prefixed
 *                             under prefix naming)
 *     pattern_type   INTEGER  Kafka's code: 3 literal, 4 prefixed
 *     principal      TEXT     "User:alice"
 *     host           TEXT     "*" or an address
 *     operation      INTEGER  Kafka's code (3 READ, 4 WRITE, ...)
 *     permission     INTEGER  Kafka's code: 2 DENY, 3 ALLOW
 *     created_at_ms  INTEGER  wall clock when recorded
 *     PRIMARY KEY (flow, resource_type, resource_name, pattern_type,
 *                  principal, host, operation, permission)
 *   A row is written BEFORE its CreateAcls is sent and deleted AFTER its
 *   DeleteAcls succeeded, so a crash in between leaves a row whose binding
 *   may be missing (the next cycle creates or deletes it again, both
 *   idempotent), never a created binding without its row (which the sync
 *   would then take for a local one and never remove).
 *
 * All missing migrations run in one IMMEDIATE transaction together with the
 * user_version bump (user_version is transactional), so a crash leaves
 * either the old or the new version, never half of one. New versions are
 * appended to the list; an existing entry is never edited once released.
 */
#include "checkpoints/checkpoint_schema.h"

#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"
#include "common/log.h"

typedef struct checkpoint_migration {
    int version;        /* user_version after it ran */
    const char *sql;    /* statements, run with sqlite3_exec */
} checkpoint_migration;

static const checkpoint_migration migrations[] = {
    {1,
     "CREATE TABLE map_partitions ("
     "  partition_id INTEGER PRIMARY KEY,"
     "  flow TEXT NOT NULL,"
     "  topic TEXT NOT NULL,"
     "  partition INTEGER NOT NULL,"
     "  UNIQUE (flow, topic, partition));"
     "CREATE TABLE map_ranges ("
     "  partition_id INTEGER NOT NULL,"
     "  source_start INTEGER NOT NULL CHECK (source_start >= 0),"
     "  target_start INTEGER NOT NULL CHECK (target_start >= 0),"
     "  length INTEGER NOT NULL CHECK (length > 0),"
     "  PRIMARY KEY (partition_id, source_start)) WITHOUT ROWID;"
     "CREATE TABLE group_checkpoints ("
     "  flow TEXT NOT NULL,"
     "  group_id TEXT NOT NULL,"
     "  topic TEXT NOT NULL,"
     "  partition INTEGER NOT NULL,"
     "  source_offset INTEGER NOT NULL,"
     "  target_offset INTEGER NOT NULL,"
     "  metadata TEXT NOT NULL,"
     "  checkpointed_at_ms INTEGER NOT NULL,"
     "  applied INTEGER NOT NULL,"
     "  PRIMARY KEY (flow, group_id, topic, partition)) WITHOUT ROWID;"
     "PRAGMA application_id = 1398035028;"}, /* CHECKPOINT_APPLICATION_ID */
    {2,
     "CREATE TABLE failover_state ("
     "  id INTEGER PRIMARY KEY CHECK (id = 1),"
     "  epoch INTEGER NOT NULL CHECK (epoch >= 1),"
     "  active TEXT NOT NULL,"
     "  fenced TEXT NOT NULL,"
     "  promoting TEXT NOT NULL,"
     "  operation TEXT NOT NULL,"
     "  target TEXT NOT NULL,"
     "  previous TEXT NOT NULL,"
     "  step TEXT NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  updated_at_ms INTEGER NOT NULL);"
     "CREATE TABLE failover_history ("
     "  id INTEGER PRIMARY KEY,"
     "  at_ms INTEGER NOT NULL,"
     "  actor TEXT NOT NULL,"
     "  operation TEXT NOT NULL,"
     "  from_region TEXT NOT NULL,"
     "  to_region TEXT NOT NULL,"
     "  epoch INTEGER NOT NULL,"
     "  lag_records INTEGER NOT NULL,"
     "  outcome TEXT NOT NULL,"
     "  detail TEXT NOT NULL);"},
    {3,
     "CREATE TABLE acl_synced_bindings ("
     "  flow TEXT NOT NULL,"
     "  resource_type INTEGER NOT NULL,"
     "  resource_name TEXT NOT NULL,"
     "  pattern_type INTEGER NOT NULL,"
     "  principal TEXT NOT NULL,"
     "  host TEXT NOT NULL,"
     "  operation INTEGER NOT NULL,"
     "  permission INTEGER NOT NULL,"
     "  created_at_ms INTEGER NOT NULL,"
     "  PRIMARY KEY (flow, resource_type, resource_name, pattern_type, principal, host,"
     "               operation, permission)) WITHOUT ROWID;"},
};

_Static_assert(CHECKPOINT_APPLICATION_ID == 1398035028, "migration 1 writes the application id literally");

#define MIGRATION_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

int checkpoint_schema_latest_version(void) { return migrations[MIGRATION_COUNT - 1].version; }

int checkpoint_sqlite_error(sqlite3 *db, int rc, const char *path, const char *context)
{
    int primary = rc & 0xff;
    if (primary == SQLITE_OK || primary == SQLITE_ROW || primary == SQLITE_DONE)
        return 0;
    const char *message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    int err;
    switch (primary) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        err = ST_ECORRUPT;
        break;
    case SQLITE_NOMEM:
        err = ST_ENOMEM;
        break;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
        err = ST_EINVAL;
        break;
    case SQLITE_TOOBIG:
        err = ST_ETOOBIG;
        break;
    default: /* BUSY / LOCKED after busy_timeout, IOERR, FULL, CANTOPEN, READONLY, ... */
        err = ST_EIO;
        break;
    }
    log_error("checkpoints", "%s: %s failed: %s (sqlite %d) -> %s", path, context, message, rc,
              strait_error_name(err));
    return err;
}

/* Reads one integer PRAGMA. */
static int pragma_int(sqlite3 *db, const char *path, const char *pragma, int *out)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA %s", pragma);
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW)
            *out = sqlite3_column_int(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return checkpoint_sqlite_error(db, rc, path, pragma);
}

/* Checks what is in the file before anything is written to it. */
static int check_versions(sqlite3 *db, const char *path, int *version_out)
{
    int version = 0, application_id = 0, objects = 0;
    int err = pragma_int(db, path, "user_version", &version);
    if (!err)
        err = pragma_int(db, path, "application_id", &application_id);
    if (!err) {
        sqlite3_stmt *stmt = NULL;
        int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &stmt, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
            objects = sqlite3_column_int(stmt, 0);
        sqlite3_finalize(stmt);
        err = checkpoint_sqlite_error(db, rc, path, "reading sqlite_master");
    }
    if (err)
        return err;
    int latest = checkpoint_schema_latest_version();
    if (version > latest) {
        log_error("checkpoints",
                  "%s: schema version %d is newer than this build's %d (written by a newer strait); "
                  "refusing to open it rather than misread it",
                  path, version, latest);
        return ST_ECORRUPT;
    }
    bool ours = version > 0 ? application_id == CHECKPOINT_APPLICATION_ID
                            : application_id == 0 && objects == 0; /* a fresh, empty file */
    if (version < 0 || !ours) {
        log_error("checkpoints",
                  "%s: not a strait checkpoint store (application_id %d, user_version %d, %d schema objects)",
                  path, application_id, version, objects);
        return ST_ECORRUPT;
    }
    *version_out = version;
    return 0;
}

int checkpoint_schema_migrate(sqlite3 *db, const char *path)
{
    /* IMMEDIATE: two processes opening one fresh file serialise here, and the
     * second sees the first's version instead of creating the tables twice. */
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    int err = checkpoint_sqlite_error(db, rc, path, "BEGIN schema check");
    if (err)
        return err;
    int version = 0;
    err = check_versions(db, path, &version);
    int applied_to = version;
    for (int i = 0; !err && i < MIGRATION_COUNT; i++) {
        if (migrations[i].version <= version)
            continue;
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", migrations[i].version);
        rc = sqlite3_exec(db, migrations[i].sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, bump, NULL, NULL, NULL);
        err = checkpoint_sqlite_error(db, rc, path, "schema migration");
        if (!err)
            applied_to = migrations[i].version;
    }
    if (!err) {
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        err = checkpoint_sqlite_error(db, rc, path, "COMMIT schema migration");
    }
    if (err) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return err;
    }
    if (applied_to != version)
        log_info("checkpoints", "%s: schema migrated from version %d to %d", path, version, applied_to);
    return 0;
}
