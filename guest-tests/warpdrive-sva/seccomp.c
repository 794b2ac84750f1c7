// SPDX-License-Identifier: GPL-2.0
/*
 * No system call in the data path. A child sets up (open, ring, sessions, pinned buffers, the
 * expected ciphertexts from AF_ALG), then installs a seccomp filter that allows exit() and
 * nothing else (any other system call kills the process with SIGSYS), runs thousands of requests
 * (one at a time, and batches of 8 in flight; destinations cleared before each request, every
 * result checked), leaves its report in shared memory and ends with syscall(SYS_exit). Strict
 * mode would let read and write through; this filter lets nothing through, so a child that comes
 * back with exit status 0 made no system call in the loop. A control child installs the same
 * filter and calls getpid(): it must die of SIGSYS, or the filter proves nothing.
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
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
	int64_t ns;
};

/* Allow exit() (the thread's, which SYS_exit is) and kill the process on anything else. */
static int only_exit(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_AARCH64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) ? -errno : 0;
}


static void child(int up, struct report *shared)
{
	struct setup su = { 0 };
	struct report rep;
	struct wd_afalg a;
	struct wd_sva q;
	uint8_t *mem, *src[DEPTH], *ct[DEPTH], *out[DEPTH], *back[DEPTH], key[16], iv[DEPTH][16];
	uint32_t len[DEPTH];
	int res[DEPTH];
	uint64_t enc = 0, dec = 0;
	int64_t t0;

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
	if (sva_write_all(up, &su, sizeof(su)) || su.ret)
		_exit(1);

	rep.prctl_ret = only_exit();
	if (rep.prctl_ret) {
		*shared = rep;
		_exit(1);
	}
	/* From here on: exit() only */
	t0 = wd_now_ns();
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
	rep.ns = wd_now_ns() - t0;

	*shared = rep;
	syscall(SYS_exit, 0);
	_exit(1);
}

int main(void)
{
	struct report *rep;
	struct setup su;
	int fd[2], st, ctl;
	pid_t pid;

	wd_sva_require();
	wdh_plan(5);
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rep == MAP_FAILED || pipe(fd))
		return WDH_EXIT_FAIL;
	memset(rep, 0, sizeof(*rep));
	rep->prctl_ret = -ENODATA;

	/* The filter must be able to fail: a child that makes one system call under it dies. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (only_exit())
			_exit(2);
		syscall(SYS_getpid);
		syscall(SYS_exit, 0);
	}
	ctl = sva_wait_child(pid, 20);
	wdh_ok(ctl >= 0 && WIFSIGNALED(ctl) && WTERMSIG(ctl) == SIGSYS,
	       "control: getpid() under the filter kills the child with SIGSYS (status 0x%x)", ctl);

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fd[0]);
		child(fd[1], rep);
	}
	close(fd[1]);
	memset(&su, 0, sizeof(su));
	if (sva_read_all(fd[0], &su, sizeof(su)))
		su.ret = -EPIPE;
	close(fd[0]);
	wdh_ok(su.ret == 0, "child: queue, sessions, pinned buffers, expected results from AF_ALG (%s)",
	       sva_err(su.ret));
	wdh_diag("AF_ALG reference: %s", su.which);
	st = sva_wait_child(pid, 150);
	wdh_ok(rep->prctl_ret == 0, "seccomp filter allowing exit() only installed (%s)", sva_err(rep->prctl_ret));
	wdh_ok(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "the child was not killed by seccomp: it ended with SYS_exit (status 0x%x%s)", st,
	       st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS ? ", SIGSYS: a system call in the loop" : "");
	wdh_ok(rep->requests == 2 * ROUNDS_SYNC + 2 * DEPTH * ROUNDS_BATCH && !rep->errors && !rep->wrong,
	       "%u requests under the filter (one at a time and %d in flight), all correct (errors %u, wrong %u)",
	       rep->requests, DEPTH, rep->errors, rep->wrong);
	if (rep->ns > 0)
		printf("# metric: sva.nosyscall.req_per_s %.0f req/s\n", rep->requests * 1e9 / (double)rep->ns);
	fflush(stdout);
	return wdh_exit_code();
}
