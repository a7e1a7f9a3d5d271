/*
 * udp_rr.c - UDP request/response benchmark client (a Linux program, not a
 * unikernel): sends one datagram, waits for its echo, repeats for a fixed
 * time, and prints round trips per second and latency percentiles.
 *
 *   udp_rr HOST PORT SIZE SECONDS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: udp_rr HOST PORT SIZE SECONDS\n");
		return 2;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "udp_rr: bad address %s\n", argv[1]);
		return 2;
	}
	size_t size = (size_t)atoi(argv[3]);
	double seconds = atof(argv[4]);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct timeval tv = {0, 200000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("udp_rr: socket");
		return 1;
	}
	char *buf = calloc(1, size + 1), *in = calloc(1, 65536);
	size_t cap = 1 << 22, n = 0;
	double *lat = malloc(cap * sizeof *lat);
	unsigned long lost = 0;
	/* Warm up: ARP and caches. */
	for (int i = 0; i < 20; i++) {
		send(fd, buf, size, 0);
		recv(fd, in, 65536, 0);
	}
	double start = now_s(), end = start + seconds;
	uint32_t seq = 0;
	while (now_s() < end) {
		seq++;
		memcpy(buf, &seq, size < 4 ? size : 4);
		double t0 = now_s();
		if (send(fd, buf, size, 0) < 0) {
			perror("udp_rr: send");
			return 1;
		}
		for (;;) {
			ssize_t r = recv(fd, in, 65536, 0);
			if (r < 0) {
				lost++;
				break;
			}
			if ((size_t)r == size && memcmp(in, buf, size < 4 ? size : 4) == 0) {
				if (n < cap)
					lat[n++] = now_s() - t0;
				break;
			}
		}
	}
	double elapsed = now_s() - start;
	qsort(lat, n, sizeof *lat, cmp_double);
	printf("round_trips_per_s %.0f\n", (double)n / elapsed);
	printf("lost %lu\n", lost);
	if (n) {
		printf("latency_us_p50 %.1f\n", lat[n / 2] * 1e6);
		printf("latency_us_p99 %.1f\n", lat[n * 99 / 100] * 1e6);
	}
	return 0;
}
