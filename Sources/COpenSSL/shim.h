#ifndef IVKEYS_COPENSSL_SHIM_H
#define IVKEYS_COPENSSL_SHIM_H
// SHA256_Init/Update/Final are marked deprecated in OpenSSL 3.0 in favour of EVP, but remain part
// of libcrypto's API. ivkeys uses them for one reason: EVP's first use loads and initialises the
// default provider (about 5 million instructions, measured with callgrind), which a `verify` run
// once per request cannot afford. Everything else (CRYPTO_memcmp) is current API.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/err.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

/// An HMAC-SHA256 key, prepared once: the SHA-256 states after absorbing K ^ ipad and K ^ opad.
typedef struct {
  SHA256_CTX inner;
  SHA256_CTX outer;
} ivkeys_hmac_sha256_key;

/// RFC 2104: keys longer than the block (64 bytes) are hashed first; shorter ones are padded
/// with zeros; the inner state absorbs K ^ 0x36.., the outer K ^ 0x5c...
static inline void ivkeys_hmac_sha256_init(ivkeys_hmac_sha256_key *k, const unsigned char *key, size_t length) {
  unsigned char block[64];
  memset(block, 0, sizeof block);
  if (length > sizeof block) {
    // Not the one-shot SHA256(): since OpenSSL 3.0 it goes through EVP (and its providers).
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, key, length);
    SHA256_Final(block, &c);
    OPENSSL_cleanse(&c, sizeof c);
  } else if (length > 0) {
    memcpy(block, key, length);
  }
  unsigned char pad[64];
  for (size_t i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
  SHA256_Init(&k->inner);
  SHA256_Update(&k->inner, pad, 64);
  for (size_t i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
  SHA256_Init(&k->outer);
  SHA256_Update(&k->outer, pad, 64);
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
}

/// HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)), from the prepared states.
static inline void ivkeys_hmac_sha256(const ivkeys_hmac_sha256_key *k, const unsigned char *message, size_t length,
                                      unsigned char out[32]) {
  SHA256_CTX c = k->inner;
  unsigned char inner[32];
  SHA256_Update(&c, message, length);
  SHA256_Final(inner, &c);
  c = k->outer;
  SHA256_Update(&c, inner, 32);
  SHA256_Final(out, &c);
  OPENSSL_cleanse(&c, sizeof c);
}

/// SHA-256 of `message`, through SHA256_Init/Update/Final for the same reason as above: the
/// one-shot SHA256() goes through EVP (measured: 5.3 million instructions on first use).
static inline void ivkeys_sha256(const unsigned char *message, size_t length, unsigned char out[32]) {
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, message, length);
  SHA256_Final(out, &c);
}

/// Fills `buffer` with `length` bytes from the kernel's CSPRNG, getrandom(2) (Linux 3.17, glibc
/// 2.25), which blocks only until the pool is first initialised. 1 on success, 0 on failure.
/// Not OpenSSL's RAND_bytes: its first call fetches and instantiates a DRBG through the provider
/// machinery (about 8 million instructions, measured with callgrind, in every process that makes
/// a key), and referencing it links that machinery, whose relocations every start then pays.
static inline int ivkeys_os_random(unsigned char *buffer, size_t length) {
  while (length > 0) {
    ssize_t n = getrandom(buffer, length, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    buffer += n;
    length -= (size_t)n;
  }
  return 1;
}
#endif
