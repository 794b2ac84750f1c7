// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed requests: a process that holds one queue of the shared device sends requests the
 * device cannot serve (source and destination lengths that differ, lengths beyond max_size, an
 * IV the chain does not carry, a destination too short for the result). Each must come back
 * with an error on that process's own queue, and nothing else may notice: that queue serves
 * the same process's known answers next, and another process opens another queue, creates its
 * sessions through the kernel's control queue and gets its known answers. Before QEMU answered
 * them (patches/qemu-sva 25), the first such request broke the whole device: it never
 * completed, and the next process that created a session blocked in the kernel for good.
 */
#include "sva_test.h"

struct bad {
	const char *what;
	uint32_t hdr_src, hdr_dst;	/* lengths the header announces */
	uint32_t desc_src, desc_dst;	/* lengths of the descriptors */
	int no_iv;			/* header descriptor without the IV */
};

static const struct bad bads[] = {
	{ "source and destination lengths differ", 64, 80, 64, 80, 0 },
	{ "lengths beyond max_size", 0x7fffffff, 0x7fffffff, 64, 64, 0 },
	{ "no IV in the chain", 64, 64, 64, 64, 1 },
	{ "destination shorter than the result", 64, 64, 64, 16, 0 },
};
#define NBADS (sizeof(bads) / sizeof(bads[0]))

/* The other process: waits for go, then opens a queue and runs the known answers */
static int other(const char *name, int go)
{
	struct wd_sva q;
	char c;
	int ok;

	if (read(go, &c, 1) != 1)
		return 2;
	if (wd_sva_open(&q, name, 0))
		return 3;
	ok = wd_sva_known_answer(&q);
	wd_sva_close(&q);
	return ok ? 0 : 4;
}

int main(void)
{
	struct wd_sva q;
	struct wd_sva_done d;
	char name[64];
	uint8_t *buf;
	uint64_t sid = 0;
	int go[2], status, ret;
	pid_t pid;

	wd_sva_require();
	wdh_plan((unsigned int)NBADS + 2);
	if (wd_sva_find(name, sizeof(name)) || wd_sva_open(&q, name, 0))
		wdh_skip_all("no SVA queue to open");
	buf = wd_sva_alloc(4096);
	if (!buf || wd_sva_session(&q, 1, sp800_38a_key, sizeof(sp800_38a_key), &sid))
		wdh_skip_all("no buffer or no session");
	if (pipe(go))
		wdh_skip_all("pipe");
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		_exit(other(name, go[0]));
	}
	close(go[0]);

	for (size_t i = 0; i < NBADS; i++) {
		const struct bad *b = &bads[i];
		struct virtio_crypto_op_data_req req;

		memset(&req, 0, sizeof(req));
		req.header.opcode = VIRTIO_CRYPTO_CIPHER_ENCRYPT;
		req.header.algo = VIRTIO_CRYPTO_CIPHER_AES_CBC;
		req.header.session_id = sid;
		req.u.sym_req.op_type = VIRTIO_CRYPTO_SYM_OP_CIPHER;
		req.u.sym_req.u.cipher.para.iv_len = WD_SVA_IV_LEN;
		req.u.sym_req.u.cipher.para.src_data_len = b->hdr_src;
		req.u.sym_req.u.cipher.para.dst_data_len = b->hdr_dst;
		memset(buf, 0x5a, 4096);
		ret = wd_sva_submit_hdr(&q, &req, sp800_38a_iv,
					WD_SVA_HDR_LEN + (b->no_iv ? 0 : WD_SVA_IV_LEN),
					(uintptr_t)buf, b->desc_src, (uintptr_t)(buf + 2048), b->desc_dst, i);
		if (ret >= 0)
			ret = wd_sva_poll(&q, &d, WD_SVA_TIMEOUT_NS);
		wdh_ok(ret == 1 && d.result == -EIO && d.status == VIRTIO_CRYPTO_ERR,
		       "%s: completes with VIRTIO_CRYPTO_ERR on its own queue (poll %d, status %s, used %u)",
		       b->what, ret, ret == 1 ? wd_sva_status_str(d.status) : "-", ret == 1 ? d.used_len : 0);
	}

	wdh_ok(wd_sva_known_answer(&q), "the same queue serves the same process's known answers next");
	if (write(go[1], "g", 1) != 1)
		wdh_diag("go: %s", strerror(errno));
	close(go[1]);
	waitpid(pid, &status, 0);
	wdh_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "another process opens another queue, creates sessions, gets its known answers (exit %d)",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	wd_sva_destroy_session(&q, sid);
	wd_sva_free(buf, 4096);
	wd_sva_close(&q);
	return wdh_exit_code();
}
