/* The floor under a fan-out: the CPU one thread spends to send() the same frame once to
 * each of N loopback TCP connections, M times, with a second thread draining the other
 * ends (as a reader process would). On loopback the kernel delivers the bytes to the
 * receiving socket inside the sender's system call, so this is the least a server can
 * spend per stream per event when every event is its own write.
 *
 *   send_floor STREAMS EVENTS FRAME_BYTES
 * prints: send_floor_us_per_send=<microseconds> sends=<count> would_block=<count>
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int *readers;
static int streams;
static volatile int done;

static double thread_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *drain(void *arg) {
    (void)arg;
    int ep = epoll_create1(0);
    for (int i = 0; i < streams; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = readers[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, readers[i], &ev);
    }
    char buf[65536];
    struct epoll_event ready[256];
    while (!done) {
        int n = epoll_wait(ep, ready, 256, 100);
        for (int i = 0; i < n; i++) {
            while (recv(ready[i].data.fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
            }
        }
    }
    close(ep);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s STREAMS EVENTS FRAME_BYTES\n", argv[0]);
        return 2;
    }
    streams = atoi(argv[1]);
    int events = atoi(argv[2]);
    int frame_bytes = atoi(argv[3]);
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
    int *senders = calloc(streams, sizeof(int));
    int one = 1;
    for (int i = 0; i < streams; i++) {
        readers[i] = socket(AF_INET, SOCK_STREAM, 0);
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
    double start = thread_cpu_seconds();
    for (int e = 0; e < events; e++) {
        for (int i = 0; i < streams; i++) {
            if (send(senders[i], frame, frame_bytes, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EAGAIN) {
                would_block++;
            }
            sends++;
        }
    }
    double spent = thread_cpu_seconds() - start;
    done = 1;
    pthread_join(reader, NULL);
    printf("send_floor_us_per_send=%.3f sends=%ld would_block=%ld\n", spent * 1e6 / sends, sends, would_block);
    return 0;
}
