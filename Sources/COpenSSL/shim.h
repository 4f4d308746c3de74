#ifndef VOUCH_COPENSSL_SHIM_H
#define VOUCH_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/comp.h>
#include <string.h>

/* Swift cannot call OpenSSL's function-like macros or reach into its stacks, so each one gets a typed wrapper. */

static inline long vouch_ssl_ctx_status_type_ocsp(SSL_CTX *ctx) {
  return SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp);
}

/* Bytes of the stapled OCSP response; 0 when the server stapled none. */
static inline long vouch_ssl_ocsp_response_length(SSL *ssl) {
  const unsigned char *response = NULL;
  long length = SSL_get_tlsext_status_ocsp_resp(ssl, &response);
  return (response == NULL || length < 0) ? 0 : length;
}

static inline int vouch_ssl_secure_renegotiation(SSL *ssl) { return (int)SSL_get_secure_renegotiation_support(ssl); }
static inline int vouch_ssl_extms(SSL *ssl) { return (int)SSL_get_extms_support(ssl); }
static inline int vouch_ssl_negotiated_group(SSL *ssl) { return SSL_get_negotiated_group(ssl); }
static inline int vouch_ssl_compressed(SSL *ssl) { return SSL_get_current_compression(ssl) != NULL; }
static inline int vouch_ssl_compression_available(void) {
  return sk_SSL_COMP_num(SSL_COMP_get_compression_methods()) > 0;
}

/* Size in bits of the server's ephemeral key (DHE or ECDHE); 0 when there is none. */
static inline int vouch_ssl_peer_tmp_key_bits(SSL *ssl) {
  EVP_PKEY *key = NULL;
  if (!SSL_get_peer_tmp_key(ssl, &key) || key == NULL) return 0;
  int bits = EVP_PKEY_get_bits(key);
  EVP_PKEY_free(key);
  return bits;
}

/* 1 when the server's ephemeral key is finite-field DH. */
static inline int vouch_ssl_peer_tmp_key_is_dh(SSL *ssl) {
  EVP_PKEY *key = NULL;
  if (!SSL_get_peer_tmp_key(ssl, &key) || key == NULL) return 0;
  int dh = EVP_PKEY_get_base_id(key) == EVP_PKEY_DH;
  EVP_PKEY_free(key);
  return dh;
}

/* A private SSL_CTX ex_data slot; allocate once per process (callers cache it). */
static inline int vouch_ssl_ctx_new_ex_index(void) { return SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL); }

typedef void (*vouch_ssl_info_callback)(const SSL *ssl, int where, int ret);
static inline void vouch_ssl_ctx_set_info_callback(SSL_CTX *ctx, vouch_ssl_info_callback cb) {
  SSL_CTX_set_info_callback(ctx, cb);
}
static inline int vouch_ssl_handshake_done(int where) { return (where & SSL_CB_HANDSHAKE_DONE) != 0; }

/* Stopping a TLS <= 1.2 probe once the server's key exchange has been read: the security callback sees the server's
   DHE key (SSL_SECOP_TMP_DH) or ECDHE group (SSL_SECOP_CURVE_CHECK) while the client processes ServerKeyExchange, before
   the client generates its own key. The default callback still decides; when it allows, `record` receives the group's
   NID (ECDHE) or the DH key's bits (DHE) and the callback refuses, which ends the handshake with an alert. */
typedef void (*vouch_ske_record)(const SSL *ssl, void *probe, int nid, int dh_bits, int at_certificate);
typedef int (*vouch_security_cb)(const SSL *, const SSL_CTX *, int, int, int, void *, void *);
struct vouch_ske_stop {
  vouch_security_cb fallback;
  vouch_ske_record record;
  void *probe;
  /* From the ServerHello's extensions (RFC 5746 renegotiation_info, RFC 7627 extended_master_secret): OpenSSL only
     reports them once the handshake is over. */
  int renegotiation_info;
  int extended_master_secret;
};
static inline void vouch_ske_message(int write_p, int version, int content_type, const void *buf, size_t len,
                                     SSL *ssl, void *arg) {
  struct vouch_ske_stop *stop = arg;
  const unsigned char *p = buf;
  if (stop == NULL || write_p || content_type != SSL3_RT_HANDSHAKE || len < 4 || p[0] != SSL3_MT_SERVER_HELLO) return;
  size_t end = 4 + (((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3]);
  if (end > len) return;
  size_t at = 4 + 2 + 32; /* type and length, version, random */
  if (at + 1 > end) return;
  at += 1 + p[at];       /* session id */
  at += 2 + 1;           /* cipher suite, compression */
  if (at + 2 > end) return;
  size_t extensions = at + 2 + (((size_t)p[at] << 8) | p[at + 1]);
  at += 2;
  if (extensions > end) return;
  while (at + 4 <= extensions) {
    unsigned type = ((unsigned)p[at] << 8) | p[at + 1];
    size_t length = ((size_t)p[at + 2] << 8) | p[at + 3];
    if (type == 0xff01) stop->renegotiation_info = 1;
    if (type == 0x0017) stop->extended_master_secret = 1;
    at += 4 + length;
  }
}
static inline int vouch_ske_security(const SSL *ssl, const SSL_CTX *ctx, int op, int bits, int nid, void *other,
                                     void *ex) {
  struct vouch_ske_stop *stop = ex;
  if (stop == NULL) return 1;
  int allowed = stop->fallback == NULL ? 1 : stop->fallback(ssl, ctx, op, bits, nid, other, NULL);
  if (!allowed || ssl == NULL || SSL_get_state(ssl) != TLS_ST_CR_KEY_EXCH) return allowed;
  if (op == SSL_SECOP_TMP_DH && other != NULL) {
    stop->record(ssl, stop->probe, 0, EVP_PKEY_get_bits((EVP_PKEY *)other), 0);
    return 0;
  }
  if (op == SSL_SECOP_CURVE_CHECK) {
    stop->record(ssl, stop->probe, nid, 0, 0);
    return 0;
  }
  return allowed;
}
/* Suites without an ephemeral key exchange (RSA key transport) send no ServerKeyExchange: such a probe stops when the
   client reaches the server's certificate, where ServerHello has been read, and so skips the server's private-key
   operation. The chain is not verified (only the inspecting probe needs it); other suites continue to their
   ServerKeyExchange. */
static inline int vouch_ske_certificate(X509_STORE_CTX *store, void *arg) {
  struct vouch_ske_stop *stop = arg;
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  if (stop == NULL || ssl == NULL || SSL_version(ssl) >= TLS1_3_VERSION) return 1;
  const SSL_CIPHER *cipher = SSL_get_pending_cipher(ssl);
  if (cipher == NULL) return 1;
  int kx = SSL_CIPHER_get_kx_nid(cipher);
  if (kx == NID_kx_dhe || kx == NID_kx_ecdhe) return 1;
  stop->record(ssl, stop->probe, 0, 0, 1);
  return 0;
}
/* `stop` must outlive the handshake; its fallback is the context's current (default) callback. */
static inline void vouch_ssl_ctx_stop_at_key_exchange(SSL_CTX *ctx, struct vouch_ske_stop *stop) {
  SSL_CTX_set_cert_verify_callback(ctx, vouch_ske_certificate, stop);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  stop->fallback = SSL_CTX_get_security_callback(ctx);
  SSL_CTX_set_security_callback(ctx, vouch_ske_security);
  SSL_CTX_set0_security_ex_data(ctx, stop);
  SSL_CTX_set_msg_callback(ctx, vouch_ske_message);
  SSL_CTX_set_msg_callback_arg(ctx, stop);
}
/* The suite the server chose in ServerHello, before the handshake completes. */
static inline const SSL_CIPHER *vouch_ssl_pending_cipher(const SSL *ssl) { return SSL_get_pending_cipher(ssl); }

static inline int vouch_ssl_chain_count(SSL *ssl) {
  STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
  return chain == NULL ? 0 : sk_X509_num(chain);
}

static inline X509 *vouch_ssl_chain_at(SSL *ssl, int index) {
  return sk_X509_value(SSL_get_peer_cert_chain(ssl), index);
}

/* The SSL_CIPHERs an SSL_CTX would offer, for building the local catalogue. */
static inline int vouch_ssl_ctx_cipher_count(SSL_CTX *ctx) { return sk_SSL_CIPHER_num(SSL_CTX_get_ciphers(ctx)); }
static inline const SSL_CIPHER *vouch_ssl_ctx_cipher_at(SSL_CTX *ctx, int index) {
  return sk_SSL_CIPHER_value(SSL_CTX_get_ciphers(ctx), index);
}

/* Subject alternative names of DNS and IP type, written one per line into `buffer`; returns bytes needed. */
static inline size_t vouch_x509_san_lines(X509 *certificate, char *buffer, size_t capacity) {
  GENERAL_NAMES *names = X509_get_ext_d2i(certificate, NID_subject_alt_name, NULL, NULL);
  size_t used = 0;
  if (names == NULL) return 0;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
    char line[128];
    line[0] = 0;
    if (name->type == GEN_DNS) {
      snprintf(line, sizeof line, "DNS:%.*s\n", ASN1_STRING_length(name->d.dNSName),
               (const char *)ASN1_STRING_get0_data(name->d.dNSName));
    } else if (name->type == GEN_IPADD) {
      const unsigned char *ip = ASN1_STRING_get0_data(name->d.iPAddress);
      int length = ASN1_STRING_length(name->d.iPAddress);
      if (length == 4) {
        snprintf(line, sizeof line, "IP:%u.%u.%u.%u\n", ip[0], ip[1], ip[2], ip[3]);
      } else if (length == 16) {
        int n = snprintf(line, sizeof line, "IP:");
        for (int j = 0; j < 16; j += 2) n += snprintf(line + n, sizeof line - n, j ? ":%x" : "%x", (ip[j] << 8) | ip[j + 1]);
        snprintf(line + n, sizeof line - n, "\n");
      }
    }
    size_t length = strlen(line);
    if (used + length < capacity) memcpy(buffer + used, line, length);
    used += length;
  }
  GENERAL_NAMES_free(names);
  if (used < capacity) buffer[used] = 0;
  return used;
}

/* A certificate's name in RFC 2253 form, written into `buffer`; returns bytes needed. */
static inline size_t vouch_x509_name_line(const X509_NAME *name, char *buffer, size_t capacity) {
  BIO *bio = BIO_new(BIO_s_mem());
  if (bio == NULL) return 0;
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char *data = NULL;
  long length = BIO_get_mem_data(bio, &data);
  size_t needed = length > 0 ? (size_t)length : 0;
  if (needed < capacity) { memcpy(buffer, data, needed); buffer[needed] = 0; }
  BIO_free(bio);
  return needed;
}

/* Serial number as uppercase hex, written into `buffer`; returns bytes needed. */
static inline size_t vouch_x509_serial_hex(X509 *certificate, char *buffer, size_t capacity) {
  BIGNUM *number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), NULL);
  if (number == NULL) return 0;
  char *hex = BN_bn2hex(number);
  BN_free(number);
  if (hex == NULL) return 0;
  size_t needed = strlen(hex);
  if (needed < capacity) memcpy(buffer, hex, needed + 1);
  OPENSSL_free(hex);
  return needed;
}

/* Seconds since 1970 of an ASN1_TIME; 0 on failure (reported by the caller as unreadable). */
static inline int vouch_asn1_time_epoch(const ASN1_TIME *time, long long *seconds) {
  struct tm parts;
  if (!ASN1_TIME_to_tm(time, &parts)) return 0;
  *seconds = (long long)timegm(&parts);
  return 1;
}

/* The curve of an EC public key ("prime256v1"), written into `buffer`; 0 when the key is not EC. */
static inline int vouch_pkey_group_name(EVP_PKEY *key, char *buffer, size_t capacity) {
  size_t length = 0;
  return EVP_PKEY_get_utf8_string_param(key, "group", buffer, capacity, &length);
}

/* DER encoding of a certificate into a buffer of `capacity` bytes; returns the length needed. */
static inline int vouch_x509_der(X509 *certificate, unsigned char *buffer, int capacity) {
  int needed = i2d_X509(certificate, NULL);
  if (needed > 0 && needed <= capacity) {
    unsigned char *cursor = buffer;
    i2d_X509(certificate, &cursor);
  }
  return needed;
}

#endif
