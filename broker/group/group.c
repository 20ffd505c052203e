/*
 * group.c - the consumer group state machine (see group.h for the states).
 *
 * Behaviour follows Kafka's classic group coordinator:
 *
 * - A first JoinGroup (empty member id) gets a new id "<client.id>-<uuid>"
 *   ("<group.instance.id>-<uuid>" for static members). From v4 a dynamic
 *   member is answered GROUP_EMEMBER_ID_REQUIRED with that id and kept pending for
 *   one session timeout; it joins for real with the id.
 * - A join into an Empty group starts the initial delay
 *   (group.initial.rebalance.delay.ms): the join phase lasts at least that
 *   long; for a group that never had a generation it is extended by another
 *   delay each time a new member arrived during the last one, up to the
 *   largest rebalance timeout. Otherwise the join phase ends when every member
 *   (and no pending member) has joined, or after the largest rebalance timeout;
 *   dynamic members that did not rejoin are then removed.
 * - The end of the join phase starts a new generation: the protocol is the one
 *   most members prefer among those all support; the leader (first member,
 *   or a member that rejoined if it did not) gets every member's metadata.
 * - The leader's SyncGroup stores the assignment and answers every member
 *   waiting in SyncGroup; the group is then Stable. A member that joined but
 *   sends no SyncGroup within the rebalance timeout is removed.
 * - A static member rejoining with a new id replaces its old id (the old one
 *   is fenced: GROUP_EFENCED_INSTANCE). In a Stable group with an unchanged
 *   protocol it gets the current generation back without a rebalance, with
 *   the old leader id so it never assigns.
 * - Session timeout: a member not heard from (heartbeat, join, sync, commit)
 *   is removed, except while its JoinGroup or SyncGroup is parked.
 */
#include "broker/group/group.h"
#include "broker/group/group_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/invariant.h"

static const char *const state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                          "Stable", "Dead"};

const char *group_state_name(enum group_state s)
{
    return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "Unknown";
}

/* The transitions of Kafka's classic coordinator (Dead is entered only by
 * group_set_dead, a restored group starts Empty or Stable). */
static bool transition_allowed(enum group_state from, enum group_state to)
{
    switch (to) {
    case GROUP_PREPARING_REBALANCE:
        return from == GROUP_EMPTY || from == GROUP_STABLE || from == GROUP_COMPLETING_REBALANCE;
    case GROUP_COMPLETING_REBALANCE:
    case GROUP_EMPTY: return from == GROUP_PREPARING_REBALANCE;
    case GROUP_STABLE: return from == GROUP_COMPLETING_REBALANCE;
    case GROUP_DEAD: return false;
    }
    return false;
}

static void set_state(group *g, enum group_state s, group_time now)
{
    INVARIANT(transition_allowed(g->state, s));
    g->state = s;
    g->state_wall_ms = now.wall_ms;
}

/*
 * What holds between two calls into the group (checked after each public
 * entry point in the Debug builds):
 * - the member and pending arrays within their capacity;
 * - a leader exactly when there are members, and the leader is one of them;
 * - Empty and Dead have no members; Stable and CompletingRebalance have some;
 * - a parked JoinGroup only in PreparingRebalance, a parked SyncGroup only in
 *   CompletingRebalance, and a waiter only where its flag says it waits.
 */
static void check_invariants(const group *g)
{
    INVARIANT_EXPENSIVE(g->member_count >= 0 && g->member_count <= g->member_capacity);
    INVARIANT_EXPENSIVE(g->pending_count >= 0 && g->pending_count <= g->pending_capacity);
    INVARIANT_EXPENSIVE(g->generation >= 0);
    INVARIANT_EXPENSIVE((g->leader == NULL) == (g->member_count == 0));
    bool leader_found = g->leader == NULL;
    for (int32_t i = 0; i < g->member_count; i++) {
        const group_member_info *m = g->members[i];
        leader_found = leader_found || m == g->leader;
        INVARIANT_EXPENSIVE(m->id != NULL);
        INVARIANT_EXPENSIVE(!m->join_waiter || m->awaiting_join);
        INVARIANT_EXPENSIVE(!m->sync_waiter || m->awaiting_sync);
        INVARIANT_EXPENSIVE(!m->awaiting_join || g->state == GROUP_PREPARING_REBALANCE);
        INVARIANT_EXPENSIVE(!m->awaiting_sync || g->state == GROUP_COMPLETING_REBALANCE);
    }
    INVARIANT_EXPENSIVE(leader_found);
    switch (g->state) {
    case GROUP_EMPTY:
    case GROUP_DEAD: INVARIANT_EXPENSIVE(g->member_count == 0); break;
    case GROUP_STABLE:
    case GROUP_COMPLETING_REBALANCE: INVARIANT_EXPENSIVE(g->member_count > 0); break;
    case GROUP_PREPARING_REBALANCE: break;
    }
}

/* ---- answering waiters --------------------------------------------------- */

static void join_error(group *g, void *waiter, const char *member_id, int error)
{
    group_join_outcome o = {.error = error, .member_id = member_id ? member_id : "",
                            .generation = -1, .protocol_name = "", .leader_id = "",
                            .with_members = false};
    g->callbacks.join_done(g->callbacks.arg, g, waiter, &o);
}

/* Answers m's parked join (if any) with the current generation. */
static void join_answer(group *g, group_member_info *m, void *waiter)
{
    group_join_outcome o = {.error = GROUP_OK, .member_id = m->id,
                            .generation = g->generation,
                            .protocol_name = g->protocol_name ? g->protocol_name : "",
                            .leader_id = g->leader ? g->leader->id : "",
                            .with_members = g->leader == m};
    g->callbacks.join_done(g->callbacks.arg, g, waiter, &o);
}

static void sync_answer(group *g, void *waiter, int error, const group_member_info *m)
{
    g->callbacks.sync_done(g->callbacks.arg, g, waiter, error, m ? m->assignment : NULL,
                           m ? m->assignment_len : 0);
}

static void member_fail_waiters(group *g, group_member_info *m, int error)
{
    if (m->join_waiter) {
        void *w = m->join_waiter;
        m->join_waiter = NULL;
        join_error(g, w, m->id, error);
    }
    m->awaiting_join = false;
    if (m->sync_waiter) {
        void *w = m->sync_waiter;
        m->sync_waiter = NULL;
        sync_answer(g, w, error, NULL);
    }
    m->awaiting_sync = false;
}

static void store(group *g)
{
    if (g->callbacks.store)
        g->callbacks.store(g->callbacks.arg, g);
}

/* ---- transitions --------------------------------------------------------- */

static void prepare_rebalance(group *g, group_time now);
static void try_complete_join(group *g, group_time now);

/* Removes m from the member list (answers its waiters GROUP_EUNKNOWN_MEMBER). */
static void remove_member(group *g, group_member_info *m)
{
    member_fail_waiters(g, m, GROUP_EUNKNOWN_MEMBER);
    int32_t i = 0;
    while (i < g->member_count && g->members[i] != m)
        i++;
    if (i == g->member_count)
        return;
    memmove(&g->members[i], &g->members[i + 1], (size_t)(g->member_count - i - 1) * sizeof m);
    g->member_count--;
    if (g->leader == m)
        g->leader = g->member_count > 0 ? g->members[0] : NULL;
    group_member_free(m);
}

static void remove_member_and_update(group *g, group_member_info *m, group_time now)
{
    remove_member(g, m);
    switch (g->state) {
    case GROUP_STABLE:
    case GROUP_COMPLETING_REBALANCE: prepare_rebalance(g, now); break;
    case GROUP_PREPARING_REBALANCE: try_complete_join(g, now); break;
    case GROUP_EMPTY:
    case GROUP_DEAD: break;
    }
}

static void prepare_rebalance(group *g, group_time now)
{
    if (g->state == GROUP_COMPLETING_REBALANCE) {
        /* the assignment of this generation will never come: members that
         * wait in SyncGroup must rejoin */
        for (int32_t i = 0; i < g->member_count; i++) {
            group_member_info *m = g->members[i];
            if (m->sync_waiter) {
                void *w = m->sync_waiter;
                m->sync_waiter = NULL;
                sync_answer(g, w, GROUP_EREBALANCING, NULL);
            }
            if (m->awaiting_sync) /* answered just now: a session to rejoin in */
                m->session_deadline_ms = now.mono_ms + m->session_timeout_ms;
            m->awaiting_sync = false;
            m->needs_sync = false;
        }
    }
    int64_t rebalance_timeout = group_max_rebalance_timeout(g);
    if (g->state == GROUP_EMPTY && g->config.initial_rebalance_delay_ms > 0) {
        int64_t delay = g->config.initial_rebalance_delay_ms;
        if (delay > rebalance_timeout)
            delay = rebalance_timeout;
        g->initial_delay = true;
        g->new_member_added = false;
        g->initial_remaining_ms = rebalance_timeout - delay;
        g->join_deadline_ms = now.mono_ms + delay;
    } else {
        g->initial_delay = false;
        g->join_deadline_ms = now.mono_ms + rebalance_timeout;
    }
    set_state(g, GROUP_PREPARING_REBALANCE, now);
    try_complete_join(g, now);
}

static bool all_joined(const group *g)
{
    if (g->pending_count > 0)
        return false;
    for (int32_t i = 0; i < g->member_count; i++)
        if (!g->members[i]->awaiting_join)
            return false;
    return true;
}

/* The protocol most members list first among those every member supports;
 * ties go to the leader's order. NULL if there is no common protocol. */
static const char *select_protocol(const group *g)
{
    if (g->member_count == 0)
        return NULL;
    const group_member_info *ref = g->leader ? g->leader : g->members[0];
    const char *best = NULL;
    int best_votes = -1;
    for (int32_t c = 0; c < ref->protocol_count; c++) {
        const char *candidate = ref->protocols[c].name;
        bool common = true;
        for (int32_t i = 0; i < g->member_count && common; i++)
            common = group_member_supports(g->members[i], candidate);
        if (!common)
            continue;
        int votes = 0;
        for (int32_t i = 0; i < g->member_count; i++) {
            const group_member_info *m = g->members[i];
            for (int32_t k = 0; k < m->protocol_count; k++) {
                const char *name = m->protocols[k].name;
                bool name_common = true;
                for (int32_t j = 0; j < g->member_count && name_common; j++)
                    name_common = group_member_supports(g->members[j], name);
                if (name_common) { /* m's vote: its first common protocol */
                    votes += strcmp(name, candidate) == 0;
                    break;
                }
            }
        }
        if (votes > best_votes) {
            best = candidate;
            best_votes = votes;
        }
    }
    return best;
}

/* End of the join phase: the next generation starts. */
static void complete_join(group *g, group_time now)
{
    INVARIANT(g->state == GROUP_PREPARING_REBALANCE);
    int32_t generation_before = g->generation;
    for (int32_t i = 0; i < g->member_count;) {
        group_member_info *m = g->members[i];
        if (!m->awaiting_join && !m->instance_id)
            remove_member(g, m); /* dynamic member that did not rejoin in time */
        else
            i++;
    }
    if (g->leader && !g->leader->awaiting_join) { /* a static leader that is away */
        for (int32_t i = 0; i < g->member_count; i++)
            if (g->members[i]->awaiting_join) {
                g->leader = g->members[i];
                break;
            }
    }
    g->generation++;
    g->adopted = false; /* a generation of this region's own */
    INVARIANT(g->generation == generation_before + 1 && g->generation > 0);
    free(g->protocol_name);
    g->protocol_name = NULL;
    if (g->member_count == 0) {
        set_state(g, GROUP_EMPTY, now);
        store(g);
        return;
    }
    const char *selected = select_protocol(g);
    g->protocol_name = selected ? strdup(selected) : NULL;
    set_state(g, GROUP_COMPLETING_REBALANCE, now);
    g->sync_deadline_ms = now.mono_ms + group_max_rebalance_timeout(g);
    for (int32_t i = 0; i < g->member_count; i++) {
        group_member_info *m = g->members[i];
        free(m->assignment);
        m->assignment = NULL;
        m->assignment_len = 0;
        m->session_deadline_ms = now.mono_ms + m->session_timeout_ms;
        if (!m->awaiting_join)
            continue;
        m->awaiting_join = false;
        m->needs_sync = true;
        void *w = m->join_waiter;
        m->join_waiter = NULL;
        if (w)
            join_answer(g, m, w);
    }
}

static void try_complete_join(group *g, group_time now)
{
    if (g->state == GROUP_PREPARING_REBALANCE && !g->initial_delay && all_joined(g))
        complete_join(g, now);
}

static void maybe_prepare_rebalance(group *g, group_time now)
{
    if (g->state == GROUP_STABLE || g->state == GROUP_COMPLETING_REBALANCE ||
        g->state == GROUP_EMPTY)
        prepare_rebalance(g, now);
    else if (g->state == GROUP_PREPARING_REBALANCE)
        try_complete_join(g, now);
}


/* Parks waiter as m's join (an older parked join of m is answered first). */
static void member_await_join(group *g, group_member_info *m, void *waiter)
{
    if (m->join_waiter && m->join_waiter != waiter)
        join_error(g, m->join_waiter, m->id, GROUP_EREBALANCING);
    m->join_waiter = waiter;
    m->awaiting_join = true;
}

static void add_member_and_rebalance(group *g, char *id, const group_join_params *p, void *waiter,
                                     group_time now)
{
    group_member_info *m = calloc(1, sizeof *m);
    if (g->member_count == g->member_capacity) {
        int32_t cap = g->member_capacity ? g->member_capacity * 2 : 4;
        group_member_info **members = realloc(g->members, (size_t)cap * sizeof *members);
        if (members) {
            g->members = members;
            g->member_capacity = cap;
        }
    }
    if (!m || g->member_count == g->member_capacity || !group_member_update(m, p) ||
        (p->instance_id && !(m->instance_id = strdup(p->instance_id)))) {
        group_member_free(m);
        join_error(g, waiter, id, GROUP_EINTERNAL);
        free(id);
        return;
    }
    m->id = id;
    if (g->member_count == 0 || !g->protocol_type) {
        char *type = strdup(p->protocol_type);
        if (type) {
            free(g->protocol_type);
            g->protocol_type = type;
        }
    }
    g->members[g->member_count++] = m;
    if (!g->leader)
        g->leader = m;
    m->session_deadline_ms = now.mono_ms + m->session_timeout_ms;
    member_await_join(g, m, waiter);
    /* as Kafka: only a group that never had a generation waits longer for
     * more members; an emptied group rejoining gets one delay */
    if (g->state == GROUP_PREPARING_REBALANCE && g->initial_delay && g->generation == 0)
        g->new_member_added = true;
    maybe_prepare_rebalance(g, now);
}

/* KIP-345: a known static member joins with an empty member id. */
static void replace_static_member(group *g, group_member_info *m, char *new_id,
                                  const group_join_params *p, void *waiter, group_time now)
{
    member_fail_waiters(g, m, GROUP_EFENCED_INSTANCE); /* the old instance */
    char *old_leader = g->leader ? strdup(g->leader->id) : NULL;
    free(m->id);
    m->id = new_id;
    group_member_update(m, p);
    m->session_deadline_ms = now.mono_ms + m->session_timeout_ms;
    switch (g->state) {
    case GROUP_STABLE: {
        const char *next = select_protocol(g);
        if (next && group_str_eq(next, g->protocol_name)) {
            store(g);
            group_join_outcome o = {.error = GROUP_OK, .member_id = m->id,
                                    .generation = g->generation,
                                    .protocol_name = g->protocol_name,
                                    .leader_id = old_leader ? old_leader : "",
                                    .with_members = false};
            g->callbacks.join_done(g->callbacks.arg, g, waiter, &o);
        } else {
            member_await_join(g, m, waiter);
            prepare_rebalance(g, now);
        }
        break;
    }
    case GROUP_COMPLETING_REBALANCE:
        member_await_join(g, m, waiter);
        prepare_rebalance(g, now);
        break;
    default:
        member_await_join(g, m, waiter);
        try_complete_join(g, now);
        break;
    }
    free(old_leader);
}

/* May a member with these protocols join? */
static bool supports_protocols(const group *g, const group_join_params *p)
{
    if (!p->protocol_type || !p->protocol_type[0] || p->protocol_count <= 0)
        return false;
    if (g->member_count == 0)
        return true;
    /* adopted members (group_adopt) bring no protocol type */
    if (g->protocol_type && !group_str_eq(g->protocol_type, p->protocol_type))
        return false;
    for (int32_t k = 0; k < p->protocol_count; k++) {
        bool common = true;
        for (int32_t i = 0; i < g->member_count && common; i++)
            common = group_member_supports(g->members[i], p->protocols[k].name);
        if (common)
            return true;
    }
    return false;
}

static void handle_join(group *g, const group_join_params *p, void *waiter, group_time now)
{
    const char *member_id = p->member_id ? p->member_id : "";
    if (g->state == GROUP_DEAD)
        return join_error(g, waiter, member_id, GROUP_EUNAVAILABLE);
    if (p->session_timeout_ms < g->config.min_session_timeout_ms ||
        p->session_timeout_ms > g->config.max_session_timeout_ms)
        return join_error(g, waiter, member_id, GROUP_ESESSION_TIMEOUT);
    if (!supports_protocols(g, p))
        return join_error(g, waiter, member_id, GROUP_EPROTOCOL);

    if (!member_id[0]) { /* a new member, or a static member coming back */
        group_member_info *known = group_find_static(g, p->instance_id);
        if (!known && g->member_count + g->pending_count >= g->config.max_size)
            return join_error(g, waiter, "", GROUP_EFULL);
        const char *prefix = p->instance_id ? p->instance_id : (p->client_id ? p->client_id : "");
        char *id = group_new_member_id(prefix);
        if (!id)
            return join_error(g, waiter, "", GROUP_EINTERNAL);
        if (known)
            return replace_static_member(g, known, id, p, waiter, now);
        if (!p->instance_id && p->require_known_member_id) {
            if (g->pending_count == g->pending_capacity) {
                int32_t cap = g->pending_capacity ? g->pending_capacity * 2 : 4;
                group_pending_member *pending = realloc(g->pending, (size_t)cap * sizeof *pending);
                if (!pending) {
                    free(id);
                    return join_error(g, waiter, "", GROUP_EINTERNAL);
                }
                g->pending = pending;
                g->pending_capacity = cap;
            }
            g->pending[g->pending_count++] =
                (group_pending_member){id, now.mono_ms + p->session_timeout_ms};
            return join_error(g, waiter, id, GROUP_EMEMBER_ID_REQUIRED);
        }
        return add_member_and_rebalance(g, id, p, waiter, now);
    }

    int32_t pending = group_pending_find(g, member_id);
    if (pending >= 0) { /* second join of KIP-394 */
        char *id = g->pending[pending].id;
        g->pending[pending].id = NULL;
        g->pending[pending] = g->pending[--g->pending_count];
        return add_member_and_rebalance(g, id, p, waiter, now);
    }
    if (group_static_fenced(g, member_id, p->instance_id))
        return join_error(g, waiter, member_id, GROUP_EFENCED_INSTANCE);
    group_member_info *m = group_find_member(g, member_id);
    if (!m || g->state == GROUP_EMPTY)
        return join_error(g, waiter, member_id, GROUP_EUNKNOWN_MEMBER);
    m->session_deadline_ms = now.mono_ms + m->session_timeout_ms;
    switch (g->state) {
    case GROUP_PREPARING_REBALANCE:
        group_member_update(m, p);
        member_await_join(g, m, waiter);
        try_complete_join(g, now);
        break;
    case GROUP_COMPLETING_REBALANCE:
        if (group_protocols_equal(m, p->protocols, p->protocol_count)) {
            join_answer(g, m, waiter); /* it lost our answer: same generation again */
        } else {
            group_member_update(m, p);
            member_await_join(g, m, waiter);
            prepare_rebalance(g, now);
        }
        break;
    case GROUP_STABLE:
        if (g->leader == m || !group_protocols_equal(m, p->protocols, p->protocol_count)) {
            group_member_update(m, p);
            member_await_join(g, m, waiter);
            prepare_rebalance(g, now);
        } else {
            join_answer(g, m, waiter);
        }
        break;
    default: join_error(g, waiter, member_id, GROUP_EUNKNOWN_MEMBER); break;
    }
}

void group_join(group *g, const group_join_params *p, void *waiter, group_time now)
{
    handle_join(g, p, waiter, now);
    check_invariants(g);
}

/* ---- sync, heartbeat, leave, commit -------------------------------------- */

static void handle_sync(group *g, const char *member_id, const char *instance_id,
                        int32_t generation, const group_assignment *assignments,
                        int32_t assignment_count, void *waiter, group_time now)
{
    if (g->state == GROUP_DEAD)
        return sync_answer(g, waiter, GROUP_EUNAVAILABLE, NULL);
    if (group_static_fenced(g, member_id, instance_id))
        return sync_answer(g, waiter, GROUP_EFENCED_INSTANCE, NULL);
    group_member_info *m = group_find_member(g, member_id);
    if (!m)
        return sync_answer(g, waiter, GROUP_EUNKNOWN_MEMBER, NULL);
    if (generation != g->generation)
        return sync_answer(g, waiter, GROUP_EGENERATION, NULL);
    switch (g->state) {
    case GROUP_EMPTY: return sync_answer(g, waiter, GROUP_EUNKNOWN_MEMBER, NULL);
    case GROUP_PREPARING_REBALANCE: return sync_answer(g, waiter, GROUP_EREBALANCING, NULL);
    case GROUP_STABLE:
        m->session_deadline_ms = now.mono_ms + m->session_timeout_ms;
        m->needs_sync = false;
        return sync_answer(g, waiter, GROUP_OK, m);
    default: break;
    }
    /* CompletingRebalance */
    m->session_deadline_ms = now.mono_ms + m->session_timeout_ms;
    if (m->sync_waiter && m->sync_waiter != waiter)
        sync_answer(g, m->sync_waiter, GROUP_EREBALANCING, NULL);
    m->sync_waiter = waiter;
    m->awaiting_sync = true;
    m->needs_sync = false;
    if (g->leader != m)
        return;
    for (int32_t i = 0; i < g->member_count; i++) {
        group_member_info *x = g->members[i];
        group_member_set_assignment(x, NULL, 0); /* members the leader left out get nothing */
        for (int32_t k = 0; k < assignment_count; k++)
            if (group_str_eq(assignments[k].member_id, x->id)) {
                group_member_set_assignment(x, assignments[k].data, assignments[k].len);
                break;
            }
    }
    set_state(g, GROUP_STABLE, now);
    store(g);
    for (int32_t i = 0; i < g->member_count; i++) {
        group_member_info *x = g->members[i];
        if (x->awaiting_sync)
            x->session_deadline_ms = now.mono_ms + x->session_timeout_ms;
        x->awaiting_sync = false;
        if (x->sync_waiter) {
            void *w = x->sync_waiter;
            x->sync_waiter = NULL;
            sync_answer(g, w, GROUP_OK, x);
        }
    }
}

void group_sync(group *g, const char *member_id, const char *instance_id, int32_t generation,
                const group_assignment *assignments, int32_t assignment_count, void *waiter,
                group_time now)
{
    handle_sync(g, member_id, instance_id, generation, assignments, assignment_count, waiter, now);
    check_invariants(g);
}

int group_heartbeat(group *g, const char *member_id, const char *instance_id,
                    int32_t generation, group_time now)
{
    if (g->state == GROUP_DEAD)
        return GROUP_EUNAVAILABLE;
    if (group_static_fenced(g, member_id, instance_id))
        return GROUP_EFENCED_INSTANCE;
    group_member_info *m = group_find_member(g, member_id);
    if (!m)
        return GROUP_EUNKNOWN_MEMBER;
    if (generation != g->generation)
        return GROUP_EGENERATION;
    switch (g->state) {
    case GROUP_EMPTY: return GROUP_EUNKNOWN_MEMBER;
    case GROUP_PREPARING_REBALANCE:
        m->session_deadline_ms = now.mono_ms + m->session_timeout_ms;
        return GROUP_EREBALANCING;
    default:
        m->session_deadline_ms = now.mono_ms + m->session_timeout_ms;
        return GROUP_OK;
    }
}

static int handle_leave(group *g, const char *member_id, group_time now)
{
    if (g->state == GROUP_DEAD)
        return GROUP_EUNAVAILABLE;
    int32_t pending = member_id ? group_pending_find(g, member_id) : -1;
    if (pending >= 0) {
        group_pending_remove(g, pending);
        try_complete_join(g, now);
        return GROUP_OK;
    }
    group_member_info *m = group_find_member(g, member_id);
    if (!m)
        return GROUP_EUNKNOWN_MEMBER;
    remove_member_and_update(g, m, now);
    return GROUP_OK;
}

int group_leave(group *g, const char *member_id, group_time now)
{
    int rc = handle_leave(g, member_id, now);
    check_invariants(g);
    return rc;
}

int group_commit_check(group *g, const char *member_id, const char *instance_id,
                       int32_t generation, group_time now)
{
    if (g->state == GROUP_DEAD)
        return GROUP_EUNAVAILABLE;
    if (group_static_fenced(g, member_id, instance_id))
        return GROUP_EFENCED_INSTANCE;
    if (generation < 0 && g->state == GROUP_EMPTY)
        return GROUP_OK; /* the group only stores offsets (assign() users) */
    group_member_info *m = group_find_member(g, member_id);
    if (!m)
        return GROUP_EUNKNOWN_MEMBER;
    if (generation != g->generation)
        return GROUP_EGENERATION;
    if (g->state == GROUP_COMPLETING_REBALANCE)
        return GROUP_EREBALANCING;
    m->session_deadline_ms = now.mono_ms + m->session_timeout_ms;
    return GROUP_OK;
}

/* ---- timers -------------------------------------------------------------- */

/* A parked join or sync keeps a member alive, as in Kafka. */
static bool member_kept_alive(const group_member_info *m)
{
    return m->awaiting_join || m->awaiting_sync;
}

static void handle_time(group *g, group_time now)
{
    if (g->state == GROUP_DEAD)
        return;
    for (int32_t i = 0; i < g->pending_count;) {
        if (g->pending[i].deadline_ms <= now.mono_ms) {
            group_pending_remove(g, i);
            try_complete_join(g, now);
        } else {
            i++;
        }
    }
    for (int32_t i = 0; i < g->member_count;) {
        group_member_info *m = g->members[i];
        if (!member_kept_alive(m) && m->session_deadline_ms <= now.mono_ms) {
            remove_member_and_update(g, m, now);
            i = 0; /* the list changed */
        } else {
            i++;
        }
    }
    if (g->state == GROUP_PREPARING_REBALANCE && g->join_deadline_ms <= now.mono_ms) {
        if (g->initial_delay && g->new_member_added && g->initial_remaining_ms > 0) {
            int64_t delay = g->config.initial_rebalance_delay_ms;
            if (delay > g->initial_remaining_ms)
                delay = g->initial_remaining_ms;
            g->initial_remaining_ms -= delay;
            g->new_member_added = false;
            g->join_deadline_ms = now.mono_ms + delay;
        } else {
            g->initial_delay = false;
            complete_join(g, now);
        }
    }
    if (g->state == GROUP_COMPLETING_REBALANCE && g->sync_deadline_ms <= now.mono_ms) {
        /* members that joined but never sent SyncGroup are gone */
        for (int32_t i = 0; i < g->member_count;) {
            group_member_info *m = g->members[i];
            if (m->needs_sync && !m->awaiting_sync) {
                remove_member_and_update(g, m, now);
                i = 0;
            } else {
                i++;
            }
        }
    }
}

void group_on_time(group *g, group_time now)
{
    handle_time(g, now);
    check_invariants(g);
}

int64_t group_next_deadline(const group *g)
{
    int64_t next = INT64_MAX;
    if (g->state == GROUP_DEAD)
        return next;
    for (int32_t i = 0; i < g->pending_count; i++)
        if (g->pending[i].deadline_ms < next)
            next = g->pending[i].deadline_ms;
    for (int32_t i = 0; i < g->member_count; i++)
        if (!member_kept_alive(g->members[i]) && g->members[i]->session_deadline_ms < next)
            next = g->members[i]->session_deadline_ms;
    if (g->state == GROUP_PREPARING_REBALANCE && g->join_deadline_ms < next)
        next = g->join_deadline_ms;
    if (g->state == GROUP_COMPLETING_REBALANCE && g->sync_deadline_ms < next)
        next = g->sync_deadline_ms;
    return next;
}

void group_forget_waiter(group *g, void *waiter)
{
    for (int32_t i = 0; i < g->member_count; i++) {
        if (g->members[i]->join_waiter == waiter)
            g->members[i]->join_waiter = NULL;
        if (g->members[i]->sync_waiter == waiter)
            g->members[i]->sync_waiter = NULL;
    }
}
