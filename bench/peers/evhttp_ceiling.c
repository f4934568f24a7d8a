/*
 * The ceiling peer of the throughput benchmark: libevent's evhttp on one thread (as the mock
 * runs) answering every GET with the same bytes, read once from a file at start, as
 * application/json. Whatever the mock does per request beyond this (routing, auth, building and
 * encoding the page) is the gap between the two.
 *
 *   evhttp_ceiling BODY_FILE
 *
 * Binds 127.0.0.1 on a free port and prints `listening on http://127.0.0.1:PORT` once
 * listening. SIGTERM or SIGINT ends the loop and the process exits 0.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static char *body;
static size_t body_len;

static void answer(struct evhttp_request *req, void *arg) {
    (void)arg;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        evhttp_send_error(req, 405, NULL);
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    struct evbuffer *out = evbuffer_new();
    /* A reference, not a copy: the ceiling does the least work an answer can take. */
    evbuffer_add_reference(out, body, body_len, NULL, NULL);
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

static void on_signal(evutil_socket_t fd, short what, void *base) {
    (void)fd;
    (void)what;
    event_base_loopbreak(base);
}

static int read_body(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return -1;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return -1; }
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return -1; }
    body = malloc(size > 0 ? (size_t)size : 1);
    body_len = body ? fread(body, 1, (size_t)size, f) : 0;
    fclose(f);
    return (body != NULL && body_len == (size_t)size) ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s BODY_FILE\n", argv[0]);
        return 2;
    }
    if (read_body(argv[1]) != 0) {
        perror(argv[1]);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    if (http == NULL) {
        fprintf(stderr, "could not set up libevent\n");
        return 1;
    }
    evhttp_set_gencb(http, answer, NULL);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    if (bound == NULL) {
        fprintf(stderr, "could not bind 127.0.0.1\n");
        return 1;
    }
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&addr, &len) != 0) {
        perror("getsockname");
        return 1;
    }
    struct event *term = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *intr = evsignal_new(base, SIGINT, on_signal, base);
    event_add(term, NULL);
    event_add(intr, NULL);

    printf("listening on http://127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    event_base_dispatch(base);

    event_free(term);
    event_free(intr);
    evhttp_free(http);
    event_base_free(base);
    free(body);
    return 0;
}
