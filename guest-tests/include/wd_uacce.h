/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wd_uacce.h - what every user-side queue driver of the guest tests needs, whichever series made
 * the queue (wd_vcrypto.h: the one-process series on 6.12; wd_sva.h: the SVA series on 7.2):
 * barriers for memory a DMA master shares, a clock read without a system call, and finding a uacce
 * device by the ABI it speaks (/sys/class/uacce/<name>/api).
 */
#ifndef WD_UACCE_H
#define WD_UACCE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WD_UACCE_SYSFS "/sys/class/uacce"

/* Barriers for memory shared with a DMA master (the kernel's dma_wmb/dma_rmb/virtio_mb) */
#if defined(__aarch64__)
#define wd_dma_wmb() __asm__ __volatile__("dmb oshst" ::: "memory")
#define wd_dma_rmb() __asm__ __volatile__("dmb oshld" ::: "memory")
#define wd_dma_mb() __asm__ __volatile__("dmb osh" ::: "memory")
#define wd_cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define wd_dma_wmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define wd_dma_rmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define wd_dma_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define wd_cpu_relax() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

static inline int64_t wd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* vDSO: no system call */
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Read a one-line attribute of /sys/class/uacce/<name>; 0 or -errno */
static inline int wd_uacce_sysfs(const char *name, const char *attr, char *buf, size_t len)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), WD_UACCE_SYSFS "/%.255s/%.64s", name, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* A numeric attribute (flags, available_instances), or -errno */
static inline long wd_uacce_sysfs_long(const char *name, const char *attr)
{
	char buf[64];
	int ret = wd_uacce_sysfs(name, attr, buf, sizeof(buf));

	if (ret)
		return ret;
	return strtol(buf, NULL, 0);
}

/* Name (virtio_crypto-N) of the first uacce device whose api attribute is `api`; 0 or -errno */
static inline int wd_uacce_find(const char *api, char *name, size_t len)
{
	DIR *d = opendir(WD_UACCE_SYSFS);
	struct dirent *e;
	char have[64];
	int ret = -ENODEV;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (wd_uacce_sysfs(e->d_name, "api", have, sizeof(have)) || strcmp(have, api))
			continue;
		snprintf(name, len, "%.63s", e->d_name);
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

#endif /* WD_UACCE_H */
