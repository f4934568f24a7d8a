/*
 * sse_reader: holds N Server-Sent Event streams open on one URL and times every event.
 *
 * One thread, one epoll set, non-blocking sockets. Each connection sends
 *   GET PATH HTTP/1.1 / Accept: text/event-stream / Authorization: Bearer bench
 * reads the response head (must be 200), undoes chunked transfer encoding, and splits
 * the body into SSE frames. Comment lines (": heartbeat") are skipped; a frame counts
 * when its blank line arrives and it carried an `id:`.
 *
 * The first --history K frames of every connection are the replayed history. Once every
 * connection has its head and K frames, "ready N" goes to stdout. The frames after
 * that are live: the i-th live frame of every connection must carry the same id (the
 * first connection to see index i fixes it), so a lost, repeated or reordered event
 * on any connection shows up as a mismatch. With --ack, "got I" goes to stdout as soon as
 * live event I has reached every connection (completions come in order, since each
 * connection receives in order).
 *
 * Receipt time: CLOCK_MONOTONIC in nanoseconds, read right after the read() that
 * brought the frame's last byte (the clock Python's time.monotonic_ns() reads).
 *
 * Exit: when every connection has --events M live frames; or, with M = 0, when stdin
 * closes (so a driver can hold N streams open as long as it likes); or at --timeout-ms.
 * Results go to --out as text:
 *   conns N / history K / events M / complete C / errors E / failed F / ready R
 *   live_cpu_us U   (this reader's own CPU time after "ready", so a driver can see it is not the bottleneck)
 *   ev INDEX ID MIN_NS MEDIAN_NS MAX_NS RECEIVED
 * and "done" or "incomplete" to stdout. Exit status 0 only if nothing was missing,
 * mismatched, refused or closed early.
 *
 * Build: cc -O2 -o sse_reader sse_reader.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ID_MAX 96
#define LINE_MAX_BYTES 4096

enum state { ST_IDLE, ST_CONNECTING, ST_HEAD, ST_BODY, ST_DONE, ST_FAILED };
enum chunk_state { CK_SIZE, CK_SIZE_EXT, CK_DATA, CK_DATA_CR, CK_DATA_LF, CK_END };

struct conn {
    int fd;
    enum state st;
    /* response head */
    char head[4096];
    size_t head_len;
    /* chunked decoding */
    enum chunk_state ck;
    size_t chunk_left;
    /* SSE line assembly */
    char line[LINE_MAX_BYTES];
    size_t line_len;
    int line_overflow;
    char cur_id[ID_MAX];
    int has_id;
    /* progress */
    long frames;        /* frames with an id, history included */
    long live;          /* live frames seen */
    int mismatched;
};

static const char *g_host = "127.0.0.1";
static int g_port = 0;
static const char *g_path = "/";
static long g_n = 1;
static long g_history = 0;
static long g_events = 0;
static long g_timeout_ms = 120000;
static long g_inflight_max = 64;
static const char *g_out = NULL;
static int g_ack = 0;

static struct conn *g_conns;
static int64_t *g_times;        /* g_n x g_events receipt times, 0 = not received */
static char (*g_ids)[ID_MAX];   /* canonical id of each live index */
static long *g_count;           /* connections that have each live index */
static long g_acked = 0;        /* live indices announced with "got" */
static long g_ready_conns = 0;  /* connections with head and history */
static int g_ready_printed = 0;
static long g_done_conns = 0;
static long g_failed = 0;
static long g_errors = 0;       /* mismatched ids and frames beyond --events */
static long g_next_connect = 0; /* next connection to open */
static long g_inflight = 0;     /* connecting or waiting for head and history */
static int g_ep;
static char g_request[1024];
static size_t g_request_len;
static struct sockaddr_in g_addr;
static int64_t g_cpu_at_ready = -1; /* this process's CPU time (µs) when "ready" was printed */

static int64_t cpu_us(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fail(struct conn *c, const char *why) {
    long i = c - g_conns;
    if (c->st == ST_FAILED) return;
    if (g_failed < 10) fprintf(stderr, "sse_reader: connection %ld: %s\n", i, why);
    int counted_ready = c->st == ST_DONE || (c->st == ST_BODY && c->frames >= g_history);
    if (c->st == ST_CONNECTING || c->st == ST_HEAD || (c->st == ST_BODY && !counted_ready)) g_inflight--;
    if (counted_ready) g_ready_conns--;
    if (c->st == ST_DONE) g_done_conns--;
    c->st = ST_FAILED;
    g_failed++;
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

static void open_more(void) {
    while (g_next_connect < g_n && g_inflight < g_inflight_max) {
        struct conn *c = &g_conns[g_next_connect];
        long idx = g_next_connect++;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            c->fd = -1;
            c->st = ST_CONNECTING;
            g_inflight++;
            fail(c, strerror(errno));
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->st = ST_CONNECTING;
        g_inflight++;
        int rc = connect(fd, (struct sockaddr *)&g_addr, sizeof g_addr);
        if (rc < 0 && errno != EINPROGRESS) {
            fail(c, strerror(errno));
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.u64 = (uint64_t)idx};
        if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev) < 0) fail(c, strerror(errno));
    }
}

static void print_line(const char *fmt, long v) {
    printf(fmt, v);
    fflush(stdout);
}

/* One complete frame with an id arrived on connection c at time t. */
static void frame(struct conn *c, int64_t t) {
    long i = c - g_conns;
    if (c->st == ST_FAILED) return;
    c->frames++;
    if (c->frames <= g_history) {
        if (c->frames == g_history) {
            g_inflight--;
            g_ready_conns++;
        }
        return;
    }
    long k = c->live++;
    if (k >= g_events) {
        /* more live frames than asked for only matters when counting events */
        if (g_events > 0) g_errors++;
        return;
    }
    if (g_count[k] == 0 && g_ids[k][0] == 0) {
        memcpy(g_ids[k], c->cur_id, ID_MAX);
    } else if (strcmp(g_ids[k], c->cur_id) != 0) {
        /* a lost, repeated or reordered event: this connection's record ends here */
        if (g_errors < 10)
            fprintf(stderr, "sse_reader: connection %ld live event %ld is %s, others got %s\n", i, k, c->cur_id,
                    g_ids[k]);
        c->mismatched = 1;
        g_errors++;
        fail(c, "out of order");
        return;
    }
    g_times[(size_t)i * (size_t)g_events + (size_t)k] = t;
    g_count[k]++;
    if (g_ack) {
        while (g_acked < g_events && g_count[g_acked] == g_n - g_failed && g_n - g_failed > 0) {
            print_line("got %ld\n", g_acked);
            g_acked++;
        }
    }
    if (c->live == g_events) {
        c->st = ST_DONE;
        g_done_conns++;
    }
}

static void sse_line(struct conn *c, int64_t t) {
    if (c->line_overflow) { /* a data line longer than our buffer: nothing in it matters */
        c->line_overflow = 0;
        return;
    }
    size_t n = c->line_len;
    if (n > 0 && c->line[n - 1] == '\r') n--;
    if (n == 0) { /* end of frame */
        if (c->has_id) frame(c, t);
        c->has_id = 0;
        return;
    }
    if (c->line[0] == ':') return; /* comment or heartbeat */
    if (n >= 3 && memcmp(c->line, "id:", 3) == 0) {
        size_t s = 3;
        if (s < n && c->line[s] == ' ') s++;
        size_t len = n - s;
        if (len >= ID_MAX) len = ID_MAX - 1;
        memcpy(c->cur_id, c->line + s, len);
        c->cur_id[len] = 0;
        c->has_id = 1;
    }
}

static void sse_bytes(struct conn *c, const char *p, size_t n, int64_t t) {
    for (size_t k = 0; k < n;) {
        const char *nl = memchr(p + k, '\n', n - k);
        size_t take = nl ? (size_t)(nl - (p + k)) : n - k;
        /* only id lines and blank lines matter, so keep at most the buffer's worth */
        size_t room = sizeof c->line - c->line_len;
        if (take > room) {
            c->line_overflow = 1;
            memcpy(c->line + c->line_len, p + k, room);
            c->line_len += room;
        } else {
            memcpy(c->line + c->line_len, p + k, take);
            c->line_len += take;
        }
        k += take;
        if (nl) {
            sse_line(c, t);
            c->line_len = 0;
            k++;
        }
    }
}

/* Undoes chunked transfer encoding and hands the data on. Returns -1 on a broken body or its end. */
static int body_bytes(struct conn *c, const char *p, size_t n, int64_t t) {
    size_t k = 0;
    while (k < n) {
        char ch = p[k];
        switch (c->ck) {
        case CK_SIZE:
            if (ch >= '0' && ch <= '9') c->chunk_left = c->chunk_left * 16 + (size_t)(ch - '0');
            else if (ch >= 'a' && ch <= 'f') c->chunk_left = c->chunk_left * 16 + (size_t)(ch - 'a' + 10);
            else if (ch >= 'A' && ch <= 'F') c->chunk_left = c->chunk_left * 16 + (size_t)(ch - 'A' + 10);
            else if (ch == '\r' || ch == ';') c->ck = CK_SIZE_EXT;
            else if (ch == '\n') c->ck = c->chunk_left ? CK_DATA : CK_END;
            else return -1;
            k++;
            break;
        case CK_SIZE_EXT:
            if (ch == '\n') c->ck = c->chunk_left ? CK_DATA : CK_END;
            k++;
            break;
        case CK_DATA: {
            size_t take = n - k < c->chunk_left ? n - k : c->chunk_left;
            sse_bytes(c, p + k, take, t);
            k += take;
            c->chunk_left -= take;
            if (c->chunk_left == 0) c->ck = CK_DATA_CR;
            break;
        }
        case CK_DATA_CR:
            if (ch == '\r') c->ck = CK_DATA_LF;
            else if (ch == '\n') c->ck = CK_SIZE;
            else return -1;
            k++;
            break;
        case CK_DATA_LF:
            if (ch != '\n') return -1;
            c->ck = CK_SIZE;
            k++;
            break;
        case CK_END:
            return -1; /* the server ended the stream */
        }
    }
    return c->ck == CK_END ? -1 : 0;
}

static void on_readable(struct conn *c) {
    char buf[65536];
    while (c->fd >= 0) {
        ssize_t r = read(c->fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            fail(c, strerror(errno));
            return;
        }
        if (r == 0) {
            if (c->st != ST_DONE) fail(c, "the server closed the connection");
            else {
                close(c->fd);
                c->fd = -1;
            }
            return;
        }
        int64_t t = now_ns();
        const char *p = buf;
        size_t n = (size_t)r;
        if (c->st == ST_HEAD) {
            size_t room = sizeof c->head - 1 - c->head_len;
            size_t take = n < room ? n : room;
            memcpy(c->head + c->head_len, p, take);
            c->head_len += take;
            c->head[c->head_len] = 0;
            char *end = strstr(c->head, "\r\n\r\n");
            if (!end) {
                if (c->head_len == sizeof c->head - 1) fail(c, "response head too long");
                continue;
            }
            if (strncmp(c->head, "HTTP/1.1 200", 12) != 0) {
                char *eol = strchr(c->head, '\r');
                if (eol) *eol = 0;
                fail(c, c->head);
                return;
            }
            if (!strcasestr(c->head, "transfer-encoding: chunked")) {
                fail(c, "response is not chunked");
                return;
            }
            size_t head_bytes = (size_t)(end + 4 - c->head) - (c->head_len - take);
            p += head_bytes;
            n -= head_bytes;
            c->st = ST_BODY;
            if (g_history == 0) {
                g_inflight--;
                g_ready_conns++;
            }
        }
        if (n > 0 && body_bytes(c, p, n, t) < 0) {
            if (c->st != ST_DONE) fail(c, "the stream ended or its chunked body is broken");
            return;
        }
        /* a short read emptied the socket: epoll (level-triggered) says when more comes,
           which saves the read that would only answer EAGAIN */
        if ((size_t)r < sizeof buf) return;
    }
}

static void on_writable(struct conn *c) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        fail(c, strerror(err));
        return;
    }
    /* the request is far below a socket buffer: one write takes it */
    ssize_t w = write(c->fd, g_request, g_request_len);
    if (w != (ssize_t)g_request_len) {
        fail(c, "could not send the request");
        return;
    }
    c->st = ST_HEAD;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)(c - g_conns)};
    epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int write_results(void) {
    long complete = 0;
    for (long i = 0; i < g_n; i++)
        if (g_conns[i].st == ST_DONE && !g_conns[i].mismatched) complete++;
    FILE *f = g_out ? fopen(g_out, "w") : NULL;
    if (g_out && !f) {
        perror(g_out);
        return 1;
    }
    if (f) {
        fprintf(f, "conns %ld\nhistory %ld\nevents %ld\ncomplete %ld\nerrors %ld\nfailed %ld\nready %ld\n", g_n,
                g_history, g_events, complete, g_errors, g_failed, g_ready_conns);
        if (g_cpu_at_ready >= 0) fprintf(f, "live_cpu_us %lld\n", (long long)(cpu_us() - g_cpu_at_ready));
        int64_t *col = malloc(sizeof(int64_t) * (size_t)(g_n ? g_n : 1));
        for (long k = 0; k < g_events; k++) {
            long m = 0;
            for (long i = 0; i < g_n; i++) {
                int64_t t = g_times[(size_t)i * (size_t)g_events + (size_t)k];
                if (t) col[m++] = t;
            }
            if (m == 0) {
                fprintf(f, "ev %ld - 0 0 0 0\n", k);
                continue;
            }
            qsort(col, (size_t)m, sizeof *col, cmp_i64);
            fprintf(f, "ev %ld %s %lld %lld %lld %ld\n", k, g_ids[k][0] ? g_ids[k] : "-", (long long)col[0],
                    (long long)col[m / 2], (long long)col[m - 1], m);
        }
        free(col);
        fclose(f);
    }
    int ok = g_failed == 0 && g_errors == 0 && g_ready_conns == g_n && (g_events == 0 || complete == g_n);
    printf("%s\n", ok ? "done" : "incomplete");
    fflush(stdout);
    return ok ? 0 : 1;
}

static void usage(void) {
    fprintf(stderr,
            "usage: sse_reader --port P --path PATH [--host 127.0.0.1] [--conns N] [--history K]\n"
            "                  [--events M] [--timeout-ms T] [--inflight 64] [--ack] [--out FILE]\n");
    exit(2);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--ack")) { g_ack = 1; continue; }
        if (!v) usage();
        if (!strcmp(a, "--host")) g_host = v;
        else if (!strcmp(a, "--port")) g_port = atoi(v);
        else if (!strcmp(a, "--path")) g_path = v;
        else if (!strcmp(a, "--conns")) g_n = atol(v);
        else if (!strcmp(a, "--history")) g_history = atol(v);
        else if (!strcmp(a, "--events")) g_events = atol(v);
        else if (!strcmp(a, "--timeout-ms")) g_timeout_ms = atol(v);
        else if (!strcmp(a, "--inflight")) g_inflight_max = atol(v);
        else if (!strcmp(a, "--out")) g_out = v;
        else usage();
        i++;
    }
    if (g_port <= 0 || g_n <= 0 || g_history < 0 || g_events < 0 || g_inflight_max <= 0) usage();

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    memset(&g_addr, 0, sizeof g_addr);
    g_addr.sin_family = AF_INET;
    g_addr.sin_port = htons((uint16_t)g_port);
    if (inet_pton(AF_INET, g_host, &g_addr.sin_addr) != 1) {
        fprintf(stderr, "sse_reader: --host must be an IPv4 address\n");
        return 2;
    }
    g_request_len = (size_t)snprintf(g_request, sizeof g_request,
                                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n"
                                     "Authorization: Bearer bench\r\nConnection: keep-alive\r\n\r\n",
                                     g_path, g_host, g_port);

    g_conns = calloc((size_t)g_n, sizeof *g_conns);
    g_times = calloc((size_t)g_n * (size_t)(g_events ? g_events : 1), sizeof *g_times);
    g_ids = calloc((size_t)(g_events ? g_events : 1), sizeof *g_ids);
    g_count = calloc((size_t)(g_events ? g_events : 1), sizeof *g_count);
    if (!g_conns || !g_times || !g_ids || !g_count) {
        fprintf(stderr, "sse_reader: out of memory\n");
        return 2;
    }
    for (long i = 0; i < g_n; i++) g_conns[i].fd = -1;

    g_ep = epoll_create1(EPOLL_CLOEXEC);
    /* stdin: its end tells a holding reader (--events 0) to finish */
    const uint64_t STDIN_TAG = UINT64_MAX;
    int watch_stdin = g_events == 0;
    if (watch_stdin) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = STDIN_TAG};
        if (epoll_ctl(g_ep, EPOLL_CTL_ADD, 0, &ev) < 0) watch_stdin = 0;
    }

    int64_t deadline = now_ns() + g_timeout_ms * 1000000LL;
    open_more();
    struct epoll_event evs[512];
    int stdin_closed = 0;
    for (;;) {
        if (!g_ready_printed && g_ready_conns + g_failed >= g_n && g_next_connect == g_n) {
            g_ready_printed = 1;
            g_cpu_at_ready = cpu_us();
            print_line("ready %ld\n", g_ready_conns);
            if (g_failed) break;
        }
        if (g_ready_printed && g_events > 0 && g_done_conns + g_failed >= g_n) break;
        if (g_ready_printed && g_events == 0 && (stdin_closed || !watch_stdin)) break;
        int64_t left = deadline - now_ns();
        if (left <= 0) {
            fprintf(stderr, "sse_reader: deadline passed\n");
            break;
        }
        int ms = (int)((left + 999999) / 1000000);
        int n = epoll_wait(g_ep, evs, 512, ms);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            break;
        }
        for (int e = 0; e < n; e++) {
            if (evs[e].data.u64 == STDIN_TAG) {
                char tmp[256];
                ssize_t r = read(0, tmp, sizeof tmp);
                if (r <= 0) {
                    stdin_closed = 1;
                    epoll_ctl(g_ep, EPOLL_CTL_DEL, 0, NULL);
                }
                continue;
            }
            struct conn *c = &g_conns[evs[e].data.u64];
            if (c->fd < 0) continue;
            if (c->st == ST_CONNECTING) {
                if (evs[e].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_writable(c);
                if (c->st == ST_CONNECTING || c->fd < 0) continue;
            }
            if (evs[e].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c);
        }
        open_more();
    }
    int rc = write_results();
    for (long i = 0; i < g_n; i++)
        if (g_conns[i].fd >= 0) close(g_conns[i].fd);
    return rc;
}
