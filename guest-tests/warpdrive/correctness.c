// SPDX-License-Identifier: GPL-2.0
/*
 * AES-CBC through the user queue: the NIST SP 800-38A CBC vectors (F.2.1-F.2.6, AES-128/192/256,
 * encrypt and decrypt), then random keys, IVs and buffers from 16 B to 64 KiB, each compared with
 * the result of AF_ALG bound to "virtio_crypto_aes_cbc" (the kernel-side virtio-crypto device):
 * ciphertexts, and the plaintexts both decrypt back to.
 */
#include <stdlib.h>

#include "wdh_tap.h"
#include "wd_afalg.h"
#include "wd_vcrypto.h"

static const uint32_t sizes[] = { 16, 32, 48, 64, 80, 256, 1024, 1520, 4096, 8192, 16384, 32768, 49152, 65536 };

#define NSIZE (sizeof(sizes) / sizeof(sizes[0]))
#define MAXLEN 65536

static uint8_t src[MAXLEN], uq_out[MAXLEN], alg_out[MAXLEN], alg_back[MAXLEN], back[MAXLEN];

static void fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(random() >> 7);
}

static int first_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return (int)i;
	return -1;
}

int main(void)
{
	struct wd_vc q;
	int ret;

	wd_vc_require();
	wdh_plan(2 * SP800_38A_NCBC + 2 * NSIZE);
	srandom(0x5eed);
	ret = wd_vc_open(&q, NULL);
	if (ret) {
		printf("Bail out! cannot open the user queue: %s\n", strerror(-ret));
		return WDH_EXIT_FAIL;
	}

	for (size_t k = 0; k < SP800_38A_NCBC; k++) {
		const struct sp800_38a_cbc_vector *t = &sp800_38a_cbc[k];
		uint64_t enc = 0, dec = 0;
		uint8_t out[64];
		int e = 0, d = 0;

		ret = wd_vc_session(&q, 1, t->key, t->key_len, &enc);
		if (!ret)
			ret = wd_vc_session(&q, 0, t->key, t->key_len, &dec);
		if (ret)
			wdh_diag("%s: session: %s", t->name, strerror(-ret));
		if (!ret) {
			ret = wd_vc_cipher(&q, enc, 1, sp800_38a_iv, sp800_38a_pt, out, 64);
			e = !ret && !memcmp(out, t->ct, 64);
			if (ret)
				wdh_diag("encrypt: %s", strerror(-ret));
			ret = wd_vc_cipher(&q, dec, 0, sp800_38a_iv, t->ct, out, 64);
			d = !ret && !memcmp(out, sp800_38a_pt, 64);
			if (ret)
				wdh_diag("decrypt: %s", strerror(-ret));
			wd_vc_destroy_session(&q, enc);
			wd_vc_destroy_session(&q, dec);
		}
		wdh_ok(e, "SP 800-38A %s encrypt", t->name);
		wdh_ok(d, "SP 800-38A %s decrypt", t->name);
	}

	for (size_t s = 0; s < NSIZE; s++) {
		uint32_t len = sizes[s];
		unsigned int key_len = 16 + 8 * (unsigned int)(s % 3);
		uint8_t key[32], iv[16];
		struct wd_afalg a;
		uint64_t enc = 0, dec = 0;
		int e = 0, d = 0;

		fill_random(key, sizeof(key));
		fill_random(iv, sizeof(iv));
		fill_random(src, len);
		ret = wd_afalg_open(&a, key, key_len);
		if (ret) {
			wdh_diag("AF_ALG %s: %s", WD_AFALG_DRIVER, strerror(-ret));
		} else {
			ret = wd_afalg_cipher(&a, 1, iv, src, alg_out, len);
			if (ret)
				wdh_diag("AF_ALG encrypt %u B: %s", len, strerror(-ret));
			if (!ret)
				ret = wd_afalg_cipher(&a, 0, iv, alg_out, alg_back, len);
			if (ret)
				wdh_diag("AF_ALG decrypt %u B: %s", len, strerror(-ret));
			wd_afalg_close(&a);
		}
		if (!ret)
			ret = wd_vc_session(&q, 1, key, key_len, &enc);
		if (!ret) {
			ret = wd_vc_session(&q, 0, key, key_len, &dec);
			if (ret)
				wd_vc_destroy_session(&q, enc);
		}
		if (!ret) {
			ret = wd_vc_cipher(&q, enc, 1, iv, src, uq_out, len);
			if (ret)
				wdh_diag("user queue encrypt %u B: %s", len, strerror(-ret));
			e = !ret && first_diff(uq_out, alg_out, len) < 0;
			if (!ret && !e)
				wdh_diag("%u B: user queue and AF_ALG differ from byte %d", len,
					 first_diff(uq_out, alg_out, len));
			ret = wd_vc_cipher(&q, dec, 0, iv, uq_out, back, len);
			if (ret)
				wdh_diag("user queue decrypt %u B: %s", len, strerror(-ret));
			d = !ret && first_diff(back, alg_back, len) < 0 && first_diff(back, src, len) < 0;
			wd_vc_destroy_session(&q, enc);
			wd_vc_destroy_session(&q, dec);
		}
		wdh_ok(e, "random %u B, AES-%u: user queue ciphertext = AF_ALG ciphertext", len,
		       key_len * 8);
		wdh_ok(d, "random %u B, AES-%u: user queue plaintext = AF_ALG plaintext = original", len,
		       key_len * 8);
	}
	wd_vc_close(&q);
	return wdh_exit_code();
}
