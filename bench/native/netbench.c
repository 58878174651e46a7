/* Native reference programs for the DeviceShell bench (built by the bench with gcc, no dependencies).
 *
 *   netbench echo-server REQUEST REPLY
 *       Listens on a free loopback port and prints it. Every connection (one thread each) reads REQUEST bytes and
 *       answers REPLY bytes, for as long as the client sends: the fastest peer a protocol of those sizes can have.
 *   netbench echo-client PORT REQUEST REPLY SECONDS IN_FLIGHT
 *       Keeps IN_FLIGHT requests outstanding on one connection for SECONDS; prints round trips per second.
 *   netbench tfp-client PORT SECONDS FUNCTION RESPONSE_LENGTH UID[,UID...]
 *       A TFP getter client: FUNCTION (no payload, response expected) to each UID, one request in flight per UID
 *       (one UID: sequential), sequence numbers 1..15 per device; prints responses per second.
 *   netbench tfp-flood COUNT UID FUNCTION PAYLOAD_LENGTH DELAY_MS
 *       A Brick Daemon that floods: listens on a free loopback port and prints it; DELAY_MS after accepting a
 *       connection (time for the client to register its consumer) it sends COUNT callbacks (sequence number 0) of
 *       UID/FUNCTION as fast as the socket takes them, while whatever the client sends is read and discarded. Prints "sent COUNT" per connection when done. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void fail(const char *what) {
    perror(what);
    exit(1);
}

/* Reads or writes exactly length bytes, across short transfers and signals; -1 when the peer is gone. */
static int transfer(int fd, uint8_t *buffer, size_t length, int writing) {
    size_t done = 0;
    while (done < length) {
        ssize_t n = writing ? write(fd, buffer + done, length - done) : read(fd, buffer + done, length - done);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

static int read_exactly(int fd, uint8_t *buffer, size_t length) { return transfer(fd, buffer, length, 0); }

static int write_all(int fd, const uint8_t *buffer, size_t length) { return transfer(fd, (uint8_t *)buffer, length, 1); }

static void no_delay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Listens on 127.0.0.1 with a free port and prints the port on its own line. */
static int listen_loopback(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail("socket");
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("bind");
    if (listen(fd, 4096) < 0) fail("listen");
    socklen_t length = sizeof address;
    getsockname(fd, (struct sockaddr *)&address, &length);
    printf("%d\n", ntohs(address.sin_port));
    fflush(stdout);
    return fd;
}

static int connect_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail("socket");
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("connect");
    no_delay(fd);
    return fd;
}

/* Accepts for ever, one detached thread per connection. */
static void serve(int listener, void *(*handler)(void *)) {
    for (;;) {
        int client = accept(listener, NULL, NULL);
        if (client < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            usleep(10000); /* EMFILE and friends: wait for descriptors to free up */
            continue;
        }
        no_delay(client);
        pthread_t thread;
        if (pthread_create(&thread, NULL, handler, (void *)(intptr_t)client) != 0) {
            close(client);
            continue;
        }
        pthread_detach(thread);
    }
}

static size_t echo_request, echo_reply;

static void *echo_connection(void *argument) {
    int fd = (int)(intptr_t)argument;
    uint8_t *request = calloc(1, echo_request), *reply = calloc(1, echo_reply);
    while (read_exactly(fd, request, echo_request) == 0 && write_all(fd, reply, echo_reply) == 0) {
    }
    free(request);
    free(reply);
    close(fd);
    return NULL;
}

static int echo_client(int port, size_t request_length, size_t reply_length, double seconds, int in_flight) {
    int fd = connect_loopback(port);
    uint8_t *request = calloc((size_t)in_flight, request_length), *reply = calloc(1, reply_length);
    if (write_all(fd, request, request_length * (size_t)in_flight) < 0) fail("write");
    long count = 0;
    double start = now(), end = start + seconds;
    for (;;) {
        if (read_exactly(fd, reply, reply_length) < 0) fail("read");
        count++;
        if ((count & 63) == 0 && now() >= end) break;
        if (write_all(fd, request, request_length) < 0) fail("write");
    }
    printf("%.1f\n", count / (now() - start));
    close(fd);
    return 0;
}

static void tfp_request(uint8_t packet[8], uint32_t uid, uint8_t function, int sequence) {
    packet[0] = (uint8_t)uid;
    packet[1] = (uint8_t)(uid >> 8);
    packet[2] = (uint8_t)(uid >> 16);
    packet[3] = (uint8_t)(uid >> 24);
    packet[4] = 8;
    packet[5] = function;
    packet[6] = (uint8_t)((sequence << 4) | 0x08);
    packet[7] = 0;
}

static int tfp_client(int port, double seconds, uint8_t function, size_t response_length, char *uid_list) {
    uint32_t uids[64];
    int sequences[64], devices = 0;
    for (char *part = strtok(uid_list, ","); part != NULL && devices < 64; part = strtok(NULL, ","))
        uids[devices++] = (uint32_t)strtoul(part, NULL, 10);
    int fd = connect_loopback(port);
    uint8_t packet[8], response[80];
    for (int i = 0; i < devices; i++) {
        sequences[i] = 1;
        tfp_request(packet, uids[i], function, sequences[i]);
        if (write_all(fd, packet, 8) < 0) fail("write");
    }
    long count = 0;
    double start = now(), end = start + seconds;
    for (;;) {
        if (read_exactly(fd, response, 8) < 0) fail("read");
        size_t length = response[4];
        if (length < 8 || length > sizeof response || read_exactly(fd, response + 8, length - 8) < 0) fail("read");
        if (response[6] >> 4 == 0) continue; /* a callback, not ours */
        uint32_t uid = response[0] | response[1] << 8 | response[2] << 16 | (uint32_t)response[3] << 24;
        if (length != response_length || (response[7] >> 6) != 0) {
            fprintf(stderr, "unexpected response: length %zu, error %d\n", length, response[7] >> 6);
            return 1;
        }
        count++;
        if ((count & 63) == 0 && now() >= end) break;
        for (int i = 0; i < devices; i++) {
            if (uids[i] != uid) continue;
            sequences[i] = sequences[i] % 15 + 1;
            tfp_request(packet, uid, function, sequences[i]);
            if (write_all(fd, packet, 8) < 0) fail("write");
            break;
        }
    }
    printf("%.1f\n", count / (now() - start));
    close(fd);
    return 0;
}

static long flood_count;
static uint32_t flood_uid;
static uint8_t flood_function;
static size_t flood_payload;
static long flood_delay_ms;

static void *discard(void *argument) {
    int fd = (int)(intptr_t)argument;
    uint8_t buffer[4096];
    while (read(fd, buffer, sizeof buffer) > 0) {
    }
    return NULL;
}

static void *flood_connection(void *argument) {
    int fd = (int)(intptr_t)argument;
    pthread_t reader;
    pthread_create(&reader, NULL, discard, argument);
    size_t packet_length = 8 + flood_payload, per_batch = 65536 / packet_length;
    uint8_t *batch = calloc(per_batch, packet_length);
    for (size_t i = 0; i < per_batch; i++) {
        uint8_t *packet = batch + i * packet_length;
        tfp_request(packet, flood_uid, flood_function, 0);
        packet[4] = (uint8_t)packet_length;
        for (size_t b = 0; b < flood_payload; b++) packet[8 + b] = (uint8_t)(i + b);
    }
    usleep((useconds_t)(flood_delay_ms * 1000));
    long sent = 0;
    while (sent < flood_count) {
        long packets = flood_count - sent < (long)per_batch ? flood_count - sent : (long)per_batch;
        if (write_all(fd, batch, (size_t)packets * packet_length) < 0) break;
        sent += packets;
    }
    printf("sent %ld\n", sent);
    fflush(stdout);
    pthread_join(reader, NULL); /* until the client closes */
    free(batch);
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "echo-server") == 0) {
        echo_request = strtoul(argv[2], NULL, 10);
        echo_reply = strtoul(argv[3], NULL, 10);
        serve(listen_loopback(), echo_connection);
    }
    if (argc >= 7 && strcmp(argv[1], "echo-client") == 0)
        return echo_client(atoi(argv[2]), strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10), atof(argv[5]), atoi(argv[6]));
    if (argc >= 7 && strcmp(argv[1], "tfp-client") == 0)
        return tfp_client(atoi(argv[2]), atof(argv[3]), (uint8_t)atoi(argv[4]), strtoul(argv[5], NULL, 10), argv[6]);
    if (argc >= 7 && strcmp(argv[1], "tfp-flood") == 0) {
        flood_delay_ms = atol(argv[6]);
        flood_count = atol(argv[2]);
        flood_uid = (uint32_t)strtoul(argv[3], NULL, 10);
        flood_function = (uint8_t)atoi(argv[4]);
        flood_payload = strtoul(argv[5], NULL, 10);
        serve(listen_loopback(), flood_connection);
    }
    fprintf(stderr, "usage: see the comment at the top of netbench.c\n");
    return 2;
}
