/*
 * test_client_properties.c - the --command-config parser
 * (failover/client_properties.c): a full file is read with comments, blanks
 * and CRLF; every refusal names the file, the line and the key, and never
 * the password; hostile bytes (no newline at the end, NUL bytes, a file over
 * the limit) are errors, not crashes; the load of a missing file; the
 * settings reach librdkafka.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "common/error.h"
#include "failover/client_properties.h"

static int parse(const char *text, client_properties *p, char *err, size_t errlen)
{
    err[0] = '\0';
    return client_properties_parse("admin.properties", (const uint8_t *)text, strlen(text), p,
                                   err, errlen);
}

/* text is refused with a message containing expected (and never "hunter2"). */
static void refused(const char *text, const char *expected)
{
    client_properties p;
    char err[1024];
    int rc = parse(text, &p, err, sizeof err);
    if (rc != ST_ECONFIG || !strstr(err, expected) || strstr(err, "hunter2"))
        fail_msg("for %s\nexpected a refusal containing '%s', got rc=%d '%s'", text, expected,
                 rc, err);
    assert_string_equal(p.sasl_password, ""); /* cleared on a refusal */
}

static void test_full_file(void **state)
{
    (void)state;
    client_properties p;
    char err[1024];
    const char *text = "# the operators' credentials\r\n"
                       "\n"
                       "  security.protocol = SASL_SSL  \r\n"
                       "ssl.ca.location=/etc/strait/ca.pem\n"
                       "ssl.certificate.location=/etc/strait/admin.pem\n"
                       "ssl.key.location=/etc/strait/admin.key\n"
                       "\t# indented comment\n"
                       "sasl.mechanisms=scram-sha-512\n"
                       "sasl.username=admin\n"
                       "sasl.password=pass=word with spaces"; /* no newline at the end */
    assert_int_equal(parse(text, &p, err, sizeof err), 0);
    assert_string_equal(p.security_protocol, "sasl_ssl");
    assert_string_equal(p.ssl_ca_location, "/etc/strait/ca.pem");
    assert_string_equal(p.ssl_certificate_location, "/etc/strait/admin.pem");
    assert_string_equal(p.ssl_key_location, "/etc/strait/admin.key");
    assert_string_equal(p.sasl_mechanism, "SCRAM-SHA-512");
    assert_string_equal(p.sasl_username, "admin");
    assert_string_equal(p.sasl_password, "pass=word with spaces");
    client_properties_clear(&p);
    assert_string_equal(p.sasl_password, "");
}

static void test_empty_and_minimal(void **state)
{
    (void)state;
    client_properties p;
    char err[1024];
    assert_int_equal(parse("", &p, err, sizeof err), 0);
    assert_string_equal(p.security_protocol, "");
    assert_int_equal(parse("# only a comment\n\n", &p, err, sizeof err), 0);
    assert_int_equal(parse("security.protocol=ssl\nssl.ca.location=ca.pem\n", &p, err,
                           sizeof err), 0);
    assert_string_equal(p.security_protocol, "ssl");
    assert_int_equal(parse("sasl.mechanism=PLAIN\nsecurity.protocol=sasl_plaintext\n"
                           "sasl.username=u\nsasl.password=p\n", &p, err, sizeof err), 0);
    assert_string_equal(p.sasl_mechanism, "PLAIN");
}

static void test_refusals_name_line_and_key(void **state)
{
    (void)state;
    refused("security.protocol=ssl\nbootstrap.servers=x\n",
            "admin.properties line 2: unknown key 'bootstrap.servers'");
    refused("security.protocol=sasl_ssl\nsasl.password hunter2\n",
            "admin.properties line 2: expected key=value");
    refused("=hunter2\n", "admin.properties line 1: expected key=value (the key is empty)");
    refused("security.protocol=\n", "admin.properties line 1: security.protocol has no value");
    refused("security.protocol=tls\n",
            "line 1: security.protocol must be plaintext, ssl, sasl_plaintext or sasl_ssl");
    refused("security.protocol=sasl_ssl\nsasl.mechanism=DIGEST-MD5\n",
            "line 2: sasl.mechanism must be PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or GSSAPI");
    refused("security.protocol=ssl\nsecurity.protocol=ssl\n",
            "line 2: security.protocol is set twice");
    refused("sasl.mechanism=PLAIN\nsasl.mechanisms=PLAIN\n", "line 2: sasl.mechanisms is set twice");
    refused("sasl.password=hunter2\n", "sasl.* keys are set but security.protocol is plaintext");
    refused("security.protocol=plaintext\nssl.ca.location=ca.pem\n",
            "ssl.* keys are set but security.protocol is plaintext");
    refused("security.protocol=ssl\nssl.certificate.location=a.pem\n",
            "ssl.certificate.location is set without ssl.key.location");
    refused("security.protocol=sasl_ssl\nsasl.username=u\nsasl.password=hunter2\n",
            "sasl.mechanism is not set");
    refused("security.protocol=sasl_ssl\nsasl.mechanism=SCRAM-SHA-256\nsasl.password=hunter2\n",
            "sasl.mechanism SCRAM-SHA-256 needs sasl.username and sasl.password");
    /* a password on an unknown key's line is not echoed */
    refused("sasl.passwd=hunter2\n", "unknown key 'sasl.passwd'");
    refused("\x01\x02=hunter2\n", "unknown key with unprintable bytes");
}

static void test_hostile_bytes(void **state)
{
    (void)state;
    client_properties p;
    char err[1024];
    const uint8_t with_nul[] = "security.protocol=ss\0l\n";
    assert_int_equal(client_properties_parse("f", with_nul, sizeof with_nul - 1, &p, err,
                                             sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, "f line 1: the value of security.protocol holds a NUL byte"));

    size_t big = CLIENT_PROPERTIES_FILE_BYTES_MAX + 1;
    uint8_t *data = malloc(big);
    assert_non_null(data);
    memset(data, '#', big);
    assert_int_equal(client_properties_parse("f", data, big, &p, err, sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, "larger than"));
    /* exactly at the limit: a file of comments is fine */
    assert_int_equal(client_properties_parse("f", data, big - 1, &p, err, sizeof err), 0);
    free(data);

    char value[CLIENT_PROPERTY_VALUE_BYTES_MAX + 64];
    int n = snprintf(value, sizeof value, "security.protocol=ssl\nssl.ca.location=");
    memset(value + n, 'a', CLIENT_PROPERTY_VALUE_BYTES_MAX);
    value[n + CLIENT_PROPERTY_VALUE_BYTES_MAX] = '\0';
    refused(value, "line 2: the value of ssl.ca.location is longer than 1023 bytes");
}

static void test_load(void **state)
{
    (void)state;
    client_properties p;
    char err[1024], path[] = "/tmp/test_client_properties_XXXXXX";
    assert_int_equal(client_properties_load("/nonexistent/admin.properties", &p, err, sizeof err),
                     ST_ECONFIG);
    assert_string_equal(err, "command config /nonexistent/admin.properties: No such file or "
                             "directory");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "security.protocol=ssl\nssl.ca.location=/ca.pem\nsasl.username=x\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(client_properties_load(path, &p, err, sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, path)); /* the file is named */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    text = "security.protocol=ssl\nssl.ca.location=/ca.pem\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(client_properties_load(path, &p, err, sizeof err), 0);
    assert_string_equal(p.ssl_ca_location, "/ca.pem");
    unlink(path);
}

static void test_apply(void **state)
{
    (void)state;
    client_properties p;
    char err[1024], value[256];
    size_t size = sizeof value;
    assert_int_equal(parse("security.protocol=sasl_ssl\nsasl.mechanism=SCRAM-SHA-512\n"
                           "sasl.username=admin\nsasl.password=hunter2\n", &p, err, sizeof err),
                     0);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(client_properties_apply(&p, conf, err, sizeof err), 0);
    assert_int_equal(rd_kafka_conf_get(conf, "security.protocol", value, &size), RD_KAFKA_CONF_OK);
    assert_string_equal(value, "sasl_ssl");
    size = sizeof value;
    assert_int_equal(rd_kafka_conf_get(conf, "sasl.mechanisms", value, &size), RD_KAFKA_CONF_OK);
    assert_string_equal(value, "SCRAM-SHA-512");
    size = sizeof value;
    assert_int_equal(rd_kafka_conf_get(conf, "sasl.username", value, &size), RD_KAFKA_CONF_OK);
    assert_string_equal(value, "admin");
    rd_kafka_conf_destroy(conf);
    client_properties_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_empty_and_minimal),
        cmocka_unit_test(test_refusals_name_line_and_key),
        cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
