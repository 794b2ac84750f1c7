/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sva_test.h - what the warpdrive-sva tests share beyond the library (wd_sva.h): SMMU event records from the kernel log, a batch runner
 * with several requests in flight, and small process helpers.
 */
#ifndef SVA_TEST_H
#define SVA_TEST_H

#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "wdh_tap.h"
#include "wd_sva.h"
#include "wd_file.h"

/* ---- small helpers ---- */

static inline void sva_fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(random() >> 7);
}

static inline int sva_all(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* Is [addr, addr + one page) mapped in this process? (msync fails with ENOMEM where nothing is) */
static inline int sva_is_mapped(uint64_t addr)
{
	uintptr_t pg = (uintptr_t)getpagesize();

	return msync((void *)((uintptr_t)addr & ~(pg - 1)), pg, MS_ASYNC) == 0 || errno != ENOMEM;
}

static inline int sva_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static inline int sva_read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* available_instances, waiting up to 3 s for it to become want (a release may lag an exit) */
static inline long sva_wait_available(const char *name, long want)
{
	int64_t deadline = wd_now_ns() + 3000000000LL;
	long v;

	while ((v = wd_sva_available(name)) != want && wd_now_ns() < deadline)
		usleep(20000);
	return v;
}

/* waitpid with a time-out; SIGKILLs the child when it runs over. Returns the status or -1. */
static inline int sva_wait_child(pid_t pid, int timeout_s)
{
	int64_t deadline = wd_now_ns() + (int64_t)timeout_s * 1000000000LL;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		if (wd_now_ns() > deadline) {
			wdh_diag("child %d still running after %d s: killed", (int)pid, timeout_s);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(10000);
	}
}

static inline const char *sva_err(int ret)
{
	return ret ? strerror(ret < 0 ? -ret : ret) : "ok";
}

/*
 * Run n requests with up to depth in flight: request i encrypts (or decrypts) in[i] into out[i],
 * len[i] bytes, IV iv[i]. res[i] gets its result. Returns 0 or -ETIMEDOUT / -EPROTO.
 */
static inline int sva_batch(struct wd_sva *q, uint64_t sid, int encrypt, unsigned int n,
			    unsigned int depth, uint8_t *const *in, uint8_t *const *out,
			    const uint32_t *len, const uint8_t (*iv)[16], int *res)
{
	unsigned int next = 0, done = 0;
	struct wd_sva_done d;

	while (done < n) {
		while (next < n && q->nfree && q->inflight < depth) {
			int r = wd_sva_submit(q, sid, encrypt, iv[next], in[next], out[next], len[next], next);

			if (r < 0) {
				res[next] = r;
				done++;
			}
			next++;
		}
		if (q->inflight) {
			int r = wd_sva_poll(q, &d, WD_SVA_TIMEOUT_NS);

			if (r < 0)
				return r;
			res[d.cookie] = d.result;
			done++;
		}
	}
	return 0;
}

/* ---- SMMU events in the kernel log ---- */

struct sva_event {
	char type[32];
	char client[32];
	uint32_t sid, ssid;
	uint64_t iova;
};

/* /dev/kmsg opened at its end: the records written from now on */
static inline int sva_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Read the records that arrive within wait_ms (and keep reading while they come) and keep the
 * arm-smmu-v3 "event: <type> client: <dev> sid: .. ssid: .. iova: .." lines. Returns how many.
 */
static inline int sva_kmsg_events(int fd, struct sva_event *ev, int max, int wait_ms)
{
	int64_t deadline = wd_now_ns() + (int64_t)wait_ms * 1000000LL;
	char rec[1024];
	int n = 0;

	if (fd < 0)
		return 0;
	while (wd_now_ns() < deadline) {
		ssize_t r = read(fd, rec, sizeof(rec) - 1);
		char *msg, *p;
		unsigned long long iova = 0;
		unsigned int sid = 0, ssid = 0;

		if (r < 0) {
			if (errno == EAGAIN)
				usleep(20000);
			continue;	/* EPIPE: records overwritten, go on */
		}
		rec[r] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		p = strstr(msg, "event: ");
		if (!strstr(msg, "smmu") || !p)
			continue;
		if (n < max) {
			struct sva_event *e = &ev[n];

			memset(e, 0, sizeof(*e));
			if (sscanf(p, "event: %31s client: %31s sid: %x ssid: %x iova: %llx", e->type,
				   e->client, &sid, &ssid, &iova) >= 4) {
				e->sid = sid;
				e->ssid = ssid;
				e->iova = iova;
				n++;
				wdh_diag("kernel: %s", msg);
			}
		}
		deadline = wd_now_ns() + 500000000LL > deadline ? wd_now_ns() + 500000000LL : deadline;
	}
	return n;
}

/* The event about the page of addr (iova in the same 4 KiB page), or NULL */
static inline const struct sva_event *sva_event_at(const struct sva_event *ev, int n, uint64_t addr)
{
	for (int i = 0; i < n; i++)
		if ((ev[i].iova & ~0xfffULL) == (addr & ~0xfffULL))
			return &ev[i];
	return NULL;
}

/*
 * arm-smmu-v3 prints at most 10 events per 5 s (a ratelimit); events over it are lost. Wait until
 * 5.5 s after the last event line the log holds, so the next ones are printed.
 */
static inline void sva_wait_ratelimit(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	long long last_us = -1, ts;
	char rec[1024];
	ssize_t n;

	if (fd < 0)
		return;
	while ((n = read(fd, rec, sizeof(rec) - 1)) != 0) {
		if (n < 0) {
			if (errno == EPIPE)
				continue;
			break;
		}
		rec[n] = '\0';
		if (strstr(rec, "smmu") && (strstr(rec, "event: ") || strstr(rec, "event 0x")) &&
		    sscanf(rec, "%*d,%*d,%lld", &ts) == 1)
			last_us = ts;
	}
	close(fd);
	if (last_us >= 0) {
		long long wait_us = last_us + 5500000LL - wd_now_ns() / 1000;

		if (wait_us > 0) {
			wdh_diag("last SMMU event %.1f s ago: waiting %.1f s for the ratelimit",
				 (wd_now_ns() / 1000 - last_us) / 1e6, wait_us / 1e6);
			usleep((useconds_t)wait_us);
		}
	}
}

/*
 * One stray request: expect the DMA fault completion (used.len 0, status untouched). Prints what
 * came back; 1 when it was a fault.
 */
static inline int sva_expect_fault(struct wd_sva *q, uint64_t sid, const char *what, uint64_t src,
				   uint64_t dst, uint32_t len)
{
	static const uint8_t iv[16];
	struct wd_sva_done d;
	int r;

	memset(&d, 0, sizeof(d));
	d.status = WD_SVA_STATUS_UNTOUCHED;
	r = wd_sva_cipher_addr(q, sid, 1, iv, src, dst, len, &d);
	wdh_diag("%s: src 0x%llx dst 0x%llx: result %s, used.len %u, status 0x%02x (%s)", what,
		 (unsigned long long)src, (unsigned long long)dst, sva_err(r), d.used_len, d.status,
		 wd_sva_status_str(d.status));
	return r == -EFAULT && d.used_len == 0 && d.status == WD_SVA_STATUS_UNTOUCHED;
}

#endif /* SVA_TEST_H */
