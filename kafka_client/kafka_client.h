/*
 * kafka_client.h - a small Kafka client for strait's operator verbs that
 * need APIs librdkafka 2.0 does not offer (DescribeUserScramCredentials and
 * AlterUserScramCredentials arrived in librdkafka 2.2). One connection to
 * one broker of the bootstrap list, one request at a time:
 *
 *   connect (TCP, TLS when the protocol says so: transport.h)
 *   -> ApiVersions v0: which versions to use
 *   -> SaslHandshake v1 + SaslAuthenticate (PLAIN, SCRAM-SHA-256/512) on
 *      SASL_PLAINTEXT / SASL_SSL
 *   -> kafka_client_call for each request.
 *
 * Requests are encoded and responses decoded with the broker's own field
 * tables (broker/proto/codec.h and the API descriptors of
 * broker/proto/api.h), so the client and the broker share one description
 * of every message. Frames on the wire:
 *
 *   request   OFFSET SIZE FIELD
 *                  0    4 size (of what follows)
 *                  4    2 request_api_key
 *                  6    2 request_api_version
 *                  8    4 correlation_id
 *                 12  2+n client_id (int16 length)
 *                ...    - tagged fields (header v2: flexible versions only)
 *                ...    - body (the API's request table)
 *   response  OFFSET SIZE FIELD
 *                  0    4 size, 8..KAFKA_CLIENT_RESPONSE_BYTES_MAX
 *                  4    4 correlation_id (must be the request's)
 *                  8    - tagged fields (header v1: flexible versions, but
 *                         never for ApiVersions)
 *                ...    - body (the API's response table, read to its end)
 */
#ifndef STRAIT_KAFKA_CLIENT_H
#define STRAIT_KAFKA_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/proto/codec.h"

/* The largest response read, bytes: a description of every user of a big
 * deployment is far below it; a broker cannot make the CLI allocate more. */
#define KAFKA_CLIENT_RESPONSE_BYTES_MAX (16 * 1024 * 1024)
/* Ceiling of one response's decoded arrays (and of the frame, which is
 * allocated from the same arena so strings pointing into it live as long). */
#define KAFKA_CLIENT_ARENA_BYTES (2 * KAFKA_CLIENT_RESPONSE_BYTES_MAX)
/* Connect, and each read or write, may take this long. */
#define KAFKA_CLIENT_TIMEOUT_MS_DEFAULT 15000

typedef struct kafka_client kafka_client;

typedef struct kafka_client_settings {
    const char *bootstrap;        /* HOST:PORT[,HOST:PORT...]; [v6addr]:PORT */
    const char *client_id;        /* sent in every request header */
    bool tls;                     /* SSL or SASL_SSL */
    const char *ca_location;      /* PEM; NULL/"" = the system's CAs */
    const char *certificate_location; /* PEM client certificate; NULL/"" = none */
    const char *key_location;
    const char *sasl_mechanism;   /* NULL/"" = no SASL; PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 */
    const char *sasl_username;
    const char *sasl_password;
    int timeout_ms;               /* 0 = KAFKA_CLIENT_TIMEOUT_MS_DEFAULT */
} kafka_client_settings;

/* What went wrong, so the CLI can tell a broker's answer from its own
 * problem. */
enum kafka_client_failure {
    KAFKA_CLIENT_OK = 0,
    KAFKA_CLIENT_CONFIG,         /* a setting is unusable (nothing was sent) */
    KAFKA_CLIENT_UNREACHABLE,    /* no broker of the list could be reached, or TLS failed */
    KAFKA_CLIENT_AUTHENTICATION, /* SASL refused: wrong password, unknown user, mechanism */
    KAFKA_CLIENT_PROTOCOL,       /* a malformed or unexpected answer; the connection is dropped */
    KAFKA_CLIENT_UNSUPPORTED,    /* the broker does not offer the API at a version we speak */
};

/* Connects to the first broker of the list that answers, and authenticates.
 * 0, or a failure with err saying which broker and why (for an
 * authentication failure: the broker's error name and message). */
enum kafka_client_failure kafka_client_open(const kafka_client_settings *settings,
                                            kafka_client **out, char *err, size_t errlen);
void kafka_client_close(kafka_client *c);

/* Sends request (a struct of the API's request table) to the connected
 * broker at the highest version both speak, and decodes the answer into
 * response (a zeroed struct of the response table) with arrays, strings and
 * the frame in arena, so they live until the arena is freed. *version (may
 * be NULL) gets the version used. */
enum kafka_client_failure kafka_client_call(kafka_client *c, int16_t api_key, const void *request,
                                            void *response, proto_arena *arena, int16_t *version,
                                            char *err, size_t errlen);

/* Encodes one request frame (size prefix, header, body) into out (memory
 * only): what kafka_client_call sends. 0, ST_EUNSUPPORTED (no such API or
 * version in strait's tables) or the buffer's error. */
int kafka_client_encode_request(proto_out *out, int16_t api_key, int16_t version,
                                int32_t correlation_id, const char *client_id,
                                const void *request);

/* Decodes one response frame (without its size prefix: frame[0..len) starts
 * with the correlation id) of api_key at version into response. 0, or
 * ST_ECORRUPT / ST_ETRUNCATED / ST_ENOMEM with err naming the field and
 * offset; a correlation id other than correlation_id is ST_ECORRUPT. */
int kafka_client_decode_response(int16_t api_key, int16_t version, int32_t correlation_id,
                                 const uint8_t *frame, size_t len, void *response,
                                 proto_arena *arena, char *err, size_t errlen);

/* "HOST:PORT" -> host and port (brackets of an IPv6 address removed). 0 or
 * ST_EINVAL. */
int kafka_client_split_address(const char *address, size_t len, char *host, size_t hostlen,
                               char *port, size_t portlen);

#endif
