#ifndef CLOUD_AGENTS_MOCK_CLIBEVENT_SHIM_H
#define CLOUD_AGENTS_MOCK_CLIBEVENT_SHIM_H

// Debian's event2/event-config.h defines _GNU_SOURCE. Pull in the libc headers
// first so Swift files that import both Glibc and this module agree on fd_set.
#include <sys/types.h>
#include <sys/time.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <signal.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <event2/dns.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <event2/thread.h>

/*
 * Appends a header as evhttp_add_header does, without its checks and with a value of known
 * length, which may hold several header lines joined by CRLF: evhttp prints each header with
 * its own printf, and a reply's lines made by the caller cost one print instead of one each.
 * The caller has checked that nothing in the value ends a line where it should not. The
 * strings are malloc'ed, as evhttp frees them with its allocator, which is malloc's unless
 * event_set_mem_functions was called (it never is here). 0 on success, -1 when out of memory.
 */
static inline int cam_append_header(struct evkeyvalq *headers, const char *key, const char *value,
                                    size_t value_len) {
    struct evkeyval *header = calloc(1, sizeof *header);
    char *k = strdup(key);
    char *v = malloc(value_len + 1);
    if (header == NULL || k == NULL || v == NULL) {
        free(header);
        free(k);
        free(v);
        return -1;
    }
    memcpy(v, value, value_len);
    v[value_len] = 0;
    header->key = k;
    header->value = v;
    TAILQ_INSERT_TAIL(headers, header, next);
    return 0;
}

#endif
