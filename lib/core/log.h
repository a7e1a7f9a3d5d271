/*
 * log.h - leveled logging to the console.
 *
 * Each line names its level and the function that logged it:
 *   [  12.345678] info  udp_input: port 7 bound
 * The level threshold lives in the loop (per node), set by the boot
 * argument log=error|warn|info|debug (default info).
 */
#ifndef ATOLL_CORE_LOG_H
#define ATOLL_CORE_LOG_H

struct loop;

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_msg(const struct loop *l, enum log_level lvl, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parse "error", "warn", "info" or "debug"; -1 if none of them. */
int log_level_parse(const char *s);

#define LOG_ERROR(l, ...) log_msg((l), LOG_ERROR, __func__, __VA_ARGS__)
#define LOG_WARN(l, ...)  log_msg((l), LOG_WARN, __func__, __VA_ARGS__)
#define LOG_INFO(l, ...)  log_msg((l), LOG_INFO, __func__, __VA_ARGS__)
#define LOG_DEBUG(l, ...) log_msg((l), LOG_DEBUG, __func__, __VA_ARGS__)

#endif
