// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation from the kernel. A process aims its descriptors at
 *   - kernel virtual addresses (the kernel image's _stext and start_kernel from /proc/kallsyms,
 *     text symbols, listed without KALLSYMS_ALL), reading and writing;
 *   - the IOVAs of the kernel's own control queue of the device (desc, avail, used; debugfs
 *     virtio_crypto_sva/<dev>/ctrl_iovas), whose DMA carries no PASID, reading and writing.
 * Every access must fault (used.len 0, status untouched) with an SMMU event carrying the
 * process's PASID, a read must leave the destination as preset, and /proc/version must not
 * change. Then the process maps a page of its own at the control queue's descriptor IOVA: the
 * device now reads from and writes into that page (the address resolves in the process's address
 * space, never in the kernel's DMA domain), and the kernel's control queue still works
 * (CREATE_SESSION + a request).
 */
#include "sva_test.h"

#define PRESET 0xa5
#define DEBUGFS "/sys/kernel/debug"

static uint64_t kallsyms(const char *sym)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[256], name[128], type;
	unsigned long long addr;
	uint64_t found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &addr, &type, name) == 3 && !strcmp(name, sym)) {
			found = addr;
			break;
		}
	fclose(f);
	return found;
}

/* desc, avail, used IOVAs of the kernel's control queue; the number found */
static int ctrl_iovas(uint64_t iova[3])
{
	static const char *const keys[3] = { "desc", "avail", "used" };
	char path[256], text[1024], *line, *save = NULL;
	int n = 0;

	if (access(DEBUGFS "/virtio_crypto_sva", F_OK) &&
	    mount("debugfs", DEBUGFS, "debugfs", 0, NULL) && errno != EBUSY)
		wdh_diag("mount debugfs: %s", strerror(errno));
	snprintf(path, sizeof(path), DEBUGFS "/virtio_crypto_sva/" WD_SVA_PCI "/ctrl_iovas");
	if (wd_read_file(path, text, sizeof(text)) < 0) {
		wdh_diag("%s: %s", path, strerror(errno));
		return 0;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[16];
		unsigned long long v;

		wdh_diag("ctrl_iovas: %s", line);
		if (sscanf(line, "%15s %llx", key, &v) != 2)
			continue;
		for (int k = 0; k < 3; k++)
			if (!strcmp(key, keys[k]) && !iova[k]) {
				iova[k] = v;
				n++;
			}
	}
	return n;
}

/*
 * One stray target, read then write: 2 faults, the read's destination preserved, 2 events with
 * the process's SSID. 5 test points.
 */
static void stray_rw(struct wd_sva *q, uint64_t sid, uint8_t *buf, const char *what, uint64_t addr)
{
	char r_what[160], w_what[160];

	snprintf(r_what, sizeof(r_what), "read from %s 0x%llx", what, (unsigned long long)addr);
	snprintf(w_what, sizeof(w_what), "write to %s 0x%llx", what, (unsigned long long)addr);
	if (sva_is_mapped(addr))
		wdh_diag("0x%llx is mapped in this process: not a stray address here",
			 (unsigned long long)addr);
	sva_wait_ratelimit();
	memset(buf + 4096, PRESET, 4096);
	memcpy(buf, sp800_38a_pt, 64);
	for (int w = 0; w < 2; w++) {
		struct sva_event ev[16];
		const struct sva_event *e;
		int kfd = sva_kmsg_open(), nev;
		const char *t = w ? w_what : r_what;

		wdh_ok(w ? sva_expect_fault(q, sid, t, (uintptr_t)buf, addr, 64)
			 : sva_expect_fault(q, sid, t, addr, (uintptr_t)buf + 4096, 64),
		       "%s: DMA fault (used.len 0, status untouched)", t);
		if (!w)
			wdh_ok(sva_all(buf + 4096, 4096, PRESET), "%s: destination still as preset", t);
		nev = sva_kmsg_events(kfd, ev, 16, 1500);
		if (kfd >= 0)
			close(kfd);
		e = sva_event_at(ev, nev, addr);
		wdh_ok(e && e->ssid == q->info.pasid,
		       "%s: SMMU event with this process's SSID %u (%s ssid %u; %d event lines)", t,
		       q->info.pasid, e ? e->type : "no event", e ? e->ssid : 0, nev);
	}
}

int main(void)
{
	uint64_t banner, uts, iova[3] = { 0, 0, 0 };
	char version0[512], version1[512], kptr[16] = "";
	struct wd_sva q;
	uint64_t sid = 0;
	uint8_t *buf;
	int ret, n;

	wd_sva_require();
	wdh_plan(3 + 5 * 5 + 4);
	ret = wd_sva_open(&q, NULL, 0);
	if (!ret)
		ret = wd_sva_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid);
	buf = ret ? NULL : wd_sva_alloc(2 * 4096);
	if (!wdh_ok(ret == 0 && buf && wd_sva_known_answer(&q), "queue %u, pasid %u, works (%s)",
		    q.info.queue_index, q.info.pasid, sva_err(ret))) {
		printf("Bail out! no working queue\n");
		return WDH_EXIT_FAIL;
	}

	wd_read_file("/proc/sys/kernel/kptr_restrict", kptr, sizeof(kptr));
	wd_write_file("/proc/sys/kernel/kptr_restrict", "0");
	banner = kallsyms("_stext");
	uts = kallsyms("start_kernel");
	if (kptr[0])
		wd_write_file("/proc/sys/kernel/kptr_restrict", kptr);
	wdh_ok(banner && uts, "/proc/kallsyms: _stext 0x%llx, start_kernel 0x%llx",
	       (unsigned long long)banner, (unsigned long long)uts);
	n = ctrl_iovas(iova);
	wdh_ok(n == 3, "debugfs lists the control queue's IOVAs: desc 0x%llx avail 0x%llx used 0x%llx",
	       (unsigned long long)iova[0], (unsigned long long)iova[1], (unsigned long long)iova[2]);
	wd_read_file("/proc/version", version0, sizeof(version0));

	stray_rw(&q, sid, buf, "_stext", banner ? banner : 0xffff800080000000ULL);
	stray_rw(&q, sid, buf, "start_kernel", uts ? uts : 0xffff800080000000ULL);
	stray_rw(&q, sid, buf, "the control queue's descriptor table at IOVA", iova[0] ? iova[0] : 0xfffff000ULL);
	stray_rw(&q, sid, buf, "the control queue's avail ring at IOVA", iova[1] ? iova[1] : 0xfffff000ULL);
	stray_rw(&q, sid, buf, "the control queue's used ring at IOVA", iova[2] ? iova[2] : 0xfffff000ULL);

	wd_read_file("/proc/version", version1, sizeof(version1));
	wdh_ok(version0[0] && !strcmp(version0, version1), "/proc/version unchanged");

	/* The process's own page at the control queue's descriptor IOVA */
	{
		uintptr_t pg = (uintptr_t)getpagesize();
		uint64_t at = iova[0];
		uint8_t *page = NULL;
		int wr = -ENOENT, rd = -ENOENT, w_ok = 0, r_ok = 0;

		if (at >= 0x10000 && !sva_is_mapped(at))
			page = wd_sva_alloc_at((void *)(uintptr_t)(at & ~(uint64_t)(pg - 1)), pg);
		if (page) {
			uint8_t *p = (uint8_t *)(uintptr_t)at;
			size_t room = pg - (at & (pg - 1));

			if (room >= 64) {
				memset(page, PRESET, pg);
				memcpy(buf, sp800_38a_pt, 64);
				wr = wd_sva_cipher_addr(&q, sid, 1, sp800_38a_iv, (uintptr_t)buf, at, 64, NULL);
				w_ok = !wr && !memcmp(p, sp800_38a_ct, 64);
				memcpy(p, sp800_38a_pt, 64);
				memset(buf + 4096, 0, 64);
				rd = wd_sva_cipher_addr(&q, sid, 1, sp800_38a_iv, at, (uintptr_t)buf + 4096, 64, NULL);
				r_ok = !rd && !memcmp(buf + 4096, sp800_38a_ct, 64);
			}
			munmap(page, pg);
		} else {
			wdh_diag("cannot map a page at 0x%llx: %s", (unsigned long long)at,
				 at ? strerror(errno) : "no IOVA");
		}
		wdh_ok(w_ok, "with its own page mapped at IOVA 0x%llx, the device writes into the process's page (%s)",
		       (unsigned long long)at, sva_err(wr));
		wdh_ok(r_ok, "and reads the process's data from it (%s)", sva_err(rd));
	}
	wdh_ok(wd_sva_known_answer(&q),
	       "the kernel's control queue still works: CREATE_SESSION + a request");
	wd_sva_close(&q);
	return wdh_exit_code();
}
