/*
 * kafka_error.h - Kafka protocol error codes (the protocol edge only), from
 * one table: code, name as in the Kafka protocol guide.
 */
#ifndef STRAIT_KAFKA_ERROR_H
#define STRAIT_KAFKA_ERROR_H

#define KAFKA_ERROR_MAP(X)                          \
    X(KERR_UNKNOWN_SERVER_ERROR, -1)                \
    X(KERR_NONE, 0)                                 \
    X(KERR_OFFSET_OUT_OF_RANGE, 1)                  \
    X(KERR_CORRUPT_MESSAGE, 2)                      \
    X(KERR_UNKNOWN_TOPIC_OR_PARTITION, 3)           \
    X(KERR_INVALID_FETCH_SIZE, 4)                   \
    X(KERR_LEADER_NOT_AVAILABLE, 5)                 \
    X(KERR_NOT_LEADER_OR_FOLLOWER, 6)               \
    X(KERR_REQUEST_TIMED_OUT, 7)                    \
    X(KERR_MESSAGE_TOO_LARGE, 10)                   \
    X(KERR_OFFSET_METADATA_TOO_LARGE, 12)           \
    X(KERR_NETWORK_EXCEPTION, 13)                   \
    X(KERR_COORDINATOR_LOAD_IN_PROGRESS, 14)        \
    X(KERR_COORDINATOR_NOT_AVAILABLE, 15)           \
    X(KERR_NOT_COORDINATOR, 16)                     \
    X(KERR_INVALID_TOPIC_EXCEPTION, 17)             \
    X(KERR_RECORD_LIST_TOO_LARGE, 18)               \
    X(KERR_NOT_ENOUGH_REPLICAS, 19)                 \
    X(KERR_INVALID_REQUIRED_ACKS, 21)               \
    X(KERR_ILLEGAL_GENERATION, 22)                  \
    X(KERR_INCONSISTENT_GROUP_PROTOCOL, 23)         \
    X(KERR_INVALID_GROUP_ID, 24)                    \
    X(KERR_UNKNOWN_MEMBER_ID, 25)                   \
    X(KERR_INVALID_SESSION_TIMEOUT, 26)             \
    X(KERR_REBALANCE_IN_PROGRESS, 27)               \
    X(KERR_INVALID_COMMIT_OFFSET_SIZE, 28)          \
    X(KERR_TOPIC_AUTHORIZATION_FAILED, 29)          \
    X(KERR_GROUP_AUTHORIZATION_FAILED, 30)          \
    X(KERR_CLUSTER_AUTHORIZATION_FAILED, 31)        \
    X(KERR_INVALID_TIMESTAMP, 32)                   \
    X(KERR_UNSUPPORTED_SASL_MECHANISM, 33)          \
    X(KERR_ILLEGAL_SASL_STATE, 34)                  \
    X(KERR_UNSUPPORTED_VERSION, 35)                 \
    X(KERR_TOPIC_ALREADY_EXISTS, 36)                \
    X(KERR_INVALID_PARTITIONS, 37)                  \
    X(KERR_INVALID_REPLICATION_FACTOR, 38)          \
    X(KERR_INVALID_REPLICA_ASSIGNMENT, 39)          \
    X(KERR_INVALID_CONFIG, 40)                      \
    X(KERR_NOT_CONTROLLER, 41)                      \
    X(KERR_INVALID_REQUEST, 42)                     \
    X(KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT, 43)      \
    X(KERR_POLICY_VIOLATION, 44)                    \
    X(KERR_OUT_OF_ORDER_SEQUENCE_NUMBER, 45)        \
    X(KERR_DUPLICATE_SEQUENCE_NUMBER, 46)           \
    X(KERR_INVALID_PRODUCER_EPOCH, 47)              \
    X(KERR_INVALID_TXN_STATE, 48)                   \
    X(KERR_INVALID_PRODUCER_ID_MAPPING, 49)         \
    X(KERR_INVALID_TRANSACTION_TIMEOUT, 50)         \
    X(KERR_CONCURRENT_TRANSACTIONS, 51)             \
    X(KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 53) \
    X(KERR_SECURITY_DISABLED, 54)                   \
    X(KERR_KAFKA_STORAGE_ERROR, 56)                 \
    X(KERR_LOG_DIR_NOT_FOUND, 57)                   \
    X(KERR_SASL_AUTHENTICATION_FAILED, 58)          \
    X(KERR_UNKNOWN_PRODUCER_ID, 59)                 \
    X(KERR_REASSIGNMENT_IN_PROGRESS, 60)            \
    X(KERR_NON_EMPTY_GROUP, 68)                     \
    X(KERR_GROUP_ID_NOT_FOUND, 69)                  \
    X(KERR_FETCH_SESSION_ID_NOT_FOUND, 70)          \
    X(KERR_INVALID_FETCH_SESSION_EPOCH, 71)         \
    X(KERR_TOPIC_DELETION_DISABLED, 73)             \
    X(KERR_FENCED_LEADER_EPOCH, 74)                 \
    X(KERR_UNKNOWN_LEADER_EPOCH, 75)                \
    X(KERR_UNSUPPORTED_COMPRESSION_TYPE, 76)        \
    X(KERR_STALE_BROKER_EPOCH, 77)                  \
    X(KERR_OFFSET_NOT_AVAILABLE, 78)                \
    X(KERR_MEMBER_ID_REQUIRED, 79)                  \
    X(KERR_PREFERRED_LEADER_NOT_AVAILABLE, 80)      \
    X(KERR_GROUP_MAX_SIZE_REACHED, 81)              \
    X(KERR_FENCED_INSTANCE_ID, 82)                  \
    X(KERR_GROUP_SUBSCRIBED_TO_TOPIC, 86)           \
    X(KERR_INVALID_RECORD, 87)                      \
    X(KERR_UNSTABLE_OFFSET_COMMIT, 88)              \
    X(KERR_THROTTLING_QUOTA_EXCEEDED, 89)           \
    X(KERR_PRODUCER_FENCED, 90)                     \
    X(KERR_RESOURCE_NOT_FOUND, 91)                  \
    X(KERR_DUPLICATE_RESOURCE, 92)                  \
    X(KERR_UNACCEPTABLE_CREDENTIAL, 93)             \
    X(KERR_INCONSISTENT_VOTER_SET, 94)              \
    X(KERR_INVALID_UPDATE_VERSION, 95)              \
    X(KERR_FEATURE_UPDATE_FAILED, 96)               \
    X(KERR_UNKNOWN_TOPIC_ID, 100)                   \
    X(KERR_INCONSISTENT_TOPIC_ID, 103)

enum kafka_error {
#define KAFKA_ERROR_ENUM(name, code) name = (code),
    KAFKA_ERROR_MAP(KAFKA_ERROR_ENUM)
#undef KAFKA_ERROR_ENUM
};

/* Name as in the protocol guide without the KERR_ prefix ("NOT_COORDINATOR"). */
const char *kafka_error_name(int code);

#endif
