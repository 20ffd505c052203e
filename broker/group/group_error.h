/*
 * group_error.h - the outcomes of the group module (group.h, coordinator.h)
 * as values, generated from one X-macro table like common/error.h.
 *
 * GROUP_OK is 0; every error is negative. The group module knows nothing of
 * the Kafka protocol: the API handlers in broker/proto choose the Kafka error
 * code a client sees for each value (group_apis.h, group_api_kafka_error).
 * The comment on each entry names the situation, not a wire code.
 */
#ifndef STRAIT_GROUP_ERROR_H
#define STRAIT_GROUP_ERROR_H

#define GROUP_ERROR_MAP(X)                                                                      \
    /* the group is Dead (being deleted) or its storage cannot be written */                    \
    X(GROUP_EUNAVAILABLE, 1, "group coordinator not available")                                  \
    X(GROUP_ESESSION_TIMEOUT, 2, "session timeout outside the broker's bounds")                  \
    X(GROUP_EPROTOCOL, 3, "protocol type or protocols not shared with the group")                \
    X(GROUP_EFULL, 4, "group has group.max.size members")                                        \
    /* out of memory, or written to storage but not kept in memory */                           \
    X(GROUP_EINTERNAL, 5, "internal error")                                                     \
    /* KIP-394: a first join gets its id and must join again with it */                         \
    X(GROUP_EMEMBER_ID_REQUIRED, 6, "member must rejoin with the member id it was given")        \
    /* KIP-345: another member id holds this group.instance.id */                               \
    X(GROUP_EFENCED_INSTANCE, 7, "static member fenced by a newer instance")                     \
    X(GROUP_EUNKNOWN_MEMBER, 8, "member id not known to the group")                              \
    X(GROUP_EGENERATION, 9, "generation is not the group's current one")                         \
    X(GROUP_EREBALANCING, 10, "group is rebalancing")                                            \
    X(GROUP_ENOT_FOUND, 11, "no such group")                                                     \
    X(GROUP_ENOT_EMPTY, 12, "group has members")                                                 \
    X(GROUP_ESUBSCRIBED, 13, "an active member subscribes to the topic")

enum group_error {
    GROUP_OK = 0,
#define GROUP_ERROR_ENUM(name, value, message) name = -(value),
    GROUP_ERROR_MAP(GROUP_ERROR_ENUM)
#undef GROUP_ERROR_ENUM
};

/* Human-readable message of a group error value; never NULL. */
const char *group_strerror(int err);

/* Symbolic name ("GROUP_EUNKNOWN_MEMBER") of a group error value; never NULL. */
const char *group_error_name(int err);

#endif
