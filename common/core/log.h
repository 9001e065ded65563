/*
 * A log event as the engines report it: plain data, formatted by whoever
 * receives it (common/io/logsink.h writes text or JSON lines to stderr or
 * a file).  The engines fill what they know and leave the rest zero/NULL;
 * `message` is always set: one sentence for a person.
 *
 * Strings are borrowed for the duration of the call only.
 */
#ifndef SALVO_LOG_H
#define SALVO_LOG_H

#include <stdint.h>

enum salvo_log_level {
	SALVO_LOG_ERROR = 0,
	SALVO_LOG_WARN,
	SALVO_LOG_INFO,
	SALVO_LOG_DEBUG,
	SALVO_LOG_TRACE,
};

typedef struct salvo_log_event {
	enum salvo_log_level level;
	const char *event;   /* short snake_case name: "file_received" ... */
	uint32_t session;    /* 0: none */
	const char *peer;    /* "addr:port", or NULL */
	const char *file;    /* path below the receiver's root, or NULL */
	uint64_t bytes;	     /* file or session bytes, 0: none */
	uint64_t elapsed_ns; /* how long it took, 0: none */
	uint64_t rate_bps;   /* bytes * 8 / elapsed, 0: none */
	const char *message; /* the sentence for a person; never NULL */
} salvo_log_event;

/* Receives one event; called from engine threads, serialised by the
 * engine that calls it. */
typedef void (*salvo_log_fn)(void *ud, const salvo_log_event *ev);

#endif
