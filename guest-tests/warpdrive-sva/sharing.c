// SPDX-License-Identifier: GPL-2.0
/*
 * Sharing: as many processes as the device has free data queues (available_instances at start,
 * 4 on the SVA machine) open it at once, each binding its own address space (PASID) to its own
 * queue. While all hold a queue, available_instances is 0 and one more opener gets EBUSY. Then
 * all run at the same time: the SP 800-38A CBC known answers (AES-128/192/256, encrypt and
 * decrypt) and random sizes with random keys and IVs, several requests in flight, each compared
 * with AF_ALG and decrypted back. Afterwards available_instances is N again.
 */
#include "sva_test.h"

#define EXPECTED_QUEUES 4
#define MAXP 8
#define NRAND 16
#define DEPTH 8

struct opened {
	int ret;
	uint32_t queue, pasid, max_ring;
	uint64_t max_size, features;
};

struct report {
	int kat_ok[SP800_38A_NCBC][2];
	int kat_ret;
	int afalg_ret;
	unsigned int rnd_total, rnd_enc_ok, rnd_dec_ok, rnd_errors;
	int batch_ret;
	char which[160];
};

static void child(const char *name, int up, int go, unsigned int seed)
{
	struct opened o = { 0 };
	struct report rep;
	struct wd_sva q;
	struct wd_afalg a;
	uint8_t *mem, *in[NRAND], *ct[NRAND], *back[NRAND], *ref;
	uint8_t iv[NRAND][16], key[32];
	uint32_t len[NRAND], maxlen = 65536;
	int res[NRAND];
	uint64_t enc = 0, dec = 0;
	char c;

	memset(&rep, 0, sizeof(rep));
	o.ret = wd_sva_open(&q, name, 0);
	if (!o.ret) {
		o.queue = q.info.queue_index;
		o.pasid = q.info.pasid;
		o.max_ring = q.info.max_ring_num;
		o.max_size = q.info.max_size;
		o.features = q.info.features;
	}
	if (sva_write_all(up, &o, sizeof(o)) || o.ret)
		_exit(1);
	if (read(go, &c, 1) != 1)
		_exit(1);

	/* Known answers */
	for (size_t k = 0; k < SP800_38A_NCBC; k++) {
		const struct sp800_38a_cbc_vector *t = &sp800_38a_cbc[k];
		uint8_t *buf = wd_sva_alloc(192);

		rep.kat_ret = buf ? 0 : -ENOMEM;
		if (!rep.kat_ret)
			rep.kat_ret = wd_sva_session(&q, 1, t->key, t->key_len, &enc);
		if (!rep.kat_ret)
			rep.kat_ret = wd_sva_session(&q, 0, t->key, t->key_len, &dec);
		if (rep.kat_ret)
			break;
		memcpy(buf, sp800_38a_pt, 64);
		memset(buf + 64, 0, 128);
		rep.kat_ok[k][0] = !wd_sva_cipher(&q, enc, 1, sp800_38a_iv, buf, buf + 64, 64) &&
				   !memcmp(buf + 64, t->ct, 64);
		rep.kat_ok[k][1] = !wd_sva_cipher(&q, dec, 0, sp800_38a_iv, buf + 64, buf + 128, 64) &&
				   !memcmp(buf + 128, sp800_38a_pt, 64);
		wd_sva_destroy_session(&q, enc);
		wd_sva_destroy_session(&q, dec);
		wd_sva_free(buf, 192);
	}

	/* Random sizes, keys, IVs against AF_ALG */
	srandom(seed);
	sva_fill_random(key, sizeof(key));
	if (q.info.max_size && q.info.max_size < maxlen)
		maxlen = (uint32_t)q.info.max_size & ~15u;
	mem = wd_sva_alloc((size_t)3 * NRAND * maxlen);
	ref = malloc(maxlen);
	rep.afalg_ret = wd_sva_afalg_open(&a, key, 16, rep.which, sizeof(rep.which));
	if (!mem || !ref || rep.afalg_ret ||
	    wd_sva_session(&q, 1, key, 16, &enc) || wd_sva_session(&q, 0, key, 16, &dec)) {
		rep.batch_ret = -EIO;
		goto out;
	}
	for (int i = 0; i < NRAND; i++) {
		in[i] = mem + (size_t)i * maxlen;
		ct[i] = mem + (size_t)(NRAND + i) * maxlen;
		back[i] = mem + (size_t)(2 * NRAND + i) * maxlen;
		len[i] = 16u * (1u + (uint32_t)random() % (maxlen / 16));
		if (i == 0)
			len[i] = 16;
		if (i == 1)
			len[i] = maxlen;
		sva_fill_random(iv[i], 16);
		sva_fill_random(in[i], len[i]);
		memset(ct[i], 0, len[i]);
		memset(back[i], 0, len[i]);
	}
	rep.rnd_total = NRAND;
	rep.batch_ret = sva_batch(&q, enc, 1, NRAND, DEPTH, in, ct, len, (const uint8_t (*)[16])iv, res);
	for (int i = 0; i < NRAND && !rep.batch_ret; i++) {
		if (res[i]) {
			rep.rnd_errors++;
			continue;
		}
		if (!wd_afalg_cipher(&a, 1, iv[i], in[i], ref, len[i]) && !memcmp(ref, ct[i], len[i]))
			rep.rnd_enc_ok++;
	}
	if (!rep.batch_ret)
		rep.batch_ret = sva_batch(&q, dec, 0, NRAND, DEPTH, ct, back, len,
					  (const uint8_t (*)[16])iv, res);
	for (int i = 0; i < NRAND && !rep.batch_ret; i++) {
		if (res[i])
			rep.rnd_errors++;
		else if (!memcmp(back[i], in[i], len[i]))
			rep.rnd_dec_ok++;
	}
	wd_afalg_close(&a);
out:
	sva_write_all(up, &rep, sizeof(rep));
	wd_sva_close(&q);
	_exit(0);
}

int main(void)
{
	struct opened o[MAXP];
	struct report rep[MAXP];
	pid_t pid[MAXP];
	int up[MAXP][2], go[2];
	char name[64], buf[64];
	long n, v;
	int ret, nproc;

	wd_sva_require();
	ret = wd_sva_find(name, sizeof(name));
	n = ret ? -1 : wd_sva_available(name);
	nproc = n >= 1 && n <= MAXP ? (int)n : EXPECTED_QUEUES;
	wdh_plan(14 + 3 * (unsigned int)nproc);
	if (!wdh_ok(ret == 0, "a uacce device with api %s", VIRTIO_CRYPTO_SVA_API)) {
		printf("Bail out! no SVA virtio-crypto device: %s\n", sva_err(ret));
		return WDH_EXIT_FAIL;
	}
	wdh_diag("device %s", name);
	v = wd_uacce_sysfs_long(name, "flags");
	wdh_ok(v >= 0 && (v & WD_SVA_FLAG_SVA), "flags has UACCE_DEV_SVA (flags %ld)", v);
	if (!wd_uacce_sysfs(name, "algorithms", buf, sizeof(buf)))
		wdh_diag("algorithms: %s", buf);
	wdh_ok(n == EXPECTED_QUEUES, "available_instances %ld at start (the device's %d data queues)",
	       n, EXPECTED_QUEUES);

	if (pipe(go))
		return WDH_EXIT_FAIL;
	for (int i = 0; i < nproc; i++) {
		if (pipe(up[i]))
			return WDH_EXIT_FAIL;
		fflush(stdout);
		pid[i] = fork();
		if (pid[i] == 0) {
			close(go[1]);
			close(up[i][0]);
			child(name, up[i][1], go[0], 0x5eed + (unsigned int)i);
		}
		close(up[i][1]);
	}
	close(go[0]);
	for (int i = 0; i < nproc; i++) {
		if (sva_read_all(up[i][0], &o[i], sizeof(o[i]))) {
			memset(&o[i], 0, sizeof(o[i]));
			o[i].ret = -EPIPE;
		}
		wdh_ok(o[i].ret == 0, "process %d: open, INFO, ring, START_Q (%s): queue %u, pasid %u",
		       i, sva_err(o[i].ret), o[i].queue, o[i].pasid);
	}
	if (o[0].ret == 0)
		wdh_diag("max_ring_num %u, max_size %llu, features 0x%llx", o[0].max_ring,
			 (unsigned long long)o[0].max_size, (unsigned long long)o[0].features);
	v = wd_sva_available(name);
	wdh_ok(v == 0, "available_instances 0 while %d processes hold a queue (%ld)", nproc, v);
	{
		struct wd_sva extra;

		ret = wd_sva_open_fd(&extra, name);
		wdh_ok(ret == -EBUSY, "one more opener gets EBUSY (%s)", sva_err(ret));
		if (!ret)
			wd_sva_close(&extra);
	}
	{
		int distinct_q = 1, distinct_p = 1, nonzero = 1;

		for (int i = 0; i < nproc; i++) {
			if (o[i].ret)
				distinct_q = distinct_p = nonzero = 0;
			if (!o[i].pasid)
				nonzero = 0;
			for (int j = 0; j < i; j++) {
				if (o[i].queue == o[j].queue)
					distinct_q = 0;
				if (o[i].pasid == o[j].pasid)
					distinct_p = 0;
			}
		}
		wdh_ok(distinct_q, "each process has a queue of its own");
		wdh_ok(distinct_p && nonzero, "each process has a PASID of its own, none 0");
	}

	/* All at once */
	for (int i = 0; i < nproc; i++)
		if (write(go[1], "g", 1) != 1)
			break;
	for (int i = 0; i < nproc; i++) {
		int got = o[i].ret == 0 && !sva_read_all(up[i][0], &rep[i], sizeof(rep[i]));
		int kat = got && !rep[i].kat_ret;

		if (got && i == 0)
			wdh_diag("AF_ALG reference: %s", rep[i].which[0] ? rep[i].which : "(none)");
		for (size_t k = 0; kat && k < SP800_38A_NCBC; k++)
			if (!rep[i].kat_ok[k][0] || !rep[i].kat_ok[k][1]) {
				wdh_diag("process %d: %s %s wrong", i, sp800_38a_cbc[k].name,
					 rep[i].kat_ok[k][0] ? "decrypt" : "encrypt");
				kat = 0;
			}
		if (got && rep[i].kat_ret)
			wdh_diag("process %d: known answers: %s", i, sva_err(rep[i].kat_ret));
		wdh_ok(kat, "process %d: SP 800-38A CBC-AES128/192/256 encrypt and decrypt", i);
		wdh_ok(got && !rep[i].batch_ret && rep[i].rnd_enc_ok == NRAND,
		       "process %d: %d random sizes (%d in flight) equal AF_ALG (%u/%u; errors %u; %s)", i,
		       NRAND, DEPTH, got ? rep[i].rnd_enc_ok : 0, NRAND, got ? rep[i].rnd_errors : 0,
		       got ? sva_err(rep[i].batch_ret ? rep[i].batch_ret : rep[i].afalg_ret) : "no report");
		wdh_ok(got && !rep[i].batch_ret && rep[i].rnd_dec_ok == NRAND,
		       "process %d: and decrypt back to the plaintext (%u/%u)", i,
		       got ? rep[i].rnd_dec_ok : 0, NRAND);
	}
	{
		int all = 1;

		for (int i = 0; i < nproc; i++) {
			int st = sva_wait_child(pid[i], 60);

			if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
				wdh_diag("process %d: status 0x%x", i, st);
				all = 0;
			}
		}
		wdh_ok(all, "every process exited normally");
	}
	v = sva_wait_available(name, n);
	wdh_ok(v == n, "available_instances back to %ld (%ld)", n, v);
	{
		struct wd_sva q;

		ret = wd_sva_open(&q, name, 0);
		wdh_ok(ret == 0 && wd_sva_known_answer(&q), "a new process gets a working queue (%s)",
		       sva_err(ret));
		if (!ret)
			wd_sva_close(&q);
	}
	return wdh_exit_code();
}
