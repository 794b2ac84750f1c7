// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation between processes. B (a child) holds a queue and two pinned pages: a canary at X and
 * a secret at Y. A (this process) holds another queue. A first maps a page of its own at the same
 * virtual address X and uses it (the device writes there: A's page, through A's PASID), then
 * unmaps it. Then A aims its descriptors at B's memory:
 *   - writes to Y (an address only B has) and to X (the address where A's page was and B's is);
 *   - reads from Y and X into a destination A preset (a read would leak B's data into it).
 * Each request must come back as a DMA fault (used.len 0, status byte untouched), with an SMMU
 * event whose SubstreamID is A's PASID (never B's); A's destinations stay as preset; B finds its
 * pages unchanged and its queue working. A request of A's naming B's session id gets INVSESS.
 */
#include "sva_test.h"

#define ADDR_X 0x3a5a000000ULL	/* the same virtual address in A and in B */
#define ADDR_Y 0x3a6b000000ULL	/* B only */
#define CANARY 0xcb
#define SECRET 0x5e
#define PRESET 0xa5

struct binfo {
	int ret;
	uint32_t pasid, queue;
	uint64_t sid;
	int kat_ok;
};

struct bcheck {
	int x_unchanged, y_unchanged, kat_ok;
};

static void proc_b(int up, int down)
{
	struct binfo bi = { 0 };
	struct bcheck bc = { 0 };
	struct wd_sva q;
	uint8_t *x = NULL, *y = NULL;
	char c;

	bi.ret = wd_sva_open(&q, NULL, 0);
	if (!bi.ret) {
		bi.pasid = q.info.pasid;
		bi.queue = q.info.queue_index;
		x = wd_sva_alloc_at((void *)(uintptr_t)ADDR_X, 4096);
		y = wd_sva_alloc_at((void *)(uintptr_t)ADDR_Y, 4096);
		if (!x || !y)
			bi.ret = -errno;
	}
	if (!bi.ret) {
		memset(x, CANARY, 4096);
		memset(y, SECRET, 4096);
		bi.ret = wd_sva_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &bi.sid);
	}
	if (!bi.ret)
		bi.kat_ok = wd_sva_known_answer(&q);
	if (sva_write_all(up, &bi, sizeof(bi)) || bi.ret)
		_exit(1);
	if (read(down, &c, 1) != 1)
		_exit(1);
	bc.x_unchanged = sva_all(x, 4096, CANARY);
	bc.y_unchanged = sva_all(y, 4096, SECRET);
	bc.kat_ok = wd_sva_known_answer(&q);
	sva_write_all(up, &bc, sizeof(bc));
	wd_sva_close(&q);
	_exit(0);
}

int main(void)
{
	struct sva_event ev[32];
	struct binfo bi = { 0 };
	struct bcheck bc = { 0 };
	struct wd_sva q;
	uint8_t *buf, *x;
	uint64_t sid = 0;
	int up[2], down[2], ret, kfd, nev, status;
	pid_t pid;
	struct {
		const char *what;
		uint64_t src, dst;
		int read;	/* aims a read at B: A's destination must stay preset */
	} stray[4];

	wd_sva_require();
	wdh_plan(21);
	if (pipe(up) || pipe(down))
		return WDH_EXIT_FAIL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		proc_b(up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	if (sva_read_all(up[0], &bi, sizeof(bi)))
		bi.ret = -EPIPE;
	if (!wdh_ok(bi.ret == 0 && bi.kat_ok, "B: queue %u, pasid %u, pages at 0x%llx and 0x%llx, works (%s)",
		    bi.queue, bi.pasid, ADDR_X, ADDR_Y, sva_err(bi.ret))) {
		printf("Bail out! process B could not set up\n");
		kill(pid, SIGKILL);
		return WDH_EXIT_FAIL;
	}

	ret = wd_sva_open(&q, NULL, 0);
	if (!ret)
		ret = wd_sva_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid);
	buf = ret ? NULL : wd_sva_alloc(2 * 4096);
	if (!wdh_ok(ret == 0 && buf, "A: queue %u, pasid %u (%s)", q.info.queue_index, q.info.pasid,
		    sva_err(ret))) {
		printf("Bail out! process A could not set up\n");
		kill(pid, SIGKILL);
		return WDH_EXIT_FAIL;
	}
	wdh_ok(q.info.pasid && bi.pasid && q.info.pasid != bi.pasid && q.info.queue_index != bi.queue,
	       "A and B: different queues, different non-zero PASIDs (A %u, B %u)", q.info.pasid, bi.pasid);

	/* A's own page at X: the device writes there through A's PASID; then A unmaps it */
	x = wd_sva_alloc_at((void *)(uintptr_t)ADDR_X, 4096);
	memcpy(buf, sp800_38a_pt, 64);
	ret = x ? wd_sva_cipher(&q, sid, 1, sp800_38a_iv, buf, x, 64) : -errno;
	wdh_ok(ret == 0 && !memcmp(x, sp800_38a_ct, 64),
	       "A's own page at 0x%llx (where B has its canary) receives A's ciphertext (%s)", ADDR_X,
	       sva_err(ret));
	if (x)
		munmap(x, 4096);
	wdh_diag("A unmapped its page at 0x%llx: mapped in A now: %s", ADDR_X,
		 sva_is_mapped(ADDR_X) ? "yes" : "no");

	stray[0].what = "A writes to B's page (an address only B has)";
	stray[0].src = (uintptr_t)buf;
	stray[0].dst = ADDR_Y;
	stray[0].read = 0;
	stray[1].what = "A writes to the same virtual address as B's canary (A's copy unmapped)";
	stray[1].src = (uintptr_t)buf;
	stray[1].dst = ADDR_X;
	stray[1].read = 0;
	stray[2].what = "A reads B's secret (an address only B has)";
	stray[2].src = ADDR_Y;
	stray[2].dst = (uintptr_t)buf + 4096;
	stray[2].read = 1;
	stray[3].what = "A reads at the same virtual address as B's canary";
	stray[3].src = ADDR_X;
	stray[3].dst = (uintptr_t)buf + 4096;
	stray[3].read = 1;

	sva_wait_ratelimit();
	kfd = sva_kmsg_open();
	for (int i = 0; i < 4; i++) {
		memset(buf + 4096, PRESET, 4096);
		wdh_ok(sva_expect_fault(&q, sid, stray[i].what, stray[i].src, stray[i].dst, 64),
		       "%s: DMA fault (used.len 0, status untouched)", stray[i].what);
		if (stray[i].read)
			wdh_ok(sva_all(buf + 4096, 4096, PRESET),
			       "%s: A's destination still as A preset it", stray[i].what);
	}
	nev = sva_kmsg_events(kfd, ev, 32, 2000);
	if (kfd >= 0)
		close(kfd);
	wdh_diag("%d SMMU event lines after the stray requests", nev);
	for (int i = 0; i < 4; i++) {
		uint64_t addr = stray[i].read ? stray[i].src : stray[i].dst;
		const struct sva_event *e = sva_event_at(ev, nev, addr);

		wdh_ok(e && e->ssid == q.info.pasid && e->ssid != bi.pasid,
		       "SMMU event for 0x%llx carries A's SSID %u (got %s ssid %u sid 0x%x %s)",
		       (unsigned long long)addr, q.info.pasid, e ? e->type : "no event",
		       e ? e->ssid : 0, e ? e->sid : 0, e ? e->client : "");
	}
	{
		int b_seen = 0;

		for (int i = 0; i < nev; i++)
			if (ev[i].ssid == bi.pasid)
				b_seen++;
		wdh_ok(nev > 0 && !b_seen, "no SMMU event carries B's SSID %u (%d)", bi.pasid, b_seen);
	}

	/* B's session id on A's queue */
	{
		struct wd_sva_done d;

		memset(&d, 0, sizeof(d));
		memcpy(buf, sp800_38a_pt, 64);
		ret = wd_sva_cipher_done(&q, bi.sid, 1, sp800_38a_iv, buf, buf + 4096, 64, &d);
		wdh_ok(ret == -EIO && d.status == VIRTIO_CRYPTO_INVSESS,
		       "A's request naming B's session %llu: INVSESS (%s, status %u %s)",
		       (unsigned long long)bi.sid, sva_err(ret), d.status, wd_sva_status_str(d.status));
	}
	wdh_ok(wd_sva_known_answer(&q), "A's queue still works");

	if (write(down[1], "c", 1) != 1 || sva_read_all(up[0], &bc, sizeof(bc)))
		memset(&bc, 0, sizeof(bc));
	wdh_ok(bc.x_unchanged, "B: its canary at 0x%llx unchanged", ADDR_X);
	wdh_ok(bc.y_unchanged, "B: its secret at 0x%llx unchanged", ADDR_Y);
	wdh_ok(bc.kat_ok, "B: its queue still works");
	status = sva_wait_child(pid, 30);
	wdh_ok(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "B exited normally");
	wd_sva_close(&q);
	return wdh_exit_code();
}
