/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wd_sva.h - user-side driver for the data queues of a PASID-capable virtio-crypto device shared
 * by processes through uacce with SVA (<misc/uacce/virtio_crypto_sva.h>, api "virtio_crypto_sva_v1").
 *
 *	struct wd_sva q;
 *	wd_sva_open(&q, NULL, 0);               // first SVA device: open (binds this mm's PASID and
 *	                                        // takes a free data queue), INFO, doorbell mmap, ring in
 *	                                        // this process's pinned memory, SET_RING, START_Q
 *	wd_sva_session(&q, 1, key, 16, &enc);   // CREATE_SESSION (kernel control queue)
 *	uint8_t *buf = wd_sva_alloc(len);       // pinned memory the device may touch
 *	wd_sva_cipher(&q, enc, 1, iv, buf, buf2, len);        // synchronous, zero copy
 *	wd_sva_submit(&q, enc, 1, iv, src, dst, len, cookie); // asynchronous: up to q.nslots in flight
 *	wd_sva_poll(&q, &done, timeout_ns);                   // next completion
 *	wd_sva_close(&q);
 *
 * Every address in a descriptor is a virtual address of this process; the device reaches it
 * through the SMMU with the queue's PASID. There are no I/O page faults in this set-up: whatever
 * the device touches must be resident and mapped writable (dirty) before it does, and fork() must
 * not write-protect it for copy-on-write. wd_sva_alloc() and wd_sva_pin() do that: MAP_POPULATE,
 * mlock, a write to every page, MADV_DONTFORK (so a child does not see those pages at all).
 *
 * One request = a chain of four descriptors 4s..4s+3 of slot s: [request header + IV] (slot
 * memory, device-readable), [source] (caller's buffer, readable), [destination] (caller's buffer,
 * writable), [status byte] (slot memory, writable). The status byte is preset to 0xff: a chain the
 * device returns with used.len == 0 and the status byte untouched is a DMA fault (a buffer that
 * does not translate in this address space), reported as -EFAULT.
 *
 * The data path (wd_sva_submit*, wd_sva_poll, wd_sva_cipher) makes no system call: descriptor
 * and ring stores, one 16-bit MMIO store to the doorbell, used-ring polling, clock_gettime through
 * the vDSO for time-outs. It runs under seccomp strict mode.
 */
#ifndef WD_SVA_H
#define WD_SVA_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_crypto.h>
#include <linux/virtio_ring.h>
#include <misc/uacce/uacce.h>

#include "sp800_38a.h"
#include "wd_afalg.h"
#include "wd_uacce.h"
#include "wdh_tap.h"

#if __has_include(<misc/uacce/virtio_crypto_sva.h>)
#include <misc/uacce/virtio_crypto_sva.h>
#endif
#ifdef VIRTIO_CRYPTO_SVA_CMD_INFO
#define WD_SVA_KERNEL_HAS_ABI 1
#else
/*
 * A kernel without the SVA series: the ABI is repeated here so that the suite compiles;
 * wd_sva_require() then skips every test.
 */
#define WD_SVA_KERNEL_HAS_ABI 0
#define VIRTIO_CRYPTO_SVA_API "virtio_crypto_sva_v1"
#define VIRTIO_CRYPTO_SVA_MAX_KEY_LEN 32
struct virtio_crypto_sva_info {
	__u64 features;
	__u32 queue_index, max_ring_num, pasid, notify_offset, notify_size, reserved;
	__u64 max_size;
};
struct virtio_crypto_sva_ring {
	__u64 desc, driver, device;
	__u32 num, reserved;
};
struct virtio_crypto_sva_session {
	__u32 algo, op, key_len, reserved;
	__u8 key[VIRTIO_CRYPTO_SVA_MAX_KEY_LEN];
	__u64 session_id;
};
#define VIRTIO_CRYPTO_SVA_IOCTL 0xB9
#define VIRTIO_CRYPTO_SVA_CMD_INFO _IOR(VIRTIO_CRYPTO_SVA_IOCTL, 0x00, struct virtio_crypto_sva_info)
#define VIRTIO_CRYPTO_SVA_CMD_SET_RING _IOW(VIRTIO_CRYPTO_SVA_IOCTL, 0x01, struct virtio_crypto_sva_ring)
#define VIRTIO_CRYPTO_SVA_CMD_CREATE_SESSION \
	_IOWR(VIRTIO_CRYPTO_SVA_IOCTL, 0x02, struct virtio_crypto_sva_session)
#define VIRTIO_CRYPTO_SVA_CMD_DESTROY_SESSION _IOW(VIRTIO_CRYPTO_SVA_IOCTL, 0x03, __u64)
#endif

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* UACCE_DEV_SVA is BIT(0), and BIT() is not defined for user space */
#define WD_SVA_FLAG_SVA 1L

#define WD_SVA_PCI "0000:01:00.0"		/* the SVA device on the harness's SVA machine */
#define WD_SVA_HDR_LEN ((uint32_t)sizeof(struct virtio_crypto_op_data_req))
#define WD_SVA_IV_LEN 16u
#define WD_SVA_DESC_PER_REQ 4u
#define WD_SVA_SLOT_SIZE 128u		/* header (72) + IV (16), status byte at WD_SVA_STATUS_OFF */
#define WD_SVA_STATUS_OFF 120u
#define WD_SVA_STATUS_UNTOUCHED 0xff
#define WD_SVA_DEFAULT_RING 128u
#define WD_SVA_MAX_SLOTS 64u
#define WD_SVA_TIMEOUT_NS 5000000000LL	/* TCG: generous */

/* Bookkeeping of one slot (not seen by the device) */
struct wd_sva_req {
	uint64_t cookie;
	uint32_t dst_len;
	uint8_t busy;
};

struct wd_sva {
	int fd;
	char name[64];
	struct virtio_crypto_sva_info info;
	volatile uint8_t *mmio;		/* doorbell page(s), notify_size bytes */
	uint8_t *mem;			/* ring + slots: this process's pinned memory */
	size_t mem_size;
	uint32_t num;			/* ring entries */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint8_t *slots;			/* nslots x WD_SVA_SLOT_SIZE */
	uint32_t nslots;
	struct wd_sva_req req[WD_SVA_MAX_SLOTS];
	uint16_t freelist[WD_SVA_MAX_SLOTS];
	uint32_t nfree;
	uint16_t avail_idx;
	uint16_t last_used;
	uint32_t inflight;
	int event_idx;
	int started;
};

/* One completion */
struct wd_sva_done {
	uint64_t cookie;
	uint32_t slot;
	uint32_t used_len;	/* what the device put in the used ring */
	uint8_t status;		/* the status byte (0xff: the device did not write it) */
	int result;		/* 0, -EFAULT (DMA fault), -EIO (status not OK), -EPROTO */
};

static inline const char *wd_sva_status_str(uint8_t s)
{
	switch (s) {
	case VIRTIO_CRYPTO_OK: return "OK";
	case VIRTIO_CRYPTO_ERR: return "ERR";
	case VIRTIO_CRYPTO_BADMSG: return "BADMSG";
	case VIRTIO_CRYPTO_NOTSUPP: return "NOTSUPP";
	case VIRTIO_CRYPTO_INVSESS: return "INVSESS";
	case WD_SVA_STATUS_UNTOUCHED: return "untouched";
	default: return "?";
	}
}

/* ---- sysfs, discovery ---- */

static inline long wd_sva_available(const char *name)
{
	return wd_uacce_sysfs_long(name, "available_instances");
}

/* Name (virtio_crypto-N) of the first uacce device whose api is VIRTIO_CRYPTO_SVA_API */
static inline int wd_sva_find(char *name, size_t len)
{
	return wd_uacce_find(VIRTIO_CRYPTO_SVA_API, name, len);
}

/*
 * Skip the whole test (TAP "1..0 # SKIP", exit 4) when the kernel the suite was built against
 * has no SVA virtio-crypto ABI. With the ABI, a missing device is a failure the test finds.
 */
static inline void wd_sva_require(void)
{
	if (!WD_SVA_KERNEL_HAS_ABI)
		wdh_skip_all("the kernel has no <misc/uacce/virtio_crypto_sva.h> SVA ABI (virtio_crypto_sva_v1)");
}

/* ---- memory the device may touch ---- */

static inline size_t wd_sva_page_round(size_t len)
{
	size_t pg = (size_t)getpagesize();

	return (len + pg - 1) & ~(pg - 1);
}

/*
 * Make [addr, addr + len) safe to hand to the device: locked, every page written once (present,
 * writable and dirty in the page tables the SMMU walks), not copied on fork. 0 or -errno.
 */
static inline int wd_sva_pin(void *addr, size_t len)
{
	uintptr_t pg = (uintptr_t)getpagesize();
	uintptr_t start = (uintptr_t)addr & ~(pg - 1);
	uintptr_t end = ((uintptr_t)addr + len + pg - 1) & ~(pg - 1);

	if (!len)
		return 0;
	if (mlock((void *)start, end - start))
		return -errno;
	for (uintptr_t p = start; p < end; p += pg) {
		volatile uint8_t *b = (volatile uint8_t *)p;

		*b = *b;
	}
	if (madvise((void *)start, end - start, MADV_DONTFORK))
		return -errno;
	madvise((void *)start, end - start, MADV_NOHUGEPAGE);	/* no collapse under the device */
	return 0;
}

/* Anonymous memory at addr (NULL: anywhere; else exactly there, MAP_FIXED_NOREPLACE), pinned */
static inline void *wd_sva_alloc_at(void *addr, size_t len)
{
	size_t sz = wd_sva_page_round(len ? len : 1);
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | (addr ? MAP_FIXED_NOREPLACE : 0);
	void *p = mmap(addr, sz, PROT_READ | PROT_WRITE, flags, -1, 0);
	int err;

	if (p == MAP_FAILED)
		return NULL;
	if (addr && p != addr) {	/* a kernel without MAP_FIXED_NOREPLACE treats it as a hint */
		munmap(p, sz);
		errno = EEXIST;
		return NULL;
	}
	err = wd_sva_pin(p, sz);
	if (err) {
		munmap(p, sz);
		errno = -err;
		return NULL;
	}
	return p;
}

static inline void *wd_sva_alloc(size_t len)
{
	return wd_sva_alloc_at(NULL, len);
}

static inline void wd_sva_free(void *p, size_t len)
{
	if (p)
		munmap(p, wd_sva_page_round(len ? len : 1));
}

/* ---- queue set-up ---- */

static inline void wd_sva_ring_reset(struct wd_sva *q)
{
	memset(q->mem, 0, (size_t)(q->slots - q->mem));
	q->avail_idx = 0;
	q->last_used = 0;
	q->inflight = 0;
	q->nfree = q->nslots;
	for (uint32_t i = 0; i < q->nslots; i++) {
		q->freelist[i] = (uint16_t)(q->nslots - 1 - i);
		q->req[i].busy = 0;
	}
	/* No interrupts: this process polls. With EVENT_IDX, used_event is kept far away instead. */
	q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	if (q->event_idx)
		q->avail->ring[q->num] = 0x8000;
	wd_dma_mb();
}

static inline void wd_sva_close(struct wd_sva *q)
{
	/* The file first: the driver stops the queue before the memory it uses goes away */
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	if (q->mmio && q->mmio != MAP_FAILED)
		munmap((void *)q->mmio, q->info.notify_size);
	q->mmio = NULL;
	if (q->mem)
		munmap(q->mem, q->mem_size);
	q->mem = NULL;
	q->started = 0;
}

/* open() only (binds this mm, takes a free data queue) + INFO. 0 or -errno (-EBUSY: none free). */
static inline int wd_sva_open_fd(struct wd_sva *q, const char *name)
{
	char path[128];
	int ret;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	if (name) {
		snprintf(q->name, sizeof(q->name), "%s", name);
	} else {
		ret = wd_sva_find(q->name, sizeof(q->name));
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), "/dev/%s", q->name);
	q->fd = open(path, O_RDWR | O_CLOEXEC);
	if (q->fd < 0)
		return -errno;
	if (ioctl(q->fd, VIRTIO_CRYPTO_SVA_CMD_INFO, &q->info) < 0) {
		ret = -errno;
		close(q->fd);
		q->fd = -1;
		return ret;
	}
	return 0;
}

/*
 * The rest of the set-up after wd_sva_open_fd(): doorbell mmap, ring (num entries, 0: default)
 * and slots in pinned memory, SET_RING, START_Q. 0 or -errno; on failure the queue is closed.
 */
static inline int wd_sva_setup(struct wd_sva *q, uint32_t num)
{
	struct virtio_crypto_sva_ring r;
	size_t desc_sz, avail_sz, used_off, used_sz, slots_off;
	int ret;

	if (!num)
		num = WD_SVA_DEFAULT_RING;
	while (num > q->info.max_ring_num && num > WD_SVA_DESC_PER_REQ)
		num /= 2;
	if (!num || (num & (num - 1)) || num > q->info.max_ring_num || num < WD_SVA_DESC_PER_REQ) {
		ret = -EINVAL;
		goto fail_noerrno;
	}
	q->num = num;
	q->nslots = num / WD_SVA_DESC_PER_REQ;
	if (q->nslots > WD_SVA_MAX_SLOTS)
		q->nslots = WD_SVA_MAX_SLOTS;
	q->event_idx = !!(q->info.features & (1ULL << VIRTIO_RING_F_EVENT_IDX));

	q->mmio = mmap(NULL, q->info.notify_size, PROT_WRITE, MAP_SHARED, q->fd,
		       (off_t)UACCE_QFRT_MMIO * getpagesize());
	if (q->mmio == MAP_FAILED) {
		q->mmio = NULL;
		goto fail;
	}
	desc_sz = 16u * num;
	avail_sz = 6u + 2u * num;
	used_off = wd_sva_page_round(desc_sz + avail_sz);
	used_sz = 6u + 8u * num;
	slots_off = used_off + wd_sva_page_round(used_sz);
	q->mem_size = slots_off + wd_sva_page_round((size_t)q->nslots * WD_SVA_SLOT_SIZE);
	q->mem = wd_sva_alloc(q->mem_size);
	if (!q->mem)
		goto fail;
	q->desc = (struct vring_desc *)q->mem;
	q->avail = (struct vring_avail *)(q->mem + desc_sz);
	q->used = (struct vring_used *)(q->mem + used_off);
	q->slots = q->mem + slots_off;
	wd_sva_ring_reset(q);

	memset(&r, 0, sizeof(r));
	r.desc = (uintptr_t)q->desc;
	r.driver = (uintptr_t)q->avail;
	r.device = (uintptr_t)q->used;
	r.num = num;
	if (ioctl(q->fd, VIRTIO_CRYPTO_SVA_CMD_SET_RING, &r) < 0)
		goto fail;
	if (ioctl(q->fd, UACCE_CMD_START_Q) < 0)
		goto fail;
	q->started = 1;
	return 0;
fail:
	ret = -errno;
fail_noerrno:
	wd_sva_close(q);
	return ret;
}

/* Open (name NULL: the first SVA device) and set up a queue of num entries (0: default) */
static inline int wd_sva_open(struct wd_sva *q, const char *name, uint32_t num)
{
	int ret = wd_sva_open_fd(q, name);

	return ret ? ret : wd_sva_setup(q, num);
}

/* UACCE_CMD_PUT_Q: the device forgets the ring indices and every session of the queue */
static inline int wd_sva_stop(struct wd_sva *q)
{
	if (ioctl(q->fd, UACCE_CMD_PUT_Q) < 0)
		return -errno;
	q->started = 0;
	return 0;
}

/* Re-zero the ring and START_Q again (the ring given with SET_RING before) */
static inline int wd_sva_restart(struct wd_sva *q)
{
	wd_sva_ring_reset(q);
	if (ioctl(q->fd, UACCE_CMD_START_Q) < 0)
		return -errno;
	q->started = 1;
	return 0;
}

/* Create an AES-CBC session on this queue (encrypt != 0: encryption). 0 or -errno. */
static inline int wd_sva_session(struct wd_sva *q, int encrypt, const uint8_t *key,
				 uint32_t key_len, uint64_t *sid)
{
	struct virtio_crypto_sva_session s;

	memset(&s, 0, sizeof(s));
	if (key_len > sizeof(s.key))
		return -EINVAL;
	s.algo = VIRTIO_CRYPTO_CIPHER_AES_CBC;
	s.op = encrypt ? VIRTIO_CRYPTO_OP_ENCRYPT : VIRTIO_CRYPTO_OP_DECRYPT;
	s.key_len = key_len;
	memcpy(s.key, key, key_len);
	if (ioctl(q->fd, VIRTIO_CRYPTO_SVA_CMD_CREATE_SESSION, &s) < 0)
		return -errno;
	*sid = s.session_id;
	return 0;
}

static inline int wd_sva_destroy_session(struct wd_sva *q, uint64_t sid)
{
	return ioctl(q->fd, VIRTIO_CRYPTO_SVA_CMD_DESTROY_SESSION, &sid) < 0 ? -errno : 0;
}

/* ---- data path: no system call from here on ---- */

static inline uint8_t *wd_sva_slot(struct wd_sva *q, uint32_t s)
{
	return q->slots + (size_t)s * WD_SVA_SLOT_SIZE;
}

static inline int wd_sva_submit_hdr(struct wd_sva *q, const struct virtio_crypto_op_data_req *hdr,
				    const uint8_t *iv, uint32_t hdr_desc_len, uint64_t src, uint32_t src_len,
				    uint64_t dst, uint32_t dst_len, uint64_t cookie);

/*
 * Submit one cipher request whose source and destination are any 64-bit addresses (normally
 * the caller's buffers; tests give stray ones). Header and IV go to a free slot, its status byte
 * is preset to 0xff, the chain is published and the doorbell rung. Returns the slot (>= 0),
 * -EAGAIN when every slot is in flight, -EINVAL on a bad length.
 */
static inline int wd_sva_submit_addr(struct wd_sva *q, uint64_t sid, int encrypt, const uint8_t *iv,
				     uint64_t src, uint32_t src_len, uint64_t dst, uint32_t dst_len,
				     uint64_t cookie)
{
	struct virtio_crypto_op_data_req req;

	if (!src_len || !dst_len || (q->info.max_size && (src_len > q->info.max_size ||
							    dst_len > q->info.max_size)))
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.header.opcode = encrypt ? VIRTIO_CRYPTO_CIPHER_ENCRYPT : VIRTIO_CRYPTO_CIPHER_DECRYPT;
	req.header.algo = VIRTIO_CRYPTO_CIPHER_AES_CBC;
	req.header.session_id = sid;
	req.u.sym_req.op_type = VIRTIO_CRYPTO_SYM_OP_CIPHER;
	req.u.sym_req.u.cipher.para.iv_len = WD_SVA_IV_LEN;
	req.u.sym_req.u.cipher.para.src_data_len = src_len;
	req.u.sym_req.u.cipher.para.dst_data_len = dst_len;
	return wd_sva_submit_hdr(q, &req, iv, WD_SVA_HDR_LEN + WD_SVA_IV_LEN, src, src_len, dst,
				 dst_len, cookie);
}

/*
 * The same with the request header as the caller wrote it, whatever it says, and the length of
 * the descriptor that carries header and IV (WD_SVA_HDR_LEN + WD_SVA_IV_LEN when well formed):
 * what a test of malformed requests sends. Slot (>= 0) or -EAGAIN.
 */
static inline int wd_sva_submit_hdr(struct wd_sva *q, const struct virtio_crypto_op_data_req *hdr,
				    const uint8_t *iv, uint32_t hdr_desc_len, uint64_t src, uint32_t src_len,
				    uint64_t dst, uint32_t dst_len, uint64_t cookie)
{
	struct vring_desc *d;
	uint8_t *slot;
	uint32_t s, head;

	if (!q->nfree)
		return -EAGAIN;
	s = q->freelist[--q->nfree];
	slot = wd_sva_slot(q, s);
	memcpy(slot, hdr, sizeof(*hdr));
	memcpy(slot + WD_SVA_HDR_LEN, iv, WD_SVA_IV_LEN);
	slot[WD_SVA_STATUS_OFF] = WD_SVA_STATUS_UNTOUCHED;

	head = s * WD_SVA_DESC_PER_REQ;
	d = &q->desc[head];
	d[0].addr = (uintptr_t)slot;
	d[0].len = hdr_desc_len;
	d[0].flags = VRING_DESC_F_NEXT;
	d[0].next = (uint16_t)(head + 1);
	d[1].addr = src;
	d[1].len = src_len;
	d[1].flags = VRING_DESC_F_NEXT;
	d[1].next = (uint16_t)(head + 2);
	d[2].addr = dst;
	d[2].len = dst_len;
	d[2].flags = VRING_DESC_F_NEXT | VRING_DESC_F_WRITE;
	d[2].next = (uint16_t)(head + 3);
	d[3].addr = (uintptr_t)(slot + WD_SVA_STATUS_OFF);
	d[3].len = 1;
	d[3].flags = VRING_DESC_F_WRITE;
	d[3].next = 0;

	q->req[s].cookie = cookie;
	q->req[s].dst_len = dst_len;
	q->req[s].busy = 1;
	q->inflight++;

	q->avail->ring[q->avail_idx % q->num] = (uint16_t)head;
	q->avail_idx++;
	if (q->event_idx)	/* used_event far ahead: no interrupt wanted */
		q->avail->ring[q->num] = (uint16_t)(q->avail_idx + 0x8000);
	/* descriptors, slot and ring entry visible to the device before the index */
	wd_dma_wmb();
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
	/* the index visible before the doorbell; always notify (no EVENT_IDX suppression) */
	wd_dma_mb();
	*(volatile uint16_t *)(q->mmio + q->info.notify_offset) = (uint16_t)q->info.queue_index;
	return (int)s;
}

/* Submit an AES-CBC request on the caller's buffers (zero copy). Slot or -errno. */
static inline int wd_sva_submit(struct wd_sva *q, uint64_t sid, int encrypt, const uint8_t *iv,
				const void *src, void *dst, uint32_t len, uint64_t cookie)
{
	if (!len || len % 16)
		return -EINVAL;
	return wd_sva_submit_addr(q, sid, encrypt, iv, (uintptr_t)src, len, (uintptr_t)dst, len, cookie);
}

/* Ring the doorbell again without publishing anything (harmless for the device) */
static inline void wd_sva_kick(struct wd_sva *q)
{
	wd_dma_mb();
	*(volatile uint16_t *)(q->mmio + q->info.notify_offset) = (uint16_t)q->info.queue_index;
}

/* Is a completion waiting? (no system call, no wait) */
static inline int wd_sva_ready(struct wd_sva *q)
{
	return *(volatile uint16_t *)&q->used->idx != q->last_used;
}

/*
 * Take the next completion, waiting up to timeout_ns. Returns 1 (d filled, d->result says how
 * it went), -ETIMEDOUT, or -EPROTO (the device returned something that is not in flight).
 */
static inline int wd_sva_poll(struct wd_sva *q, struct wd_sva_done *d, int64_t timeout_ns)
{
	int64_t deadline = 0;
	unsigned int spins = 0;
	struct vring_used_elem e;
	uint32_t s;
	uint8_t st;

	while (!wd_sva_ready(q)) {
		if (++spins % 256)
			continue;
		if (!deadline)
			deadline = wd_now_ns() + timeout_ns;
		else if (wd_now_ns() > deadline)
			return -ETIMEDOUT;
		wd_cpu_relax();
	}
	/* the used entry and the data it covers after the index */
	wd_dma_rmb();
	e = q->used->ring[q->last_used % q->num];
	q->last_used++;
	memset(d, 0, sizeof(*d));
	d->used_len = e.len;
	if (e.id % WD_SVA_DESC_PER_REQ || e.id / WD_SVA_DESC_PER_REQ >= q->nslots ||
	    !q->req[e.id / WD_SVA_DESC_PER_REQ].busy) {
		d->result = -EPROTO;
		d->status = WD_SVA_STATUS_UNTOUCHED;
		d->slot = e.id;
		return -EPROTO;
	}
	s = e.id / WD_SVA_DESC_PER_REQ;
	st = *(volatile uint8_t *)(wd_sva_slot(q, s) + WD_SVA_STATUS_OFF);
	d->slot = s;
	d->cookie = q->req[s].cookie;
	d->status = st;
	if (st == WD_SVA_STATUS_UNTOUCHED)
		d->result = e.len == 0 ? -EFAULT : -EPROTO;
	else
		d->result = st == VIRTIO_CRYPTO_OK ? 0 : -EIO;
	q->req[s].busy = 0;
	q->freelist[q->nfree++] = (uint16_t)s;
	q->inflight--;
	return 1;
}

/*
 * Wait for every request in flight (completions are dropped). Returns how many came back, or
 * -ETIMEDOUT.
 */
static inline int wd_sva_drain(struct wd_sva *q, int64_t timeout_ns)
{
	struct wd_sva_done d;
	int n = 0;

	while (q->inflight) {
		int r = wd_sva_poll(q, &d, timeout_ns);

		if (r == -ETIMEDOUT)
			return r;
		n++;
	}
	return n;
}

/*
 * One request on the caller's buffers, synchronous (nothing else in flight). Returns 0, -EFAULT
 * (DMA fault), -EIO (device status, in *d if given), -ETIMEDOUT, -EAGAIN, -EINVAL, -EPROTO.
 */
static inline int wd_sva_cipher_done(struct wd_sva *q, uint64_t sid, int encrypt, const uint8_t *iv,
				     const void *src, void *dst, uint32_t len, struct wd_sva_done *d)
{
	struct wd_sva_done tmp;
	int r = wd_sva_submit(q, sid, encrypt, iv, src, dst, len, 0);

	if (!d)
		d = &tmp;
	if (r < 0)
		return r;
	r = wd_sva_poll(q, d, WD_SVA_TIMEOUT_NS);
	if (r < 0)
		return r;
	return d->result;
}

static inline int wd_sva_cipher(struct wd_sva *q, uint64_t sid, int encrypt, const uint8_t *iv,
				const void *src, void *dst, uint32_t len)
{
	return wd_sva_cipher_done(q, sid, encrypt, iv, src, dst, len, NULL);
}

/* Same with arbitrary addresses: what tests aim at memory that is not theirs */
static inline int wd_sva_cipher_addr(struct wd_sva *q, uint64_t sid, int encrypt, const uint8_t *iv,
				     uint64_t src, uint64_t dst, uint32_t len, struct wd_sva_done *d)
{
	struct wd_sva_done tmp;
	int r = wd_sva_submit_addr(q, sid, encrypt, iv, src, len, dst, len, 0);

	if (!d)
		d = &tmp;
	if (r < 0)
		return r;
	r = wd_sva_poll(q, d, WD_SVA_TIMEOUT_NS);
	if (r < 0)
		return r;
	return d->result;
}

/* ---- helpers for tests ---- */

/*
 * SP 800-38A F.2.1 (4 blocks) through the queue, encrypt and decrypt, on sessions of its own and
 * pinned buffers of its own. 1 when both answers are right.
 */
static inline int wd_sva_known_answer(struct wd_sva *q)
{
	uint8_t *buf = wd_sva_alloc(2 * sizeof(sp800_38a_pt));
	uint64_t enc = 0, dec = 0;
	int ret, ok = 0;

	if (!buf) {
		wdh_diag("known answer: no pinned memory: %s", strerror(errno));
		return 0;
	}
	ret = wd_sva_session(q, 1, sp800_38a_key, sizeof(sp800_38a_key), &enc);
	if (!ret)
		ret = wd_sva_session(q, 0, sp800_38a_key, sizeof(sp800_38a_key), &dec);
	if (ret) {
		wdh_diag("known answer: create session: %s", strerror(-ret));
		goto out;
	}
	memcpy(buf, sp800_38a_pt, sizeof(sp800_38a_pt));
	memset(buf + 64, 0, 64);
	ret = wd_sva_cipher(q, enc, 1, sp800_38a_iv, buf, buf + 64, 64);
	if (ret || memcmp(buf + 64, sp800_38a_ct, 64)) {
		wdh_diag("known answer: encrypt: %s", ret ? strerror(-ret) : "wrong ciphertext");
		goto out;
	}
	memset(buf, 0, 64);
	ret = wd_sva_cipher(q, dec, 0, sp800_38a_iv, buf + 64, buf, 64);
	if (ret || memcmp(buf, sp800_38a_pt, 64)) {
		wdh_diag("known answer: decrypt: %s", ret ? strerror(-ret) : "wrong plaintext");
		goto out;
	}
	ok = 1;
out:
	if (enc)
		wd_sva_destroy_session(q, enc);
	if (dec)
		wd_sva_destroy_session(q, dec);
	wd_sva_free(buf, 2 * sizeof(sp800_38a_pt));
	return ok;
}

/*
 * The AF_ALG reference: bound to the kernel-side virtio-crypto driver (WD_AFALG_DRIVER) when the
 * kernel allows it; 7.x refuses asynchronous drivers to AF_ALG (ENOENT), then "cbc(aes)", i.e.
 * the kernel's best synchronous implementation. *which says which one ran.
 */
/* The driver /proc/crypto names for cbc(aes) that AF_ALG can have: synchronous, highest priority */
static inline void wd_sva_sync_cbc_driver(char *out, size_t len)
{
	FILE *f = fopen("/proc/crypto", "re");
	char line[256], name[128] = "", driver[128] = "";
	int prio = -1, best = -1, is_async = 0, internal = 0;

	snprintf(out, len, "?");
	if (!f)
		return;
	for (;;) {
		char *l = fgets(line, sizeof(line), f);

		if (!l || line[0] == '\n') {
			if (!strcmp(name, "cbc(aes)") && !is_async && !internal && prio > best) {
				best = prio;
				snprintf(out, len, "%s", driver);
			}
			name[0] = driver[0] = '\0';
			prio = -1;
			is_async = internal = 0;
			if (!l)
				break;
			continue;
		}
		sscanf(line, "name : %127s", name);
		sscanf(line, "driver : %127s", driver);
		sscanf(line, "priority : %d", &prio);
		if (!strncmp(line, "async", 5) && strstr(line, "yes"))
			is_async = 1;
		if (!strncmp(line, "internal", 8) && strstr(line, "yes"))
			internal = 1;
	}
	fclose(f);
}

static inline int wd_sva_afalg_open(struct wd_afalg *a, const uint8_t *key, unsigned int key_len,
				    char *which, size_t which_len)
{
	int ret = wd_afalg_open_name(a, WD_AFALG_DRIVER, key, key_len);
	char drv[64];

	if (!ret) {
		snprintf(which, which_len, "%s (the kernel-side virtio-crypto device)", WD_AFALG_DRIVER);
		return 0;
	}
	ret = wd_afalg_open_name(a, "cbc(aes)", key, key_len);
	if (ret)
		return ret;
	wd_sva_sync_cbc_driver(drv, sizeof(drv));
	snprintf(which, which_len, "cbc(aes) = %.63s (%s refused by AF_ALG; not the device)", drv,
		 WD_AFALG_DRIVER);
	return 0;
}

static inline int wd_sva_afalg_is_device(const char *which)
{
	return !strncmp(which, WD_AFALG_DRIVER, strlen(WD_AFALG_DRIVER));
}

#endif /* WD_SVA_H */
