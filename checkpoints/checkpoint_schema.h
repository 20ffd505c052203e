/*
 * checkpoint_schema.h - private to checkpoints/: the SQLite schema of the
 * checkpoint store and its ordered migrations (checkpoint_schema.c), plus the
 * mapping of SQLite result codes to strait errors shared by the store.
 */
#ifndef STRAIT_CHECKPOINT_SCHEMA_H
#define STRAIT_CHECKPOINT_SCHEMA_H

#include <sqlite3.h>

/* PRAGMA application_id of a strait checkpoint store ("STRT"): a SQLite file
 * written by something else is refused instead of being migrated. */
#define CHECKPOINT_APPLICATION_ID 0x53545254

/* The schema version this build writes (PRAGMA user_version). */
int checkpoint_schema_latest_version(void);

/*
 * Brings the database up to the latest version: reads user_version, refuses
 * a version from the future or a foreign application_id (ST_ECORRUPT, with a
 * log line naming path and both versions) or a non-empty file that is not
 * ours, then applies the missing migrations in order in one IMMEDIATE
 * transaction with the user_version bump: a crash leaves the old version.
 * @locality the opening thread, before the store is shared.
 */
int checkpoint_schema_migrate(sqlite3 *db, const char *path);

/* SQLite result code -> ST_E* (0 for SQLITE_OK/ROW/DONE), logging context,
 * the database path and sqlite3_errmsg. BUSY/LOCKED (after busy_timeout) and
 * I/O failures are ST_EIO; CORRUPT and NOTADB are ST_ECORRUPT. */
int checkpoint_sqlite_error(sqlite3 *db, int rc, const char *path, const char *context);

#endif
