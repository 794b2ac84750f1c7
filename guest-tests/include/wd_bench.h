/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wd_bench.h - what the WarpDrive benchmarks share: figures from per-request latencies (requests/s,
 * p50, p99, CPU time per request, as "# metric:" lines), and the AF_ALG side of the comparison, one
 * request at a time or several in flight (one thread and one socket per request in flight), every
 * destination cleared before its request and checked after it.
 *
 *	static int64_t lat[N];
 *	struct wd_bench b = { .iv = iv, .src = src, .ref = ref, .len = 64, .size = "64B", .lat = lat };
 *	bad = wd_bench_afalg(&a, &b, qd, warmup, n, dst, &figures);
 */
#ifndef WD_BENCH_H
#define WD_BENCH_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "wd_afalg.h"

#define WD_BENCH_MAX_DEPTH 8

struct wd_bench_figures {
	double req_per_s, p50_us, p99_us, cpu_us;
};

/* One configuration: what is encrypted, what must come out, where latencies go (n of them) */
struct wd_bench {
	const uint8_t *iv, *src, *ref;
	uint32_t len;
	const char *size;	/* "64B", "4KiB": the metric names' size */
	int64_t *lat;
};

static inline int64_t wd_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* User + system time of the whole process (all threads) */
static inline int64_t wd_bench_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static inline int wd_bench_cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts b->lat[0..n) and prints <path>.qd<qd>.<size>.{req_per_s,p50_us,p99_us,cpu_us_per_req} */
static inline void wd_bench_summarize(const char *path, int qd, const struct wd_bench *b,
				      unsigned int n, int64_t wall, int64_t cpu,
				      struct wd_bench_figures *f)
{
	qsort(b->lat, n, sizeof(b->lat[0]), wd_bench_cmp64);
	f->req_per_s = n * 1e9 / (double)wall;
	f->p50_us = b->lat[n / 2] / 1e3;
	f->p99_us = b->lat[(n * 99) / 100] / 1e3;
	f->cpu_us = cpu / 1e3 / n;
	printf("# metric: %s.qd%d.%s.req_per_s %.0f req/s\n", path, qd, b->size, f->req_per_s);
	printf("# metric: %s.qd%d.%s.p50_us %.1f us\n", path, qd, b->size, f->p50_us);
	printf("# metric: %s.qd%d.%s.p99_us %.1f us\n", path, qd, b->size, f->p99_us);
	printf("# metric: %s.qd%d.%s.cpu_us_per_req %.1f us\n", path, qd, b->size, f->cpu_us);
	fflush(stdout);
}

/* n requests on one op socket; latencies into lat[0..n) unless lat is NULL (warm-up). Wrong ones. */
static inline unsigned int wd_bench_afalg_loop(int op, const struct wd_bench *b, unsigned int n,
					       int64_t *lat, uint8_t *out)
{
	struct wd_afalg a = { .tfm = -1, .op = op };
	unsigned int bad = 0;

	for (unsigned int i = 0; i < n; i++) {
		int64_t s;

		memset(out, 0, b->len);
		s = wd_bench_now_ns();
		if (wd_afalg_cipher(&a, 1, b->iv, b->src, out, b->len))
			bad++;
		if (lat)
			lat[i] = wd_bench_now_ns() - s;
		if (memcmp(out, b->ref, b->len))
			bad++;
	}
	return bad;
}

struct wd_bench_afalg_thread {
	pthread_t th;
	int op;
	const struct wd_bench *b;
	unsigned int n, bad;
	int64_t *lat;
	uint8_t *out;
};

static inline void *wd_bench_afalg_thread_fn(void *arg)
{
	struct wd_bench_afalg_thread *t = arg;

	t->bad = wd_bench_afalg_loop(t->op, t->b, t->n, t->lat, t->out);
	return NULL;
}

/*
 * AF_ALG on a's transform: qd 1 on a's op socket, or qd threads with a socket each (qd <=
 * WD_BENCH_MAX_DEPTH, n / qd requests each), after warm-up requests; dst[k] is thread k's
 * destination. Prints the figures as af_alg.qd<qd>.<size>.*; returns how many were wrong.
 */
static inline unsigned int wd_bench_afalg(struct wd_afalg *a, const struct wd_bench *b, int qd,
					  unsigned int warmup, unsigned int n, uint8_t *const *dst,
					  struct wd_bench_figures *f)
{
	struct wd_bench_afalg_thread t[WD_BENCH_MAX_DEPTH];
	unsigned int bad = 0, each = n / (unsigned int)qd;
	int64_t t0, c0;

	if (qd == 1) {
		wd_bench_afalg_loop(a->op, b, warmup, NULL, dst[0]);
		t0 = wd_bench_now_ns();
		c0 = wd_bench_cpu_ns();
		bad = wd_bench_afalg_loop(a->op, b, n, b->lat, dst[0]);
		wd_bench_summarize("af_alg", qd, b, n, wd_bench_now_ns() - t0, wd_bench_cpu_ns() - c0, f);
		return bad;
	}
	if (qd > WD_BENCH_MAX_DEPTH)
		return n;
	for (int k = 0; k < qd; k++) {
		t[k].op = accept(a->tfm, NULL, 0);
		if (t[k].op < 0)
			return n;
		t[k].b = b;
		t[k].out = dst[k];
		wd_bench_afalg_loop(t[k].op, b, (warmup + qd - 1) / qd, NULL, dst[k]);
	}
	t0 = wd_bench_now_ns();
	c0 = wd_bench_cpu_ns();
	for (int k = 0; k < qd; k++) {
		t[k].n = each;
		t[k].lat = b->lat + (size_t)k * each;
		pthread_create(&t[k].th, NULL, wd_bench_afalg_thread_fn, &t[k]);
	}
	for (int k = 0; k < qd; k++) {
		pthread_join(t[k].th, NULL);
		bad += t[k].bad;
		close(t[k].op);
	}
	wd_bench_summarize("af_alg", qd, b, each * (unsigned int)qd, wd_bench_now_ns() - t0,
			   wd_bench_cpu_ns() - c0, f);
	return bad;
}

#endif /* WD_BENCH_H */
