/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wd_file.h - whole reads and single writes of sysfs, debugfs and procfs files, the way the tests
 * read and poke the kernel (fault injection knobs, test hooks, driver bind/unbind, /sys/power).
 */
#ifndef WD_FILE_H
#define WD_FILE_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Write s to path in one write(). 0, or -errno (-EIO for a short write). */
static inline int wd_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* Read up to len - 1 bytes of path into buf, NUL-terminated. The length, or -errno. */
static inline ssize_t wd_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, got = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1 && (n = read(fd, buf + got, len - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return got;
}

#endif /* WD_FILE_H */
