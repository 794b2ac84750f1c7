/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wd_smmu_events.h - read the arm-smmu-v3 event records the kernel logs to /dev/kmsg (6.12's format:
 * "arm-smmu-v3 <dev>: event 0x10 received:" followed by the four raw event words, each "\t0x%016llx").
 * Word 0: bits 7:0 the event type (0x10 F_TRANSLATION), bits 63:32 the StreamID (on QEMU virt the
 * PCI requester ID). Word 2: the input address (the IOVA).
 *
 *	struct wd_smmu_log log;
 *	wd_smmu_open(&log);                       // from now on
 *	... provoke ...
 *	wd_smmu_wait(&log, sid, 0x10, iova, 3000); // 1 when such an event was logged within 3 s
 *
 * arm-smmu-v3 prints at most 10 events per 5 s (a ratelimit) and drops the rest: wd_smmu_pace()
 * waits until an event provoked now will be printed.
 */
#ifndef WD_SMMU_EVENTS_H
#define WD_SMMU_EVENTS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wdh_tap.h"

struct wd_smmu_event {
	uint64_t w[4];
};

#define WD_SMMU_MAX 64

struct wd_smmu_log {
	int fd;
	unsigned int n;			/* complete events read so far */
	struct wd_smmu_event ev[WD_SMMU_MAX];
	int words;			/* words still expected of the current event, 0: none */
	long long printed_us[WD_SMMU_MAX];	/* kmsg timestamps of the events this log saw */
};

static inline long long wd_smmu_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static inline void wd_smmu_open(struct wd_smmu_log *log)
{
	memset(log, 0, sizeof(*log));
	log->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (log->fd >= 0)
		lseek(log->fd, 0, SEEK_END);
}

static inline void wd_smmu_close(struct wd_smmu_log *log)
{
	if (log->fd >= 0)
		close(log->fd);
	log->fd = -1;
}

/* Read what the kernel logged since the last call */
static inline void wd_smmu_read(struct wd_smmu_log *log)
{
	char rec[1024];

	for (;;) {
		ssize_t n = read(log->fd, rec, sizeof(rec) - 1);
		char *msg;
		long long ts = 0;
		unsigned long long w;

		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			return;
		rec[n] = '\0';
		sscanf(rec, "%*d,%*d,%lld", &ts);
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		if (strstr(msg, "smmu") && strstr(msg, "event 0x") && strstr(msg, "received")) {
			if (log->n < WD_SMMU_MAX) {
				memset(&log->ev[log->n], 0, sizeof(log->ev[0]));
				log->printed_us[log->n] = ts;
			}
			log->words = 4;
			continue;
		}
		if (log->words > 0) {
			char *p = strstr(msg, "0x");

			if (!p || sscanf(p, "0x%llx", &w) != 1) {
				log->words = 0;
				continue;
			}
			if (log->n < WD_SMMU_MAX)
				log->ev[log->n].w[4 - log->words] = w;
			if (--log->words == 0)
				log->n++;
		}
	}
}

static inline unsigned int wd_smmu_type(const struct wd_smmu_event *e)
{
	return (unsigned int)(e->w[0] & 0xff);
}

static inline unsigned int wd_smmu_sid(const struct wd_smmu_event *e)
{
	return (unsigned int)(e->w[0] >> 32);
}

/*
 * Wait up to timeout_ms for an event of that type and StreamID whose input address lies in
 * [iova, iova + len). Returns its index, or -1; diagnoses what was seen instead.
 */
static inline int wd_smmu_wait(struct wd_smmu_log *log, unsigned int sid, unsigned int type,
			       uint64_t iova, uint64_t len, int timeout_ms)
{
	long long deadline = wd_smmu_now_us() + timeout_ms * 1000LL;
	unsigned int seen = 0;

	do {
		wd_smmu_read(log);
		for (; seen < log->n && seen < WD_SMMU_MAX; seen++) {
			struct wd_smmu_event *e = &log->ev[seen];

			if (wd_smmu_type(e) == type && wd_smmu_sid(e) == sid &&
			    e->w[2] - iova < len)
				return (int)seen;
			wdh_diag("SMMU event type 0x%02x sid 0x%x address 0x%llx (looking for type 0x%02x sid 0x%x address 0x%llx)",
				 wd_smmu_type(e), wd_smmu_sid(e), (unsigned long long)e->w[2], type, sid,
				 (unsigned long long)iova);
		}
		usleep(20000);
	} while (wd_smmu_now_us() < deadline);
	return -1;
}

/*
 * Wait until an event provoked now is printed: fewer than 10 events in the last 5 s (the driver's
 * ratelimit window, with a margin). Reads the whole kernel log for the timestamps of earlier events.
 */
static inline void wd_smmu_pace(void)
{
	long long ts[16] = { 0 };
	unsigned int n = 0;
	char rec[1024];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	long long t, now_us, wait_us;

	if (fd < 0)
		return;
	for (;;) {
		ssize_t r = read(fd, rec, sizeof(rec) - 1);

		if (r < 0 && errno == EPIPE)
			continue;
		if (r <= 0)
			break;
		rec[r] = '\0';
		if (strstr(rec, "smmu") && strstr(rec, "event 0x") && sscanf(rec, "%*d,%*d,%lld", &t) == 1)
			ts[n++ % 16] = t;
	}
	close(fd);
	if (n < 9)
		return;
	/* the 9th most recent event: once it is 5.5 s old, 9 fit in the window again */
	t = ts[(n - 9) % 16];
	now_us = wd_smmu_now_us();
	wait_us = t + 5500000LL - now_us;
	if (wait_us > 0)
		usleep((useconds_t)wait_us);
}

#endif /* WD_SMMU_EVENTS_H */
