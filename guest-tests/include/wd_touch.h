/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether touching a mapping raises SIGBUS: how a test sees that the kernel revoked a queue's
 * mappings (unmap_mapping_range() on a VM_PFNMAP/VM_IO region leaves nothing to fault back in).
 */
#ifndef WD_TOUCH_H
#define WD_TOUCH_H

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>

static sigjmp_buf wd_touch_env;

static inline void wd_touch_on_sigbus(int sig)
{
	siglongjmp(wd_touch_env, sig);
}

/* 1 when reading *p (write: storing 0xffff at p) raises SIGBUS */
static inline int touch_faults(volatile void *p, int write)
{
	struct sigaction sa = { .sa_handler = wd_touch_on_sigbus }, old;
	int sig;

	sigaction(SIGBUS, &sa, &old);
	sig = sigsetjmp(wd_touch_env, 1);
	if (!sig) {
		if (write)
			*(volatile uint16_t *)p = 0xffff;
		else
			(void)*(volatile uint8_t *)p;
	}
	sigaction(SIGBUS, &old, NULL);
	return sig == SIGBUS;
}

#endif /* WD_TOUCH_H */
