/* group_error.c - names and messages for the error values in group_error.h. */
#include "broker/group/group_error.h"

const char *group_strerror(int err)
{
    switch (err) {
    case GROUP_OK: return "success";
#define GROUP_ERROR_MSG(name, value, message) case name: return message;
    GROUP_ERROR_MAP(GROUP_ERROR_MSG)
#undef GROUP_ERROR_MSG
    }
    return "unknown group error";
}

const char *group_error_name(int err)
{
    switch (err) {
    case GROUP_OK: return "GROUP_OK";
#define GROUP_ERROR_NAME(name, value, message) case name: return #name;
    GROUP_ERROR_MAP(GROUP_ERROR_NAME)
#undef GROUP_ERROR_NAME
    }
    return "GROUP_EUNKNOWN";
}
