/*
 * test_listeners.c - the broker's named listeners (broker/config/listeners.h)
 * and ssl.principal.mapping.rules (security/principal_rules.h): parsing, the
 * relations between the listener keys with the messages naming key and
 * listener, per-listener overrides, and rule application to RFC 2253
 * subjects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "broker/config/broker_config.h"
#include "broker/config/listeners.h"
#include "common/error.h"
#include "security/principal_rules.h"

/* Applies overrides ("key=value") to the defaults; returns the load result. */
static int load(const char *const *overrides, int count, broker_config *out, char *err,
                size_t errlen)
{
    return broker_config_load(NULL, overrides, count, out, err, errlen);
}

static void expect_error(const char *const *overrides, int count, const char *message)
{
    broker_config c;
    char err[1024];
    assert_int_equal(load(overrides, count, &c, err, sizeof err), ST_ECONFIG);
    assert_string_equal(err, message);
}

static void test_three_protocol_listeners(void **state)
{
    (void)state;
    const char *o[] = {
        "listeners=SSL://0.0.0.0:9094,plaintext://127.0.0.1:9092",
        "ssl.keystore.location=/etc/strait/broker.pem",
        "advertised.listeners=SSL://broker.example:19094",
    };
    broker_config c;
    char err[1024];
    assert_int_equal(load(o, 3, &c, err, sizeof err), 0);
    assert_string_equal(c.listeners, "SSL://0.0.0.0:9094,PLAINTEXT://127.0.0.1:9092");
    listener_set set;
    assert_int_equal(listeners_resolve(&c, &set, err, sizeof err), 0);
    assert_int_equal(set.count, 2);
    assert_string_equal(set.items[0].name, "SSL");
    assert_int_equal(set.items[0].protocol, LISTENER_SSL);
    assert_string_equal(set.items[0].host, "0.0.0.0");
    assert_int_equal(set.items[0].port, 9094);
    assert_string_equal(set.items[0].advertised_host, "broker.example");
    assert_int_equal(set.items[0].advertised_port, 19094);
    /* not in advertised.listeners: its own address */
    assert_int_equal(set.items[1].protocol, LISTENER_PLAINTEXT);
    assert_string_equal(set.items[1].advertised_host, "127.0.0.1");
    assert_int_equal(set.items[1].advertised_port, 9092);
    assert_int_equal(set.inter_broker, 0);
}

static void test_named_listeners_and_map(void **state)
{
    (void)state;
    const char *o[] = {
        "listeners=INTERNAL://127.0.0.1:9092,EXTERNAL://[::1]:9093",
        "listener.security.protocol.map=INTERNAL:PLAINTEXT,external:ssl",
        "inter.broker.listener.name=internal",
        "listener.name.external.ssl.keystore.location=/k.pem",
        "listener.name.EXTERNAL.ssl.client.auth=required",
        "ssl.truststore.location=/ca.pem",
        "listener.name.external.sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
        "ssl.principal.mapping.rules=RULE:^CN=(.*?),.*$/$1/L,DEFAULT",
    };
    broker_config c;
    char err[1024];
    assert_int_equal(load(o, 8, &c, err, sizeof err), 0);
    assert_string_equal(c.listener_security_protocol_map, "INTERNAL:PLAINTEXT,EXTERNAL:SSL");
    listener_set set;
    assert_int_equal(listeners_resolve(&c, &set, err, sizeof err), 0);
    assert_int_equal(set.items[0].protocol, LISTENER_PLAINTEXT);
    assert_int_equal(set.items[1].protocol, LISTENER_SSL);
    assert_string_equal(set.items[1].host, "::1");
    assert_int_equal(set.inter_broker, 0);
    listener_tls_settings tls;
    listeners_tls_settings(&c, "EXTERNAL", &tls);
    assert_string_equal(tls.keystore_location, "/k.pem");
    assert_string_equal(tls.client_auth, "required");
    assert_string_equal(tls.truststore_location, "/ca.pem");
    assert_string_equal(tls.enabled_protocols, "TLSv1.2,TLSv1.3");
    listeners_tls_settings(&c, "INTERNAL", &tls);
    assert_string_equal(tls.keystore_location, "");
    assert_string_equal(tls.client_auth, "none");
    /* an override set again replaces the first */
    assert_int_equal(broker_config_set(&c, "listener.name.external.ssl.client.auth", "requested",
                                       err, sizeof err), 0);
    listeners_tls_settings(&c, "EXTERNAL", &tls);
    assert_string_equal(tls.client_auth, "requested");
}

static void test_relation_errors(void **state)
{
    (void)state;
    const char *same_port[] = {"listeners=PLAINTEXT://127.0.0.1:9092,SSL://0.0.0.0:9092",
                               "ssl.keystore.location=/k.pem"};
    expect_error(same_port, 2, "listeners: listeners PLAINTEXT and SSL both use port 9092; each "
                               "listener needs its own port");
    const char *unmapped[] = {"listeners=INTERNAL://127.0.0.1:9092"};
    expect_error(unmapped, 1, "listeners: listener INTERNAL is not in "
                              "listener.security.protocol.map (PLAINTEXT:PLAINTEXT,SSL:SSL,"
                              "SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL)");
    const char *sasl[] = {"listeners=SASL_SSL://0.0.0.0:9093"};
    expect_error(sasl, 1, "ssl.keystore.location: listener SASL_SSL is SASL_SSL and needs a "
                          "keystore (ssl.keystore.location or "
                          "listener.name.SASL_SSL.ssl.keystore.location)");
    const char *gssapi[] = {"listeners=EXT://0.0.0.0:9093",
                            "listener.security.protocol.map=EXT:SASL_PLAINTEXT",
                            "listener.name.ext.sasl.enabled.mechanisms=GSSAPI"};
    expect_error(gssapi, 3, "sasl.enabled.mechanisms: listener EXT enables GSSAPI, which strait "
                            "does not serve yet (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)");
    const char *advertised[] = {"advertised.listeners=SSL://b.example:9094"};
    expect_error(advertised, 1, "advertised.listeners: listener SSL is not in listeners");
    const char *inter[] = {"inter.broker.listener.name=REPLICATION"};
    expect_error(inter, 1, "inter.broker.listener.name: listener REPLICATION is not in listeners");
    const char *no_keystore[] = {"listeners=SSL://127.0.0.1:9093"};
    expect_error(no_keystore, 1, "ssl.keystore.location: listener SSL is SSL and needs a keystore "
                                 "(ssl.keystore.location or "
                                 "listener.name.SSL.ssl.keystore.location)");
    const char *no_truststore[] = {"listeners=SSL://127.0.0.1:9093", "ssl.keystore.location=/k",
                                   "ssl.client.auth=required"};
    expect_error(no_truststore, 3, "ssl.truststore.location: listener SSL has "
                                   "ssl.client.auth=required and needs a truststore to verify "
                                   "clients");
    const char *unknown_listener[] = {"listener.name.external.ssl.client.auth=required"};
    expect_error(unknown_listener, 1, "listener.name.EXTERNAL.ssl.client.auth: no listener named "
                                      "EXTERNAL in listeners");
}

static void test_value_errors(void **state)
{
    (void)state;
    const char *key[] = {"listener.name.a.log.dirs=/x"};
    expect_error(key, 1, "--override listener.name.a.log.dirs=/x: listener.name.a.log.dirs: "
                         "listener A: 'log.dirs' cannot be set per listener (ssl.* keys and "
                         "sasl.enabled.mechanisms can)");
    const char *tls10[] = {"ssl.enabled.protocols=TLSv1.1,TLSv1.2"};
    expect_error(tls10, 1, "--override ssl.enabled.protocols=TLSv1.1,TLSv1.2: "
                           "ssl.enabled.protocols: expected TLSv1.2 and/or TLSv1.3 (older "
                           "versions are not offered), got 'TLSv1.1,TLSv1.2'");
    const char *map[] = {"listener.security.protocol.map=A:TLS"};
    expect_error(map, 1, "--override listener.security.protocol.map=A:TLS: "
                         "listener.security.protocol.map: expected NAME:PROTOCOL,... with "
                         "PROTOCOL one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL, got 'A:TLS'");
    const char *twice[] = {"listener.security.protocol.map=A:SSL,a:PLAINTEXT"};
    expect_error(twice, 1, "--override listener.security.protocol.map=A:SSL,a:PLAINTEXT: "
                           "listener.security.protocol.map: listener A is mapped twice");
    const char *inline_key[] = {"ssl.keystore.key=-----BEGIN PRIVATE KEY-----"};
    expect_error(inline_key, 1, "--override ssl.keystore.key=-----BEGIN PRIVATE KEY-----: "
                                "ssl.keystore.key: inline PEM is not read; put the chain and the "
                                "key in the file named by ssl.keystore.location");
    const char *password[] = {"listener.name.ssl.ssl.key.password=secret"};
    expect_error(password, 1, "--override listener.name.ssl.ssl.key.password=secret: "
                              "listener.name.ssl.ssl.key.password: listener SSL: encrypted "
                              "private keys are not read; store the key unencrypted in a file "
                              "only the broker's user can read");
    const char *auth[] = {"ssl.client.auth=maybe"};
    broker_config c;
    char err[1024];
    assert_int_equal(load(auth, 1, &c, err, sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, "ssl.client.auth"));
    const char *mechanism[] = {"listener.name.plaintext.sasl.enabled.mechanisms=OAUTHBEARER"};
    assert_int_equal(load(mechanism, 1, &c, err, sizeof err), ST_ECONFIG);
    assert_non_null(strstr(err, "listener PLAINTEXT:"));
}

static void expect_principal(const char *rules_text, const char *subject, const char *want)
{
    principal_rules *rules = NULL;
    char msg[256], out[256];
    assert_int_equal(principal_rules_parse(rules_text, &rules, msg, sizeof msg), 0);
    int rc = principal_rules_apply(rules, subject, out, sizeof out);
    if (want) {
        assert_int_equal(rc, 0);
        assert_string_equal(out, want);
    } else {
        assert_int_equal(rc, ST_ENOTFOUND);
    }
    principal_rules_free(rules);
}

static void test_principal_rules(void **state)
{
    (void)state;
    const char *dn = "CN=alice,OU=eng,O=acme,C=US";
    expect_principal(NULL, dn, dn);
    expect_principal("DEFAULT", dn, dn);
    expect_principal("RULE:^CN=(.*?),.*$/$1/", dn, "alice");
    expect_principal("RULE:^CN=(.*?),OU=(.*?),.*$/$1@$2/U", dn, "ALICE@ENG");
    expect_principal("RULE:^CN=([a-z]+),O=acme$/$1/, DEFAULT", dn, dn); /* first misses */
    expect_principal("RULE:^CN=([a-z]+),O=acme$/$1/", dn, NULL);       /* none matches */
    expect_principal("RULE:^CN=Sidecar-(.*)$/sidecar\\/$1/L", "CN=Sidecar-East", "sidecar/east");
    /* a rule matches the whole subject, not a part of it */
    expect_principal("RULE:CN=alice/x/", dn, NULL);
}

static void test_principal_rule_errors(void **state)
{
    (void)state;
    const char *bad[] = {
        "RULE:^CN=(.*)$",            /* no replacement */
        "RULE:^CN=(.*)$/$1/X",       /* unknown case flag */
        "RULE:^CN=(.+?)$/$1/",       /* lazy quantifier not before a literal */
        "RULE:^CN=([a-z$/$1/",       /* bad regex */
        "NOPE",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        principal_rules *rules = NULL;
        char msg[256] = "";
        assert_int_equal(principal_rules_parse(bad[i], &rules, msg, sizeof msg), ST_ECONFIG);
        assert_null(rules);
        assert_true(msg[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_protocol_listeners),
        cmocka_unit_test(test_named_listeners_and_map),
        cmocka_unit_test(test_relation_errors),
        cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_principal_rules),
        cmocka_unit_test(test_principal_rule_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
