/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wdh_tap.h - minimal kselftest-like TAP 13 output for warpdrive-harness guest tests.
 *
 *	wdh_plan(3);
 *	wdh_ok(fd >= 0, "open %s", path);
 *	wdh_diag("errno %d", errno);
 *	wdh_skip("no device", "read %s", path);
 *	return wdh_exit_code();
 *
 * Exit status follows kselftest: 0 all passed (skips count as passed), 1 any failure or a
 * test count that differs from the plan, 4 skip-all (wdh_skip_all()).
 * stdout is flushed after every line, so a crash or timeout keeps what was already printed.
 */
#ifndef WDH_TAP_H
#define WDH_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define WDH_EXIT_PASS 0
#define WDH_EXIT_FAIL 1
#define WDH_EXIT_SKIP 4

static struct {
	unsigned int planned;
	unsigned int run;
	unsigned int failed;
} wdh_tap __attribute__((unused));

static inline void wdh_plan(unsigned int n)
{
	wdh_tap.planned = n;
	printf("TAP version 13\n1..%u\n", n);
	fflush(stdout);
}

/* "# " + message; every line of a multi-line message gets its own "# ". */
static inline void wdh_vdiag(const char *fmt, va_list ap)
{
	char buf[1024];
	const char *p = buf;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (;;) {
		const char *nl = p;

		while (*nl && *nl != '\n')
			nl++;
		printf("# %.*s\n", (int)(nl - p), p);
		if (!*nl || !nl[1])
			break;
		p = nl + 1;
	}
	fflush(stdout);
}

static inline __attribute__((format(printf, 1, 2))) void wdh_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wdh_vdiag(fmt, ap);
	va_end(ap);
}

/* One test point: "ok N - desc" or "not ok N - desc". Returns pass (0 or 1). */
static inline __attribute__((format(printf, 2, 3))) int wdh_ok(int pass, const char *fmt, ...)
{
	va_list ap;

	pass = !!pass;
	wdh_tap.run++;
	if (!pass)
		wdh_tap.failed++;
	printf("%sok %u - ", pass ? "" : "not ", wdh_tap.run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return pass;
}

/* A skipped test point: "ok N - desc # SKIP reason". Does not count as a failure. */
static inline __attribute__((format(printf, 2, 3))) void wdh_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	wdh_tap.run++;
	printf("ok %u - ", wdh_tap.run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", reason);
	fflush(stdout);
}

/* Skip the whole test before any plan: "1..0 # SKIP reason", exit 4. */
static inline __attribute__((noreturn)) void wdh_skip_all(const char *reason)
{
	printf("TAP version 13\n1..0 # SKIP %s\n", reason);
	fflush(stdout);
	exit(WDH_EXIT_SKIP);
}

static inline int wdh_exit_code(void)
{
	if (wdh_tap.run != wdh_tap.planned) {
		wdh_diag("planned %u tests but ran %u", wdh_tap.planned, wdh_tap.run);
		return WDH_EXIT_FAIL;
	}
	if (wdh_tap.failed) {
		wdh_diag("%u of %u tests failed", wdh_tap.failed, wdh_tap.run);
		return WDH_EXIT_FAIL;
	}
	return WDH_EXIT_PASS;
}

#endif /* WDH_TAP_H */
