/*
 * acl_file.h - the ACL store persisted in a broker's first log directory as
 * `strait-acls` (format in acl_file.c, where it is parsed), written
 * atomically (fsync + rename) after every change, so a CreateAcls or
 * DeleteAcls that was answered survives a crash.
 */
#ifndef STRAIT_SECURITY_ACL_FILE_H
#define STRAIT_SECURITY_ACL_FILE_H

#include <stddef.h>

#include "common/buf.h"
#include "security/acl.h"

#define ACL_FILE_NAME "strait-acls"

/* Appends the file's bytes for s to out. 0 or out's error (ST_ETOOBIG). */
int acl_file_encode(const acl_store *s, buf *out);

/* Replaces into's bindings with those of the file bytes data[0..len).
 * ST_ECORRUPT / ST_ECRC / ST_EUNSUPPORTED with why (naming the binding and
 * byte) when the bytes are not a whole, valid file; into is then unchanged. */
int acl_file_decode(const void *data, size_t len, acl_store *into, char *why, size_t whylen);

/* Writes s to dir/strait-acls atomically. 0, ST_ETOOBIG or ST_EIO. */
int acl_file_save(const acl_store *s, const char *dir);

/* Loads dir/strait-acls into `into` (replacing its bindings); a missing file
 * is an empty store (0). Errors as acl_file_decode, or ST_EIO, naming the path. */
int acl_file_load(const char *dir, acl_store *into, char *why, size_t whylen);

#endif
