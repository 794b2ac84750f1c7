// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures on the reset path (debug kernels with fault injection; skipped elsewhere).
 * The release of a held queue resets the device and creates its virtqueues again, which allocates.
 * For N = 1, 2, ...: open the queue, create a session, unmap, make the Nth page allocation of the
 * close() fail (/proc/thread-self/fail-nth, with fail_page_alloc told not to spare sleeping or
 * order-0 allocations), close; then the next open must give a working queue (the driver retries
 * the reset). Until a close makes fewer than N page allocations: every page allocation of the path
 * (the rings, the IOMMU's page tables, new slab pages) has failed once. Under KASAN a use after
 * free or double free on a failed re-initialisation is a report, which fails the run.
 *
 * Slab allocations that may sleep are spared (failslab's default): failing them also fails the
 * kmalloc()s of the interrupt code under virtio_pci's find_vqs()/del_vqs(), which on 6.12 WARN on
 * their own account (its_lpi_free() in the GICv3 ITS driver, remove_proc_entry() of /proc/irq
 * entries that were never created): not this series' code, and a WARNING fails the run.
 */
#include <stdlib.h>

#include "wdh_tap.h"
#include "wd_vcrypto.h"
#include "wd_file.h"

#define MAX_N 400

static long read_long(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static int open_working(struct wd_vc *q)
{
	for (int tries = 0; tries < 3; tries++) {
		int ret = wd_vc_open(q, NULL);

		if (!ret && wd_vc_known_answer(q))
			return 1;
		if (!ret)
			wd_vc_close(q);
		wdh_diag("open after an injected failure: %s", ret ? strerror(-ret) : "known answer wrong");
	}
	return 0;
}

int main(void)
{
	unsigned int n, injected = 0, recovered = 0;
	int covered = 0, fd;
	char nth[16];
	struct wd_vc q;

	wd_vc_require();
	if (access("/proc/thread-self/fail-nth", W_OK) || access("/sys/kernel/debug/failslab", F_OK))
		wdh_skip_all("no fault injection (CONFIG_FAULT_INJECTION, FAILSLAB, FAULT_INJECTION_DEBUG_FS): not a debug kernel");
	wdh_plan(3);
	wd_write_file("/sys/kernel/debug/failslab/ignore-gfp-wait", "Y");
	wd_write_file("/sys/kernel/debug/failslab/verbose", "0");
	wd_write_file("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N");
	wd_write_file("/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N");
	wd_write_file("/sys/kernel/debug/fail_page_alloc/min-order", "0");
	wd_write_file("/sys/kernel/debug/fail_page_alloc/verbose", "0");

	for (n = 1; n <= MAX_N && !covered; n++) {
		uint64_t sid;
		long left;

		if (!open_working(&q)) {
			wdh_diag("N=%u: no working queue before the close", n);
			break;
		}
		if (wd_vc_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid))
			wdh_diag("N=%u: session creation failed", n);
		wd_vc_unmap(&q);
		fd = q.fd;
		snprintf(nth, sizeof(nth), "%u", n);
		if (wd_write_file("/proc/thread-self/fail-nth", nth)) {
			wdh_diag("fail-nth: %s", strerror(errno));
			break;
		}
		close(fd);
		left = read_long("/proc/thread-self/fail-nth");
		wd_write_file("/proc/thread-self/fail-nth", "0");
		if (left > 0) {
			covered = 1;	/* the close made fewer than n fault-injectable calls */
			recovered++;
			break;
		}
		injected++;
		if (open_working(&q)) {
			recovered++;
			wd_vc_close(&q);
		} else {
			wdh_diag("N=%u: the queue did not come back", n);
		}
	}
	wdh_ok(injected > 0, "%u page allocation failures injected into the release path", injected);
	wdh_ok(covered, "every page allocation of the release path failed once (%u)", injected);
	wdh_ok(recovered == injected + (covered ? 1 : 0),
	       "after each, the next open gave a working queue (%u of %u)", recovered, injected);
	if (open_working(&q))
		wd_vc_close(&q);
	return wdh_exit_code();
}
