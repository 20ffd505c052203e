/*
 * log.h - one line per event on stderr:
 *   2026-11-26T05:30:00.123Z INFO broker: message key=value
 * The level threshold comes from STRAIT_LOG_LEVEL (debug|info|warn|error)
 * or log_set_level().
 */
#ifndef STRAIT_LOG_H
#define STRAIT_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn", "error"; returns -1 if unknown. */
int log_level_parse(const char *name);
int log_enabled(enum log_level level);

void log_write(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(module, ...) \
    do { if (log_enabled(LOG_DEBUG)) log_write(LOG_DEBUG, module, __VA_ARGS__); } while (0)
#define log_info(module, ...) log_write(LOG_INFO, module, __VA_ARGS__)
#define log_warn(module, ...) log_write(LOG_WARN, module, __VA_ARGS__)
#define log_error(module, ...) log_write(LOG_ERROR, module, __VA_ARGS__)

#endif
