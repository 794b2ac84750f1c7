// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation: what the process can make the device reach.
 *
 * 1. Stray descriptors at an IOVA nothing is mapped at, once written by the device, once read: the
 *    SMMUv3 stops the access and reports it as F_TRANSLATION (type 0x10) from this device's StreamID
 *    (its PCI requester ID) at that IOVA; the queue works again after release and reopen. (QEMU 7.2
 *    may still complete such a request, through a bounce buffer that reads zeros and drops writes:
 *    the event is the proof, not the request's status.)
 * 2. A descriptor chain the device cannot follow: session creation fails with EIO instead of waiting;
 *    the next holder gets a working queue.
 * 3. With the series' test hooks (CONFIG_CRYPTO_DEV_VIRTIO_UACCE_TEST): while a session creation is
 *    held on the control queue (ctrl_hold_ms), the test reads the list of every IOVA mapped in the
 *    device's domain and aims read and write descriptors at every mapped range outside its own
 *    regions, then at the pages around every range. No range may be other kernel memory ("ram");
 *    a read must not return kernel data (the canary objects the hooks placed in the slab caches
 *    control requests would come from); a write found one must not change it; every page around a
 *    range faults with this device's StreamID.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "wdh_tap.h"
#include "wd_smmu_events.h"
#include "wd_vcrypto.h"
#include "wd_file.h"

#define BAD_IOVA 0x10000ULL	/* below every IOVA the DMA API hands out */
#define DBG "/sys/kernel/debug/virtio_crypto_uacce"
#define PG 4096u
#define HOLD_MS 15000

static char name[64];
static int rid = -1;

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, got = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return n < 0 ? -errno : 0;
}

static void stray(const char *what, int write_side)
{
	struct wd_smmu_log log;
	struct wd_vc q;
	uint64_t sid = 0;
	int ret, ev;
	int64_t r;

	ret = wd_vc_open(&q, NULL);
	if (!wdh_ok(ret == 0 && wd_vc_known_answer(&q), "%s: queue works before", what)) {
		wdh_diag("open: %s", strerror(-ret));
		wdh_ok(0, "%s: not run", what);
		wdh_ok(0, "%s: not run", what);
		return;
	}
	if (wd_vc_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid))
		wdh_diag("create session failed");
	wd_smmu_pace();
	wd_smmu_open(&log);
	wd_vc_prepare(&q, sid, 1, sp800_38a_iv, sp800_38a_pt, SP800_38A_BLOCK);
	if (write_side)
		wd_vc_submit_raw(&q, q.info.data_iova + q.out_off,
				 WD_VC_HDR_LEN + WD_VC_IV_LEN + SP800_38A_BLOCK, BAD_IOVA, SP800_38A_BLOCK + 1);
	else
		wd_vc_submit_raw(&q, BAD_IOVA, WD_VC_HDR_LEN + WD_VC_IV_LEN + SP800_38A_BLOCK,
				 q.info.data_iova + q.in_off, SP800_38A_BLOCK + 1);
	r = wd_vc_poll(&q, 1000000000LL);
	wdh_diag("%s: the device %s", what, r >= 0 ? "completed the request" : "did not complete the request");
	ev = wd_smmu_wait(&log, (unsigned int)rid, 0x10, BAD_IOVA, 1, 3000);
	wd_smmu_close(&log);
	wdh_ok(ev >= 0, "%s: F_TRANSLATION (0x10) from StreamID 0x%x (%s) at IOVA 0x%llx", what, rid, name,
	       BAD_IOVA);
	wd_vc_close(&q);

	ret = wd_vc_open(&q, NULL);
	wdh_ok(ret == 0 && q.avail->idx == 0 && q.used->idx == 0 && wd_vc_known_answer(&q),
	       "%s: clean and working again after release and reopen", what);
	if (!ret)
		wd_vc_close(&q);
}

static void broken(void)
{
	const char *what = "device broken by a bogus descriptor chain";
	struct vcrypto_uacce_session s;
	struct wd_vc q;
	int ret;

	ret = wd_vc_open(&q, NULL);
	if (!wdh_ok(ret == 0 && wd_vc_known_answer(&q), "%s: queue works before", what)) {
		wdh_ok(0, "%s: not run", what);
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
	wdh_ok(ret == 0 && q.avail->idx == 0 && q.used->idx == 0 && wd_vc_known_answer(&q),
	       "%s: clean and working again after release and reopen", what);
	if (!ret)
		wd_vc_close(&q);
}

/* ---- 3: mapped IOVAs ---- */

struct range {
	uint64_t start, end;
	char what[16];
};

static struct range ranges[64];
static unsigned int nranges;
static struct wd_vc pq;
static uint64_t enc_sid, dec_sid;
static volatile int held_done;

static int own(const struct range *r)
{
	return !strcmp(r->what, "data") || !strcmp(r->what, "ring");
}

static int listed(uint64_t iova)
{
	for (unsigned int i = 0; i < nranges; i++)
		if (iova - ranges[i].start < ranges[i].end - ranges[i].start)
			return 1;
	return 0;
}

static int load_ranges(void)
{
	static char buf[16384];
	char path[256], *line, *save;
	int ret;

	snprintf(path, sizeof(path), DBG "/%s/iovas", name);
	ret = read_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	nranges = 0;
	for (line = strtok_r(buf, "\n", &save); line && nranges < 64; line = strtok_r(NULL, "\n", &save)) {
		struct range *r = &ranges[nranges];
		unsigned long long s, e;

		if (sscanf(line, "%llx %llx %15s", &s, &e, r->what) != 3)
			continue;
		r->start = s;
		r->end = e;
		nranges++;
		wdh_diag("mapped: %s", line);
	}
	return 0;
}

static int open_probe_queue(void)
{
	int ret = wd_vc_open(&pq, name);

	if (!ret)
		ret = wd_vc_session(&pq, 1, sp800_38a_key, sizeof(sp800_38a_key), &enc_sid);
	if (!ret)
		ret = wd_vc_session(&pq, 0, sp800_38a_key, sizeof(sp800_38a_key), &dec_sid);
	return ret;
}

static struct virtio_crypto_op_data_req *header(struct wd_vc *q, uint64_t sid, int encrypt, uint32_t len)
{
	struct virtio_crypto_op_data_req *req = (void *)(q->data + q->out_off);

	memset(req, 0, sizeof(*req));
	req->header.opcode = encrypt ? VIRTIO_CRYPTO_CIPHER_ENCRYPT : VIRTIO_CRYPTO_CIPHER_DECRYPT;
	req->header.algo = VIRTIO_CRYPTO_CIPHER_AES_CBC;
	req->header.session_id = sid;
	req->u.sym_req.op_type = VIRTIO_CRYPTO_SYM_OP_CIPHER;
	req->u.sym_req.u.cipher.para.iv_len = WD_VC_IV_LEN;
	req->u.sym_req.u.cipher.para.src_data_len = len;
	req->u.sym_req.u.cipher.para.dst_data_len = len;
	memcpy(q->data + q->out_off + WD_VC_HDR_LEN, sp800_38a_iv, WD_VC_IV_LEN);
	return req;
}

/*
 * The device reads len bytes at iova (the source of an encryption); the plaintext is recovered
 * with a decryption into out. 1: the device read it, 0: it refused, -1: it stopped (a fault).
 */
static int probe_read(uint64_t iova, uint32_t len, uint8_t *out)
{
	struct vring_desc d[3] = {
		{ .addr = pq.info.data_iova + pq.out_off, .len = WD_VC_HDR_LEN + WD_VC_IV_LEN },
		{ .addr = iova, .len = len },
		{ .addr = pq.info.data_iova + pq.in_off, .len = len + 1, .flags = VRING_DESC_F_WRITE },
	};
	uint8_t ct[PG];

	header(&pq, enc_sid, 1, len);
	pq.data[pq.in_off + len] = 0xff;
	wd_vc_submit_descs(&pq, d, 3);
	if (wd_vc_poll(&pq, 1000000000LL) < 0)
		return -1;
	if (pq.data[pq.in_off + len] != VIRTIO_CRYPTO_OK)
		return 0;
	memcpy(ct, pq.data + pq.in_off, len);
	return wd_vc_cipher(&pq, dec_sid, 0, sp800_38a_iv, ct, out, len) == 0 ? 1 : -1;
}

/* The device writes 16 bytes at iova (the destination). 1 written, 0 refused, -1 stopped. */
static int probe_write(uint64_t iova)
{
	struct vring_desc d[3] = {
		{ .addr = pq.info.data_iova + pq.out_off, .len = WD_VC_HDR_LEN + WD_VC_IV_LEN + 16 },
		{ .addr = iova, .len = 16, .flags = VRING_DESC_F_WRITE },
		{ .addr = pq.info.data_iova + pq.in_off, .len = 1, .flags = VRING_DESC_F_WRITE },
	};

	header(&pq, enc_sid, 1, 16);
	memset(pq.data + pq.out_off + WD_VC_HDR_LEN + WD_VC_IV_LEN, 0x3c, 16);
	pq.data[pq.in_off] = 0xff;
	wd_vc_submit_descs(&pq, d, 3);
	if (wd_vc_poll(&pq, 1000000000LL) < 0)
		return -1;
	return pq.data[pq.in_off] == VIRTIO_CRYPTO_OK;
}

static void *held_create(void *arg)
{
	uint64_t sid;
	int ret = wd_vc_session(&pq, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid);

	wdh_diag("held session creation ended: %s", ret ? strerror(-ret) : "created");
	held_done = 1;
	return arg;
}

static long canaries_changed(void)
{
	char path[256], buf[128];
	long total = -1, changed = -1;

	snprintf(path, sizeof(path), DBG "/%s/canary", name);
	if (read_file(path, buf, sizeof(buf)) || sscanf(buf, "canaries %ld changed %ld", &total, &changed) != 2)
		return -1;
	wdh_diag("%s", buf);
	return total > 0 ? changed : -1;
}

static void mapped(void)
{
	char path[256], ms[16];
	unsigned int kernel_ram = 0, reads = 0, reads_kernel = 0, writes = 0, nb = 0, nb_fault = 0;
	static uint8_t page[PG];
	pthread_t t;
	cpu_set_t cpus;
	int ret, stopped = 0;

	snprintf(path, sizeof(path), DBG "/%s/iovas", name);
	if (access(path, R_OK)) {
		for (int i = 0; i < 6; i++)
			wdh_skip("the kernel has no test hooks (CONFIG_CRYPTO_DEV_VIRTIO_UACCE_TEST)",
				 "mapped IOVAs");
		return;
	}
	/*
	 * Canaries where control requests and indirect tables would be allocated: on this CPU's
	 * slabs, where the held creation (a thread of this process, pinned to the same CPU) allocates.
	 */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		wdh_diag("sched_setaffinity: %s", strerror(errno));
	snprintf(path, sizeof(path), DBG "/%s/canary", name);
	wd_write_file(path, "0");
	if (wd_write_file(path, "64 64") || wd_write_file(path, "64 96") || wd_write_file(path, "64 128") ||
	    wd_write_file(path, "64 192") || wd_write_file(path, "64 256"))
		wdh_diag("placing canaries failed");

	ret = open_probe_queue();
	if (ret) {
		for (int i = 0; i < 6; i++)
			wdh_ok(0, "mapped IOVAs: queue open failed (%s)", strerror(-ret));
		return;
	}
	snprintf(path, sizeof(path), DBG "/%s/ctrl_hold_ms", name);
	snprintf(ms, sizeof(ms), "%d", HOLD_MS);
	wd_write_file(path, ms);
	held_done = 0;
	pthread_create(&t, NULL, held_create, NULL);
	usleep(300000);

	ret = load_ranges();
	for (unsigned int i = 0; i < nranges; i++)
		if (!strcmp(ranges[i].what, "ram"))
			kernel_ram++;
	wdh_ok(!ret && nranges && !kernel_ram,
	       "with a session creation in flight, the device's domain maps %u ranges, none of them other kernel memory (%u \"ram\")",
	       nranges, kernel_ram);

	/* Reads of every mapped range outside the process's regions: every page, 16 at most */
	for (unsigned int i = 0; i < nranges && !stopped; i++) {
		uint64_t npages = (ranges[i].end - ranges[i].start) / PG;

		if (own(&ranges[i]))
			continue;
		for (uint64_t k = 0; k < npages && k < 16 && !stopped; k++) {
			uint64_t pages[1] = { ranges[i].start + k * PG };

			ret = probe_read(pages[0], PG, page);
			reads++;
			if (ret < 0) {
				wdh_diag("read at 0x%llx (%s): the device stopped", (unsigned long long)pages[0],
					 ranges[i].what);
				stopped = 1;
				break;
			}
			if (ret && memmem(page, PG, "WDCANARY", 8)) {
				uint8_t *c = memmem(page, PG, "WDCANARY", 8);

				reads_kernel++;
				wdh_diag("read at 0x%llx (%s) returned a canary object at +0x%lx: kernel memory",
					 (unsigned long long)pages[0], ranges[i].what, (long)(c - page));
				/* and overwrite it */
				if (probe_write(pages[0] + (uint64_t)(c - page) - (uint64_t)(c - page) % 16) > 0)
					writes++;
			} else if (ret && !strcmp(ranges[i].what, "ram")) {
				reads_kernel++;
				wdh_diag("read at 0x%llx (ram) succeeded: kernel memory", (unsigned long long)pages[0]);
			}
		}
	}
	wdh_ok(!reads_kernel, "%u reads at mapped IOVAs outside the process's regions: %u reached kernel memory",
	       reads, reads_kernel);
	/* Writes into the driver's own areas touch only them (the canaries tell) */
	for (unsigned int i = 0; i < nranges && !stopped; i++) {
		if (own(&ranges[i]) || !strcmp(ranges[i].what, "mmio"))
			continue;
		ret = probe_write(ranges[i].start);
		writes++;
		if (ret < 0)
			stopped = 1;
	}
	wdh_diag("%u writes at mapped IOVAs outside the process's regions", writes);
	snprintf(path, sizeof(path), DBG "/%s/ctrl_hold_ms", name);
	wd_write_file(path, "0");
	pthread_join(t, NULL);
	wd_vc_close(&pq);

	/* The pages around every range: each access faults, from this device */
	for (unsigned int i = 0; i < nranges; i++) {
		uint64_t around[2] = { ranges[i].start - PG, ranges[i].end };

		for (int k = 0; k < 2; k++) {
			struct wd_smmu_log log;

			if (listed(around[k]) || around[k] >= (1ULL << 32) || !ranges[i].start)
				continue;
			if (open_probe_queue()) {
				wdh_diag("reopen failed");
				break;
			}
			wd_smmu_pace();
			wd_smmu_open(&log);
			nb++;
			/*
			 * QEMU 7.2 completes a request whose buffer did not translate (through a bounce
			 * buffer that reads zeros and drops writes): the event tells, not the status.
			 */
			ret = k ? probe_write(around[k]) : probe_read(around[k], 16, page);
			if (wd_smmu_wait(&log, (unsigned int)rid, 0x10, around[k], PG, 3000) >= 0)
				nb_fault++;
			else
				wdh_diag("%s at 0x%llx next to %s (%s): no F_TRANSLATION event from this device",
					 k ? "write" : "read", (unsigned long long)around[k], ranges[i].what,
					 ret > 0 ? "completed" : ret == 0 ? "refused" : "stopped");
			wd_smmu_close(&log);
			wd_vc_close(&pq);
		}
	}
	wdh_ok(nb && nb_fault == nb,
	       "%u accesses at the pages around the mapped ranges: %u faulted (F_TRANSLATION, StreamID 0x%x, that IOVA)",
	       nb, nb_fault, rid);
	ret = (int)canaries_changed();
	wdh_ok(ret == 0, "the canary objects next to where control requests would be allocated are unchanged (%d changed)",
	       ret);
	snprintf(path, sizeof(path), DBG "/%s/canary", name);
	wd_write_file(path, "0");
	ret = wd_vc_open(&pq, name);
	wdh_ok(ret == 0 && wd_vc_known_answer(&pq), "the queue works after the probes");
	if (!ret)
		wd_vc_close(&pq);
	wdh_ok(held_done, "the held session creation returned");
}

int main(void)
{
	wd_vc_require();
	wdh_plan(15);
	if (wd_vc_find(name, sizeof(name)) || (rid = wd_vc_rid(name)) < 0) {
		printf("Bail out! no user-mode virtio-crypto device\n");
		return WDH_EXIT_FAIL;
	}
	wdh_diag("%s: StreamID 0x%x", name, rid);
	stray("device write to a stray IOVA", 1);
	stray("device read from a stray IOVA", 0);
	broken();
	mapped();
	return wdh_exit_code();
}
