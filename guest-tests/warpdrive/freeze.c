// SPDX-License-Identifier: GPL-2.0
/*
 * Suspend and resume while a process holds the queue. /sys/power/pm_test "devices" runs every
 * driver's freeze and restore (no platform sleep state needed); the holder itself writes
 * "freeze" to /sys/power/state. After the resume the holder's old mappings are revoked (SIGBUS
 * on reading the data area and on writing the doorbell), so it cannot drive a ring the device no
 * longer runs; mapped again, the ring starts at 0, the data area is zeroed, its session is gone
 * (VIRTIO_CRYPTO_INVSESS), and a new session gives the right answer. Without the series' freeze
 * hook the old mappings stay live (no SIGBUS) and the device runs a ring of the kernel's.
 */
#include <stdlib.h>

#include "wdh_tap.h"
#include "wd_vcrypto.h"
#include "wd_file.h"
#include "wd_touch.h"

#define PATTERN 0xa5

/* Whether the file's text contains word */
static int has_word(const char *path, const char *word)
{
	char buf[256];

	return wd_read_file(path, buf, sizeof(buf)) > 0 && strstr(buf, word) != NULL;
}

/* One request on session id; the device's status byte, or -1 when nothing came back */
static int status_on(struct wd_vc *q, uint64_t id)
{
	if (wd_vc_submit(q, id, 1, sp800_38a_iv, sp800_38a_pt, SP800_38A_BLOCK))
		return -1;
	if (wd_vc_poll(q, WD_VC_POLL_TIMEOUT_NS) < 0)
		return -1;
	return q->data[q->in_off + SP800_38A_BLOCK];
}

int main(void)
{
	uint8_t *tail;
	struct wd_vc q;
	uint64_t sid = 0;
	int64_t t0;
	int ret, st;

	wd_vc_require();
	if (access("/sys/power/pm_test", W_OK) || !has_word("/sys/power/state", "freeze"))
		wdh_skip_all("kernel without CONFIG_SUSPEND and CONFIG_PM_DEBUG (/sys/power/pm_test)");
	wdh_plan(9);

	ret = wd_vc_open(&q, NULL);
	if (!ret)
		ret = wd_vc_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid);
	if (ret) {
		printf("Bail out! open and session: %s\n", strerror(-ret));
		return WDH_EXIT_FAIL;
	}
	st = status_on(&q, sid);
	wdh_ok(st == VIRTIO_CRYPTO_OK && !memcmp(q.data + q.in_off, sp800_38a_ct, SP800_38A_BLOCK),
	       "before the suspend: a request on the holder's session is right (status %d)", st);
	tail = q.data + q.info.data_size - 4096;
	memset(tail, PATTERN, 4096);

	/* Devices only: freeze every driver, wait pm_test_delay, restore them */
	if (wd_write_file("/sys/power/pm_test", "devices") ||
	    (access("/sys/module/suspend/parameters/pm_test_delay", W_OK) == 0 &&
	     wd_write_file("/sys/module/suspend/parameters/pm_test_delay", "0"))) {
		printf("Bail out! cannot set pm_test\n");
		return WDH_EXIT_FAIL;
	}
	t0 = wd_now_ns();
	ret = wd_write_file("/sys/power/state", "freeze");
	wd_write_file("/sys/power/pm_test", "none");
	wdh_ok(ret == 0, "suspend (pm_test devices) and resume with the queue held: %s, %.1f s",
	       ret ? strerror(-ret) : "ok", (wd_now_ns() - t0) / 1e9);

	wdh_ok(touch_faults(q.dus + q.info.data_offset, 0),
	       "after the resume the old data area mapping is revoked (SIGBUS on read)");
	wdh_ok(touch_faults((void *)q.mmio, 1),
	       "after the resume the old doorbell mapping is revoked (SIGBUS on write)");

	ret = wd_vc_remap(&q);
	wdh_ok(ret == 0, "the holder maps both regions again (%s)", ret ? strerror(-ret) : "ok");
	if (ret) {
		printf("Bail out! remap: %s\n", strerror(-ret));
		return WDH_EXIT_FAIL;
	}
	wdh_ok(q.avail->idx == 0 && q.used->idx == 0,
	       "the ring starts again at 0 (avail %u, used %u)", q.avail->idx, q.used->idx);
	tail = q.data + q.info.data_size - 4096;
	{
		unsigned int left = 0;

		for (unsigned int i = 0; i < 4096; i++)
			left += tail[i] != 0;
		wdh_ok(left == 0, "the data area is zeroed (%u bytes left of the pattern)", left);
	}
	st = status_on(&q, sid);
	wdh_ok(st == VIRTIO_CRYPTO_INVSESS,
	       "the session from before the suspend is gone (status %d, VIRTIO_CRYPTO_INVSESS is %d)",
	       st, VIRTIO_CRYPTO_INVSESS);
	wdh_ok(wd_vc_known_answer(&q), "a new session on the resumed device gives the SP 800-38A answer");
	wd_vc_close(&q);
	return wdh_exit_code();
}
