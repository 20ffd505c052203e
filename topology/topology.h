/*
 * topology.h - the deployment described by one YAML file (DESIGN.md §6):
 * regions, mirror flows between them, failover settings and checkpoint
 * settings. Loaded and fully validated before anything starts: every error
 * names the file, line and reason, and nothing is half-loaded.
 */
#ifndef STRAIT_TOPOLOGY_H
#define STRAIT_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOPOLOGY_NAME_MAX 64        /* region names: [a-z0-9-]{1,63} */
#define TOPOLOGY_ADDRESS_MAX 1024   /* bootstrap lists, host:port */
#define TOPOLOGY_PATTERN_MAX 16     /* regexes per include/exclude list */
#define TOPOLOGY_PATTERN_BYTES 512
#define TOPOLOGY_REGIONS_MAX 16
#define TOPOLOGY_FLOWS_MAX 64
#define TOPOLOGY_PATH_MAX 1024
/* The token file's name inside sidecar.state_dir when control_plane.token_file
 * is not given (generated at the first start of a sidecar or the witness). */
#define TOPOLOGY_TOKEN_FILE_DEFAULT "control-plane.token"
/* Certificate names of the control plane's identities (control_tls.h). */
#define TOPOLOGY_SIDECAR_IDENTITY_PREFIX "sidecar-"
#define TOPOLOGY_WITNESS_IDENTITY "witness"

enum topology_naming {
    TOPOLOGY_NAMING_IDENTITY = 0, /* "orders" stays "orders" (provenance header breaks cycles) */
    TOPOLOGY_NAMING_PREFIX = 1,   /* "orders" from east becomes "east.orders" */
};

enum topology_failover_mode {
    TOPOLOGY_FAILOVER_MANUAL = 0,
    TOPOLOGY_FAILOVER_AUTOMATIC = 1,
};

/* How the sidecar's and the CLI's clients reach a region's brokers
 * (regions.<name>.security.*, topology_client.c). Secrets are never here:
 * only where to read the password, when a client is created. */
typedef struct topology_client_security {
    char protocol[16];                    /* PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL */
    char ca[TOPOLOGY_PATH_MAX];           /* ssl.ca.location; "" = the system's CAs */
    char certificate[TOPOLOGY_PATH_MAX];  /* ssl.certificate.location (mTLS), with key */
    char key[TOPOLOGY_PATH_MAX];          /* ssl.key.location */
    char sasl_mechanism[32];              /* PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 */
    char username[256];
    char password_file[TOPOLOGY_PATH_MAX]; /* the password is this file's first line */
    char password_env[128];               /* or this environment variable */
    int line;                             /* first security.* line, for messages */
} topology_client_security;

typedef struct topology_region {
    char name[TOPOLOGY_NAME_MAX];
    char bootstrap[TOPOLOGY_ADDRESS_MAX]; /* "host:port,host:port" */
    char sidecar[TOPOLOGY_ADDRESS_MAX];   /* "host:port" of the sidecar's HTTP admin */
    topology_client_security security;    /* regions.<name>.security.*: its clients' TLS/SASL */
    char sidecar_certificate[TOPOLOGY_PATH_MAX]; /* its sidecar's HTTPS certificate (PEM
                                             chain) and key; required with control_plane.ca */
    char sidecar_key[TOPOLOGY_PATH_MAX];
    int sidecar_certificate_line;
    int line;                             /* where it is defined, for messages */
} topology_region;

typedef struct topology_flow {
    int source;                           /* index into regions */
    int target;
    int topic_count;                      /* include regexes, anchored (^...$) */
    char topics[TOPOLOGY_PATTERN_MAX][TOPOLOGY_PATTERN_BYTES];
    int exclude_count;                    /* topics_exclude; default ["__.*", "strait\\..*"] */
    char topics_exclude[TOPOLOGY_PATTERN_MAX][TOPOLOGY_PATTERN_BYTES];
    int group_count;                      /* groups whose offsets are checkpointed; default [".*"] */
    char groups[TOPOLOGY_PATTERN_MAX][TOPOLOGY_PATTERN_BYTES];
    enum topology_naming naming;
    char prefix_separator[8];             /* default "." */
    int64_t refresh_interval_ms;          /* topic discovery/sync, default 10 s */
    char compression[16];                 /* target producer codec, default "lz4" */
    int64_t batch_bytes;                  /* target producer batch.size, default 1 MiB */
    int64_t linger_ms;                    /* target producer linger.ms, default 5 */
    bool sync_acls;                       /* copy the source's topic and group ACLs
                                             (mirror/acl_sync.c), default true */
    int line;
} topology_flow;

typedef struct topology {
    char path[1024];                      /* the file it came from */
    int region_count;
    topology_region regions[TOPOLOGY_REGIONS_MAX];
    int flow_count;
    topology_flow flows[TOPOLOGY_FLOWS_MAX];
    bool failover_configured;             /* a `failover:` section exists: regions get roles
                                             (active/standby) and the sidecars manage them;
                                             without it every region accepts writes */
    enum topology_failover_mode failover_mode;
    int failover_active;                  /* index of failover.active */
    int64_t failover_detect_after_ms;     /* default 10 s */
    int64_t failover_broker_lease_ms;     /* failover.broker_lease; -1 = not given (the
                                             default: detect_after/2 - 1 s in automatic
                                             mode, none in manual mode); 0 = none */
    char failover_witness[TOPOLOGY_ADDRESS_MAX]; /* optional "host:port" */
    char hook_on_promote[1024];           /* optional command, {region} substituted */
    char hook_on_demote[1024];
    int64_t checkpoint_interval_ms;       /* checkpoints.interval, default 1 s */
    char state_dir[1024];                 /* sidecar.state_dir: SQLite files; default ./strait-state */
    /* control_plane: who may use the sidecars' and the witness's HTTP routes
     * (topology_control.c, docs/security.md) */
    bool control_insecure;                /* control_plane.insecure: no authentication */
    bool control_open_reads;              /* control_plane.open_reads (default true): GET
                                             /status, /metrics, /healthz need no credentials */
    char control_token_file[TOPOLOGY_PATH_MAX]; /* control_plane.token_file; "" = the
                                             generated <state_dir>/control-plane.token */
    char control_ca[TOPOLOGY_PATH_MAX];   /* control_plane.ca: HTTPS + mTLS; "" = HTTP */
    char witness_certificate[TOPOLOGY_PATH_MAX]; /* control_plane.witness_certificate */
    char witness_key[TOPOLOGY_PATH_MAX];  /* control_plane.witness_key */
    int control_line;                     /* first control_plane line, for messages */
} topology;

/*
 * Loads and validates path. On error returns ST_ECONFIG with err like
 *   "topology.yaml:12: flows[1].target: 'wset' is not a region (regions: east, west)"
 * Refused: unknown keys, bad regexes (POSIX extended), a flow whose source or
 * target is not a region or equals its source, duplicate flows, durations
 * that do not parse ("10s", "500ms", "1m"), a cycle the naming policy cannot
 * break (prefix naming whose prefixed names would match the reverse flow's
 * include patterns back into the origin), failover.active not a region.
 */
int topology_load(const char *path, topology *out, char *err, size_t errlen);
/* (A topology is about 1.6 MB with its fixed pattern arrays: allocate it,
 * do not put it on a thread's stack.) */

/* "500ms", "10s", "1m", "1h" (a whole number and a unit) between min_ms and
 * 7 days into *out; ST_ECONFIG with msg naming the value otherwise. */
int topology_parse_duration(const char *value, int64_t min_ms, int64_t *out, char *msg,
                            size_t msglen);

/* The token file: control_plane.token_file, or the default in state_dir.
 * *generated says whether it is the default one (which a sidecar or the
 * witness create when it is missing). Returns out. */
const char *topology_control_token_path(const topology *t, char *out, size_t outlen,
                                        bool *generated);

/* The certificate name of region's sidecar ("sidecar-east"). Returns out. */
const char *topology_sidecar_identity(const topology *t, int region, char *out, size_t outlen);

/* Index of the region called name, or -1. */
int topology_region_index(const topology *t, const char *name);

/* True if topic matches one of flow's include patterns and none of its
 * excludes (anchored, as the YAML reference says). */
bool topology_flow_matches_topic(const topology_flow *flow, const char *topic);
bool topology_flow_matches_group(const topology_flow *flow, const char *group);

/* Target topic name for a source topic under the flow's naming policy. */
int topology_target_topic(const topology *t, const topology_flow *flow, const char *source_topic,
                          char *out, size_t outlen);

/* "<source>-><target>" (e.g. "east->west"): the flow's name in the
 * checkpoint store, logs and /status. Returns out. */
const char *topology_flow_name(const topology *t, const topology_flow *flow, char *out,
                               size_t outlen);

#endif
