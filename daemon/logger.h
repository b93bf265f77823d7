/*
 * logger: one line per event on stderr.  Under systemd (JOURNAL_STREAM set)
 * each line starts with the syslog priority "<N>" that journald reads;
 * on a terminal it starts with the level name.  Keys and secrets are never
 * passed here.
 */
#ifndef SCOPE_LOGGER_H
#define SCOPE_LOGGER_H

enum log_level { LOG_ERROR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

int log_parse_level(const char *s, enum log_level *out);
void log_set_level(enum log_level l);
void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
