/*
 * coordinator_adopt.c - the coordinator's half of a planned switchover: the
 * members of a group in the old active region are adopted here with the
 * member ids and generation they hold, so the commit of the batch they have
 * in hand and their heartbeats succeed, and they neither rebalance nor
 * re-read anything (issue 12).
 *
 * When. A switchover moves this region from standby to promoting (the
 * AlterConfigs handover calls coordinator_adoption_open(c, true)); any other
 * handover closes the window, and it closes on its own ADOPTION_WINDOW_MS
 * after it opened. An unplanned failover (standby straight to active) never
 * opens it: the members' positions there may lie beyond what was mirrored
 * (they rejoin before reading instead, coordinator_rejoin.c).
 * Adoption starts while the region is still promoting (group_api_adopt):
 * the old region refuses group calls from the moment it is standby, and a
 * client retries a commit refused with COORDINATOR_LOAD_IN_PROGRESS only a
 * few times (librdkafka twice, 100 ms apart), far less than a final
 * checkpoint may take. An adopted member's own commits are newer than the
 * old region's, so the final checkpoint leaves a group with members alone
 * (checkpoints/group_sync.h), as it does any group live here.
 *
 * Which groups. One that is Empty here (or already adopted at the member's
 * generation, group_adopt) and whose committed offsets here come from the
 * sidecar's group sync with the same offsets as in the old region: every
 * commit carrying the origin marker (checkpoints/group_sync.h) has the form
 * "strait.src=<region>@<source offset>;" with source offset == the committed
 * offset, and there is at least one. The sidecar writes "@<offset>" only
 * where the flow maps that commit and the partition's mirrored tail to the
 * same offsets, so the members' fetch positions, numbered in the old region,
 * are positions here too. A group whose translation moved an offset (a
 * region that once took writes of its own) is not adopted: its members
 * rejoin and start at the translated commits, as before.
 *
 * Runs on the broker's event-loop thread.
 */
#include "broker/group/coordinator.h"
#include "broker/group/coordinator_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/reader.h"

/* How long after the takeover members may still arrive from the old region:
 * far beyond any switchover's promoting step and a session timeout. */
#define ADOPTION_WINDOW_MS (5 * 60 * 1000)
#define ORIGIN_MARKER "strait.src="

void coordinator_adoption_open(coordinator *c, bool open)
{
    c->adoption_opened_ms = open ? clock_mono_ms() : 0;
    if (open)
        log_info("group", "adoption open: members of switched-over groups keep their ids for %d s",
                 ADOPTION_WINDOW_MS / 1000);
}

typedef struct same_offsets {
    int marked;     /* commits with the origin marker */
    bool all_same;  /* ... each "@<offset>" equal to the commit */
} same_offsets;

/* Does metadata (a commit of the sidecar's group sync, or any bytes a
 * client committed) say it was translated to the offset it had in the old
 * region: "strait.src=<region>@<offset>;..." with <offset> == offset? */
static bool marked_same(const char *metadata, size_t len, int64_t offset)
{
    reader r;
    reader_init(&r, metadata, len);
    reader_skip(&r, strlen(ORIGIN_MARKER));
    size_t region_bytes = 0;
    int8_t ch = reader_i8(&r);
    while (reader_ok(&r) && ch != '@' && ch != ';') {
        region_bytes++;
        ch = reader_i8(&r);
    }
    if (!reader_ok(&r) || ch != '@' || region_bytes == 0)
        return false;
    int64_t source = 0;
    int digits = 0;
    ch = reader_i8(&r);
    while (reader_ok(&r) && ch >= '0' && ch <= '9' && digits < 18) {
        source = source * 10 + (ch - '0');
        digits++;
        ch = reader_i8(&r);
    }
    return reader_ok(&r) && digits > 0 && ch == ';' && source == offset;
}

static void check_offset(void *arg, const char *topic, int32_t partition, const offset_value *v)
{
    (void)topic;
    (void)partition;
    same_offsets *s = arg;
    size_t prefix = strlen(ORIGIN_MARKER);
    if (!v->metadata || v->metadata_len < prefix || memcmp(v->metadata, ORIGIN_MARKER, prefix) != 0)
        return; /* a commit of the group's own here */
    s->marked++;
    if (!marked_same(v->metadata, v->metadata_len, v->offset))
        s->all_same = false;
}

int coordinator_adopt(coordinator *c, const char *group_id, const group_adoptee *a)
{
    if (c->adoption_opened_ms == 0 || c->loading)
        return GROUP_EUNKNOWN_MEMBER;
    if (clock_mono_ms() - c->adoption_opened_ms > ADOPTION_WINDOW_MS) {
        c->adoption_opened_ms = 0;
        log_info("group", "adoption closed: window over");
        return GROUP_EUNKNOWN_MEMBER;
    }
    coord_group *e = coord_lookup(c, group_id);
    if (!e)
        return GROUP_EUNKNOWN_MEMBER;
    for (int32_t i = 0; i < group_member_count(e->g); i++)
        if (!strcmp(group_member_at(e->g, i)->id, a->member_id))
            return group_is_adopted(e->g) ? GROUP_OK : GROUP_EUNKNOWN_MEMBER; /* known here */
    bool was_adopted = group_is_adopted(e->g) && group_member_count(e->g) > 0;
    if (!was_adopted) {
        if (group_current_state(e->g) != GROUP_EMPTY)
            return GROUP_EUNKNOWN_MEMBER;
        same_offsets s = {0, true};
        offsets_table_each(e->offsets, check_offset, &s);
        if (s.marked == 0 || !s.all_same) {
            if (e->adoption_refused_ms == c->adoption_opened_ms)
                return GROUP_EUNKNOWN_MEMBER; /* said once a window */
            e->adoption_refused_ms = c->adoption_opened_ms;
            log_info("group", "not adopted group=%s member=%s reason=%s", group_id, a->member_id,
                     s.marked == 0 ? "no commit synced from the old region"
                                   : "its commits were translated to other offsets");
            return GROUP_EUNKNOWN_MEMBER;
        }
    }
    int error = group_adopt(e->g, a, coord_now());
    if (error == GROUP_OK)
        log_info("group", "member adopted group=%s member=%s generation=%d members=%d",
                 group_id, a->member_id, (int)a->generation, (int)group_member_count(e->g));
    coord_arm(e);
    return error;
}
