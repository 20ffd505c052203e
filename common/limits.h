/*
 * limits.h - every hard limit of strait in one place, each with its reason.
 *
 * User-facing limits that Kafka also has carry the Kafka config name; those
 * are defaults that configuration may lower or raise within the bounds here.
 */
#ifndef STRAIT_LIMITS_H
#define STRAIT_LIMITS_H

/* socket.request.max.bytes default: Kafka's own default (100 MiB). A frame
 * larger than the configured value is refused before anything is allocated. */
#define LIMIT_REQUEST_BYTES_DEFAULT (100 * 1024 * 1024)

/* Absolute ceiling for socket.request.max.bytes: frame sizes are int32 on the
 * wire and we never want a single allocation near 2 GiB. */
#define LIMIT_REQUEST_BYTES_CEILING (1024 * 1024 * 1024)
/* Largest request a SASL connection may send before it is authenticated:
 * ApiVersions and SASL tokens are small, and a client nobody knows yet must
 * not make the broker buffer socket.request.max.bytes (Redis-style pre-auth
 * cap). */
#define LIMIT_PREAUTH_REQUEST_BYTES (512 * 1024)

/* Bytes the decoder may allocate for one request's parsed structures (arrays
 * of topics, partitions, ...). Strings and record sets point into the frame and
 * cost nothing; this bounds the amplification of small array elements. */
#define LIMIT_DECODE_ARENA_BYTES (64 * 1024 * 1024)

/* Nesting depth of schema structs; Kafka messages nest at most 4 deep. */
#define LIMIT_SCHEMA_DEPTH 8

/* message.max.bytes default (Kafka: 1048588 = 1 MiB + batch overhead). */
#define LIMIT_MESSAGE_BYTES_DEFAULT 1048588

/* Decompressed size cap per record batch: a compression bomb must not exhaust
 * memory. 64 MiB covers the largest sane batch at any compression ratio. */
#define LIMIT_BATCH_DECOMPRESSED_BYTES (64 * 1024 * 1024)

/* Records in one batch: the count is int32 on the wire; each record is at
 * least 7 bytes, so no batch within the decompressed cap can hold more. */
#define LIMIT_BATCH_RECORDS ((LIMIT_BATCH_DECOMPRESSED_BYTES) / 7)

/* Records of a refused batch named in a Produce v8 response's record_errors
 * (KIP-467). Past it the batch still fails whole and the records not named
 * are reported by clients as failed because of another record; the bound
 * keeps the request arena (24 bytes each) and the response (about 60 bytes
 * each on the wire) small. */
#define LIMIT_PRODUCE_RECORD_ERRORS 100000

/* Topic name length: Kafka's own limit (249 characters). */
#define LIMIT_TOPIC_NAME_LENGTH 249

/* Partitions per topic: keeps per-topic arrays and file descriptors bounded. */
#define LIMIT_PARTITIONS_PER_TOPIC 10000

/* Requests a connection may have read but not answered; Kafka handles one at
 * a time per connection and so do we: the rest wait in the socket buffer. */
#define LIMIT_INFLIGHT_PER_CONNECTION 1

/* Response bytes buffered for a slow reader before we stop reading its
 * requests (back-pressure instead of unbounded memory). */
#define LIMIT_CONNECTION_OUTPUT_BYTES (256 * 1024 * 1024)

/* max.connections default: open Kafka connections per broker over all
 * listeners; beyond it a new one is accepted and closed at once. Kafka's
 * default is unlimited; every connection costs a file descriptor and up to
 * LIMIT_CONNECTION_OUTPUT_BYTES of buffers, so strait starts from a number
 * one node serves and an operator raises it deliberately. */
#define LIMIT_CONNECTIONS_DEFAULT 10000

/* Ceiling of max.connections, listener.name.<name>.max.connections and
 * max.connections.per.ip(.overrides): far above the descriptors one process
 * gets, so the configured value, not this, is what binds. */
#define LIMIT_CONNECTIONS_CEILING 1000000

/* Entries of max.connections.per.ip.overrides ("ip:count,ip:count"): each
 * is looked up once per accepted connection; an operator names a few
 * gateways or NAT addresses, not a whole network. */
#define LIMIT_CONNECTION_IP_OVERRIDES 256

/* Refused connections are logged at most once per this many ms per reason
 * (with the number refused since the last line): a connection flood must
 * not turn into a log flood. */
#define LIMIT_CONNECTION_REFUSAL_LOG_MS 1000

/* connections.max.idle.ms default: Kafka's (10 minutes). A connection that
 * neither sends a request nor reads a response for this long is closed; one
 * with a request in flight (a long poll, a delayed SASL failure) is not
 * idle. */
#define LIMIT_CONNECTION_IDLE_MS_DEFAULT 600000

/* Ceiling of fetch.wait.limit.ms and its default: a Fetch's max_wait_ms is
 * clamped to the configured value, so a client asking for INT32_MAX ms
 * (24 days) cannot park a request, its decoded state and its connection
 * for days. Kafka bounds it in effect by the client's request timeout
 * (30 s by default); 5 minutes is far above any consumer's
 * fetch.max.wait.ms (500 ms by default). */
#define LIMIT_FETCH_WAIT_MS_DEFAULT 300000
#define LIMIT_FETCH_WAIT_MS_CEILING 3600000

/* Decompressed bytes one Produce request may make the broker inflate, over
 * all its batches and partitions (each batch is also bounded by
 * LIMIT_BATCH_DECOMPRESSED_BYTES). Without it a 100 MiB request of small
 * zstd or gzip bombs inflates a hundred times the per-batch cap. Producers
 * send requests of about 1 MiB (max.request.size, message.max.bytes), so
 * only a ratio above 256:1 on a whole request reaches it; the partitions
 * past it get MESSAGE_TOO_LARGE (the Java producer splits and retries). */
#define LIMIT_PRODUCE_DECOMPRESSED_BYTES (256 * 1024 * 1024)

/* Named listeners of one broker (listeners): each is a bound socket and, for
 * SSL, a TLS context; Kafka deployments use two to four. */
#define LIMIT_LISTENERS 16

/* Bytes of a config value (topic or broker) we accept. */
#define LIMIT_CONFIG_VALUE_LENGTH 4096

/* Longest YAML config file accepted. */
#define LIMIT_CONFIG_FILE_BYTES (1024 * 1024)

/* Topics one node hosts: every topic costs file descriptors and memory;
 * 100,000 is far above what one node serves and keeps the registry's sorted
 * array cheap to shift. */
#define LIMIT_TOPICS 100000

/* Segments one partition may hold; each keeps three file descriptors open,
 * so a directory with more is refused rather than exhausting descriptors. */
#define LIMIT_SEGMENTS_PER_PARTITION 100000

/* fsync worker threads (broker/log/flusher.c): partitions fsync in parallel
 * up to this many at a time; more threads only queue in the device. */
#define LIMIT_FLUSHER_THREADS 4

/* File descriptors one flush job may sync: three per unsynced segment plus
 * the directory. A log with more unsynced segments is flushed inline. */
#define LIMIT_FLUSH_JOB_FDS 64

/* Leader-epoch entries kept per partition, one per leader change; when full
 * the oldest is dropped, so a flapping leader cannot grow the cache or file. */
#define LIMIT_LEADER_EPOCH_ENTRIES 10000

/* Idempotent producers whose state one partition keeps (ids seen within
 * producer.id.expiration.ms). Each costs at most about 370 bytes of memory (a
 * 184-byte entry in a table kept at most half full) and 180 bytes in the
 * partition's producer snapshot, so this caps them near 37 MB and 18 MB;
 * beyond it the least recently active producer is forgotten, as if it had
 * expired. */
#define LIMIT_PRODUCERS_PER_PARTITION 100000

/* Largest checkpoint file read back: 1 MiB holds ~25,000 two-column entries,
 * far more than any partition needs; a bigger file is corrupt. */
#define LIMIT_CHECKPOINT_FILE_BYTES (1024 * 1024)

/* Incremental fetch sessions cached (KIP-227): Kafka's
 * max.incremental.fetch.session.cache.slots default. */
#define LIMIT_FETCH_SESSIONS 1000

/* Partitions in one fetch session: lookups are linear scans, so this bounds
 * the work of one incremental request; bigger fetches stay sessionless. */
#define LIMIT_FETCH_SESSION_PARTITIONS 2000

/* Partitions over all fetch sessions: each holds a copy of its topic name
 * (<= 250 bytes), so this caps the session cache near 60 MB. */
#define LIMIT_FETCH_SESSION_CACHE_PARTITIONS 200000

/* Ceiling of one Fetch response: Kafka's fetch.max.bytes default (55 MiB). */
#define LIMIT_FETCH_RESPONSE_BYTES (55 * 1024 * 1024)

/* Largest batch ListOffsets reads back to find the exact record for a
 * timestamp; a bigger batch (only with a raised max.message.bytes) is
 * answered at batch granularity. */
#define LIMIT_LIST_OFFSETS_BATCH_READ_BYTES (16 * 1024 * 1024)

/* Deepest YAML mapping nesting accepted: configuration files are shallow, and
 * a fixed bound keeps the parser's stack fixed-size against hostile input. */
#define LIMIT_YAML_DEPTH 16

/* Memory of the log cleaner's key -> offset map for one cleaning (Kafka's
 * log.cleaner.dedupe.buffer.size is 128 MiB over all cleaner threads; we run
 * one). Keys are stored exactly; when the map is full the cleaning stops
 * there and the rest of the dirty section waits for the next round. */
#define LIMIT_CLEANER_OFFSET_MAP_BYTES (64 * 1024 * 1024)

/* Memory of the cleaner's producer id -> last batch map; past it every
 * emptied producer batch is kept (safe, only less compact). */
#define LIMIT_CLEANER_PRODUCER_MAP_BYTES (8 * 1024 * 1024)

/* Largest stored batch the cleaner reads into memory: no batch can be larger
 * than a request. */
#define LIMIT_CLEANER_BATCH_BYTES LIMIT_REQUEST_BYTES_CEILING

/* Largest /metrics page: per-partition gauges take about 300 bytes per
 * partition, so 64 MiB covers ~200,000 partitions; past it the scrape gets
 * HTTP 500 instead of the loop building an unbounded buffer. */
#define LIMIT_METRICS_RESPONSE_BYTES (64 * 1024 * 1024)

/* Request line plus headers of one HTTP request to the metrics listener:
 * scrapers send a few hundred bytes; anything larger is refused (400/413). */
#define LIMIT_METRICS_REQUEST_HEADER_BYTES 8192

/* Body of an HTTP request to the metrics listener: GET has none. */
#define LIMIT_METRICS_REQUEST_BODY_BYTES 1024

/* Seconds an idle or slow HTTP connection (broker /metrics, sidecar,
 * witness) may take per read or write. */
#define LIMIT_METRICS_HTTP_TIMEOUT_SECONDS 10

/* Seconds one HTTP request may take to arrive whole (request line, headers
 * and body), counted from the connection's accept or its previous request:
 * the per-read timeout above restarts at every byte, so without this a
 * client sending a header byte a second (slowloris) holds a connection for
 * ever. Checked at every byte that arrives; a silent connection meets the
 * per-read timeout first. */
#define LIMIT_HTTP_REQUEST_SECONDS 15

/* Concurrent connections one HTTP server (broker /metrics, sidecar,
 * witness) holds; past it a new one is accepted and closed at once. Its
 * clients are a scraper, the CLI, two or three peers: a few at a time. With
 * LIMIT_HTTP_REQUEST_SECONDS this bounds what slow clients can hold. */
#define LIMIT_HTTP_CONNECTIONS 128

/* Brokers of the active region listed in strait.redirect.brokers: every
 * redirected Metadata answer carries them all, and a client needs only one to
 * find the rest, so a larger region lists a subset. */
#define LIMIT_REGION_REDIRECT_BROKERS 64

/* Regexes in each of strait.redirect.topics, strait.redirect.topics.exclude
 * and strait.redirect.groups: every Metadata topic, Produce topic and group
 * request is matched against all of them. */
#define LIMIT_REGION_PATTERNS 64

/* Largest strait-region-state file read back: eight values of at most
 * LIMIT_CONFIG_VALUE_LENGTH bytes each plus their keys; bigger is corrupt. */
#define LIMIT_REGION_STATE_FILE_BYTES (64 * 1024)

/* A region name (strait.region.active): topology names are short slugs. */
#define LIMIT_REGION_NAME_LENGTH 63

/* Longest region lease (strait.region.lease.ms): an hour. A lease is meant
 * to be renewed every few hundred ms; one longer than this would leave a cut
 * off active region taking writes for longer than any failover waits. */
#define LIMIT_REGION_LEASE_MS_MAX 3600000

/* ACL bindings one broker holds: every authorization decision scans the
 * bindings of the resource type (security/acl.c), and the whole set is
 * rewritten on every change. Kafka deployments hold thousands. */
#define LIMIT_ACL_BINDINGS 100000

/* Largest ACL file read back (security/acl_file.c): LIMIT_ACL_BINDINGS of a
 * typical size fit; a bigger file is corrupt or not ours. */
#define LIMIT_ACL_FILE_BYTES (64 * 1024 * 1024)
/* Largest SCRAM users file (strait-scram-users): ~200 bytes a credential,
 * so about 80,000 credentials; read whole at start. */
#define LIMIT_SCRAM_FILE_BYTES (16 * 1024 * 1024)

/* Size of a POSIX regex from a file or the wire (region state, topology)
 * once its repetitions are expanded (common/regex_limit.h): glibc's regcomp
 * copies x{m,n} n times and x+ twice, nested ones multiply, and its time and
 * memory grow faster than that size ("a{1,4000}": 1.2 s and 128 MB;
 * "a{1,32767}", "(((a{1,30}){1,30}){1,30}){1,30}" or "a" and twenty '+':
 * 0.7 to over 2 GB, 13 to over 20 s). 1024 covers
 * any topic name (249 characters) with room and compiles in about 0.1 s. */
#define LIMIT_REGEX_EXPANDED_SIZE 1024

/* Groups nested in such a regex: regcomp parses them recursively. */
#define LIMIT_REGEX_GROUP_DEPTH 32

_Static_assert(LIMIT_REQUEST_BYTES_DEFAULT <= LIMIT_REQUEST_BYTES_CEILING,
               "default request size must be under the ceiling");
_Static_assert(LIMIT_MESSAGE_BYTES_DEFAULT < LIMIT_REQUEST_BYTES_DEFAULT,
               "a maximal message must fit in a request");
_Static_assert(LIMIT_PRODUCE_DECOMPRESSED_BYTES >= LIMIT_BATCH_DECOMPRESSED_BYTES,
               "one maximal batch must fit the per-request decompression budget");
_Static_assert(LIMIT_CONNECTIONS_DEFAULT <= LIMIT_CONNECTIONS_CEILING,
               "the default connection limit must be under the ceiling");
_Static_assert(LIMIT_FETCH_WAIT_MS_DEFAULT <= LIMIT_FETCH_WAIT_MS_CEILING,
               "the default fetch wait limit must be under the ceiling");
_Static_assert(LIMIT_HTTP_REQUEST_SECONDS > LIMIT_METRICS_HTTP_TIMEOUT_SECONDS,
               "the whole-request deadline is longer than one read's timeout");
_Static_assert(LIMIT_REGION_STATE_FILE_BYTES > 8 * (LIMIT_CONFIG_VALUE_LENGTH + 32),
               "every region state value must fit in its file");

#endif
