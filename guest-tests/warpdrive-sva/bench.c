// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark: AES-128-CBC encryption through a shared SVA queue (zero copy: the device reads and
 * writes the caller's buffers by virtual address, no system call per request) against AF_ALG
 * (sendmsg + read), at 64 B, 4 KiB and 64 KiB, one request at a time (qd1) and with 8 in flight
 * (qd8: 8 slots on the SVA ring; 8 threads with a socket each for AF_ALG). Both sides get the
 * same warm-up and request counts; every destination is cleared before its request and checked
 * after it. Figures per configuration: requests/s, p50 (the headline) and p99 latency, CPU time
 * per request (getrusage, user + system, all threads). Then 1, 2 and 4 processes at once on the
 * device, each on its own queue (64 B, qd1): aggregate requests/s.
 *
 * The AF_ALG reference is the kernel-side virtio-crypto device (virtio_crypto_aes_cbc) where the
 * kernel lets AF_ALG bind to it; 7.x refuses asynchronous drivers to AF_ALG, and then it is
 * "cbc(aes)", the kernel's best synchronous (software) implementation: the diagnostic says which.
 * Figures go out as "# metric: <name> <value> <unit>" lines (results.json).
 */
#include "sva_test.h"
#include "wd_bench.h"

#define NSIZES 3
#define DEPTH 8
#define MAX_N 5000

static const uint32_t sizes[NSIZES] = { 64, 4096, 65536 };
static const char *const size_name[NSIZES] = { "64B", "4KiB", "64KiB" };
static const unsigned int counts[NSIZES] = { 5000, 2000, 300 };
static const unsigned int warmups[NSIZES] = { 100, 50, 10 };

static uint8_t iv[16];
static uint8_t *src, *ref, *dst[DEPTH];	/* pinned */
static int64_t lat[MAX_N];

/* The configuration of size si, for wd_bench.h */
static struct wd_bench bench_of(int si)
{
	return (struct wd_bench){ .iv = iv, .src = src, .ref = ref, .len = sizes[si],
				  .size = size_name[si], .lat = lat };
}

/* ---- SVA ---- */

static unsigned int sva_qd1(struct wd_sva *q, uint64_t sid, int si, unsigned int n)
{
	uint32_t len = sizes[si];
	unsigned int bad = 0;

	for (unsigned int i = 0; i < n; i++) {
		int64_t s;

		memset(dst[0], 0, len);
		s = wd_now_ns();
		if (wd_sva_cipher(q, sid, 1, iv, src, dst[0], len))
			bad++;
		if (i < MAX_N)
			lat[i] = wd_now_ns() - s;
		if (memcmp(dst[0], ref, len))
			bad++;
	}
	return bad;
}

static unsigned int sva_qd8(struct wd_sva *q, uint64_t sid, int si, unsigned int n)
{
	uint32_t len = sizes[si];
	int64_t start[DEPTH];
	unsigned int bad = 0, sent = 0, done = 0;
	struct wd_sva_done d;

	for (int j = 0; j < DEPTH; j++)
		start[j] = -1;	/* -1: destination j free */
	while (done < n) {
		while (sent < n && q->inflight < DEPTH && q->nfree) {
			int k = -1;

			/* a free destination buffer: the cookie is its index */
			for (int j = 0; j < DEPTH; j++)
				if (start[j] == -1) {
					k = j;
					break;
				}
			if (k < 0)
				break;
			memset(dst[k], 0, len);
			start[k] = wd_now_ns();
			if (wd_sva_submit(q, sid, 1, iv, src, dst[k], len, (uint64_t)k) < 0) {
				start[k] = -1;
				bad++;
				done++;
			}
			sent++;
		}
		if (!q->inflight)
			continue;
		if (wd_sva_poll(q, &d, WD_SVA_TIMEOUT_NS) != 1)
			return bad + (n - done);
		lat[done < MAX_N ? done : MAX_N - 1] = wd_now_ns() - start[d.cookie];
		if (d.result || memcmp(dst[d.cookie], ref, len))
			bad++;
		start[d.cookie] = -1;
		done++;
	}
	return bad;
}

static unsigned int sva_run(struct wd_sva *q, uint64_t sid, int qd, int si, struct wd_bench_figures *f)
{
	struct wd_bench b = bench_of(si);
	unsigned int n = counts[si], bad;
	int64_t t0, c0;

	if (qd == 1) {
		sva_qd1(q, sid, si, warmups[si]);
		t0 = wd_now_ns();
		c0 = wd_bench_cpu_ns();
		bad = sva_qd1(q, sid, si, n);
	} else {
		sva_qd8(q, sid, si, warmups[si]);
		t0 = wd_now_ns();
		c0 = wd_bench_cpu_ns();
		bad = sva_qd8(q, sid, si, n);
	}
	wd_bench_summarize("sva", qd, &b, n, wd_now_ns() - t0, wd_bench_cpu_ns() - c0, f);
	return bad;
}

/* ---- several processes ---- */

struct proc_report {
	int ret;
	unsigned int bad, eintr;
	int64_t t0, t1;
};

#define PROC_N 1000

/*
 * What the processes encrypt and expect, in ordinary memory: the benchmark's buffers are
 * MADV_DONTFORK (pinned for the device), so a forked child does not have them.
 */
static uint8_t proc_src[64], proc_ref[64];

static void proc_child(const char *name, int up, int go)
{
	struct proc_report r = { 0 };
	struct wd_sva q;
	uint64_t sid = 0;
	uint8_t *b;
	char c;

	/*
	 * Binding an address space registers an MMU notifier, which takes every lock of the mm and
	 * gives up with EINTR while a signal is pending: open again, and say how often it took.
	 */
	for (int tries = 0; tries < 20; tries++) {
		r.ret = wd_sva_open(&q, name, 0);
		if (r.ret != -EINTR)
			break;
		r.eintr++;
		usleep(10000);
	}
	if (!r.ret)
		r.ret = wd_sva_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid);
	b = r.ret ? NULL : wd_sva_alloc(4096);
	if (!r.ret && !b)
		r.ret = -ENOMEM;
	if (!r.ret) {
		memcpy(b, proc_src, 64);
		for (int i = 0; i < 50; i++)
			wd_sva_cipher(&q, sid, 1, iv, b, b + 2048, 64);
	}
	if (sva_write_all(up, &r, sizeof(r)) || r.ret || read(go, &c, 1) != 1)
		_exit(1);
	r.t0 = wd_now_ns();
	for (int i = 0; i < PROC_N; i++) {
		memset(b + 2048, 0, 64);
		if (wd_sva_cipher(&q, sid, 1, iv, b, b + 2048, 64) || memcmp(b + 2048, proc_ref, 64))
			r.bad++;
	}
	r.t1 = wd_now_ns();
	sva_write_all(up, &r, sizeof(r));
	wd_sva_close(&q);
	_exit(0);
}

static int procs_run(const char *name, int k)
{
	struct proc_report r[4];
	int up[4][2], go[2], ok = 1;
	pid_t pid[4];
	int64_t t0 = INT64_MAX, t1 = 0;
	unsigned int bad = 0;

	if (pipe(go))
		return 0;
	/* CBC: the first 64 bytes of the last reference are those of a 64-byte request */
	memcpy(proc_src, src, sizeof(proc_src));
	memcpy(proc_ref, ref, sizeof(proc_ref));
	memset(r, 0, sizeof(r));
	for (int i = 0; i < k; i++) {
		if (pipe(up[i]))
			return 0;
		fflush(stdout);
		pid[i] = fork();
		if (pid[i] == 0) {
			close(go[1]);
			close(up[i][0]);
			proc_child(name, up[i][1], go[0]);
		}
		close(up[i][1]);
	}
	close(go[0]);
	for (int i = 0; i < k; i++)
		if (sva_read_all(up[i][0], &r[i], sizeof(r[i])) || r[i].ret) {
			wdh_diag("%d processes: process %d: %s (open interrupted %u times)", k, i,
				 sva_err(r[i].ret ? r[i].ret : -EPIPE), r[i].eintr);
			ok = 0;
		} else if (r[i].eintr) {
			wdh_diag("%d processes: process %d: open interrupted %u times", k, i, r[i].eintr);
		}
	for (int i = 0; i < k; i++)
		if (write(go[1], "g", 1) != 1)
			ok = 0;
	close(go[1]);
	for (int i = 0; i < k; i++) {
		if (ok && !sva_read_all(up[i][0], &r[i], sizeof(r[i]))) {
			t0 = r[i].t0 < t0 ? r[i].t0 : t0;
			t1 = r[i].t1 > t1 ? r[i].t1 : t1;
			bad += r[i].bad;
		} else {
			ok = 0;
		}
		close(up[i][0]);
		sva_wait_child(pid[i], 120);
	}
	if (ok && t1 > t0) {
		printf("# metric: sva.procs%d.64B.req_per_s %.0f req/s\n", k, (double)k * PROC_N * 1e9 / (double)(t1 - t0));
		fflush(stdout);
	}
	return ok && !bad;
}

int main(void)
{
	struct wd_bench_figures sv[2][NSIZES], af[2][NSIZES];
	char which[160] = "", name[64];
	struct wd_afalg a;
	struct wd_sva q;
	uint64_t sid = 0;
	long nq;
	int ret;

	wd_sva_require();
	wdh_plan(4 * NSIZES + 3 + 1);
	memset(sv, 0, sizeof(sv));
	memset(af, 0, sizeof(af));
	for (int i = 0; i < 16; i++)
		iv[i] = (uint8_t)i;
	src = wd_sva_alloc(65536);
	ref = wd_sva_alloc(65536);
	for (int k = 0; k < DEPTH; k++)
		dst[k] = wd_sva_alloc(65536);
	for (unsigned int i = 0; src && i < 65536; i++)
		src[i] = (uint8_t)(i * 31 + 7);

	ret = wd_sva_afalg_open(&a, sp800_38a_key, sizeof(sp800_38a_key), which, sizeof(which));
	if (ret) {
		printf("Bail out! AF_ALG: %s\n", strerror(-ret));
		return WDH_EXIT_FAIL;
	}
	wdh_diag("AF_ALG reference: %s", which);
	ret = wd_sva_find(name, sizeof(name));
	if (!ret)
		ret = wd_sva_open(&q, name, 0);
	if (!ret)
		ret = wd_sva_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid);
	if (ret || !src || !ref || !dst[DEPTH - 1]) {
		printf("Bail out! SVA queue: %s\n", sva_err(ret ? ret : -ENOMEM));
		return WDH_EXIT_FAIL;
	}
	nq = wd_sva_available(name);
	wdh_diag("queue %u, pasid %u, ring %u entries (%u slots), max_size %llu", q.info.queue_index,
		 q.info.pasid, q.num, q.nslots, (unsigned long long)q.info.max_size);

	for (int si = 0; si < NSIZES; si++) {
		uint32_t len = sizes[si];

		if (q.info.max_size && len > q.info.max_size) {
			for (int j = 0; j < 4; j++)
				wdh_skip("larger than the device's max_size", "%s", size_name[si]);
			continue;
		}
		ret = wd_afalg_cipher(&a, 1, iv, src, ref, len);
		for (int qd = 1, x = 0; qd <= DEPTH; qd *= DEPTH, x++) {
			struct wd_bench b = bench_of(si);
			unsigned int bad = ret ? 1 : wd_bench_afalg(&a, &b, qd, warmups[si], counts[si], dst,
								    &af[x][si]);

			wdh_ok(!bad, "AF_ALG %s, %d in flight: %u requests, all correct (%u bad)",
			       size_name[si], qd, counts[si], bad);
			bad = ret ? 1 : sva_run(&q, sid, qd, si, &sv[x][si]);
			wdh_ok(!bad, "SVA %s, %d in flight: %u requests, all correct (%u bad)",
			       size_name[si], qd, counts[si], bad);
		}
	}
	for (int x = 0; x < 2; x++)
		for (int si = 0; si < NSIZES; si++) {
			if (!sv[x][si].p50_us || !af[x][si].p50_us)
				continue;
			printf("# metric: speedup_p50.qd%d.%s %.2f x\n", x ? DEPTH : 1, size_name[si],
			       af[x][si].p50_us / sv[x][si].p50_us);
			printf("# metric: speedup.qd%d.%s %.2f x\n", x ? DEPTH : 1, size_name[si],
			       sv[x][si].req_per_s / af[x][si].req_per_s);
			wdh_diag("qd%d %5s: SVA %.0f req/s (p50 %.1f us, p99 %.1f us, cpu %.1f us/req); AF_ALG %.0f req/s (p50 %.1f us, p99 %.1f us, cpu %.1f us/req)",
				 x ? DEPTH : 1, size_name[si], sv[x][si].req_per_s, sv[x][si].p50_us,
				 sv[x][si].p99_us, sv[x][si].cpu_us, af[x][si].req_per_s, af[x][si].p50_us,
				 af[x][si].p99_us, af[x][si].cpu_us);
		}
	if (wd_sva_afalg_is_device(which))
		wdh_ok(sv[0][0].p50_us > 0 && sv[0][0].p50_us < af[0][0].p50_us,
		       "SVA p50 below AF_ALG's on the kernel-side device at 64 B, one at a time");
	else
		wdh_skip("AF_ALG ran on the CPU, not on a device", "SVA p50 below AF_ALG's at 64 B");
	wd_sva_close(&q);
	wd_afalg_close(&a);

	for (int k = 1; k <= 4; k *= 2) {
		if (k > nq + 1) {
			wdh_skip("not enough queues", "%d processes at once", k);
			continue;
		}
		wdh_ok(procs_run(name, k), "%d process(es) at once, %d requests each, all correct", k, PROC_N);
	}
	return wdh_exit_code();
}
