// SPDX-License-Identifier: GPL-2.0
/*
 * Unbinding the device from virtio_crypto while a process holds its queue: the kernel survives,
 * the holder's mappings are revoked (reading the data area and writing the doorbell raise SIGBUS)
 * and its file fails every operation; after the driver is bound again the uacce device comes back and works.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "wdh_tap.h"
#include "wd_vcrypto.h"
#include "wd_file.h"
#include "wd_touch.h"

#define DRV "/sys/bus/virtio/drivers/virtio_crypto"

/* The virtio device (virtioN) under the uacce device's parent */
static int find_virtio(const char *name, char *vdev, size_t len)
{
	char path[256];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), WD_UACCE_SYSFS "/%s/device", name);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "virtio", 6) && e->d_name[6] >= '0' && e->d_name[6] <= '9')
			break;
	if (e)
		snprintf(vdev, len, "%.31s", e->d_name);
	closedir(d);
	return e ? 0 : -ENOENT;
}

int main(void)
{
	char name[64], vdev[32], msg[8];
	int to_child[2], to_parent[2], status, ret;
	struct wd_vc q;
	pid_t pid;

	wd_vc_require();
	wdh_plan(8);
	if (wd_vc_find(name, sizeof(name)) || find_virtio(name, vdev, sizeof(vdev))) {
		printf("Bail out! no user-mode virtio-crypto device\n");
		return WDH_EXIT_FAIL;
	}
	wdh_diag("%s is %s", name, vdev);
	if (pipe(to_child) || pipe(to_parent))
		return WDH_EXIT_FAIL;

	pid = fork();
	if (pid == 0) {
		char c = 'n';

		if (wd_vc_open(&q, name) == 0 && wd_vc_known_answer(&q))
			c = 'y';
		if (write(to_parent[1], &c, 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(2);
		/* after the unbind: the file is dead, the mappings are gone */
		c = (ioctl(q.fd, VCRYPTO_UACCE_CMD_INFO, &q.info) < 0 && errno == ENXIO) ? 'y' : 'n';
		if (write(to_parent[1], &c, 1) != 1)
			_exit(2);
		c = touch_faults(q.data, 0) ? 'y' : 'n';
		c = (c == 'y' && touch_faults((void *)(q.mmio + q.info.notify_offset), 1)) ? 'y' : 'n';
		if (write(to_parent[1], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	msg[0] = 0;
	if (read(to_parent[0], msg, 1) != 1)
		msg[0] = 0;
	wdh_ok(msg[0] == 'y', "child holds the queue and used it");

	ret = wd_write_file(DRV "/unbind", vdev);
	wdh_ok(ret == 0, "unbind %s while the queue is held (%s)", vdev, ret ? strerror(-ret) : "ok");
	if (write(to_child[1], "x", 1) != 1 || read(to_parent[0], msg, 1) != 1)
		msg[0] = 0;
	wdh_ok(msg[0] == 'y', "the holder's file fails with ENXIO after the unbind");
	if (read(to_parent[0], msg, 1) != 1)
		msg[0] = 0;
	waitpid(pid, &status, 0);
	wdh_ok(msg[0] == 'y', "the holder's data area and doorbell page are revoked (SIGBUS on read and on a doorbell write; status 0x%x)",
	       status);
	wdh_ok(wd_vc_find(name, sizeof(name)) == -ENODEV, "no uacce device while unbound");

	ret = wd_write_file(DRV "/bind", vdev);
	wdh_ok(ret == 0, "bind %s again (%s)", vdev, ret ? strerror(-ret) : "ok");
	ret = wd_vc_open(&q, NULL);
	wdh_ok(ret == 0, "the uacce device is back and opens (%s)", ret ? strerror(-ret) : q.name);
	wdh_ok(ret == 0 && wd_vc_known_answer(&q), "and works");
	if (!ret)
		wd_vc_close(&q);
	return wdh_exit_code();
}
