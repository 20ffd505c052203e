/*
 * strait_load.c - load generator for any Kafka-compatible broker, on librdkafka.
 *
 *   strait-load produce --brokers 127.0.0.1:9092 --topic bench --record-bytes 1024 \
 *                       --partitions 1 --acks 1 --codec none --duration-s 30
 *   strait-load consume --brokers 127.0.0.1:9092 --topic bench
 *
 * produce: sends fixed-size records as fast as librdkafka accepts them (or
 *   at --rate records/s) for --duration-s seconds (or --records records),
 *   then flushes. Flat out, latency is mostly queueing in the client (32 MiB
 *   queue, like Java's buffer.memory); use --rate for latency. Latency of a
 *   record = delivery report time - produce() call time (queueing inside
 *   librdkafka included, as kafka-producer-perf-test measures it), kept in a
 *   log-linear histogram (about 1.6% resolution, bounded memory).
 * consume: assigns every partition from the beginning (no group) and reads to
 *   the end of every partition (or --records, or --duration-s).
 *
 * Both print a human summary and one machine-readable line starting with
 * "RESULT " (key=value pairs) for tests/bench/run-bench.sh. MB = 10^6 bytes,
 * payload bytes only (keys are not sent).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ options */

typedef struct load_options {
    const char *mode;        /* "produce" or "consume" */
    const char *brokers;
    const char *topic;
    long record_bytes;
    int partitions;          /* produce: created with this many if missing; records spread */
    const char *acks;
    const char *codec;
    double duration_s;
    long long records;       /* 0 = no limit */
    int linger_ms;
    double rate;             /* produce: records/s, 0 = as fast as possible */
    const char *extra[32];   /* -X key=value passed to librdkafka */
    int extra_count;
} load_options;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: strait-load produce|consume --brokers HOST:PORT --topic NAME [options]\n"
            "  --record-bytes N   value size of each record (produce; default 1024)\n"
            "  --partitions N     partitions to create the topic with / spread over (default 1)\n"
            "  --acks 0|1|all     producer acks (default 1)\n"
            "  --codec C          none|gzip|snappy|lz4|zstd (default none)\n"
            "  --duration-s S     stop after S seconds (default 30)\n"
            "  --records N        stop after N records (default: no limit)\n"
            "  --linger-ms N      producer linger.ms (default 5)\n"
            "  --rate N           produce at most N records/s (default 0: flat out)\n"
            "  -X key=value       any librdkafka property (repeatable)\n");
}

static int parse_options(int argc, char **argv, load_options *o) {
    static const struct option longs[] = {
        {"brokers", required_argument, 0, 'b'},   {"topic", required_argument, 0, 't'},
        {"record-bytes", required_argument, 0, 's'}, {"partitions", required_argument, 0, 'p'},
        {"acks", required_argument, 0, 'a'},      {"codec", required_argument, 0, 'c'},
        {"duration-s", required_argument, 0, 'd'}, {"records", required_argument, 0, 'n'},
        {"linger-ms", required_argument, 0, 'l'}, {"rate", required_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    *o = (load_options){.brokers = "127.0.0.1:9092", .topic = "strait-load",
                        .record_bytes = 1024, .partitions = 1, .acks = "1", .codec = "none",
                        .duration_s = 30, .records = 0, .linger_ms = 5};
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        exit(0);
    }
    if (argc < 2 || argv[1][0] == '-') {
        usage(stderr);
        return -1;
    }
    o->mode = argv[1];
    if (strcmp(o->mode, "produce") != 0 && strcmp(o->mode, "consume") != 0) {
        fprintf(stderr, "strait-load: unknown mode '%s'\n", o->mode);
        usage(stderr);
        return -1;
    }
    optind = 2;
    int opt;
    while ((opt = getopt_long(argc, argv, "X:h", longs, NULL)) != -1) {
        char *end = NULL;
        errno = 0;
        switch (opt) {
        case 'b': o->brokers = optarg; break;
        case 't': o->topic = optarg; break;
        case 's': o->record_bytes = strtol(optarg, &end, 10); break;
        case 'p': o->partitions = (int)strtol(optarg, &end, 10); break;
        case 'a': o->acks = optarg; break;
        case 'c': o->codec = optarg; break;
        case 'd': o->duration_s = strtod(optarg, &end); break;
        case 'n': o->records = strtoll(optarg, &end, 10); break;
        case 'l': o->linger_ms = (int)strtol(optarg, &end, 10); break;
        case 'r': o->rate = strtod(optarg, &end); break;
        case 'X':
            if (o->extra_count == (int)(sizeof o->extra / sizeof o->extra[0]) ||
                !strchr(optarg, '=')) {
                fprintf(stderr, "strait-load: bad or too many -X '%s'\n", optarg);
                return -1;
            }
            o->extra[o->extra_count++] = optarg;
            break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
        if (end && (*end != '\0' || errno != 0)) {
            fprintf(stderr, "strait-load: bad number '%s'\n", optarg);
            return -1;
        }
    }
    if (o->record_bytes < 0 || o->record_bytes > 100 * 1024 * 1024 || o->partitions < 1 ||
        o->duration_s <= 0 || o->records < 0 || o->rate < 0) {
        fprintf(stderr, "strait-load: option out of range\n");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- histogram */

/* Log-linear histogram of microseconds: 64 sub-buckets per power of two. */
#define HIST_SUB_BITS 6
#define HIST_SUB (1 << HIST_SUB_BITS)
#define HIST_BUCKETS (40 * HIST_SUB)

typedef struct histogram {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    int64_t max_us;
} histogram;

static int hist_index(int64_t us) {
    if (us < HIST_SUB)
        return (int)(us < 0 ? 0 : us);
    int msb = 63 - __builtin_clzll((unsigned long long)us);
    int shift = msb - HIST_SUB_BITS;
    int index = (shift + 1) * HIST_SUB + (int)((us >> shift) - HIST_SUB);
    return index < HIST_BUCKETS ? index : HIST_BUCKETS - 1;
}

/* Upper bound in microseconds of the values counted in bucket i. */
static int64_t hist_value(int i) {
    if (i < HIST_SUB)
        return i;
    int shift = i / HIST_SUB - 1;
    int64_t sub = i % HIST_SUB + HIST_SUB;
    return ((sub + 1) << shift) - 1;
}

static void hist_add(histogram *h, int64_t us) {
    h->counts[hist_index(us)]++;
    h->total++;
    if (us > h->max_us)
        h->max_us = us;
}

static double hist_quantile_ms(const histogram *h, double q) {
    if (h->total == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->total);
    if (rank >= h->total)
        rank = h->total - 1;
    uint64_t seen = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen > rank) {
            int64_t v = hist_value(i);
            return (double)(v < h->max_us ? v : h->max_us) / 1000.0;
        }
    }
    return (double)h->max_us / 1000.0;
}

/* ------------------------------------------------------------------ common */

static rd_kafka_conf_t *base_conf(const load_options *o) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", o->brokers, err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "strait-load: %s\n", err);
        exit(2);
    }
    return conf;
}

static void conf_set_or_die(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char err[512];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "strait-load: %s=%s: %s\n", key, value, err);
        exit(2);
    }
}

static void apply_extra(rd_kafka_conf_t *conf, const load_options *o) {
    for (int i = 0; i < o->extra_count; i++) {
        char key[256];
        const char *eq = strchr(o->extra[i], '=');
        size_t n = (size_t)(eq - o->extra[i]);
        if (n >= sizeof key) {
            fprintf(stderr, "strait-load: -X key too long\n");
            exit(2);
        }
        memcpy(key, o->extra[i], n);
        key[n] = '\0';
        conf_set_or_die(conf, key, eq + 1);
    }
}

/* Creates the topic with o->partitions partitions; an existing topic is fine. */
static void ensure_topic(rd_kafka_t *rk, const load_options *o) {
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(o->topic, o->partitions, 1, err, sizeof err);
    if (!nt) {
        fprintf(stderr, "strait-load: %s\n", err);
        exit(2);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    const rd_kafka_CreateTopics_result_t *res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
    if (!res) {
        fprintf(stderr, "strait-load: CreateTopics: %s\n",
                ev ? rd_kafka_event_error_string(ev) : "timed out");
        exit(2);
    }
    size_t n = 0;
    const rd_kafka_topic_result_t **topics = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(topics[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            fprintf(stderr, "strait-load: CreateTopics %s: %s\n", o->topic, rd_kafka_err2str(e));
            exit(2);
        }
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
}

/* Waits (up to 15 s) until metadata shows the topic with a leader for every
 * partition, so the timed run does not include the client's first metadata
 * round trips after the topic was created (records queued meanwhile would all
 * show that second as latency). The metadata response also fills the
 * client's cache. */
static void wait_topic_ready(rd_kafka_t *rk, const load_options *o) {
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, o->topic, NULL);
    double deadline = now_s() + 15;
    while (now_s() < deadline) {
        const struct rd_kafka_metadata *md = NULL;
        bool ready = false;
        if (rd_kafka_metadata(rk, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                md->topics[0].partition_cnt >= o->partitions) {
                ready = true;
                for (int i = 0; i < md->topics[0].partition_cnt; i++)
                    if (md->topics[0].partitions[i].leader < 0)
                        ready = false;
            }
            rd_kafka_metadata_destroy(md);
        }
        if (ready)
            break;
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    rd_kafka_topic_destroy(t);
}

/* ----------------------------------------------------------------- produce */

typedef struct produce_state {
    histogram latency;
    uint64_t delivered;
    uint64_t failed;
    rd_kafka_resp_err_t first_error;
    int64_t last_delivery_ns;
} produce_state;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    produce_state *st = opaque;
    int64_t now = now_ns();
    if (m->err) {
        if (!st->failed)
            st->first_error = m->err;
        st->failed++;
        return;
    }
    st->delivered++;
    st->last_delivery_ns = now;
    hist_add(&st->latency, (now - (int64_t)(intptr_t)m->_private) / 1000);
}

static int run_produce(const load_options *o) {
    char err[512];
    static produce_state st;
    rd_kafka_conf_t *conf = base_conf(o);
    char linger[32];
    snprintf(linger, sizeof linger, "%d", o->linger_ms);
    conf_set_or_die(conf, "acks", o->acks);
    conf_set_or_die(conf, "compression.codec", o->codec);
    conf_set_or_die(conf, "linger.ms", linger);
    /* 32 MiB of queued records, like the Java producer's buffer.memory default:
     * bounds how much of a flat-out run's latency is queueing in the client. */
    conf_set_or_die(conf, "queue.buffering.max.kbytes", "32768");
    conf_set_or_die(conf, "queue.buffering.max.messages", "1000000");
    apply_extra(conf, o);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "strait-load: %s\n", err);
        return 2;
    }
    ensure_topic(rk, o);
    wait_topic_ready(rk, o);

    char *payload = malloc((size_t)o->record_bytes + 1);
    if (!payload)
        return 2;
    for (long i = 0; i < o->record_bytes; i++)
        payload[i] = (char)('a' + (i * 7 + i / 13) % 26); /* compressible but not trivially */

    double started = now_s();
    double deadline = started + o->duration_s;
    uint64_t sent = 0;
    int partition = 0;
    while (!stop_requested && (o->records == 0 || sent < (uint64_t)o->records)) {
        if ((sent & 1023) == 0 && now_s() >= deadline)
            break;
        if (o->rate > 0) {
            double due = started + (double)sent / o->rate;
            double now = now_s();
            if (now >= deadline)
                break;
            if (now < due) {
                rd_kafka_poll(rk, 0);
                struct timespec pause = {0, (long)((due - now) > 0.001 ? 1000000 : (due - now) * 1e9)};
                nanosleep(&pause, NULL);
                continue;
            }
        }
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(o->topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_VALUE(payload, (size_t)o->record_bytes),
            RD_KAFKA_V_OPAQUE((void *)(intptr_t)now_ns()), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 1);
            continue;
        }
        if (e) {
            fprintf(stderr, "strait-load: produce: %s\n", rd_kafka_err2str(e));
            break;
        }
        sent++;
        partition = (partition + 1) % o->partitions;
        if ((sent & 255) == 0)
            rd_kafka_poll(rk, 0);
    }
    double produce_end = now_s();
    rd_kafka_flush(rk, 120000);
    double finished = st.last_delivery_ns ? (double)st.last_delivery_ns / 1e9 : now_s();
    if (finished < produce_end)
        finished = produce_end;
    double elapsed = finished - started;
    double rate = (double)st.delivered / elapsed;
    double mbps = rate * (double)o->record_bytes / 1e6;

    printf("produce %s: %" PRIu64 " records of %ld bytes in %.2f s (acks=%s codec=%s "
           "partitions=%d rate=%s)\n", o->topic, st.delivered, o->record_bytes, elapsed, o->acks,
           o->codec, o->partitions, o->rate > 0 ? "limited" : "unlimited");
    printf("  %.0f records/s  %.1f MB/s\n", rate, mbps);
    printf("  latency ms: p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
           hist_quantile_ms(&st.latency, 0.50), hist_quantile_ms(&st.latency, 0.99),
           hist_quantile_ms(&st.latency, 0.999), (double)st.latency.max_us / 1000.0);
    if (st.failed)
        printf("  %" PRIu64 " records FAILED (first error: %s)\n", st.failed,
               rd_kafka_err2str(st.first_error));
    printf("RESULT mode=produce records=%" PRIu64 " failed=%" PRIu64 " seconds=%.3f "
           "records_per_s=%.0f mb_per_s=%.2f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f\n",
           st.delivered, st.failed, elapsed, rate, mbps, hist_quantile_ms(&st.latency, 0.50),
           hist_quantile_ms(&st.latency, 0.99), hist_quantile_ms(&st.latency, 0.999),
           (double)st.latency.max_us / 1000.0);
    rd_kafka_destroy(rk);
    free(payload);
    return st.failed || st.delivered == 0 ? 1 : 0;
}

/* ----------------------------------------------------------------- consume */

static int partition_count(rd_kafka_t *rk, const char *topic) {
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int count = -1;
    if (rd_kafka_metadata(rk, 0, t, &md, 15000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
            count = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(t);
    return count;
}

static int run_consume(const load_options *o) {
    char err[512];
    rd_kafka_conf_t *conf = base_conf(o);
    conf_set_or_die(conf, "group.id", "strait-load-unused");
    conf_set_or_die(conf, "enable.auto.commit", "false");
    conf_set_or_die(conf, "enable.partition.eof", "true");
    conf_set_or_die(conf, "auto.offset.reset", "earliest");
    conf_set_or_die(conf, "fetch.max.bytes", "52428800");
    conf_set_or_die(conf, "max.partition.fetch.bytes", "10485760");
    conf_set_or_die(conf, "queued.max.messages.kbytes", "262144");
    apply_extra(conf, o);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "strait-load: %s\n", err);
        return 2;
    }
    int partitions = partition_count(rk, o->topic);
    if (partitions < 1) {
        fprintf(stderr, "strait-load: topic %s not found\n", o->topic);
        rd_kafka_destroy(rk);
        return 2;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(list, o->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);

    uint64_t records = 0, bytes = 0;
    int at_eof = 0;
    char *eof_seen = calloc((size_t)partitions, 1);
    double started = now_s(), first = 0, last = 0;
    double deadline = started + o->duration_s;
    int status = 0;
    while (!stop_requested && at_eof < partitions && now_s() < deadline &&
           (o->records == 0 || records < (uint64_t)o->records)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < partitions && !eof_seen[m->partition]) {
                eof_seen[m->partition] = 1;
                at_eof++;
            }
        } else if (m->err) {
            fprintf(stderr, "strait-load: consume: %s\n", rd_kafka_message_errstr(m));
            status = 1;
        } else {
            if (!first)
                first = now_s();
            last = now_s();
            records++;
            bytes += m->len;
            if (m->partition >= 0 && m->partition < partitions && eof_seen[m->partition]) {
                eof_seen[m->partition] = 0;
                at_eof--;
            }
        }
        rd_kafka_message_destroy(m);
    }
    double elapsed = records > 1 ? last - first : 0;
    double rate = elapsed > 0 ? (double)records / elapsed : 0;
    double mbps = elapsed > 0 ? (double)bytes / elapsed / 1e6 : 0;
    printf("consume %s: %" PRIu64 " records, %" PRIu64 " bytes in %.2f s (first to last record; "
           "%d partitions)\n", o->topic, records, bytes, elapsed, partitions);
    printf("  %.0f records/s  %.1f MB/s\n", rate, mbps);
    printf("RESULT mode=consume records=%" PRIu64 " bytes=%" PRIu64 " seconds=%.3f "
           "records_per_s=%.0f mb_per_s=%.2f\n", records, bytes, elapsed, rate, mbps);
    free(eof_seen);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return status || records == 0 ? 1 : 0;
}

int main(int argc, char **argv) {
    load_options o;
    if (parse_options(argc, argv, &o) != 0)
        return 2;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    return strcmp(o.mode, "produce") == 0 ? run_produce(&o) : run_consume(&o);
}
