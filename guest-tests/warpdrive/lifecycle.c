// SPDX-License-Identifier: GPL-2.0
/*
 * The uacce device of the user-mode virtio-crypto device: sysfs attributes as documented, open,
 * VCRYPTO_UACCE_CMD_INFO, mmap of both regions, START_Q, one request, PUT_Q, close; EBUSY for a
 * second opener; available_instances 1, then 0 while held; INFO hands out no IOVA but the data
 * area's; after PUT_Q the mappings are revoked (SIGBUS on touch), and mapped again with START_Q
 * the queue works; a holder killed with SIGKILL gives the queue back, clean (ring indexes at 0),
 * and the next process can use it.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "wdh_tap.h"
#include "wd_vcrypto.h"
#include "wd_touch.h"

static int attr_is(const char *name, const char *attr, const char *want)
{
	char buf[128];
	int ret = wd_uacce_sysfs(name, attr, buf, sizeof(buf));

	if (ret) {
		wdh_diag("%s/%s: %s", name, attr, strerror(-ret));
		return 0;
	}
	if (strcmp(buf, want)) {
		wdh_diag("%s/%s = '%s', expected '%s'", name, attr, buf, want);
		return 0;
	}
	return 1;
}

int main(void)
{
	struct wd_vc q, q2;
	char name[64], buf[64];
	int ret, status, pipefd[2];
	pid_t pid;

	wd_vc_require();
	wdh_plan(30);
	ret = wd_vc_find(name, sizeof(name));
	if (!wdh_ok(ret == 0, "a uacce device with api %s", VCRYPTO_UACCE_API)) {
		wdh_diag("%s", strerror(-ret));
		return wdh_exit_code();
	}
	wdh_diag("device %s", name);
	wdh_ok(attr_is(name, "flags", "0"), "flags 0 (no SVA)");
	wdh_ok(attr_is(name, "algorithms", "cbc(aes)"), "algorithms cbc(aes)");
	wdh_ok(attr_is(name, "available_instances", "1"), "available_instances 1 when free");
	snprintf(buf, sizeof(buf), "%d", getpagesize());
	wdh_ok(attr_is(name, "region_mmio_size", buf), "region_mmio_size one page (the doorbell)");

	ret = wd_vc_open(&q, name);
	if (!wdh_ok(ret == 0, "open, INFO, mmap of both regions, START_Q")) {
		wdh_diag("%s", strerror(-ret));
		return wdh_exit_code();
	}
	wdh_diag("ring %u entries (avail +0x%llx, used +0x%llx), %llu bytes; data %llu bytes at IOVA 0x%llx; doorbell +0x%x, queue %u, features 0x%llx",
		 q.info.ring_num,
		 (unsigned long long)q.info.avail_offset, (unsigned long long)q.info.used_offset,
		 (unsigned long long)q.info.ring_size, (unsigned long long)q.info.data_size,
		 (unsigned long long)q.info.data_iova, q.info.notify_offset, q.info.queue_index,
		 (unsigned long long)q.info.features);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(q.info.ring_size + q.info.data_size));
	wdh_ok(attr_is(name, "region_dus_size", buf), "region_dus_size = ring + data area");
	wdh_ok(q.info.ring_num && !(q.info.ring_num & (q.info.ring_num - 1)) &&
	       q.info.notify_size == (uint32_t)getpagesize() &&
	       q.info.data_iova && !(q.info.data_iova % getpagesize()) &&
	       q.info.data_offset == q.info.ring_size, "layout consistent");
#ifdef VCRYPTO_UACCE_IOCTL
	wdh_ok(!q.info.reserved1[0] && !q.info.reserved1[1] && !q.info.reserved1[2],
	       "INFO hands out no IOVA but the data area's");
#else
	wdh_ok(0, "INFO hands out no IOVA but the data area's (ABI v1 hands out the rings' IOVAs)");
#endif
	wdh_ok(attr_is(name, "available_instances", "0"), "available_instances 0 while held");
	ret = wd_vc_open(&q2, name);
	wdh_ok(ret == -EBUSY, "second open fails with EBUSY (got %s)", ret ? strerror(-ret) : "success");
	if (!ret)
		wd_vc_close(&q2);
	wdh_ok(ioctl(q.fd, UACCE_CMD_START_Q) < 0 && errno == EINVAL, "START_Q twice refused");
	{
		struct vcrypto_uacce_session bad;
		uint64_t nosuch = 0x123456789ULL;
		void *p;

		p = mmap(NULL, q.info.notify_size, PROT_READ | PROT_WRITE, MAP_SHARED, q.fd,
			 UACCE_QFRT_MMIO * getpagesize());
		wdh_ok(p == MAP_FAILED && errno == EEXIST, "a region maps once (EEXIST)");
		if (p != MAP_FAILED)
			munmap(p, q.info.notify_size);
		memset(&bad, 0, sizeof(bad));
		bad.algo = VIRTIO_CRYPTO_CIPHER_AES_CBC;
		bad.op = VIRTIO_CRYPTO_OP_ENCRYPT;
		bad.key_len = 17;
		wdh_ok(ioctl(q.fd, VCRYPTO_UACCE_CMD_CREATE_SESSION, &bad) < 0 && errno == EINVAL,
		       "CREATE_SESSION with a 17-byte AES key: EINVAL");
		bad.key_len = 16;
		bad.algo = VIRTIO_CRYPTO_CIPHER_AES_ECB;
		wdh_ok(ioctl(q.fd, VCRYPTO_UACCE_CMD_CREATE_SESSION, &bad) < 0 && errno == EINVAL,
		       "CREATE_SESSION for another algorithm: EINVAL");
		wdh_ok(ioctl(q.fd, VCRYPTO_UACCE_CMD_DESTROY_SESSION, &nosuch) < 0 && errno == ENOENT,
		       "DESTROY_SESSION of a session it does not hold: ENOENT");
		wdh_ok(ioctl(q.fd, _IO('W', 0x2f)) < 0 && errno == EINVAL, "unknown ioctl: EINVAL");
	}
	wdh_ok(wd_vc_known_answer(&q), "AES-128-CBC block through the queue");
	wdh_ok(ioctl(q.fd, UACCE_CMD_PUT_Q) == 0, "PUT_Q");
	wdh_ok(touch_faults(q.dus + q.info.data_offset, 0), "after PUT_Q the data area is revoked (SIGBUS on read)");
	wdh_ok(touch_faults((void *)q.mmio, 1), "after PUT_Q the doorbell page is revoked (SIGBUS on write)");
	/* what the documentation promises: map both regions again, START_Q, and the queue works */
	ret = wd_vc_remap(&q);
	wdh_ok(ret == 0 && ioctl(q.fd, UACCE_CMD_START_Q) == 0 && wd_vc_known_answer(&q),
	       "after PUT_Q: mapped again (%s), START_Q, a known answer", ret ? strerror(-ret) : "ok");
	wd_vc_close(&q);
	wdh_ok(attr_is(name, "available_instances", "1"), "available_instances 1 after close");

	/* A holder killed while it holds the queue */
	if (pipe(pipefd))
		return 1;
	pid = fork();
	if (pid == 0) {
		struct wd_vc c;
		char ok = (wd_vc_open(&c, name) == 0 && wd_vc_known_answer(&c)) ? 'y' : 'n';
		if (write(pipefd[1], &ok, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	buf[0] = 0;
	if (read(pipefd[0], buf, 1) != 1)
		buf[0] = 0;
	close(pipefd[0]);
	wdh_ok(buf[0] == 'y', "child opened the queue and used it");
	wdh_ok(attr_is(name, "available_instances", "0"), "available_instances 0 while the child holds it");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	wdh_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed with SIGKILL");
	wdh_ok(attr_is(name, "available_instances", "1"), "available_instances 1 after the kill");
	ret = wd_vc_open(&q, name);
	wdh_ok(ret == 0, "reopen after the holder was killed (%s)", ret ? strerror(-ret) : "ok");
	if (ret) {
		wdh_ok(0, "clean queue after reopen");
		wdh_ok(0, "request after reopen");
		return wdh_exit_code();
	}
	wdh_ok(q.avail->idx == 0 && q.used->idx == 0, "clean queue after reopen (avail %u, used %u)",
	       q.avail->idx, q.used->idx);
	wdh_ok(wd_vc_known_answer(&q), "request after reopen");
	wd_vc_close(&q);
	return wdh_exit_code();
}
