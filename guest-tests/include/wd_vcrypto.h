/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wd_vcrypto.h - user-side driver for a virtio-crypto data queue handed to the process through
 * uacce (patches/warpdrive-virtio, Documentation/misc-devices/virtio-crypto-uacce.rst).
 *
 *	struct wd_vc q;
 *	wd_vc_open(&q, NULL);                     // first free /dev/virtio_crypto-N, START_Q, both mmaps
 *	wd_vc_session(&q, 1, key, 16, &enc_sid);  // through the kernel's control queue
 *	wd_vc_cipher(&q, enc_sid, 1, iv, src, dst, len);   // no system call: descriptors, avail
 *	                                                    // index, doorbell store, used-ring poll
 *	wd_vc_close(&q);
 *
 * The data path (wd_vc_submit, wd_vc_poll, wd_vc_cipher) makes no system call, so it runs under
 * seccomp strict mode. One request is in flight at a time: descriptors 0 (device-readable:
 * request header, IV, source) and 1 (device-writable: destination, status byte), both in the
 * DMA data area, whose IOVA the kernel reports.
 */
#ifndef WD_VCRYPTO_H
#define WD_VCRYPTO_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_crypto.h>
#include <linux/virtio_ring.h>
#include <misc/uacce/uacce.h>

#include "sp800_38a.h"
#include "wd_uacce.h"
#include "wdh_tap.h"

#if __has_include(<misc/uacce/virtio_crypto.h>)
#include <misc/uacce/virtio_crypto.h>
#else
/*
 * A kernel built without patches/warpdrive-virtio has no such header: the ABI (v2) is repeated here
 * so that the suite still compiles; wd_vc_require() then skips every test.
 */
#define VCRYPTO_UACCE_API "virtio_crypto_v2"
#define VCRYPTO_UACCE_MAX_KEY_LEN 32
struct vcrypto_uacce_info {
	__u64 features;
	__u32 ring_num;
	__u16 queue_index;
	__u16 reserved0;
	__u32 notify_offset;
	__u32 notify_size;
	__u64 reserved1[3];
	__u64 ring_offset, avail_offset, used_offset, ring_size;
	__u64 data_iova, data_offset, data_size;
	__u64 max_size;
};
struct vcrypto_uacce_session {
	__u32 algo, op, key_len, reserved;
	__u8 key[VCRYPTO_UACCE_MAX_KEY_LEN];
	__u64 session_id;
};
#define VCRYPTO_UACCE_IOCTL 0xBA
#define VCRYPTO_UACCE_CMD_INFO _IOR(VCRYPTO_UACCE_IOCTL, 0x00, struct vcrypto_uacce_info)
#define VCRYPTO_UACCE_CMD_CREATE_SESSION _IOWR(VCRYPTO_UACCE_IOCTL, 0x01, struct vcrypto_uacce_session)
#define VCRYPTO_UACCE_CMD_DESTROY_SESSION _IOW(VCRYPTO_UACCE_IOCTL, 0x02, __u64)
#endif

#define WD_VC_HDR_LEN ((uint32_t)sizeof(struct virtio_crypto_op_data_req))
#define WD_VC_IV_LEN 16u
#define WD_VC_POLL_TIMEOUT_NS 2000000000LL

struct wd_vc {
	int fd;
	char name[64];
	struct vcrypto_uacce_info info;
	volatile uint8_t *mmio;
	uint8_t *dus;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint8_t *data;
	uint16_t avail_idx;
	uint16_t last_used;
	int event_idx;
	uint32_t out_off, in_off;	/* offsets in the data area */
	uint32_t max_len;		/* largest source/destination of one request */
};

/* Name (virtio_crypto-N) of the first uacce device whose api is VCRYPTO_UACCE_API */
static inline int wd_vc_find(char *name, size_t len)
{
	return wd_uacce_find(VCRYPTO_UACCE_API, name, len);
}

/*
 * Skip the whole test (TAP "1..0 # SKIP", exit 4) when the kernel has no user-mode virtio-crypto
 * support at all (no virtio_crypto.uacce_devices parameter) or none was asked for (the parameter
 * is empty). With the parameter set, a missing device is a failure, found by the test itself.
 */
static inline void wd_vc_require(void)
{
	char buf[256] = "";
	ssize_t n = -1;
	int fd = open("/sys/module/virtio_crypto/parameters/uacce_devices", O_RDONLY);

	if (fd < 0)
		wdh_skip_all("the kernel has no virtio_crypto.uacce_devices (patches/warpdrive-virtio not applied)");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || buf[0] == '\n' || !strncmp(buf, "(null)", 6))
		wdh_skip_all("virtio_crypto.uacce_devices is not set: no device in user mode");
}

static inline void wd_vc_unmap(struct wd_vc *q)
{
	if (q->mmio && q->mmio != MAP_FAILED)
		munmap((void *)q->mmio, q->info.notify_size);
	if (q->dus && q->dus != MAP_FAILED)
		munmap(q->dus, q->info.ring_size + q->info.data_size);
	q->mmio = NULL;
	q->dus = NULL;
}

static inline void wd_vc_close(struct wd_vc *q)
{
	wd_vc_unmap(q);
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

/*
 * Map the doorbell page and the ring + data area, and take the ring as it is (the kernel zeroes it
 * at every reset). Returns 0 or -errno.
 */
static inline int wd_vc_map(struct wd_vc *q)
{
	q->mmio = mmap(NULL, q->info.notify_size, PROT_READ | PROT_WRITE, MAP_SHARED, q->fd,
		       UACCE_QFRT_MMIO * getpagesize());
	if (q->mmio == MAP_FAILED)
		return -errno;
	q->dus = mmap(NULL, q->info.ring_size + q->info.data_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, q->fd, UACCE_QFRT_DUS * getpagesize());
	if (q->dus == MAP_FAILED)
		return -errno;

	q->desc = (struct vring_desc *)(q->dus + q->info.ring_offset);
	q->avail = (struct vring_avail *)(q->dus + q->info.avail_offset);
	q->used = (struct vring_used *)(q->dus + q->info.used_offset);
	q->data = q->dus + q->info.data_offset;
	q->avail_idx = q->avail->idx;
	q->last_used = q->used->idx;
	q->event_idx = !!(q->info.features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	/* No interrupts: this process polls (the kernel gave the queue no vector either) */
	if (!q->event_idx)
		q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	return 0;
}

/*
 * After the kernel revoked the mappings of a queue it reset (PUT_Q, a suspend and resume): unmap
 * and map both regions again. Returns 0 or -errno (EIO while the device has no queues).
 */
static inline int wd_vc_remap(struct wd_vc *q)
{
	wd_vc_unmap(q);
	return wd_vc_map(q);
}

/*
 * Open the device (name NULL: the first one found), read the layout, map the doorbell page and
 * the ring + data area, START_Q. Returns 0 or -errno (-EBUSY: another process holds the queue).
 */
static inline int wd_vc_open(struct wd_vc *q, const char *name)
{
	char path[128];
	int ret;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	if (name) {
		snprintf(q->name, sizeof(q->name), "%s", name);
	} else {
		ret = wd_vc_find(q->name, sizeof(q->name));
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), "/dev/%s", q->name);
	q->fd = open(path, O_RDWR | O_CLOEXEC);
	if (q->fd < 0)
		return -errno;
	if (ioctl(q->fd, VCRYPTO_UACCE_CMD_INFO, &q->info) < 0)
		goto fail;
	ret = wd_vc_map(q);
	if (ret) {
		errno = -ret;
		goto fail;
	}
	if (ioctl(q->fd, UACCE_CMD_START_Q) < 0)
		goto fail;
	q->out_off = 0;
	q->in_off = (uint32_t)(q->info.data_size / 2);
	q->max_len = q->in_off - WD_VC_HDR_LEN - WD_VC_IV_LEN;
	return 0;
fail:
	ret = -errno;
	wd_vc_close(q);
	return ret;
}

/* Create an AES-CBC session (encrypt != 0: encryption). Returns 0 or -errno. */
static inline int wd_vc_session(struct wd_vc *q, int encrypt, const uint8_t *key,
				uint32_t key_len, uint64_t *sid)
{
	struct vcrypto_uacce_session s;

	memset(&s, 0, sizeof(s));
	if (key_len > sizeof(s.key))
		return -EINVAL;
	s.algo = VIRTIO_CRYPTO_CIPHER_AES_CBC;
	s.op = encrypt ? VIRTIO_CRYPTO_OP_ENCRYPT : VIRTIO_CRYPTO_OP_DECRYPT;
	s.key_len = key_len;
	memcpy(s.key, key, key_len);
	if (ioctl(q->fd, VCRYPTO_UACCE_CMD_CREATE_SESSION, &s) < 0)
		return -errno;
	*sid = s.session_id;
	return 0;
}

static inline int wd_vc_destroy_session(struct wd_vc *q, uint64_t sid)
{
	return ioctl(q->fd, VCRYPTO_UACCE_CMD_DESTROY_SESSION, &sid) < 0 ? -errno : 0;
}

/*
 * Publish the chain that starts at descriptor head: the avail entry, the index, the doorbell.
 * used_event is set far away when EVENT_IDX is on, so the device never interrupts.
 */
static inline void wd_vc_publish(struct wd_vc *q, uint16_t head)
{
	uint16_t num = (uint16_t)q->info.ring_num;

	q->avail->ring[q->avail_idx % num] = head;
	q->avail_idx++;
	if (q->event_idx)
		q->avail->ring[num] = (uint16_t)(q->avail_idx + 0x8000);
	/* descriptors and ring entry visible to the device before the index */
	wd_dma_wmb();
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
	/* the index visible before the doorbell */
	wd_dma_mb();
	*(volatile uint16_t *)(q->mmio + q->info.notify_offset) = q->info.queue_index;
}

/* A request in descriptors head and head + 1: [out_iova, out_len), then [in_iova, in_len) written */
static inline void wd_vc_post(struct wd_vc *q, uint16_t head, uint64_t out_iova, uint32_t out_len,
			      uint64_t in_iova, uint32_t in_len)
{
	q->desc[head].addr = out_iova;
	q->desc[head].len = out_len;
	q->desc[head].flags = VRING_DESC_F_NEXT;
	q->desc[head].next = (uint16_t)(head + 1);
	q->desc[head + 1].addr = in_iova;
	q->desc[head + 1].len = in_len;
	q->desc[head + 1].flags = VRING_DESC_F_WRITE;
	q->desc[head + 1].next = 0;
	wd_vc_publish(q, head);
}

/*
 * Put one request on the ring: descriptor 0 = [out_iova, out_len), descriptor 1 =
 * [in_iova, in_len) (device-writable), publish the avail index, ring the doorbell.
 * The IOVAs are normally inside the data area (wd_vc_cipher); any value can be given.
 */
static inline void wd_vc_submit_raw(struct wd_vc *q, uint64_t out_iova, uint32_t out_len,
				    uint64_t in_iova, uint32_t in_len)
{
	wd_vc_post(q, 0, out_iova, out_len, in_iova, in_len);
}

/*
 * Put a chain of n descriptors (the flags NEXT and the next indexes are set here) on the ring as
 * one request, publish it and ring the doorbell. Any address can be given.
 */
static inline void wd_vc_submit_descs(struct wd_vc *q, const struct vring_desc *d, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		q->desc[i] = d[i];
		q->desc[i].flags = (uint16_t)((d[i].flags & VRING_DESC_F_WRITE) |
					      (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		q->desc[i].next = (uint16_t)(i + 1 < n ? i + 1 : 0);
	}
	wd_vc_publish(q, 0);
}

/* The PCI requester ID (bus << 8 | devfn) of the device behind /sys/class/uacce/<name>, or -1 */
static inline int wd_vc_rid(const char *name)
{
	char path[256], link[256];
	unsigned int dom, bus, dev, fn;
	ssize_t n;
	const char *base;

	snprintf(path, sizeof(path), WD_UACCE_SYSFS "/%s/device", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (sscanf(base, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return -1;
	return (int)((bus << 8) | (dev << 3) | fn);
}

/*
 * Wait for the next used entry. Returns the written length, or -ETIMEDOUT; the head of the chain
 * it completes in *id if given.
 */
static inline int64_t wd_vc_poll_id(struct wd_vc *q, int64_t timeout_ns, uint32_t *id)
{
	uint16_t num = (uint16_t)q->info.ring_num;
	int64_t deadline = 0;
	unsigned int spins = 0;
	uint32_t len;

	while (*(volatile uint16_t *)&q->used->idx == q->last_used) {
		if (++spins % 256)
			continue;
		if (!deadline)
			deadline = wd_now_ns() + timeout_ns;
		else if (wd_now_ns() > deadline)
			return -ETIMEDOUT;
		wd_cpu_relax();
	}
	/* the used entry and the data after the index */
	wd_dma_rmb();
	len = q->used->ring[q->last_used % num].len;
	if (id)
		*id = q->used->ring[q->last_used % num].id;
	q->last_used++;
	return len;
}

static inline int64_t wd_vc_poll(struct wd_vc *q, int64_t timeout_ns)
{
	return wd_vc_poll_id(q, timeout_ns, NULL);
}

/* Build a request at offset out of the data area, its answer to come at offset in. 0 or -EINVAL. */
static inline int wd_vc_prepare_at(struct wd_vc *q, uint32_t out, uint32_t in, uint32_t max_len,
				   uint64_t sid, int encrypt, const uint8_t *iv, const uint8_t *src,
				   uint32_t len)
{
	struct virtio_crypto_op_data_req *req = (void *)(q->data + out);

	if (len > max_len || !len || len % 16)
		return -EINVAL;
	memset(req, 0, sizeof(*req));
	req->header.opcode = encrypt ? VIRTIO_CRYPTO_CIPHER_ENCRYPT : VIRTIO_CRYPTO_CIPHER_DECRYPT;
	req->header.algo = VIRTIO_CRYPTO_CIPHER_AES_CBC;
	req->header.session_id = sid;
	req->u.sym_req.op_type = VIRTIO_CRYPTO_SYM_OP_CIPHER;
	req->u.sym_req.u.cipher.para.iv_len = WD_VC_IV_LEN;
	req->u.sym_req.u.cipher.para.src_data_len = len;
	req->u.sym_req.u.cipher.para.dst_data_len = len;
	memcpy(q->data + out + WD_VC_HDR_LEN, iv, WD_VC_IV_LEN);
	memcpy(q->data + out + WD_VC_HDR_LEN + WD_VC_IV_LEN, src, len);
	q->data[in + len] = 0xff;	/* status, written by the device */
	return 0;
}

/* Build a request in the data area (header, IV, source; status byte preset). 0 or -EINVAL. */
static inline int wd_vc_prepare(struct wd_vc *q, uint64_t sid, int encrypt, const uint8_t *iv,
				const uint8_t *src, uint32_t len)
{
	return wd_vc_prepare_at(q, q->out_off, q->in_off, q->max_len, sid, encrypt, iv, src, len);
}

/* Build the request in the data area and submit it. Returns 0 or -EINVAL. */
static inline int wd_vc_submit(struct wd_vc *q, uint64_t sid, int encrypt, const uint8_t *iv,
			       const uint8_t *src, uint32_t len)
{
	int ret = wd_vc_prepare(q, sid, encrypt, iv, src, len);

	if (ret)
		return ret;
	wd_vc_submit_raw(q, q->info.data_iova + q->out_off, WD_VC_HDR_LEN + WD_VC_IV_LEN + len,
			 q->info.data_iova + q->in_off, len + 1);
	return 0;
}

/*
 * Several requests in flight: slot k (< WD_VC_SLOTS) uses descriptors 2k and 2k + 1, builds its
 * request at out_off + k * stride of the data area and gets its answer at in_off + k * stride
 * (wd_vc_slot_out()); the used entry's id is 2k.
 */
#define WD_VC_SLOTS 8

static inline uint32_t wd_vc_slot_stride(const struct wd_vc *q)
{
	return (q->in_off / WD_VC_SLOTS) & ~63u;
}

/* Where slot k's answer (len bytes, then the status byte) is written */
static inline uint8_t *wd_vc_slot_out(struct wd_vc *q, unsigned int k)
{
	return q->data + q->in_off + k * wd_vc_slot_stride(q);
}

static inline int wd_vc_submit_slot(struct wd_vc *q, unsigned int k, uint64_t sid, int encrypt,
				    const uint8_t *iv, const uint8_t *src, uint32_t len)
{
	uint32_t stride = wd_vc_slot_stride(q);
	uint32_t out = q->out_off + k * stride, in = q->in_off + k * stride;
	int ret;

	if (k >= WD_VC_SLOTS || 2 * WD_VC_SLOTS > q->info.ring_num)
		return -EINVAL;
	ret = wd_vc_prepare_at(q, out, in, stride - WD_VC_HDR_LEN - WD_VC_IV_LEN, sid, encrypt, iv,
			       src, len);
	if (ret)
		return ret;
	wd_vc_post(q, (uint16_t)(2 * k), q->info.data_iova + out,
		   WD_VC_HDR_LEN + WD_VC_IV_LEN + len, q->info.data_iova + in, len + 1);
	return 0;
}

/*
 * One AES-CBC request, synchronous. Returns 0, -ETIMEDOUT, -EIO (device status not OK, status
 * byte in *status if given) or -EINVAL.
 */
static inline int wd_vc_cipher(struct wd_vc *q, uint64_t sid, int encrypt, const uint8_t *iv,
			       const uint8_t *src, uint8_t *dst, uint32_t len)
{
	int64_t r;
	int ret = wd_vc_submit(q, sid, encrypt, iv, src, len);

	if (ret)
		return ret;
	r = wd_vc_poll(q, WD_VC_POLL_TIMEOUT_NS);
	if (r < 0)
		return (int)r;
	if (q->data[q->in_off + len] != VIRTIO_CRYPTO_OK)
		return -EIO;
	memcpy(dst, q->data + q->in_off, len);
	return 0;
}

/*
 * One known answer (SP 800-38A F.2.1, first block) on a session of its own: the check tests make
 * before and after they break, release or rebind a queue. 1 when the answer is right.
 */
static inline int wd_vc_known_answer(struct wd_vc *q)
{
	uint8_t out[SP800_38A_BLOCK];
	uint64_t sid = 0;
	int ret = wd_vc_session(q, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid);

	if (ret) {
		wdh_diag("create session: %s", strerror(-ret));
		return 0;
	}
	ret = wd_vc_cipher(q, sid, 1, sp800_38a_iv, sp800_38a_pt, out, sizeof(out));
	wd_vc_destroy_session(q, sid);
	if (ret)
		wdh_diag("request: %s", strerror(-ret));
	return !ret && !memcmp(out, sp800_38a_ct, sizeof(out));
}

#endif /* WD_VCRYPTO_H */
