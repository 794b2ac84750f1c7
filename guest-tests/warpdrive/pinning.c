// SPDX-License-Identifier: GPL-2.0
/*
 * A holder must not keep the data area past its release. The kernel revokes the holder's
 * mappings when it takes the queue back, but page references taken through the mapping (a
 * vmsplice() into a pipe, O_DIRECT, io_uring fixed buffers) would outlive that: if the data area
 * were ordinary refcounted pages (vm_map_pages()), the old holder could read what the next holder
 * puts there through its pipe. So: vmsplice() of the data area must be refused (the region is
 * VM_PFNMAP, which get_user_pages() does not take), and in any case the pipe must not show the
 * next holder's bytes.
 */
#define _GNU_SOURCE	/* vmsplice() */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <signal.h>
#include <sys/wait.h>

#include "wdh_tap.h"
#include "wd_vcrypto.h"

#define MARK "next holder's secret, never for the previous one"

int main(void)
{
	char page[4096], c = 0;
	struct iovec iov;
	struct wd_vc q;
	int p[2], up[2], go[2], ret, status, leaked;
	ssize_t n;
	pid_t pid;

	wd_vc_require();
	wdh_plan(3);
	if (pipe(p) || pipe(up) || pipe(go)) {
		printf("Bail out! pipe: %s\n", strerror(errno));
		return WDH_EXIT_FAIL;
	}
	ret = wd_vc_open(&q, NULL);
	if (ret) {
		printf("Bail out! open: %s\n", strerror(-ret));
		return WDH_EXIT_FAIL;
	}
	/* the first holder hands the first page of its data area to a pipe, by reference */
	iov.iov_base = q.data;
	iov.iov_len = sizeof(page);
	n = vmsplice(p[1], &iov, 1, 0);
	wdh_ok(n < 0 && errno == EFAULT, "vmsplice() of the data area is refused (got %zd, %s)", n,
	       n < 0 ? strerror(errno) : "pages taken");
	wd_vc_close(&q);

	/*
	 * The next holder, another process, uses the queue and keeps its bytes in the data area (past
	 * where its requests go) while it holds the queue; the release would zero them.
	 */
	pid = fork();
	if (pid == 0) {
		struct wd_vc b;
		char ok;

		close(up[0]);
		close(go[1]);
		ok = wd_vc_open(&b, NULL) == 0 && wd_vc_known_answer(&b) ? 'y' : 'n';
		if (ok == 'y')
			memcpy(b.data + 2048, MARK, sizeof(MARK));
		if (write(up[1], &ok, 1) != 1 || read(go[0], &ok, 1) != 1)
			_exit(3);
		wd_vc_close(&b);
		_exit(0);
	}
	close(up[1]);
	close(go[0]);
	if (read(up[0], &c, 1) != 1)
		c = 0;
	wdh_ok(c == 'y', "the next holder opened the queue, used it and wrote its data area");

	memset(page, 0, sizeof(page));
	n = 0;
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == 0)
		n = read(p[0], page, sizeof(page));
	leaked = n > 2048 && !memcmp(page + 2048, MARK, sizeof(MARK));
	wdh_ok(!leaked, "the first holder's pipe does not show the next holder's bytes (read %zd bytes%s)",
	       n, leaked ? ": the next holder's secret" : "");
	if (write(go[1], "g", 1) != 1)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return wdh_exit_code();
}
