// SPDX-License-Identifier: GPL-2.0
/*
 * No system calls in the data path: after set-up (open, mmap, sessions, the expected results from
 * AF_ALG), the test enters seccomp strict mode, where any system call other than read, write,
 * _exit and sigreturn kills the process with SIGKILL, and completes thousands of requests through
 * the user queue, checking every result. It ends with syscall(SYS_exit) (glibc's exit() uses
 * exit_group, which strict mode kills). The kernel's counters of the process's context switches
 * (/proc/self/status) are printed before and after, as a diagnostic.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "wdh_tap.h"
#include "wd_afalg.h"
#include "wd_vcrypto.h"

#define ROUNDS 5000
#define LEN 64

static const uint8_t key[16] = {
	0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
};

/* voluntary + nonvoluntary context switches, from a /proc/self/status opened before */
static long ctxt_switches(int fd, long *vol)
{
	static char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	char *p;

	*vol = -1;
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nvoluntary_ctxt_switches:");
	if (!p)
		return -1;
	*vol = strtol(p + strlen("\nvoluntary_ctxt_switches:"), &p, 10);
	p = strstr(p, "nonvoluntary_ctxt_switches:");
	return p ? strtol(p + strlen("nonvoluntary_ctxt_switches:"), NULL, 10) : -1;
}

static uint8_t src[2][LEN], want_enc[2][LEN], out[LEN], iv[16];

int main(void)
{
	struct wd_afalg a;
	struct wd_vc q;
	uint64_t enc = 0, dec = 0;
	unsigned int bad_enc = 0, bad_dec = 0, errors = 0;
	int64_t t0, t1;
	long vol0, vol1, invol0, invol1;
	int ret, st0, st1;

	wd_vc_require();
	wdh_plan(5);
	for (int b = 0; b < 2; b++)
		for (int i = 0; i < LEN; i++)
			src[b][i] = (uint8_t)(i * 7 + b * 13 + 1);
	for (int i = 0; i < 16; i++)
		iv[i] = (uint8_t)(0xa0 + i);

	ret = wd_afalg_open(&a, key, sizeof(key));
	for (int b = 0; !ret && b < 2; b++)
		ret = wd_afalg_cipher(&a, 1, iv, src[b], want_enc[b], LEN);
	wd_afalg_close(&a);
	if (!wdh_ok(ret == 0, "expected results from AF_ALG %s", WD_AFALG_DRIVER))
		wdh_diag("%s", strerror(-ret));

	ret = wd_vc_open(&q, NULL);
	if (!ret)
		ret = wd_vc_session(&q, 1, key, sizeof(key), &enc);
	if (!ret)
		ret = wd_vc_session(&q, 0, key, sizeof(key), &dec);
	if (!wdh_ok(ret == 0, "user queue open, mapped, two sessions")) {
		wdh_diag("%s", strerror(-ret));
		return wdh_exit_code();
	}
	st0 = open("/proc/self/status", O_RDONLY);
	st1 = open("/proc/self/status", O_RDONLY);
	invol0 = ctxt_switches(st0, &vol0);
	wdh_ok(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) == 0, "seccomp strict mode entered");

	/* From here on: read, write, _exit only */
	t0 = wd_now_ns();
	for (unsigned int r = 0; r < ROUNDS; r++) {
		int b = r & 1;

		if (wd_vc_cipher(&q, enc, 1, iv, src[b], out, LEN)) {
			errors++;
			continue;
		}
		if (memcmp(out, want_enc[b], LEN))
			bad_enc++;
		if (wd_vc_cipher(&q, dec, 0, iv, want_enc[b], out, LEN)) {
			errors++;
			continue;
		}
		if (memcmp(out, src[b], LEN))
			bad_dec++;
	}
	t1 = wd_now_ns();
	invol1 = ctxt_switches(st1, &vol1);

	wdh_ok(errors == 0 && bad_enc == 0 && bad_dec == 0,
	       "%u requests in seccomp strict mode, all correct (errors %u, wrong ciphertexts %u, wrong plaintexts %u)",
	       2 * ROUNDS, errors, bad_enc, bad_dec);
	wdh_ok(1, "still alive: no system call other than read/write in the data path");
	wdh_diag("context switches during the loop: voluntary %ld, involuntary %ld (timer preemption)",
		 vol1 - vol0, invol1 - invol0);
	printf("# metric: user_queue.strict.64B.req_per_s %.0f req/s\n",
	       2.0 * ROUNDS * 1e9 / (double)(t1 - t0));
	fflush(stdout);
	syscall(SYS_exit, wdh_exit_code());
	return 1;
}
