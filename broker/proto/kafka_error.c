/* kafka_error.c - names of Kafka error codes (for logs and messages). */
#include "broker/proto/kafka_error.h"

const char *kafka_error_name(int code)
{
    switch (code) {
#define KAFKA_ERROR_NAME(name, value) case value: return &#name[5]; /* without the "KERR_" */
        KAFKA_ERROR_MAP(KAFKA_ERROR_NAME)
#undef KAFKA_ERROR_NAME
    }
    return "UNKNOWN";
}
