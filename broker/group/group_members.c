/*
 * group_members.c - the members of a group (group_internal.h): their memory
 * (ids, protocols, assignments), lookups, new member ids, the rebuild of a
 * group from __consumer_offsets, and read access for the coordinator and
 * the API handlers. The state transitions are in group.c.
 *
 * Runs on the broker's event-loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "broker/group/group.h"
#include "broker/group/group_internal.h"

/* ---- small helpers ------------------------------------------------------- */

char *group_strdup_or_null(const char *s) { return s ? strdup(s) : NULL; }

bool group_str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}



/* "<prefix>-<uuid v4>" in new memory, or NULL. */
char *group_new_member_id(const char *prefix)
{
    uint8_t r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        static uint64_t counter;
        uint64_t c = ++counter;
        memset(r, 0, sizeof r);
        memcpy(r, &c, sizeof c);
    }
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    size_t n = strlen(prefix) + 38;
    char *id = malloc(n);
    if (!id)
        return NULL;
    snprintf(id, n,
             "%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", prefix,
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
             r[13], r[14], r[15]);
    return id;
}

void group_protocols_free(group_protocol *p, int32_t count)
{
    for (int32_t i = 0; i < count; i++) {
        free(p[i].name);
        free(p[i].metadata);
    }
    free(p);
}

/* Deep copy of protocols; NULL when out of memory (or count 0). */
group_protocol *group_protocols_copy(const group_protocol *p, int32_t count)
{
    if (count <= 0)
        return NULL;
    group_protocol *out = calloc((size_t)count, sizeof *out);
    if (!out)
        return NULL;
    for (int32_t i = 0; i < count; i++) {
        out[i].name = strdup(p[i].name);
        out[i].metadata_len = p[i].metadata_len > 0 ? p[i].metadata_len : 0;
        out[i].metadata = malloc(out[i].metadata_len ? (size_t)out[i].metadata_len : 1);
        if (!out[i].name || !out[i].metadata) {
            group_protocols_free(out, i + 1);
            return NULL;
        }
        if (out[i].metadata_len)
            memcpy(out[i].metadata, p[i].metadata, (size_t)out[i].metadata_len);
    }
    return out;
}

bool group_protocols_equal(const group_member_info *m, const group_protocol *p, int32_t count)
{
    if (m->protocol_count != count)
        return false;
    for (int32_t i = 0; i < count; i++) {
        int32_t len = p[i].metadata_len > 0 ? p[i].metadata_len : 0;
        if (strcmp(m->protocols[i].name, p[i].name) != 0 || m->protocols[i].metadata_len != len ||
            (len && memcmp(m->protocols[i].metadata, p[i].metadata, (size_t)len) != 0))
            return false;
    }
    return true;
}

bool group_member_supports(const group_member_info *m, const char *protocol)
{
    if (m->protocol_count == 0)
        return true; /* adopted (group_adopt): its protocols come with its next join */
    for (int32_t i = 0; i < m->protocol_count; i++)
        if (strcmp(m->protocols[i].name, protocol) == 0)
            return true;
    return false;
}

void group_member_free(group_member_info *m)
{
    if (!m)
        return;
    free(m->id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    group_protocols_free(m->protocols, m->protocol_count);
    free(m->assignment);
    free(m);
}

group_member_info *group_find_member(const group *g, const char *id)
{
    if (!id || !id[0])
        return NULL;
    for (int32_t i = 0; i < g->member_count; i++)
        if (strcmp(g->members[i]->id, id) == 0)
            return g->members[i];
    return NULL;
}

group_member_info *group_find_static(const group *g, const char *instance_id)
{
    if (!instance_id)
        return NULL;
    for (int32_t i = 0; i < g->member_count; i++)
        if (group_str_eq(g->members[i]->instance_id, instance_id))
            return g->members[i];
    return NULL;
}

/* KIP-345: a known instance id used with a member id that is not its own. */
bool group_static_fenced(const group *g, const char *member_id, const char *instance_id)
{
    group_member_info *s = group_find_static(g, instance_id);
    return s && !group_str_eq(s->id, member_id);
}

int32_t group_pending_find(const group *g, const char *id)
{
    for (int32_t i = 0; i < g->pending_count; i++)
        if (strcmp(g->pending[i].id, id) == 0)
            return i;
    return -1;
}

void group_pending_remove(group *g, int32_t i)
{
    free(g->pending[i].id);
    g->pending[i] = g->pending[--g->pending_count];
}

int32_t group_max_rebalance_timeout(const group *g)
{
    int32_t max = 0;
    for (int32_t i = 0; i < g->member_count; i++)
        if (g->members[i]->rebalance_timeout_ms > max)
            max = g->members[i]->rebalance_timeout_ms;
    return max;
}


/* Replaces m's protocols and timeouts with those of p. false: out of memory. */
bool group_member_update(group_member_info *m, const group_join_params *p)
{
    group_protocol *copy = group_protocols_copy(p->protocols, p->protocol_count);
    if (!copy)
        return false;
    group_protocols_free(m->protocols, m->protocol_count);
    m->protocols = copy;
    m->protocol_count = p->protocol_count;
    m->session_timeout_ms = p->session_timeout_ms;
    m->rebalance_timeout_ms = p->rebalance_timeout_ms;
    char *client_id = strdup(p->client_id ? p->client_id : "");
    char *client_host = strdup(p->client_host ? p->client_host : "");
    if (client_id && client_host) {
        free(m->client_id);
        free(m->client_host);
        m->client_id = client_id;
        m->client_host = client_host;
    } else {
        free(client_id);
        free(client_host);
    }
    return true;
}

void group_member_set_assignment(group_member_info *m, const uint8_t *data, int32_t len)
{
    free(m->assignment);
    m->assignment = NULL;
    m->assignment_len = 0;
    if (len <= 0)
        return;
    m->assignment = malloc((size_t)len);
    if (!m->assignment)
        return;
    memcpy(m->assignment, data, (size_t)len);
    m->assignment_len = len;
}

/* ---- lifecycle ----------------------------------------------------------- */

group *group_new(const char *id, const group_config *config, const group_callbacks *callbacks)
{
    group *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->id = strdup(id);
    if (!g->id) {
        free(g);
        return NULL;
    }
    g->state = GROUP_EMPTY;
    g->config = *config;
    g->callbacks = *callbacks;
    return g;
}

void group_clear_members(group *g)
{
    for (int32_t i = 0; i < g->member_count; i++)
        group_member_free(g->members[i]);
    g->member_count = 0;
    g->leader = NULL;
    for (int32_t i = 0; i < g->pending_count; i++)
        free(g->pending[i].id);
    g->pending_count = 0;
}

void group_free(group *g)
{
    if (!g)
        return;
    group_clear_members(g);
    free(g->members);
    free(g->pending);
    free(g->protocol_type);
    free(g->protocol_name);
    free(g->id);
    free(g);
}

void group_set_dead(group *g)
{
    group_clear_members(g);
    g->state = GROUP_DEAD;
}

int group_restore(group *g, const char *protocol_type, int32_t generation,
                  const char *protocol_name, const char *leader_id, int64_t state_wall_ms,
                  const group_stored_member *members, int32_t member_count, group_time now)
{
    group_clear_members(g);
    free(g->protocol_type);
    free(g->protocol_name);
    g->protocol_type = group_strdup_or_null(protocol_type && protocol_type[0] ? protocol_type : NULL);
    g->protocol_name = group_strdup_or_null(protocol_name);
    g->generation = generation;
    g->state = GROUP_EMPTY;
    g->state_wall_ms = state_wall_ms >= 0 ? state_wall_ms : now.wall_ms;
    if (member_count > g->member_capacity) {
        group_member_info **arr = realloc(g->members, (size_t)member_count * sizeof *arr);
        if (!arr)
            return -1;
        g->members = arr;
        g->member_capacity = member_count;
    }
    for (int32_t i = 0; i < member_count; i++) {
        const group_stored_member *s = &members[i];
        group_member_info *m = calloc(1, sizeof *m);
        group_protocol proto = {.name = (char *)(protocol_name ? protocol_name : ""),
                                .metadata = (uint8_t *)s->subscription,
                                .metadata_len = s->subscription_len};
        group_join_params p = {.client_id = s->client_id, .client_host = s->client_host,
                               .session_timeout_ms = s->session_timeout_ms,
                               .rebalance_timeout_ms = s->rebalance_timeout_ms,
                               .protocols = &proto, .protocol_count = 1};
        if (!m || !(m->id = strdup(s->member_id)) || !group_member_update(m, &p) ||
            (s->instance_id && !(m->instance_id = strdup(s->instance_id)))) {
            group_member_free(m);
            return -1;
        }
        group_member_set_assignment(m, s->assignment, s->assignment_len);
        m->session_deadline_ms = now.mono_ms + m->session_timeout_ms;
        g->members[g->member_count++] = m;
        if (group_str_eq(leader_id, m->id))
            g->leader = m;
    }
    if (g->member_count > 0) {
        if (!g->leader)
            g->leader = g->members[0];
        g->state = GROUP_STABLE;
    }
    return 0;
}

int group_adopt(group *g, const group_adoptee *a, group_time now)
{
    if (g->state == GROUP_DEAD)
        return GROUP_EUNAVAILABLE;
    if (group_find_member(g, a->member_id))
        return GROUP_OK;
    if (!a->member_id || !a->member_id[0] || a->instance_id || a->generation <= 0)
        return GROUP_EUNKNOWN_MEMBER;
    bool empty = g->state == GROUP_EMPTY && g->pending_count == 0;
    bool joins = g->state == GROUP_STABLE && g->adopted && a->generation == g->generation;
    if (!(empty || joins) || g->member_count >= g->config.max_size)
        return GROUP_EUNKNOWN_MEMBER;
    if (g->member_count == g->member_capacity) {
        int32_t cap = g->member_capacity ? g->member_capacity * 2 : 4;
        group_member_info **arr = realloc(g->members, (size_t)cap * sizeof *arr);
        if (!arr)
            return GROUP_EINTERNAL;
        g->members = arr;
        g->member_capacity = cap;
    }
    int32_t session = a->session_timeout_ms;
    if (session < g->config.min_session_timeout_ms)
        session = g->config.min_session_timeout_ms;
    if (session > g->config.max_session_timeout_ms)
        session = g->config.max_session_timeout_ms;
    group_member_info *m = calloc(1, sizeof *m);
    if (!m || !(m->id = strdup(a->member_id)) ||
        (a->client_id && !(m->client_id = strdup(a->client_id))) ||
        (a->client_host && !(m->client_host = strdup(a->client_host)))) {
        group_member_free(m);
        return GROUP_EINTERNAL;
    }
    m->session_timeout_ms = session;
    m->rebalance_timeout_ms = session;
    m->session_deadline_ms = now.mono_ms + session;
    g->members[g->member_count++] = m;
    if (empty) {
        /* Empty -> Stable is no transition of a join: the generation is the
         * one the members hold from the old region, their assignment stays
         * with them (as group_restore after a restart) */
        free(g->protocol_name);
        g->protocol_name = NULL;
        g->generation = a->generation;
        g->leader = m;
        g->state = GROUP_STABLE;
        g->state_wall_ms = now.wall_ms;
        g->adopted = true;
    }
    return GROUP_OK;
}

bool group_is_adopted(const group *g) { return g->adopted; }

/* ---- read access --------------------------------------------------------- */

const char *group_id(const group *g) { return g->id; }
enum group_state group_current_state(const group *g) { return g->state; }
int32_t group_generation(const group *g) { return g->generation; }
const char *group_protocol_type(const group *g) { return g->protocol_type; }
const char *group_protocol_name(const group *g) { return g->protocol_name; }
const char *group_leader_id(const group *g) { return g->leader ? g->leader->id : NULL; }
int64_t group_state_timestamp(const group *g) { return g->state_wall_ms; }
int32_t group_member_count(const group *g) { return g->member_count; }
int32_t group_pending_count(const group *g) { return g->pending_count; }

const group_member_info *group_member_at(const group *g, int32_t i)
{
    return i >= 0 && i < g->member_count ? g->members[i] : NULL;
}

const uint8_t *group_member_metadata(const group_member_info *m, const char *protocol_name, int32_t *len)
{
    *len = 0;
    if (!protocol_name)
        return NULL;
    for (int32_t i = 0; i < m->protocol_count; i++)
        if (strcmp(m->protocols[i].name, protocol_name) == 0) {
            *len = m->protocols[i].metadata_len;
            return m->protocols[i].metadata;
        }
    return NULL;
}
