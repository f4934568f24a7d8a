/* The floor under a fan-out: the CPU one thread spends to send() the same frame once to
 * each of N loopback TCP connections, M times, with a second thread draining the other
 * ends (as a reader process would). On loopback the kernel delivers the bytes to the
 * receiving socket inside the sender's system call, so this is the least a server can
 * spend per stream per event when every event is its own write.
 *
 * Paced as bench/fanout.py paces the mock: an event is sent only once every connection has
 * received the one before, and the time from its first send() to the moment the last
 * connection has all of it is that event's delivery to the last client. The first WARMUP
 * events are sent but not counted.
 *
 *   send_floor STREAMS EVENTS FRAME_BYTES [RCVBUF_BYTES]
 * RCVBUF_BYTES, when given, bounds each reading socket's buffer (SO_RCVBUF), so that a frame
 * larger than it and the sender's buffer together cannot go out in one send() (a check of the
 * tool itself; the benchmark leaves the buffers to the kernel).
 * prints: send_floor_us_per_send=<microseconds> sends=<count> would_block=<frames one send() could not take whole>
 *         last_p50_ms=<ms> last_p99_ms=<ms> last_max_ms=<ms>
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 10

static int *readers;
static int streams;
static volatile int done;

/* What the drain thread has seen of the event being sent: bytes per connection, how many
 * connections have the whole event, and when the last one got it. */
static long *received;
static long expected;     /* bytes each connection has once it has the current event */
static int complete;      /* connections that have them */
static long last_ns;      /* when the last of them did */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_in = PTHREAD_COND_INITIALIZER;

static long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Sends the whole frame: whatever a non-blocking send() leaves (a full socket buffer) is
 * sent once the socket can take it. Returns whether one send() could not take it all. */
static int send_whole(int fd, const char *frame, int length) {
    int sent = 0;
    int calls = 0;
    while (sent < length) {
        calls++;
        ssize_t n = send(fd, frame + sent, length - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            sent += n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, 1000);
        } else if (n < 0 && errno != EINTR) {
            perror("send");
            exit(1);
        }
    }
    return calls > 1;
}

static int by_value(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static double thread_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *drain(void *arg) {
    (void)arg;
    int ep = epoll_create1(0);
    for (int i = 0; i < streams; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, readers[i], &ev);
    }
    char buf[65536];
    struct epoll_event ready[256];
    while (!done) {
        int n = epoll_wait(ep, ready, 256, 100);
        for (int i = 0; i < n; i++) {
            int c = (int)ready[i].data.u32;
            ssize_t got;
            while ((got = recv(readers[c], buf, sizeof buf, MSG_DONTWAIT)) > 0) {
                received[c] += got;
            }
            pthread_mutex_lock(&lock);
            if (received[c] == expected && ++complete == streams) {
                last_ns = now_ns();
                pthread_cond_signal(&all_in);
            }
            pthread_mutex_unlock(&lock);
        }
    }
    close(ep);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s STREAMS EVENTS FRAME_BYTES [RCVBUF_BYTES]\n", argv[0]);
        return 2;
    }
    streams = atoi(argv[1]);
    int events = atoi(argv[2]);
    int frame_bytes = atoi(argv[3]);
    int rcvbuf = argc == 5 ? atoi(argv[4]) : 0;
    if (streams <= 0 || events <= 0 || frame_bytes <= 0) {
        fprintf(stderr, "%s: STREAMS, EVENTS and FRAME_BYTES must be positive\n", argv[0]);
        return 2;
    }
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 4096) ||
        getsockname(listener, (struct sockaddr *)&addr, &len)) {
        perror("listen");
        return 1;
    }
    readers = calloc(streams, sizeof(int));
    received = calloc(streams, sizeof(long));
    int *senders = calloc(streams, sizeof(int));
    int one = 1;
    for (int i = 0; i < streams; i++) {
        readers[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (rcvbuf > 0) setsockopt(readers[i], SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        if (connect(readers[i], (struct sockaddr *)&addr, sizeof addr)) {
            perror("connect");
            return 1;
        }
        senders[i] = accept(listener, NULL, NULL);
        if (senders[i] < 0) {
            perror("accept");
            return 1;
        }
        setsockopt(senders[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    char *frame = malloc(frame_bytes);
    memset(frame, 'x', frame_bytes);
    pthread_t reader;
    pthread_create(&reader, NULL, drain, NULL);
    long sends = 0, would_block = 0;
    double spent = 0;
    long *latency = calloc(events, sizeof(long));
    for (int e = 0; e < WARMUP + events; e++) {
        pthread_mutex_lock(&lock);
        expected += frame_bytes;
        complete = 0;
        pthread_mutex_unlock(&lock);
        long t0 = now_ns();
        double start = thread_cpu_seconds();
        int waited = 0;
        for (int i = 0; i < streams; i++) waited += send_whole(senders[i], frame, frame_bytes);
        double took = thread_cpu_seconds() - start;
        pthread_mutex_lock(&lock);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 30;
        while (complete < streams) {
            if (pthread_cond_timedwait(&all_in, &lock, &deadline) == ETIMEDOUT) {
                fprintf(stderr, "event %d: %d of %d connections got it within 30 s\n", e, complete, streams);
                return 1;
            }
        }
        long last = last_ns;
        pthread_mutex_unlock(&lock);
        if (e >= WARMUP) {
            spent += took;
            sends += streams;
            would_block += waited;
            latency[e - WARMUP] = last - t0;
        }
    }
    done = 1;
    pthread_join(reader, NULL);
    qsort(latency, events, sizeof(long), by_value);
    /* Nearest rank, as bench/fanout.py takes the mock's. */
    int p50 = (events + 1) / 2 - 1;
    int p99 = (events * 99 + 99) / 100 - 1;
    printf("send_floor_us_per_send=%.3f sends=%ld would_block=%ld last_p50_ms=%.3f last_p99_ms=%.3f "
           "last_max_ms=%.3f\n",
           spent * 1e6 / sends, sends, would_block, latency[p50] / 1e6, latency[p99] / 1e6,
           latency[events - 1] / 1e6);
    return 0;
}
