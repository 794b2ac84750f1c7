// SPDX-License-Identifier: GPL-2.0
/*
 * No system calls in the data path. A child process opens the queue, maps it and creates its
 * sessions, then installs a seccomp filter that allows exit and exit_group only (every other
 * system call, read and write included, kills the process with SIGSYS), completes thousands of
 * requests through the user queue, checks every result against AF_ALG's (computed beforehand),
 * leaves its counts in shared memory and ends with syscall(SYS_exit). Strict mode would not do:
 * it allows read and write, so a data path through AF_ALG would pass. A calibration child under
 * the same filter makes one system call and must be killed, or the filter proves nothing.
 */
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wdh_tap.h"
#include "wd_afalg.h"
#include "wd_vcrypto.h"

#define ROUNDS 5000
#define LEN 64

struct report {
	int setup;		/* 0 once the queue and sessions are ready */
	unsigned int done, errors, bad_enc, bad_dec;
	int64_t ns;
};

static uint8_t src[2][LEN], want_enc[2][LEN], out[LEN], iv[16];

/* Allow exit and exit_group; kill the process on any other system call */
static int only_exit(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_AARCH64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void data_path(struct report *rep)
{
	struct wd_vc q;
	uint64_t enc = 0, dec = 0;
	int64_t t0;
	int ret;

	rep->setup = -1;
	ret = wd_vc_open(&q, NULL);
	if (!ret)
		ret = wd_vc_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &enc);
	if (!ret)
		ret = wd_vc_session(&q, 0, sp800_38a_key, sizeof(sp800_38a_key), &dec);
	if (ret) {
		rep->setup = ret;
		syscall(SYS_exit, 2);
	}
	if (only_exit())
		syscall(SYS_exit, 3);
	rep->setup = 0;
	/* From here on: no system call but the exit at the end */
	t0 = wd_now_ns();
	for (unsigned int r = 0; r < ROUNDS; r++) {
		int b = r & 1;

		memset(out, 0, LEN);
		if (wd_vc_cipher(&q, enc, 1, iv, src[b], out, LEN)) {
			rep->errors++;
			continue;
		}
		if (memcmp(out, want_enc[b], LEN))
			rep->bad_enc++;
		memset(out, 0, LEN);
		if (wd_vc_cipher(&q, dec, 0, iv, want_enc[b], out, LEN)) {
			rep->errors++;
			continue;
		}
		if (memcmp(out, src[b], LEN))
			rep->bad_dec++;
		rep->done += 2;
	}
	rep->ns = wd_now_ns() - t0;
	syscall(SYS_exit, 0);
}

static int run_child(struct report *rep, int calibrate)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (calibrate) {
			if (only_exit())
				syscall(SYS_exit, 3);
			syscall(SYS_getppid);	/* must be killed here */
			syscall(SYS_exit, 0);
		}
		data_path(rep);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

int main(void)
{
	struct report *rep;
	struct wd_afalg a;
	int ret, status;

	wd_vc_require();
	wdh_plan(4);
	for (int b = 0; b < 2; b++)
		for (int i = 0; i < LEN; i++)
			src[b][i] = (uint8_t)(i * 7 + b * 13 + 1);
	for (int i = 0; i < 16; i++)
		iv[i] = (uint8_t)(0xa0 + i);

	ret = wd_afalg_open(&a, sp800_38a_key, sizeof(sp800_38a_key));
	for (int b = 0; !ret && b < 2; b++)
		ret = wd_afalg_cipher(&a, 1, iv, src[b], want_enc[b], LEN);
	wd_afalg_close(&a);
	if (!wdh_ok(ret == 0, "expected results from AF_ALG %s", WD_AFALG_DRIVER))
		wdh_diag("%s", strerror(-ret));

	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rep == MAP_FAILED)
		return WDH_EXIT_FAIL;

	status = run_child(rep, 1);
	wdh_ok(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	       "calibration: one system call under the filter kills the process with SIGSYS (status 0x%x)", status);

	memset(rep, 0, sizeof(*rep));
	status = run_child(rep, 0);
	if (rep->setup)
		wdh_diag("set-up in the child failed: %s", rep->setup < 0 ? strerror(-rep->setup) : "?");
	wdh_ok(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && rep->setup == 0,
	       "the child ran the data path under a filter allowing only exit and was not killed (status 0x%x)",
	       status);
	wdh_ok(rep->done == 2 * ROUNDS && !rep->errors && !rep->bad_enc && !rep->bad_dec,
	       "%u of %u requests completed under the filter, all correct (errors %u, wrong ciphertexts %u, wrong plaintexts %u)",
	       rep->done, 2 * ROUNDS, rep->errors, rep->bad_enc, rep->bad_dec);
	if (rep->ns > 0)
		printf("# metric: user_queue.seccomp.64B.req_per_s %.0f req/s\n", rep->done * 1e9 / (double)rep->ns);
	return wdh_exit_code();
}
