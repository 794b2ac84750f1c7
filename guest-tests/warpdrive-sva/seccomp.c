// SPDX-License-Identifier: GPL-2.0
/*
 * No system call in the data path. A child sets up (open, ring, sessions, pinned buffers, the
 * expected ciphertexts from AF_ALG), opens /proc/self/io twice, enters seccomp strict mode (any
 * system call but read, write, _exit and sigreturn kills it), reads the first /proc/self/io,
 * runs thousands of requests (one at a time, and batches of 8 in flight; destinations cleared
 * before each request, every result checked), reads the second /proc/self/io, sends its report
 * and ends with syscall(SYS_exit). Strict mode lets read and write through, so the proof that the
 * loop made none is the I/O counters: syscr grows by exactly 1 (the first read of /proc/self/io
 * itself) and syscw by 0 between the two reads.
 */
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "sva_test.h"

#define ROUNDS_SYNC 1000	/* x2: encrypt and decrypt, 64 B */
#define ROUNDS_BATCH 150	/* x2 x 8 in flight, 1 KiB */
#define DEPTH 8
#define BLEN 1024

struct setup {
	int ret;
	char which[160];
};

struct report {
	int prctl_ret;
	unsigned int requests, errors, wrong;
	long long syscr0, syscw0, syscr1, syscw1;
	long long vol0, vol1, invol0, invol1;
	int64_t ns;
};

static long long field(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static void child(int up)
{
	static char io0[512], io1[512], st0[4096], st1[4096];
	struct setup su = { 0 };
	struct report rep;
	struct wd_afalg a;
	struct wd_sva q;
	uint8_t *mem, *src[DEPTH], *ct[DEPTH], *out[DEPTH], *back[DEPTH], key[16], iv[DEPTH][16];
	uint32_t len[DEPTH];
	int res[DEPTH], fio0, fio1, fst0, fst1;
	uint64_t enc = 0, dec = 0;
	int64_t t0;
	ssize_t n;

	memset(&rep, 0, sizeof(rep));
	srandom(0xcafe);
	sva_fill_random(key, sizeof(key));
	su.ret = wd_sva_open(&q, NULL, 0);
	if (!su.ret)
		su.ret = wd_sva_session(&q, 1, key, 16, &enc);
	if (!su.ret)
		su.ret = wd_sva_session(&q, 0, key, 16, &dec);
	mem = su.ret ? NULL : wd_sva_alloc((size_t)4 * DEPTH * BLEN);
	if (!su.ret && !mem)
		su.ret = -ENOMEM;
	if (!su.ret)
		su.ret = wd_sva_afalg_open(&a, key, 16, su.which, sizeof(su.which));
	for (int i = 0; !su.ret && i < DEPTH; i++) {
		src[i] = mem + (size_t)i * BLEN;
		ct[i] = mem + (size_t)(DEPTH + i) * BLEN;
		out[i] = mem + (size_t)(2 * DEPTH + i) * BLEN;
		back[i] = mem + (size_t)(3 * DEPTH + i) * BLEN;
		len[i] = BLEN;
		sva_fill_random(src[i], BLEN);
		sva_fill_random(iv[i], 16);
		su.ret = wd_afalg_cipher(&a, 1, iv[i], src[i], ct[i], BLEN);
	}
	if (!su.ret)
		wd_afalg_close(&a);
	fio0 = open("/proc/self/io", O_RDONLY);
	fio1 = open("/proc/self/io", O_RDONLY);
	fst0 = open("/proc/self/status", O_RDONLY);
	fst1 = open("/proc/self/status", O_RDONLY);
	if (!su.ret && (fio0 < 0 || fio1 < 0 || fst0 < 0 || fst1 < 0))
		su.ret = -errno;
	if (sva_write_all(up, &su, sizeof(su)) || su.ret)
		_exit(1);

	rep.prctl_ret = prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) ? -errno : 0;
	/* From here on: read, write, _exit, sigreturn only */
	n = read(fst0, st0, sizeof(st0) - 1);
	st0[n > 0 ? n : 0] = '\0';
	n = read(fio0, io0, sizeof(io0) - 1);
	io0[n > 0 ? n : 0] = '\0';

	t0 = wd_sva_now_ns();
	for (unsigned int r = 0; r < ROUNDS_SYNC; r++) {
		uint8_t *o = out[r % DEPTH], *b = back[r % DEPTH];
		const uint8_t *s = src[r % DEPTH], *c = ct[r % DEPTH];

		memset(o, 0, 64);
		memset(b, 0, 64);
		if (wd_sva_cipher(&q, enc, 1, iv[r % DEPTH], s, o, 64) ||
		    wd_sva_cipher(&q, dec, 0, iv[r % DEPTH], o, b, 64)) {
			rep.errors++;
			continue;
		}
		rep.requests += 2;
		if (memcmp(o, c, 64) || memcmp(b, s, 64))
			rep.wrong++;
	}
	for (unsigned int r = 0; r < ROUNDS_BATCH; r++) {
		for (int i = 0; i < DEPTH; i++)
			memset(out[i], 0, BLEN);
		if (sva_batch(&q, enc, 1, DEPTH, DEPTH, src, out, len, (const uint8_t (*)[16])iv, res)) {
			rep.errors++;
			break;
		}
		for (int i = 0; i < DEPTH; i++) {
			if (res[i])
				rep.errors++;
			else if (memcmp(out[i], ct[i], BLEN))
				rep.wrong++;
			memset(back[i], 0, BLEN);
		}
		if (sva_batch(&q, dec, 0, DEPTH, DEPTH, out, back, len, (const uint8_t (*)[16])iv, res)) {
			rep.errors++;
			break;
		}
		for (int i = 0; i < DEPTH; i++) {
			if (res[i])
				rep.errors++;
			else if (memcmp(back[i], src[i], BLEN))
				rep.wrong++;
		}
		rep.requests += 2 * DEPTH;
	}
	rep.ns = wd_sva_now_ns() - t0;

	n = read(fio1, io1, sizeof(io1) - 1);
	io1[n > 0 ? n : 0] = '\0';
	n = read(fst1, st1, sizeof(st1) - 1);
	st1[n > 0 ? n : 0] = '\0';
	rep.syscr0 = field(io0, "syscr: ");
	rep.syscw0 = field(io0, "syscw: ");
	rep.syscr1 = field(io1, "syscr: ");
	rep.syscw1 = field(io1, "syscw: ");
	rep.vol0 = field(st0, "\nvoluntary_ctxt_switches:");
	rep.vol1 = field(st1, "\nvoluntary_ctxt_switches:");
	rep.invol0 = field(st0, "nonvoluntary_ctxt_switches:");
	rep.invol1 = field(st1, "nonvoluntary_ctxt_switches:");
	sva_write_all(up, &rep, sizeof(rep));
	syscall(SYS_exit, 0);
	_exit(1);
}

int main(void)
{
	struct setup su;
	struct report rep;
	int fd[2], st, got;
	pid_t pid;

	wd_sva_require();
	wdh_plan(6);
	if (pipe(fd))
		return WDH_EXIT_FAIL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fd[0]);
		child(fd[1]);
	}
	close(fd[1]);
	memset(&su, 0, sizeof(su));
	memset(&rep, 0, sizeof(rep));
	if (sva_read_all(fd[0], &su, sizeof(su)))
		su.ret = -EPIPE;
	wdh_ok(su.ret == 0, "child: queue, sessions, pinned buffers, expected results from AF_ALG (%s)",
	       sva_err(su.ret));
	wdh_diag("AF_ALG reference: %s", su.which);
	got = !su.ret && !sva_read_all(fd[0], &rep, sizeof(rep));
	close(fd[0]);
	st = sva_wait_child(pid, 150);
	wdh_ok(got && rep.prctl_ret == 0, "seccomp strict mode entered (%s)",
	       got ? sva_err(rep.prctl_ret) : "no report");
	wdh_ok(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "the child was not killed by seccomp: it ended with SYS_exit (status 0x%x)", st);
	wdh_ok(got && rep.requests == 2 * ROUNDS_SYNC + 2 * DEPTH * ROUNDS_BATCH && !rep.errors && !rep.wrong,
	       "%u requests in strict mode (one at a time and %d in flight), all correct (errors %u, wrong %u)",
	       rep.requests, DEPTH, rep.errors, rep.wrong);
	wdh_ok(got && rep.syscr0 >= 0 && rep.syscr1 - rep.syscr0 == 1,
	       "syscr across the request loop: +%lld (1 = the read of /proc/self/io before it)",
	       rep.syscr1 - rep.syscr0);
	wdh_ok(got && rep.syscw0 >= 0 && rep.syscw1 - rep.syscw0 == 0, "syscw across the request loop: +%lld",
	       rep.syscw1 - rep.syscw0);
	if (got) {
		wdh_diag("context switches during the loop: voluntary %lld, involuntary %lld",
			 rep.vol1 - rep.vol0, rep.invol1 - rep.invol0);
		if (rep.ns > 0)
			printf("# metric: sva.strict.req_per_s %.0f req/s\n", rep.requests * 1e9 / (double)rep.ns);
		fflush(stdout);
	}
	return wdh_exit_code();
}
