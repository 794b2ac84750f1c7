// SPDX-License-Identifier: GPL-2.0
/*
 * Nothing passes from one holder of the queue to the next. Holder A (a child process) fills its
 * data area with a pattern and leaves sessions behind in each way it can:
 *   1. it exits without destroying its session;
 *   2. it breaks the device (a descriptor chain the device cannot follow) and its DESTROY_SESSION
 *      fails (EIO): the session is still on the device;
 *   3. (test hooks) it is killed while its CREATE_SESSION waits after the device answered: the
 *      driver never read the new session's id;
 *   4. (test hooks) its CREATE_SESSION times out: the device was broken while the request was on
 *      the control queue.
 * After each, holder B (this process) opens the queue: its data area reads zero, and a request on
 * every session id A was given and on ids 0..31 (QEMU numbers sessions from 0) gets an
 * invalid-session status (VIRTIO_CRYPTO_INVSESS), except on B's own session.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "wdh_tap.h"
#include "wd_vcrypto.h"
#include "wd_file.h"

#define DBG "/sys/kernel/debug/virtio_crypto_uacce"
#define PROBE_IDS 32

static char name[64];

static int hook(const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), DBG "/%s/%s", name, file);
	return wd_write_file(path, val);
}

static void break_device(struct wd_vc *q)
{
	q->desc[0].addr = q->info.data_iova;
	q->desc[0].len = WD_VC_HDR_LEN;
	q->desc[0].flags = VRING_DESC_F_NEXT;
	q->desc[0].next = 0xffff;
	q->avail->ring[q->avail_idx % q->info.ring_num] = 0;
	q->avail_idx++;
	wd_dma_wmb();
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
	wd_dma_mb();
	*(volatile uint16_t *)(q->mmio + q->info.notify_offset) = q->info.queue_index;
	usleep(200000);
}

static struct wd_vc *bg_q;

static void *bg_create(void *arg)
{
	uint64_t sid;

	(void)arg;
	wd_vc_session(bg_q, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid);
	return NULL;
}

/* Holder A: writes the ids it was given to fd, then leaves as the scenario says */
static void holder_a(int scenario, int fd)
{
	struct wd_vc q;
	uint64_t sid = 0;
	pthread_t t;
	int ret;

	if (wd_vc_open(&q, name))
		_exit(2);
	memset(q.data, 0xa5, q.info.data_size);
	switch (scenario) {
	case 1:
	case 2:
		ret = wd_vc_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid);
		if (ret || write(fd, &sid, sizeof(sid)) != sizeof(sid))
			_exit(3);
		if (scenario == 2) {
			break_device(&q);
			ret = wd_vc_destroy_session(&q, sid);
			_exit(ret == -EIO ? 0 : 4);
		}
		_exit(0);
	case 3:
		/* the creation waits 3 s after the device answered; killed meanwhile */
		bg_q = &q;
		pthread_create(&t, NULL, bg_create, NULL);
		sid = ~0ULL;
		if (write(fd, &sid, sizeof(sid)) != sizeof(sid))
			_exit(3);
		pause();
		_exit(0);
	case 4:
		/* the device is broken while the creation is held before the kick */
		bg_q = &q;
		pthread_create(&t, NULL, bg_create, NULL);
		usleep(300000);
		break_device(&q);
		pthread_join(t, NULL);
		_exit(0);
	}
	_exit(5);
}

/* One request on session id; returns the device's status byte, or -1 */
static int request_on(struct wd_vc *q, uint64_t id)
{
	if (wd_vc_submit(q, id, 1, sp800_38a_iv, sp800_38a_pt, SP800_38A_BLOCK))
		return -1;
	if (wd_vc_poll(q, 2000000000LL) < 0)
		return -1;
	return q->data[q->in_off + SP800_38A_BLOCK];
}

static void scenario(int n, const char *what, int needs_hooks)
{
	uint64_t ids[4], own = 0;
	unsigned int nids = 0, leaks = 0, probed = 0;
	int pipefd[2], status, ret, zero = 1;
	struct wd_vc q;
	pid_t pid;

	if (needs_hooks && hook("ctrl_late_ms", "0")) {
		wdh_skip("the kernel has no test hooks (CONFIG_CRYPTO_DEV_VIRTIO_UACCE_TEST)", "%s: data area zeroed", what);
		wdh_skip("the kernel has no test hooks (CONFIG_CRYPTO_DEV_VIRTIO_UACCE_TEST)", "%s: no session left", what);
		return;
	}
	if (n == 3)
		hook("ctrl_late_ms", "3000");
	if (n == 4)
		hook("ctrl_hold_ms", "1000");
	if (pipe(pipefd))
		return;
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		holder_a(n, pipefd[1]);
	}
	close(pipefd[1]);
	while (nids < 4 && read(pipefd[0], &ids[nids], sizeof(ids[0])) == sizeof(ids[0])) {
		if (n == 3) {
			usleep(500000);	/* the device has answered; the driver waits */
			kill(pid, SIGKILL);
			continue;
		}
		nids++;
	}
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	hook("ctrl_late_ms", "0");
	hook("ctrl_hold_ms", "0");
	wdh_diag("%s: holder A ended with status 0x%x, %u session id(s) given", what, status, nids);

	ret = wd_vc_open(&q, name);
	if (ret) {
		wdh_ok(0, "%s: holder B opens the queue (%s)", what, strerror(-ret));
		wdh_ok(0, "%s: not run", what);
		return;
	}
	for (uint64_t i = 0; i < q.info.data_size; i++)
		if (q.data[i]) {
			zero = 0;
			wdh_diag("data area byte %llu is 0x%02x", (unsigned long long)i, q.data[i]);
			break;
		}
	wdh_ok(zero, "%s: holder B's data area reads zero", what);
	ret = wd_vc_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &own);
	for (unsigned int i = 0; i < nids + PROBE_IDS; i++) {
		uint64_t id = i < nids ? ids[i] : i - nids;
		int st;

		if (!ret && id == own)
			continue;
		st = request_on(&q, id);
		probed++;
		if (st != VIRTIO_CRYPTO_INVSESS) {
			leaks++;
			wdh_diag("session id %llu: status %d, not VIRTIO_CRYPTO_INVSESS", (unsigned long long)id, st);
			if (st < 0)
				break;
		}
	}
	wdh_ok(!ret && !leaks, "%s: %u session ids (A's and 0..%d) are invalid for holder B (%u are not)", what,
	       probed, PROBE_IDS - 1, leaks);
	wd_vc_close(&q);
}

int main(void)
{
	wd_vc_require();
	wdh_plan(8);
	if (wd_vc_find(name, sizeof(name))) {
		printf("Bail out! no user-mode virtio-crypto device\n");
		return WDH_EXIT_FAIL;
	}
	scenario(1, "A exited with its session", 0);
	scenario(2, "A's DESTROY_SESSION failed (device broken)", 0);
	scenario(3, "A was killed in CREATE_SESSION after the device answered", 1);
	scenario(4, "A's CREATE_SESSION timed out (device broken meanwhile)", 1);
	return wdh_exit_code();
}
