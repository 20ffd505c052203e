/*
 * error.h - strait's error values, generated from one X-macro table.
 *
 * Functions return 0 (ST_OK) on success or a negative ST_E* value. Kafka error
 * codes exist only at the protocol edge (broker/proto/kafka_error.h).
 */
#ifndef STRAIT_ERROR_H
#define STRAIT_ERROR_H

#define ST_ERROR_MAP(X)                                                     \
    X(ST_ECORRUPT, 1, "corrupt data")                                       \
    X(ST_ETRUNCATED, 2, "input ended early")                                \
    X(ST_ENOMEM, 3, "out of memory")                                        \
    X(ST_ETOOBIG, 4, "value exceeds its limit")                             \
    X(ST_EIO, 5, "input/output error")                                      \
    X(ST_EINVAL, 6, "invalid argument")                                     \
    X(ST_ENOTFOUND, 7, "not found")                                         \
    X(ST_EEXISTS, 8, "already exists")                                      \
    X(ST_EUNSUPPORTED, 9, "unsupported")                                    \
    X(ST_ERANGE, 10, "offset out of range")                                 \
    X(ST_ECRC, 11, "checksum mismatch")                                     \
    X(ST_ECODEC, 12, "compression codec error")                             \
    X(ST_ECONFIG, 13, "invalid configuration")

enum strait_error {
    ST_OK = 0,
#define ST_ERROR_ENUM(name, value, message) name = -(value),
    ST_ERROR_MAP(ST_ERROR_ENUM)
#undef ST_ERROR_ENUM
};

/* Human-readable message for an error value; never NULL. */
const char *strait_strerror(int err);

/* Symbolic name ("ST_ECORRUPT") for an error value; never NULL. */
const char *strait_error_name(int err);

#endif
