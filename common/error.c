/* error.c - names and messages for the error values in error.h. */
#include "common/error.h"

const char *strait_strerror(int err)
{
    switch (err) {
    case ST_OK: return "success";
#define ST_ERROR_MSG(name, value, message) case name: return message;
    ST_ERROR_MAP(ST_ERROR_MSG)
#undef ST_ERROR_MSG
    }
    return "unknown error";
}

const char *strait_error_name(int err)
{
    switch (err) {
    case ST_OK: return "ST_OK";
#define ST_ERROR_NAME(name, value, message) case name: return #name;
    ST_ERROR_MAP(ST_ERROR_NAME)
#undef ST_ERROR_NAME
    }
    return "ST_EUNKNOWN";
}
