/* libcrypto's SHA256_CTX functions are deprecated in OpenSSL 3 in favour of EVP, whose context copies allocate;
   they remain supported, and are what lets a keyed state be copied as a plain value. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "pseudonym_mac.h"
#include <openssl/opensslconf.h>
#ifdef OPENSSL_NO_DEPRECATED_3_0
#error "libcrypto was built without its 3.0 low-level digest functions (SHA256_Init…), which report-sla pseudonyms use"
#endif
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

typedef struct {
  SHA256_CTX inner;
  SHA256_CTX outer;
} keyed_states;

_Static_assert(sizeof(keyed_states) <= sizeof(((vouch_pseudonym_key *)0)->states), "pseudonym key storage too small");

int vouch_pseudonym_key_init(vouch_pseudonym_key *key, const unsigned char *bytes, size_t count) {
  unsigned char block[SHA256_CBLOCK] = {0};
  unsigned char pad[SHA256_CBLOCK];
  keyed_states states;
  if (count > sizeof block) {
    if (SHA256(bytes, count, block) == NULL) return 0;
  } else if (count > 0) {
    memcpy(block, bytes, count);
  }
  for (size_t i = 0; i < sizeof block; i++) pad[i] = block[i] ^ 0x36;
  int ok = SHA256_Init(&states.inner) && SHA256_Update(&states.inner, pad, sizeof pad);
  for (size_t i = 0; i < sizeof block; i++) pad[i] = block[i] ^ 0x5c;
  ok = ok && SHA256_Init(&states.outer) && SHA256_Update(&states.outer, pad, sizeof pad);
  memcpy(key->states, &states, sizeof states);
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(&states, sizeof states);
  return ok;
}

int vouch_pseudonym_mac(const vouch_pseudonym_key *key, const unsigned char *message, size_t count,
                        unsigned char mac[32]) {
  keyed_states states;
  unsigned char inner[SHA256_DIGEST_LENGTH];
  memcpy(&states, key->states, sizeof states);
  int ok = SHA256_Update(&states.inner, message, count) && SHA256_Final(inner, &states.inner) &&
           SHA256_Update(&states.outer, inner, sizeof inner) && SHA256_Final(mac, &states.outer);
  OPENSSL_cleanse(inner, sizeof inner);
  OPENSSL_cleanse(&states, sizeof states);
  return ok;
}
