/*
 * fuzz_broker_config.c - libFuzzer target for the broker config file
 * (broker/broker_config.h: Kafka config names in YAML, read through
 * common/yaml_map.h), loaded by broker_config_load.
 *
 * Input: the YAML text. broker_config_load only takes a path, so the input
 * is written to the target's temporary directory (tmpfs) first. Checked: a
 * refusal is ST_ECONFIG with a message naming the file; a loaded config
 * shows every key (broker_config_each), and every value shown is accepted
 * back by broker_config_set and leaves the config as it was (what
 * DescribeConfigs reports can be set again), except advertised.listeners
 * when the file did not set it: it is then a copy of listeners, whose port
 * may be 0 (the bound port is advertised), which an explicit
 * advertised.listeners may not; the listener helpers run on the config.
 * The log level a file sets is put back to error after each input.
 * Seeds: tests/fuzz/corpus/broker_config/ (tests/fuzz/make-seeds.sh).
 */
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "broker/config/broker_config.h"
#include "common/error.h"
#include "common/log.h"
#include "support.h"

typedef struct resetter {
    const broker_config *loaded;
    int keys;
} resetter;

static void set_back(void *arg, const char *key, const char *value, bool is_default)
{
    (void)is_default;
    resetter *r = arg;
    r->keys++;
    if (strcmp(key, "advertised.listeners") == 0 &&
        strcmp(r->loaded->advertised_listeners, r->loaded->listeners) == 0)
        return; /* derived from listeners (see above) */
    broker_config copy = *r->loaded;
    char err[1024];
    FUZZ_CHECK(broker_config_set(&copy, key, value, err, sizeof err) == 0,
               "a value the config shows is accepted back");
    FUZZ_CHECK(memcmp(&copy, r->loaded, sizeof copy) == 0,
               "setting a shown value changes nothing");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_temp_dir();
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/broker.yaml", dir);
    fuzz_write_file(dir, "broker.yaml", data, size);
    broker_config config;
    memset(&config, 0, sizeof config);
    char err[1024] = "";
    int rc = broker_config_load(path, NULL, 0, &config, err, sizeof err);
    log_set_level(LOG_ERROR);
    if (rc != 0) {
        FUZZ_CHECK(rc == ST_ECONFIG, "a refused config is ST_ECONFIG");
        FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0, "the message names the file");
        return 0;
    }
    resetter r = {.loaded = &config, .keys = 0};
    broker_config_each(&config, set_back, &r);
    log_set_level(LOG_ERROR);
    FUZZ_CHECK(r.keys > 0, "a config shows its keys");
    char host[512];
    int port = 0;
    rc = broker_config_listener(&config, false, host, sizeof host, &port);
    FUZZ_CHECK(rc == 0 || rc == ST_EINVAL || rc == ST_ETOOBIG, "the listener or a reason");
    if (rc == 0)
        FUZZ_CHECK(port >= 0 && port <= 65535, "a listener port in range");
    rc = broker_config_metrics_listener(&config, host, sizeof host, &port);
    FUZZ_CHECK(rc == 0 || rc == ST_ENOTFOUND || rc == ST_ETOOBIG, "the metrics listener or a reason");
    return 0;
}
