/* test_metrics.c - the Prometheus text format (common/metrics_text.h):
 * family headers, samples, label and HELP escaping, value spelling, the
 * buffer ceiling; and the broker's counters rendered (broker/metrics.h)
 * without a broker, plus the metrics.listener config key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "broker/config/broker_config.h"
#include "broker/broker_metrics.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/metrics_text.h"

/* out's text as a NUL-terminated string (the buffer keeps its length). */
static const char *text_of(buf *out)
{
    buf_put(out, "", 1);
    assert_true(buf_ok(out));
    out->len--;
    return (const char *)out->data;
}

static void family_and_plain_sample(void **state)
{
    (void)state;
    buf out;
    buf_init(&out, 4096);
    metrics_text_family(&out, "strait_test_total", "counter", "Things counted.");
    metrics_text_sample_uint(&out, "strait_test_total", NULL, 0, UINT64_MAX);
    metrics_text_sample_int(&out, "strait_test_total", NULL, 0, -5);
    assert_string_equal(text_of(&out), "# HELP strait_test_total Things counted.\n"
                                       "# TYPE strait_test_total counter\n"
                                       "strait_test_total 18446744073709551615\n"
                                       "strait_test_total -5\n");
    buf_free(&out);
}

static void labels_are_escaped(void **state)
{
    (void)state;
    buf out;
    buf_init(&out, 4096);
    const char hostile[] = "a\"b\\c\nd}e,f=g";
    metrics_label labels[2] = {
        {.name = "topic", .value = hostile, .value_len = strlen(hostile)},
        {.name = "partition", .value = "7", .value_len = 1},
    };
    metrics_text_sample_int(&out, "strait_x", labels, 2, 3);
    assert_string_equal(text_of(&out), "strait_x{topic=\"a\\\"b\\\\c\\nd}e,f=g\",partition=\"7\"} 3\n");
    buf_free(&out);

    /* value_len bounds the value: no NUL needed; UTF-8 passes unchanged */
    buf_init(&out, 4096);
    metrics_label cut = {.name = "t", .value = "ünïcødé-and-more", .value_len = strlen("ünïcødé")};
    metrics_text_sample_int(&out, "m", &cut, 1, 0);
    assert_string_equal(text_of(&out), "m{t=\"ünïcødé\"} 0\n");
    buf_free(&out);

    /* empty value and a value that is only escapes */
    buf_init(&out, 4096);
    metrics_text_escape_label(&out, "", 0);
    metrics_text_escape_label(&out, "\\\"\n", 3);
    assert_string_equal(text_of(&out), "\\\\\\\"\\n");
    buf_free(&out);
}

static void help_is_escaped(void **state)
{
    (void)state;
    buf out;
    buf_init(&out, 4096);
    metrics_text_family(&out, "m", "gauge", "line one\nback\\slash \"quotes\" stay");
    assert_string_equal(text_of(&out), "# HELP m line one\\nback\\\\slash \"quotes\" stay\n"
                                       "# TYPE m gauge\n");
    buf_free(&out);
}

static void double_values(void **state)
{
    (void)state;
    buf out;
    buf_init(&out, 4096);
    metrics_text_sample_double(&out, "a", NULL, 0, 1.5);
    metrics_text_sample_double(&out, "a", NULL, 0, 0.1);
    metrics_text_sample_double(&out, "a", NULL, 0, 0.0);
    metrics_text_sample_double(&out, "a", NULL, 0, 1e300);
    metrics_text_sample_double(&out, "a", NULL, 0, NAN);
    metrics_text_sample_double(&out, "a", NULL, 0, INFINITY);
    metrics_text_sample_double(&out, "a", NULL, 0, -INFINITY);
    assert_string_equal(text_of(&out), "a 1.5\na 0.1\na 0\na 1e+300\na NaN\na +Inf\na -Inf\n");
    buf_free(&out);
}

static void names_validated(void **state)
{
    (void)state;
    assert_true(metrics_text_name_valid("strait_broker_requests_total"));
    assert_true(metrics_text_name_valid("_x:y9"));
    assert_false(metrics_text_name_valid(""));
    assert_false(metrics_text_name_valid("9lives"));
    assert_false(metrics_text_name_valid("has-dash"));
    assert_false(metrics_text_name_valid("has space"));
    assert_false(metrics_text_name_valid(NULL));
}

static void ceiling_is_sticky(void **state)
{
    (void)state;
    buf out;
    buf_init(&out, 40);
    metrics_text_family(&out, "strait_test_total", "counter", "A help text longer than the cap.");
    assert_false(buf_ok(&out));
    assert_int_equal(out.err, ST_ETOOBIG);
    assert_true(out.len <= 40);
    buf_free(&out);
}

/* Every non-comment line is `name{labels} value` or `name value`; every
 * sample's family was declared by a TYPE line before it. */
static void check_exposition(const char *text)
{
    char family[128] = "";
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        assert_non_null(end); /* every line ends with a newline */
        size_t len = (size_t)(end - line);
        char copy[512];
        assert_true(len < sizeof copy);
        memcpy(copy, line, len);
        copy[len] = '\0';
        if (strncmp(copy, "# TYPE ", 7) == 0) {
            assert_int_equal(sscanf(copy + 7, "%127s", family), 1);
        } else if (copy[0] != '#') {
            size_t name_len = strcspn(copy, "{ ");
            assert_true(name_len > 0);
            assert_true(strncmp(copy, family, strlen(family)) == 0);
            const char *value = strrchr(copy, ' ');
            assert_non_null(value);
            char *rest;
            strtod(value + 1, &rest);
            assert_true(*rest == '\0' && rest != value + 1);
        }
        line = end + 1;
    }
}

static void broker_counters_render(void **state)
{
    (void)state;
    metrics *m;
    assert_int_equal(metrics_open(&m), 0);
    metrics_count_request(m, 0); /* Produce */
    metrics_count_request(m, 0);
    metrics_count_request(m, 1); /* Fetch */
    metrics_count_request_error(m, METRICS_REQUEST_ERROR_MALFORMED);
    metrics_count_connection_accepted(m);
    metrics_count_connection_accepted(m);
    metrics_count_connection_refused(m, METRICS_REFUSAL_PER_IP);
    metrics_count_connection_refused(m, METRICS_REFUSAL_PER_IP);
    metrics_count_connection_refused(m, METRICS_REFUSAL_MAX_CONNECTIONS);
    metrics_count_connection_idle_closed(m);
    metrics_count_connection_output_pause(m);
    metrics_count_produce(m, "orders", 10, 700);
    metrics_count_produce(m, "orders", 5, 300);
    metrics_count_produce(m, "we\"ird", 1, 1);
    metrics_count_fetch(m, 4096);
    /* NULL metrics: every count is a no-op */
    metrics_count_request(NULL, 0);
    metrics_count_produce(NULL, "x", 1, 1);
    metrics_count_fetch(NULL, 1);

    buf out;
    buf_init(&out, 1024 * 1024);
    broker_metrics_render(m, NULL, &out);
    const char *text = text_of(&out);
    assert_non_null(strstr(text, "\nstrait_broker_requests_total{api=\"Produce\"} 2\n"));
    assert_non_null(strstr(text, "\nstrait_broker_requests_total{api=\"Fetch\"} 1\n"));
    assert_non_null(strstr(text, "\nstrait_broker_requests_total{api=\"ApiVersions\"} 0\n"));
    assert_non_null(strstr(text, "\nstrait_broker_request_errors_total{reason=\"malformed\"} 1\n"));
    assert_non_null(strstr(text, "\nstrait_broker_request_errors_total{reason=\"frame_size\"} 0\n"));
    assert_non_null(strstr(text, "\nstrait_broker_connections_accepted_total 2\n"));
    assert_non_null(strstr(text, "\nstrait_broker_connections_refused_total{reason=\"max_connections_per_ip\"} 2\n"));
    assert_non_null(strstr(text, "\nstrait_broker_connections_refused_total{reason=\"max_connections\"} 1\n"));
    assert_non_null(strstr(text, "\nstrait_broker_connections_refused_total{reason=\"listener_max_connections\"} 0\n"));
    assert_non_null(strstr(text, "\nstrait_broker_connections_idle_closed_total 1\n"));
    assert_non_null(strstr(text, "\nstrait_broker_connection_output_pauses_total 1\n"));
    assert_non_null(strstr(text, "\nstrait_broker_produce_records_total{topic=\"orders\"} 15\n"));
    assert_non_null(strstr(text, "\nstrait_broker_produce_bytes_total{topic=\"orders\"} 1000\n"));
    assert_non_null(strstr(text, "\nstrait_broker_produce_records_total{topic=\"we\\\"ird\"} 1\n"));
    assert_non_null(strstr(text, "\nstrait_broker_fetch_bytes_total 4096\n"));
    assert_non_null(strstr(text, "\n# TYPE strait_broker_log_flushes_total counter\n"));
    assert_non_null(strstr(text, "\n# TYPE strait_broker_uptime_seconds gauge\n"));
    assert_null(strstr(text, "strait_broker_partition_log_end_offset")); /* no broker: no gauges */
    check_exposition(text);
    buf_free(&out);
    metrics_close(m);
    metrics_close(NULL);
}

static void metrics_listener_config(void **state)
{
    (void)state;
    broker_config c;
    char err[512], host[256];
    int port = -1;
    broker_config_default(&c);
    assert_string_equal(c.metrics_listener, "127.0.0.1:0");
    assert_int_equal(broker_config_metrics_listener(&c, host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 0);

    assert_int_equal(broker_config_set(&c, "metrics.listener", "[::1]:9644", err, sizeof err), 0);
    assert_int_equal(broker_config_metrics_listener(&c, host, sizeof host, &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 9644);

    assert_int_equal(broker_config_set(&c, "metrics.listener", ":9644", err, sizeof err), 0);
    assert_int_equal(broker_config_metrics_listener(&c, host, sizeof host, &port), 0);
    assert_string_equal(host, "0.0.0.0");

    assert_int_equal(broker_config_set(&c, "metrics.listener", "", err, sizeof err), 0);
    assert_int_equal(broker_config_metrics_listener(&c, host, sizeof host, &port), ST_ENOTFOUND);

    static const char *const bad[] = {"9644", "127.0.0.1", "127.0.0.1:65536", "127.0.0.1:-1",
                                      "example.com:9644", "127.0.0.1:x", "[::1:9644",
                                      "http://127.0.0.1:9644", "[zz]:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(broker_config_set(&c, "metrics.listener", bad[i], err, sizeof err),
                         ST_ECONFIG);
        assert_non_null(strstr(err, "metrics.listener: expected host:port"));
    }
    /* a refused value changes nothing */
    assert_int_equal(broker_config_metrics_listener(&c, host, sizeof host, &port), ST_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(family_and_plain_sample),
        cmocka_unit_test(labels_are_escaped),
        cmocka_unit_test(help_is_escaped),
        cmocka_unit_test(double_values),
        cmocka_unit_test(names_validated),
        cmocka_unit_test(ceiling_is_sticky),
        cmocka_unit_test(broker_counters_render),
        cmocka_unit_test(metrics_listener_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
