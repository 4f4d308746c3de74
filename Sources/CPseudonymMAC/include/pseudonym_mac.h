#ifndef VOUCH_PSEUDONYM_MAC_H
#define VOUCH_PSEUDONYM_MAC_H
#include <stddef.h>

/* HMAC-SHA-256 (RFC 2104) for report-sla pseudonyms, with the key's inner and outer hash states computed once.
   A pseudonym then costs two SHA-256 compressions on copies of those states: no allocation, no handle, so the key is
   a plain value that any task may copy. OpenSSL's types stay out of this header (libcrypto declares them among its
   deprecated interfaces). */
typedef struct {
  _Alignas(16) unsigned char states[256];
} vouch_pseudonym_key;

/* Prepares `key` from `count` key bytes; 1 on success, 0 if libcrypto failed. */
int vouch_pseudonym_key_init(vouch_pseudonym_key *key, const unsigned char *bytes, size_t count);

/* Writes the 32-byte MAC of `count` message bytes to `mac`; 1 on success, 0 if libcrypto failed. */
int vouch_pseudonym_mac(const vouch_pseudonym_key *key, const unsigned char *message, size_t count,
                        unsigned char mac[32]);

#endif
