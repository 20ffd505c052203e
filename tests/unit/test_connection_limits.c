/*
 * test_connection_limits.c - the connection limit keys: the syntax of
 * max.connections.per.ip.overrides (broker/config/connection_limits.h) with
 * the messages naming key and entry, the relation max.connections.per.ip=0
 * needs overrides, listener.name.<name>.max.connections, the per-address
 * counts (broker/net/ip_connections.h) and the Fetch wait clamp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "broker/config/broker_config.h"
#include "broker/config/connection_limits.h"
#include "broker/config/listeners.h"
#include "broker/net/ip_connections.h"
#include "broker/proto/data_apis.h"
#include "common/error.h"
#include "common/limits.h"

static void expect_error(const char *const *overrides, int count, const char *message)
{
    broker_config c;
    char err[1024];
    assert_int_equal(broker_config_load(NULL, overrides, count, &c, err, sizeof err), ST_ECONFIG);
    assert_string_equal(err, message);
}

static void test_overrides_parse(void **state)
{
    (void)state;
    connection_ip_overrides list;
    char msg[256];
    assert_int_equal(connection_limits_parse_ip_overrides(
                         " 127.0.0.1:5 , [::1]:7,10.0.0.2 : 0,fe80::1:9", &list, msg, sizeof msg),
                     0);
    assert_int_equal(list.count, 4);
    assert_string_equal(list.items[0].ip, "127.0.0.1");
    assert_int_equal(list.items[0].max_connections, 5);
    assert_string_equal(list.items[1].ip, "::1");
    assert_int_equal(list.items[1].max_connections, 7);
    assert_string_equal(list.items[2].ip, "10.0.0.2");
    assert_int_equal(list.items[2].max_connections, 0);
    assert_string_equal(list.items[3].ip, "fe80::1"); /* count after the last ':' (Kafka) */
    assert_int_equal(list.items[3].max_connections, 9);
    assert_int_equal(connection_limits_parse_ip_overrides("", &list, msg, sizeof msg), 0);
    assert_int_equal(list.count, 0);

    char normal[256];
    assert_int_equal(connection_limits_check_ip_overrides("127.0.0.1:5,[0:0::1]:7", normal,
                                                          sizeof normal, msg, sizeof msg),
                     0);
    assert_string_equal(normal, "127.0.0.1:5,[::1]:7");
}

static void test_overrides_errors(void **state)
{
    (void)state;
    const char *o1[] = {"max.connections.per.ip.overrides=127.0.0.1"};
    expect_error(o1, 1, "--override max.connections.per.ip.overrides=127.0.0.1: "
                        "max.connections.per.ip.overrides: entry '127.0.0.1' is not ip:count");
    const char *o2[] = {"max.connections.per.ip.overrides=broker.example.com:5"};
    expect_error(o2, 1, "--override max.connections.per.ip.overrides=broker.example.com:5: "
                        "max.connections.per.ip.overrides: entry 'broker.example.com:5': "
                        "'broker.example.com' is not an IP address (host names are not "
                        "resolved; give the address)");
    const char *o3[] = {"max.connections.per.ip.overrides=127.0.0.1:5,127.0.0.1:6"};
    expect_error(o3, 1, "--override max.connections.per.ip.overrides=127.0.0.1:5,127.0.0.1:6: "
                        "max.connections.per.ip.overrides: address 127.0.0.1 is given twice");
    const char *o4[] = {"max.connections.per.ip.overrides=127.0.0.1:-1"};
    expect_error(o4, 1, "--override max.connections.per.ip.overrides=127.0.0.1:-1: "
                        "max.connections.per.ip.overrides: entry '127.0.0.1:-1': expected an "
                        "integer between 0 and 1000000, got '-1'");
    const char *o5[] = {"max.connections.per.ip.overrides=127.0.0.1:5,"};
    expect_error(o5, 1, "--override max.connections.per.ip.overrides=127.0.0.1:5,: "
                        "max.connections.per.ip.overrides: entry '' is not ip:count");
    const char *o6[] = {"max.connections.per.ip=0"};
    expect_error(o6, 1, "max.connections.per.ip is 0 and max.connections.per.ip.overrides is "
                        "empty: no client could connect (name the addresses allowed in the "
                        "overrides)");
    const char *o7[] = {"max.connections=x"};
    expect_error(o7, 1, "--override max.connections=x: max.connections: expected an integer "
                        "between 0 and 1000000, got 'x'");
    const char *o8[] = {"connections.max.idle.ms=0"};
    expect_error(o8, 1, "--override connections.max.idle.ms=0: connections.max.idle.ms: "
                        "expected an integer between 1 and 2147483647, got '0'");
    const char *o9[] = {"fetch.wait.limit.ms=3600001"};
    expect_error(o9, 1, "--override fetch.wait.limit.ms=3600001: fetch.wait.limit.ms: "
                        "expected an integer between 0 and 3600000, got '3600001'");
    const char *o10[] = {"listener.name.PLAINTEXT.max.connections=many"};
    expect_error(o10, 1, "--override listener.name.PLAINTEXT.max.connections=many: "
                         "listener.name.PLAINTEXT.max.connections: listener PLAINTEXT: expected "
                         "an integer between 0 and 1000000, got 'many'");
    const char *o11[] = {"listener.name.OTHER.max.connections=5"};
    broker_config c;
    char err[1024];
    assert_int_equal(broker_config_load(NULL, o11, 1, &c, err, sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, "OTHER"));
}

static void test_keys_load(void **state)
{
    (void)state;
    broker_config c;
    char err[1024];
    assert_int_equal(broker_config_load(NULL, NULL, 0, &c, err, sizeof err), 0);
    assert_int_equal(c.max_connections, LIMIT_CONNECTIONS_DEFAULT);
    assert_int_equal(c.max_connections_per_ip, INT32_MAX);
    assert_int_equal(c.connections_max_idle_ms, LIMIT_CONNECTION_IDLE_MS_DEFAULT);
    assert_int_equal(c.fetch_wait_limit_ms, LIMIT_FETCH_WAIT_MS_DEFAULT);
    assert_int_equal(listeners_max_connections(&c, "PLAINTEXT"), -1);
    const char *o[] = {"max.connections=50", "max.connections.per.ip=0",
                       "max.connections.per.ip.overrides=127.0.0.1:3",
                       "listener.name.PLAINTEXT.max.connections=20", "connections.max.idle.ms=1500",
                       "fetch.wait.limit.ms=2000"};
    assert_int_equal(broker_config_load(NULL, o, 6, &c, err, sizeof err), 0);
    assert_int_equal(c.max_connections, 50);
    assert_int_equal(c.max_connections_per_ip, 0);
    assert_string_equal(c.max_connections_per_ip_overrides, "127.0.0.1:3");
    assert_int_equal(listeners_max_connections(&c, "PLAINTEXT"), 20);
    assert_int_equal(c.connections_max_idle_ms, 1500);
    assert_int_equal(c.fetch_wait_limit_ms, 2000);
    char value[64];
    assert_int_equal(broker_config_get(&c, "max.connections.per.ip.overrides", value, sizeof value), 0);
    assert_string_equal(value, "127.0.0.1:3");
}

static void test_ip_counts(void **state)
{
    (void)state;
    ip_connections *t;
    assert_int_equal(ip_connections_open(2, "10.0.0.1:3,[::1]:0", 16, &t), 0);
    assert_int_equal(ip_connections_limit(t, "10.0.0.9"), 2);
    assert_int_equal(ip_connections_limit(t, "10.0.0.1"), 3);
    assert_int_equal(ip_connections_acquire(t, "10.0.0.9"), 0);
    assert_int_equal(ip_connections_acquire(t, "10.0.0.9"), 0);
    assert_int_equal(ip_connections_acquire(t, "10.0.0.9"), ST_ETOOBIG);
    assert_int_equal(ip_connections_count(t, "10.0.0.9"), 2);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ip_connections_acquire(t, "10.0.0.1"), 0);
    assert_int_equal(ip_connections_acquire(t, "10.0.0.1"), ST_ETOOBIG);
    assert_int_equal(ip_connections_acquire(t, "::1"), ST_ETOOBIG); /* override 0 */
    ip_connections_release(t, "10.0.0.9");
    assert_int_equal(ip_connections_count(t, "10.0.0.9"), 1);
    assert_int_equal(ip_connections_acquire(t, "10.0.0.9"), 0);
    ip_connections_release(t, "10.0.0.9");
    ip_connections_release(t, "10.0.0.9");
    assert_int_equal(ip_connections_count(t, "10.0.0.9"), 0);
    /* many addresses: the table grows no bound of its own */
    char ip[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(ip, sizeof ip, "192.168.%d.%d", i / 256, i % 256);
        assert_int_equal(ip_connections_acquire(t, ip), 0);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(ip, sizeof ip, "192.168.%d.%d", i / 256, i % 256);
        ip_connections_release(t, ip);
    }
    ip_connections_close(t);
}

static void test_fetch_wait_clamp(void **state)
{
    (void)state;
    assert_int_equal(fetch_wait_ms(500, LIMIT_FETCH_WAIT_MS_DEFAULT), 500);
    assert_int_equal(fetch_wait_ms(INT32_MAX, LIMIT_FETCH_WAIT_MS_DEFAULT),
                     LIMIT_FETCH_WAIT_MS_DEFAULT);
    assert_int_equal(fetch_wait_ms(INT32_MAX, 2000), 2000);
    assert_int_equal(fetch_wait_ms(0, 2000), 0);
    assert_int_equal(fetch_wait_ms(-5, 2000), 0);
    assert_int_equal(fetch_wait_ms(100, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overrides_parse),
        cmocka_unit_test(test_overrides_errors),
        cmocka_unit_test(test_keys_load),
        cmocka_unit_test(test_ip_counts),
        cmocka_unit_test(test_fetch_wait_clamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
