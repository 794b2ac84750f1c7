/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wd_afalg.h - AES-CBC through AF_ALG bound to the driver name "virtio_crypto_aes_cbc", i.e. the
 * kernel-side virtio-crypto device (as guest-tests/baseline/aes-cbc-kat.c does). The reference
 * the user queue is compared with.
 *
 *	struct wd_afalg a;
 *	wd_afalg_open(&a, key, 16);
 *	wd_afalg_cipher(&a, 1, iv, src, dst, len);
 *	wd_afalg_close(&a);
 */
#ifndef WD_AFALG_H
#define WD_AFALG_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_alg.h>

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef SOL_ALG
#define SOL_ALG 279
#endif

#define WD_AFALG_DRIVER "virtio_crypto_aes_cbc"

struct wd_afalg {
	int tfm;
	int op;
};

static inline void wd_afalg_close(struct wd_afalg *a)
{
	if (a->op >= 0)
		close(a->op);
	if (a->tfm >= 0)
		close(a->tfm);
	a->op = a->tfm = -1;
}

/* An skcipher by algorithm or driver name (/proc/crypto), keyed; 0 or -errno. */
static inline int wd_afalg_open_name(struct wd_afalg *a, const char *alg, const uint8_t *key,
				     unsigned int key_len)
{
	struct sockaddr_alg sa = { .salg_family = AF_ALG };
	int ret;

	a->tfm = a->op = -1;
	strcpy((char *)sa.salg_type, "skcipher");
	snprintf((char *)sa.salg_name, sizeof(sa.salg_name), "%s", alg);
	a->tfm = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (a->tfm < 0)
		return -errno;
	if (bind(a->tfm, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(a->tfm, SOL_ALG, ALG_SET_KEY, key, key_len) < 0)
		goto fail;
	a->op = accept(a->tfm, NULL, 0);
	if (a->op < 0)
		goto fail;
	return 0;
fail:
	ret = -errno;
	wd_afalg_close(a);
	return ret;
}

static inline int wd_afalg_open(struct wd_afalg *a, const uint8_t *key, unsigned int key_len)
{
	return wd_afalg_open_name(a, WD_AFALG_DRIVER, key, key_len);
}

/* One request: sendmsg (op, IV, data) then read. Returns 0 or -errno. */
static inline int wd_afalg_cipher(struct wd_afalg *a, int encrypt, const uint8_t *iv,
				  const uint8_t *src, uint8_t *dst, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct af_alg_iv) + 16)];
	struct iovec iov = { .iov_base = (void *)src, .iov_len = len };
	struct msghdr msg = { 0 };
	struct cmsghdr *c;
	struct af_alg_iv *aiv;
	size_t got = 0;

	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_ALG;
	c->cmsg_type = ALG_SET_OP;
	c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
	*(uint32_t *)CMSG_DATA(c) = encrypt ? ALG_OP_ENCRYPT : ALG_OP_DECRYPT;
	c = CMSG_NXTHDR(&msg, c);
	c->cmsg_level = SOL_ALG;
	c->cmsg_type = ALG_SET_IV;
	c->cmsg_len = CMSG_LEN(sizeof(struct af_alg_iv) + 16);
	aiv = (struct af_alg_iv *)CMSG_DATA(c);
	aiv->ivlen = 16;
	memcpy(aiv->iv, iv, 16);
	if (sendmsg(a->op, &msg, 0) != (ssize_t)len)
		return -errno ? -errno : -EIO;
	while (got < len) {
		ssize_t n = read(a->op, dst + got, len - got);

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	return 0;
}

#endif /* WD_AFALG_H */
