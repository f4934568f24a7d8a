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

#include <event2/event.h>
#include <event2/http.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <event2/dns.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <event2/thread.h>

#endif
