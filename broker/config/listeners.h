/*
 * listeners.h - the broker's named listeners, as Kafka configures them:
 *
 *   listeners:                       NAME://host:port,...  (host:port alone = PLAINTEXT)
 *   advertised.listeners:            NAME://host:port,...  per listener; a listener
 *                                    not named here advertises its own address
 *   listener.security.protocol.map:  NAME:PROTOCOL,...     (default: each protocol
 *                                    name maps to itself)
 *   inter.broker.listener.name:      NAME                  (default: the first listener)
 *   listener.name.<name>.<key>:      per-listener value of an ssl.* key, of
 *                                    sasl.enabled.mechanisms or of max.connections
 *
 * Names are case-insensitive and kept in upper case. Protocols are PLAINTEXT,
 * SSL, SASL_PLAINTEXT and SASL_SSL (SASL: PLAIN and SCRAM-SHA-256/512).
 * The checks here are the syntax of one key (broker_config's table calls
 * them) and the relations between keys (listeners_resolve, called once the
 * whole configuration is read); every message names the key and the listener.
 */
#ifndef STRAIT_BROKER_CONFIG_LISTENERS_H
#define STRAIT_BROKER_CONFIG_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"

struct broker_config;

#define LISTENER_NAME_MAX 64
#define LISTENER_HOST_MAX 256
#define LISTENER_PATH_MAX 1024

typedef enum listener_protocol {
    LISTENER_PLAINTEXT,
    LISTENER_SSL,
    LISTENER_SASL_PLAINTEXT,
    LISTENER_SASL_SSL,
} listener_protocol;

typedef struct listener_endpoint {
    char name[LISTENER_NAME_MAX];
    listener_protocol protocol;
    char host[LISTENER_HOST_MAX];            /* bind address; "0.0.0.0" for all interfaces */
    int port;                                /* 0 = a free port */
    char advertised_host[LISTENER_HOST_MAX]; /* wildcards replaced by this machine's name */
    int advertised_port;                     /* 0 = the port bound (known after binding) */
} listener_endpoint;

typedef struct listener_set {
    listener_endpoint items[LIMIT_LISTENERS];
    int count;
    int inter_broker; /* index of inter.broker.listener.name */
} listener_set;

/* The TLS settings of one listener: the global ssl.* keys with its
 * listener.name.<name>.ssl.* overrides on top. */
typedef struct listener_tls_settings {
    char keystore_location[LISTENER_PATH_MAX];   /* PEM: certificate chain then private key */
    char truststore_location[LISTENER_PATH_MAX]; /* PEM CA certificates; "" = none */
    char client_auth[16];                        /* none | requested | required */
    char enabled_protocols[64];                  /* "TLSv1.2,TLSv1.3" */
    char cipher_suites[1024];                    /* "" = OpenSSL's defaults for TLS 1.2+ */
    char principal_mapping_rules[1024];          /* ssl.principal.mapping.rules */
} listener_tls_settings;

const char *listener_protocol_name(listener_protocol protocol);

/* Syntax of listeners / advertised.listeners; normal gets "NAME://host:port,...". */
int listeners_check_list(const char *value, bool advertised, char *normal, size_t normallen,
                         char *msg, size_t msglen);
/* Syntax of listener.security.protocol.map; normal gets "NAME:PROTOCOL,...". */
int listeners_check_protocol_map(const char *value, char *normal, size_t normallen, char *msg,
                                 size_t msglen);
/* Syntax of inter.broker.listener.name (a name or ""); normal is upper case. */
int listeners_check_name(const char *value, char *normal, size_t normallen, char *msg,
                         size_t msglen);
/* ssl.enabled.protocols: TLSv1.2 and/or TLSv1.3 (older ones are refused). */
int listeners_check_tls_protocols(const char *value, char *normal, size_t normallen, char *msg,
                                  size_t msglen);
/* ssl.principal.mapping.rules (security/principal_rules.h). */
int listeners_check_mapping_rules(const char *value, char *normal, size_t normallen, char *msg,
                                  size_t msglen);
/* sasl.enabled.mechanisms: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI. */
int listeners_check_sasl_mechanisms(const char *value, char *normal, size_t normallen, char *msg,
                                    size_t msglen);

/* Why a Kafka TLS key strait does not take is refused (inline PEM, key
 * passwords, JKS), or NULL for any other key. */
const char *listeners_unsupported_key(const char *key);

/*
 * Sets listener.name.<rest> = value in overrides (lines "NAME key=value\n",
 * capacity overrides_size): rest is "<name>.<key>" with key one of the
 * per-listener keys; the value is checked as the global key's. A key set
 * again replaces its value. 0 or ST_ECONFIG with msg (no key prefix).
 */
int listeners_override_set(char *overrides, size_t overrides_size, const char *rest,
                           const char *value, char *msg, size_t msglen);

/*
 * Reads the listener keys of c into out and checks their relations: names
 * unique, ports unique, every name in the protocol map, no GSSAPI on a SASL listener,
 * every advertised listener and listener.name.<name> names a listener,
 * inter.broker.listener.name names one, an SSL or SASL_SSL listener has a
 * keystore.
 * 0 or ST_ECONFIG with msg naming the key and the listener.
 */
int listeners_resolve(const struct broker_config *c, listener_set *out, char *msg, size_t msglen);

/* sasl.enabled.mechanisms of listener name (upper case), override first. */
void listeners_sasl_mechanisms(const struct broker_config *c, const char *name, char *out,
                               size_t outlen);

/* listener.name.<name>.max.connections of listener name (upper case), -1
 * when not set (only max.connections applies). */
int32_t listeners_max_connections(const struct broker_config *c, const char *name);

/* The TLS settings of listener name (upper case). */
void listeners_tls_settings(const struct broker_config *c, const char *name,
                            listener_tls_settings *out);

#endif
