/*
 * scram_file.h - the SASL users (scram_store.h) on disk: one file in the
 * first log dir, rewritten atomically on every change (AlterUserScram-
 * Credentials), read at start through the bounded reader. Format in
 * scram_file.c.
 */
#ifndef STRAIT_SECURITY_SCRAM_FILE_H
#define STRAIT_SECURITY_SCRAM_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "security/scram_store.h"

#define SCRAM_FILE_NAME "strait-scram-users"

/* Appends the file's bytes for s to out. 0 or out's error. */
int scram_file_encode(const scram_store *s, buf *out);
/* Replaces into's contents with the credentials in data; a refused file
 * (ST_ECORRUPT, ST_ECRC, ST_EUNSUPPORTED, why says where) leaves into as it
 * was. */
int scram_file_decode(const void *data, size_t len, scram_store *into, char *why, size_t whylen);
/* Writes s to dir/SCRAM_FILE_NAME atomically. */
int scram_file_save(const scram_store *s, const char *dir);
/* Loads dir/SCRAM_FILE_NAME into into; *found false (and into untouched)
 * when there is no file. */
int scram_file_load(const char *dir, scram_store *into, bool *found, char *why, size_t whylen);

#endif
