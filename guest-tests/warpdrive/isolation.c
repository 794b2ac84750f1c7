// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation: the process writes descriptors that point outside what it was given (an IOVA
 * that the kernel never mapped for this device), once as the destination the device writes,
 * once as the source it reads. The SMMUv3 stops the access and reports it (an "event 0x10"
 * F_TRANSLATION line in the kernel log, which the harness attributes to this test); the kernel
 * survives; after release and reopen the queue works again.
 */
#include <stdlib.h>

#include "wdh_tap.h"
#include "wd_vcrypto.h"

#define BAD_IOVA 0x10000ULL	/* below every IOVA the DMA API hands out */

/*
 * Read /dev/kmsg (opened before the stray request, at its end) for up to 3 s: an arm-smmu-v3
 * event line, and the stray IOVA in one of the event words that follow it.
 */
static void wait_smmu_event(int kfd, int *event, int *iova)
{
	char rec[1024], want[32];
	int64_t deadline = wd_now_ns() + 3000000000LL;
	int words = 0;

	snprintf(want, sizeof(want), "0x%016llx", BAD_IOVA);
	*event = *iova = 0;
	while (wd_now_ns() < deadline && !(*event && *iova)) {
		ssize_t n = read(kfd, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0) {
			if (errno == EAGAIN)
				usleep(20000);
			continue;
		}
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		if (strstr(rec, "smmu") && strstr(msg, "event 0x")) {
			wdh_diag("kernel: %s", msg);
			*event = 1;
			words = 4;
		} else if (words > 0) {
			words--;
			wdh_diag("kernel: %s", msg);
			if (strstr(msg, want))
				*iova = 1;
		}
	}
}

/*
 * arm-smmu-v3 prints at most 10 events per 5 s (a ratelimit): events lost to it are never
 * printed. Wait until 5.5 s after the last printed one, so that this test's event is printed.
 */
static void wait_ratelimit_clear(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	long long last_us = -1, ts;
	char rec[1024];
	ssize_t n;

	if (fd < 0)
		return;
	while ((n = read(fd, rec, sizeof(rec) - 1)) != 0) {
		if (n < 0) {
			if (errno == EPIPE)
				continue;	/* overwritten records */
			break;
		}
		rec[n] = '\0';
		if (strstr(rec, "smmu") && strstr(rec, "event 0x") &&
		    sscanf(rec, "%*d,%*d,%lld", &ts) == 1)
			last_us = ts;
	}
	close(fd);
	if (last_us >= 0) {
		long long wait_us = last_us + 5500000LL - wd_now_ns() / 1000;

		if (wait_us > 0) {
			wdh_diag("last SMMU event printed %.1f s ago: waiting %.1f s for the ratelimit",
				 (wd_now_ns() / 1000 - last_us) / 1e6, wait_us / 1e6);
			usleep((useconds_t)wait_us);
		}
	}
}

static void stray(const char *what, int write_side)
{
	struct wd_vc q;
	uint8_t *data;
	uint64_t sid = 0;
	int kfd, ret, event = 0, iova = 0;
	int64_t r;

	ret = wd_vc_open(&q, NULL);
	if (!wdh_ok(ret == 0 && wd_vc_known_answer(&q), "%s: queue works before", what)) {
		wdh_diag("open: %s", strerror(-ret));
		for (int i = 0; i < 4; i++)
			wdh_ok(0, "%s: not run", what);
		return;
	}
	if (wd_vc_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid))
		wdh_diag("create session failed");
	wait_ratelimit_clear();
	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kfd >= 0)
		lseek(kfd, 0, SEEK_END);

	/* A valid request in the data area, then one of its buffers moved to BAD_IOVA */
	data = q.data;
	wd_vc_prepare(&q, sid, 1, sp800_38a_iv, sp800_38a_pt, SP800_38A_BLOCK);
	if (write_side)
		wd_vc_submit_raw(&q, q.info.data_iova + q.out_off,
				 WD_VC_HDR_LEN + WD_VC_IV_LEN + SP800_38A_BLOCK, BAD_IOVA, SP800_38A_BLOCK + 1);
	else
		wd_vc_submit_raw(&q, BAD_IOVA, WD_VC_HDR_LEN + WD_VC_IV_LEN + SP800_38A_BLOCK,
				 q.info.data_iova + q.in_off, SP800_38A_BLOCK + 1);
	r = wd_vc_poll(&q, 1000000000LL);
	wdh_diag("%s: the device %s (status byte in the data area 0x%02x)", what,
		 r >= 0 ? "completed the request" : "did not complete the request",
		 data[q.in_off + SP800_38A_BLOCK]);
	wait_smmu_event(kfd, &event, &iova);
	if (kfd >= 0)
		close(kfd);
	wdh_ok(event, "%s: the SMMUv3 reported a translation fault", what);
	wdh_ok(iova, "%s: the fault names IOVA 0x%llx", what, BAD_IOVA);
	wd_vc_close(&q);

	ret = wd_vc_open(&q, NULL);
	wdh_ok(ret == 0 && q.avail->idx == 0 && q.used->idx == 0,
	       "%s: reopened, clean queue", what);
	wdh_ok(ret == 0 && wd_vc_known_answer(&q), "%s: queue works again after release and reopen", what);
	if (!ret)
		wd_vc_close(&q);
}

/*
 * A process that breaks the virtio protocol (a descriptor chain whose next index is past the
 * end of the table): the device flags itself as needing a reset and stops serving the queue;
 * session creation fails with EIO instead of waiting for a control queue the device no longer
 * serves; release resets the device and the next holder gets a working queue.
 */
static void broken(void)
{
	const char *what = "device broken by a bogus descriptor chain";
	struct vcrypto_uacce_session s;
	struct wd_vc q;
	int ret;

	ret = wd_vc_open(&q, NULL);
	if (!wdh_ok(ret == 0 && wd_vc_known_answer(&q), "%s: queue works before", what)) {
		for (int i = 0; i < 3; i++)
			wdh_ok(0, "%s: not run", what);
		return;
	}
	q.desc[0].addr = q.info.data_iova;
	q.desc[0].len = WD_VC_HDR_LEN;
	q.desc[0].flags = VRING_DESC_F_NEXT;
	q.desc[0].next = 0xffff;
	q.avail->ring[q.avail_idx % q.info.ring_num] = 0;
	q.avail_idx++;
	wd_dma_wmb();
	*(volatile uint16_t *)&q.avail->idx = q.avail_idx;
	wd_dma_mb();
	*(volatile uint16_t *)(q.mmio + q.info.notify_offset) = q.info.queue_index;
	usleep(200000);
	memset(&s, 0, sizeof(s));
	s.algo = VIRTIO_CRYPTO_CIPHER_AES_CBC;
	s.op = VIRTIO_CRYPTO_OP_ENCRYPT;
	s.key_len = sizeof(sp800_38a_key);
	memcpy(s.key, sp800_38a_key, sizeof(sp800_38a_key));
	ret = ioctl(q.fd, VCRYPTO_UACCE_CMD_CREATE_SESSION, &s);
	wdh_ok(ret < 0 && errno == EIO, "%s: CREATE_SESSION fails with EIO (%s)", what,
	       ret < 0 ? strerror(errno) : "succeeded");
	wd_vc_close(&q);
	ret = wd_vc_open(&q, NULL);
	wdh_ok(ret == 0 && q.avail->idx == 0 && q.used->idx == 0, "%s: reopened, clean queue", what);
	wdh_ok(ret == 0 && wd_vc_known_answer(&q), "%s: queue works again after release and reopen", what);
	if (!ret)
		wd_vc_close(&q);
}

int main(void)
{
	wd_vc_require();
	wdh_plan(14);
	stray("device write to a stray IOVA", 1);
	stray("device read from a stray IOVA", 0);
	broken();
	return wdh_exit_code();
}
