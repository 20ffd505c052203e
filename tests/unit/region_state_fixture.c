/*
 * region_state_fixture.c - the fixture of the region state tests
 * (region_state_fixture.h).
 */
#include "region_state_fixture.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/broker.h"
#include "broker/log/batch_build.h"
#include "broker/cluster/region_epochs.h"
#include "broker/cluster/region_state.h"
#include "broker/proto/admin_apis.h"
#include "broker/proto/data_apis.h"
#include "broker/proto/group_apis.h"
#include "broker/proto/kafka_error.h"
#include "broker/proto/region_redirect.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/limits.h"
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->root, sizeof f->root, "/tmp/strait-region-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    broker_config_default(&f->b.config);
    f->b.config.node_id = 101;
    snprintf(f->b.config.log_dirs, sizeof f->b.config.log_dirs, "%s", f->root);
    snprintf(f->b.advertised_host, sizeof f->b.advertised_host, "west.example");
    f->b.advertised_port = 9192;
    assert_int_equal(topic_registry_open(&f->b.config, &f->b.topics), 0);
    assert_int_equal(region_state_open(f->root, &f->b.region), 0);
    proto_arena_init(&f->arena, LIMIT_DECODE_ARENA_BYTES);
    *state = f;
    return 0;
}

int teardown(void **state)
{
    fixture *f = *state;
    topic_registry_close(f->b.topics);
    region_state_close(f->b.region);
    for (int i = 0; i < f->call_count; i++)
        proto_arena_free(&f->calls[i]->arena);
    proto_arena_free(&f->arena);
    remove_tree(f->root);
    free(f);
    return 0;
}

/* Runs api's handler as client_id; checks the response encodes. */
void *call_as(fixture *f, const char *client_id, const proto_api *api, int16_t version,
                     const void *request)
{
    broker_request *req = proto_arena_alloc(&f->arena, sizeof *req);
    req->broker = &f->b;
    req->api = api;
    req->api_version = version;
    req->flexible = version >= api->flexible_min;
    req->client_id = proto_str_c(client_id);
    proto_arena_init(&req->arena, LIMIT_DECODE_ARENA_BYTES);
    assert_true(f->call_count < (int)(sizeof f->calls / sizeof f->calls[0]));
    f->calls[f->call_count++] = req;
    req->request = (void *)request;
    req->response = proto_arena_alloc(&req->arena, api->response->size);
    assert_int_equal(api->handle(req), PROTO_RESPOND);
    proto_out o;
    proto_out_init(&o, 1 << 24);
    proto_encode(&o, api->response, version, req->flexible, req->response);
    assert_true(buf_ok(&o.mem));
    proto_out_free(&o);
    return req->response;
}

void *call(fixture *f, const proto_api *api, int16_t version, const void *request)
{
    return call_as(f, "rdkafka", api, version, request);
}

topic *create(fixture *f, const char *name, int32_t partitions)
{
    char err[256];
    topic *t = NULL;
    assert_int_equal(topic_registry_create(f->b.topics, name, strlen(name), partitions, NULL, NULL,
                                           0, false, &t, err, sizeof err),
                     0);
    return t;
}

/* IncrementalAlterConfigs SET of pairs (key, value, key, value, ..., NULL)
 * on broker resource name; returns the resource's answer. validate_only is
 * an int, not a bool: the parameter before "..." must keep its type under
 * the default promotions (C11 7.16.1.4; clang's -Wvarargs). */
const alter_configs_resource_response *set_keys(fixture *f, const char *name,
                                                       int validate_only, ...)
{
    incremental_alter_configs_entry *entries =
        proto_arena_alloc(&f->arena, 8 * sizeof *entries);
    int n = 0;
    va_list ap;
    va_start(ap, validate_only);
    for (const char *key; (key = va_arg(ap, const char *)) != NULL && n < 8; n++) {
        const char *value = va_arg(ap, const char *);
        entries[n] = (incremental_alter_configs_entry){
            proto_str_c(key), value ? ADMIN_CONFIG_OP_SET : ADMIN_CONFIG_OP_DELETE,
            value ? proto_str_c(value) : proto_str_null()};
    }
    va_end(ap);
    incremental_alter_configs_resource *res = proto_arena_alloc(&f->arena, sizeof *res);
    *res = (incremental_alter_configs_resource){ADMIN_RESOURCE_BROKER, proto_str_c(name),
                                                {entries, n}};
    incremental_alter_configs_request *rq = proto_arena_alloc(&f->arena, sizeof *rq);
    *rq = (incremental_alter_configs_request){{res, 1}, validate_only != 0};
    alter_configs_response *rs = call_as(f, "strait-sidecar-west", &api_incremental_alter_configs,
                                         0, rq);
    assert_int_equal(rs->responses.count, 1);
    return rs->responses.items;
}

bool message_has(const alter_configs_resource_response *r, const char *text)
{
    return r->error_message.len > 0 && strstr(r->error_message.ptr, text) != NULL;
}

void make_standby(fixture *f, const char *epoch)
{
    const alter_configs_resource_response *r =
        set_keys(f, "", false, REGION_KEY_ROLE, "standby", REGION_KEY_EPOCH, epoch,
                 REGION_KEY_ACTIVE, "east", REGION_KEY_BROKERS, "1@east1:9092, 2@[::1]:9093",
                 REGION_KEY_TOPICS, "orders,payments\\..*", REGION_KEY_GROUPS, "app-.*", NULL);
    assert_int_equal(r->error_code, KERR_NONE);
}
