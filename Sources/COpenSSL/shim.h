#ifndef VOUCH_COPENSSL_SHIM_H
#define VOUCH_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/comp.h>
#include <openssl/err.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Swift cannot call OpenSSL's function-like macros or reach into its stacks, so each one gets a typed wrapper.
   SwiftPM does not track this header: after editing it, touch the Swift files that import COpenSSL (or build from
   clean), or the old inline code stays in their objects. */

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

/* ---- Handshakes over a connection libcurl made (CURLOPT_CONNECT_ONLY on an http:// URL) ----
   One SSL_CTX serves every probe of a scan; each probe's SSL carries its own versions, suites, groups, SNI and
   verification settings, so nothing per-probe touches the shared context. */

/* The client a probe presents, as libcurl 7.88 configures its SSL_CTX for an https:// URL (same options, ALPN and
   post-handshake auth, so the server sees the same ClientHello), at security level 0: Debian's level 2 would silently
   refuse TLS 1.0/1.1, SHA-1 signatures and small DH keys and wrongly report them "not accepted". */
static inline int vouch_ssl_ctx_configure_probe_client(SSL_CTX *ctx) {
  uint64_t options = SSL_OP_ALL | SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION;
  options &= ~(uint64_t)(SSL_OP_NETSCAPE_REUSE_CIPHER_CHANGE_BUG | SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS);
  SSL_CTX_set_options(ctx, options);
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_post_handshake_auth(ctx, 1);
  static const unsigned char alpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  return SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn) == 0;
}

/* min = max pins one version; max 0 is the highest the library knows. */
static inline int vouch_ssl_set_versions(SSL *ssl, int min, int max) {
  return SSL_set_min_proto_version(ssl, min) == 1 && SSL_set_max_proto_version(ssl, max) == 1;
}
static inline int vouch_ssl_set_host_name(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }
static inline int vouch_ssl_set1_groups_list(SSL *ssl, const char *list) { return (int)SSL_set1_groups_list(ssl, list); }
static inline int vouch_ssl_ctx_set1_groups_list(SSL_CTX *ctx, const char *list) {
  return (int)SSL_CTX_set1_groups_list(ctx, list);
}
static inline int vouch_ssl_set1_verify_cert_store(SSL *ssl, X509_STORE *store) {
  return (int)SSL_set1_verify_cert_store(ssl, store);
}
static inline int vouch_ssl_status_type_ocsp(SSL *ssl) {
  return (int)SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
}

/* Moves bytes over the probe's connection: 0 when `done` bytes moved (0 received = the peer closed), 1 when the
   socket is not ready, -1 on failure with errno set. */
typedef int (*vouch_transfer)(void *connection, void *buffer, size_t length, size_t *done);

/* Where a probe ends the handshake itself. Once the server has committed to its choices there is nothing left to learn,
   and the rest of the handshake costs both ends: certificate parsing, key agreement, signature checks. */
enum vouch_stop {
  VOUCH_STOP_NONE = 0,
  /* TLS 1.3: the version, suite and group are all in ServerHello. */
  VOUCH_STOP_SERVER_HELLO = 1,
  /* TLS <= 1.2: the suite is in ServerHello, the ECDHE group or DH prime in ServerKeyExchange (RSA key transport sends
     none; such a probe ends at the server's Certificate). */
  VOUCH_STOP_KEY_EXCHANGE = 2,
  /* The inspecting handshake: once OpenSSL has read and checked the server's whole first flight (chain, stapled OCSP
     response, key exchange and its signature; in TLS 1.3 also CertificateVerify and Finished), the client's reply is
     not sent. In TLS <= 1.2 that saves a round trip, which a busy server answers last. */
  VOUCH_STOP_SERVER_FLIGHT = 3,
};
enum vouch_stopped {
  VOUCH_STOPPED_SERVER_HELLO = 1,
  VOUCH_STOPPED_CERTIFICATE = 2,
  VOUCH_STOPPED_KEY_EXCHANGE = 3,
  VOUCH_STOPPED_SERVER_FLIGHT = 4,
  /* TLS 1.3: the server answered a ClientHello without key shares with a HelloRetryRequest naming its suite and group. */
  VOUCH_STOPPED_HELLO_RETRY = 5,
};

struct vouch_probe_io {
  void *connection;
  vouch_transfer receive;
  vouch_transfer send;
  int socket;
  /* CLOCK_MONOTONIC milliseconds by which the handshake must be over. */
  long long deadline;
  SSL *ssl;
  int stop;
  /* Groups the probe offered (IANA ids): a ServerKeyExchange naming another is left to OpenSSL to refuse. */
  const unsigned short *groups;
  int group_count;
  /* TLS 1.3 probes: send the ClientHello with an empty key share list (RFC 8446, 4.2.8), so the server answers with a
     HelloRetryRequest that names its suite and group before it generates a key, derives secrets or signs anything.
     Cleared once the first ClientHello has been written. */
  int ask_retry;
  /* The ClientHello went out with its key shares removed. */
  int shares_removed;
  /* Results. */
  int timed_out;
  int error;
  /* The peer closed the connection. */
  int eof;
  int stopped;
  int group;
  int dh_bits;
  /* From ServerHello's extensions (RFC 5746 renegotiation_info, RFC 7627 extended_master_secret): OpenSSL only reports
     them once a handshake is over. */
  int renegotiation_info;
  int extended_master_secret;
  /* A ServerHello (not a HelloRetryRequest) has been read in full. */
  int server_hello;
  /* From the ClientHello just sent (TLS 1.3 probes), to check a ServerHello against: session id, suites, the groups
     it sent key shares for. `awaiting_hello` is set once the whole ClientHello was understood, and cleared at the first
     read of the server's answer. */
  int awaiting_hello;
  unsigned char hello_session[32];
  int hello_session_length;
  unsigned char hello_suites[128];
  int hello_suites_length;
  unsigned short hello_shares[4];
  int hello_share_count;
  /* The suite of a ServerHello the probe read itself; 0 when OpenSSL read it. */
  unsigned suite;
  /* Bytes received but not yet handed to OpenSSL: the server's flight, read ahead to find its key exchange. */
  unsigned char *buffer;
  size_t start, end, capacity;
};

static inline long long vouch_monotonic_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Waits until the socket is ready or the deadline passes; 0 ready, -1 timed out or failed. */
static inline int vouch_probe_wait(struct vouch_probe_io *io, short events) {
  for (;;) {
    long long left = io->deadline - vouch_monotonic_ms();
    if (left <= 0) {
      io->timed_out = 1;
      return -1;
    }
    struct pollfd fd = {io->socket, events, 0};
    int ready = poll(&fd, 1, left > 60000 ? 60000 : (int)left);
    if (ready > 0) return 0;
    if (ready < 0 && errno != EINTR) {
      io->error = errno;
      return -1;
    }
  }
}

/* Receives into `out`; the count (0 = the peer closed), or -1. */
static inline long vouch_probe_receive(struct vouch_probe_io *io, void *out, size_t length) {
  for (;;) {
    size_t done = 0;
    errno = 0;
    int status = io->receive(io->connection, out, length, &done);
    if (status == 0 && done == 0) io->eof = 1;
    if (status == 0) return (long)done;
    if (status < 0) {
      io->error = errno;
      return -1;
    }
    if (vouch_probe_wait(io, POLLIN) < 0) return -1;
  }
}

/* Reads more of the server's flight into the look-ahead buffer; the bytes added, 0 when the peer closed, -1. */
static inline long vouch_probe_fill(struct vouch_probe_io *io) {
  if (io->capacity - io->end < 4096) {
    size_t capacity = io->capacity == 0 ? 16384 : io->capacity * 2;
    if (capacity > (1 << 20)) return -1;
    unsigned char *grown = realloc(io->buffer, capacity);
    if (grown == NULL) return -1;
    io->buffer = grown;
    io->capacity = capacity;
  }
  long got = vouch_probe_receive(io, io->buffer + io->end, io->capacity - io->end);
  if (got > 0) io->end += (size_t)got;
  return got;
}

static inline int vouch_probe_offered_group(const struct vouch_probe_io *io, unsigned id) {
  for (int i = 0; i < io->group_count; i++) {
    if (io->groups[i] == id) return 1;
  }
  return 0;
}

/* Reads the server's key exchange parameters from a ServerKeyExchange body: the named curve (ECDHE) or the prime's
   size (DHE), which is what OpenSSL would report, without the validation and key generation the probe never needs.
   1 when understood; 0 leaves the message to OpenSSL. */
static inline int vouch_probe_key_exchange(struct vouch_probe_io *io, int kx, const unsigned char *p, size_t length) {
  size_t at = 0;
  if (kx == NID_kx_ecdhe_psk || kx == NID_kx_dhe_psk) {
    if (length < 2) return 0;
    at = 2 + (((size_t)p[0] << 8) | p[1]); /* psk_identity_hint */
  }
  if (kx == NID_kx_ecdhe || kx == NID_kx_ecdhe_psk) {
    if (at + 3 > length || p[at] != 3) return 0; /* named_curve only, as OpenSSL */
    unsigned id = ((unsigned)p[at + 1] << 8) | p[at + 2];
    if (id >= 256 || !vouch_probe_offered_group(io, id)) return 0;
    io->group = (int)id;
    return 1;
  }
  if (at + 2 > length) return 0;
  size_t prime = ((size_t)p[at] << 8) | p[at + 1];
  at += 2;
  if (prime == 0 || at + prime > length) return 0;
  size_t skip = 0;
  while (skip < prime && p[at + skip] == 0) skip++;
  if (skip == prime) return 0;
  int bits = (int)(prime - skip) * 8;
  for (unsigned char top = p[at + skip]; (top & 0x80) == 0; top <<= 1) bits--;
  io->dh_bits = bits;
  return 1;
}

/* Called when OpenSSL has processed ServerHello and asks for the next record, before it sees any: reads the rest of
   the flight (plaintext handshake records) up to the ServerKeyExchange, or the Certificate when the suite has no
   ephemeral key exchange. Anything unexpected (an alert, another message first, a curve that was not offered, an
   unreadable record) sets `stop` to none and the handshake goes on in OpenSSL as an ordinary one. */
static inline void vouch_probe_look_ahead(struct vouch_probe_io *io) {
  const SSL_CIPHER *cipher = SSL_get_pending_cipher(io->ssl);
  int kx = cipher == NULL ? 0 : SSL_CIPHER_get_kx_nid(cipher);
  int ephemeral = kx == NID_kx_ecdhe || kx == NID_kx_ecdhe_psk || kx == NID_kx_dhe || kx == NID_kx_dhe_psk;
  unsigned char *messages = NULL; /* handshake messages reassembled from the records read so far */
  size_t used = 0, capacity = 0, records = io->start, parsed = 0;
  for (;;) {
    /* Append every complete record in the buffer. */
    while (io->end - records >= 5) {
      const unsigned char *header = io->buffer + records;
      size_t length = ((size_t)header[3] << 8) | header[4];
      if (header[0] != SSL3_RT_HANDSHAKE || header[1] != 3 || length > SSL3_RT_MAX_PLAIN_LENGTH) goto give_up;
      if (io->end - records < 5 + length) break;
      if (used + length > capacity) {
        capacity = (used + length) * 2;
        unsigned char *grown = realloc(messages, capacity);
        if (grown == NULL) goto give_up;
        messages = grown;
      }
      memcpy(messages + used, header + 5, length);
      used += length;
      records += 5 + length;
    }
    /* Walk the complete messages. */
    while (used - parsed >= 4) {
      const unsigned char *m = messages + parsed;
      size_t length = ((size_t)m[1] << 16) | ((size_t)m[2] << 8) | m[3];
      if (used - parsed < 4 + length) break;
      parsed += 4 + length;
      if (m[0] == SSL3_MT_CERTIFICATE && !ephemeral) {
        io->stopped = VOUCH_STOPPED_CERTIFICATE;
        free(messages);
        return;
      }
      if (m[0] == SSL3_MT_CERTIFICATE || m[0] == SSL3_MT_CERTIFICATE_STATUS) continue;
      if (m[0] == SSL3_MT_SERVER_KEY_EXCHANGE && ephemeral && vouch_probe_key_exchange(io, kx, m + 4, length)) {
        io->stopped = VOUCH_STOPPED_KEY_EXCHANGE;
        free(messages);
        return;
      }
      goto give_up;
    }
    if (vouch_probe_fill(io) <= 0) goto give_up;
  }
give_up:
  free(messages);
  io->stop = VOUCH_STOP_NONE;
}

static const unsigned char vouch_hello_retry_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

static inline unsigned vouch_u16(const unsigned char *p) { return ((unsigned)p[0] << 8) | p[1]; }

/* Notes what a ClientHello being written offers (records of one write, the ClientHello whole in one of them). */
static inline void vouch_probe_note_client_hello(struct vouch_probe_io *io, const unsigned char *p, size_t size) {
  for (size_t at = 0; at + 5 <= size;) {
    unsigned char type = p[at];
    size_t length = vouch_u16(p + at + 3);
    const unsigned char *m = p + at + 5;
    if (at + 5 + length > size) return;
    at += 5 + length;
    if (type != SSL3_RT_HANDSHAKE || length < 4 || m[0] != SSL3_MT_CLIENT_HELLO) continue;
    io->awaiting_hello = 0;
    size_t end = 4 + (((size_t)m[1] << 16) | ((size_t)m[2] << 8) | m[3]);
    size_t i = 4 + 2 + 32;
    if (end > length || i + 1 > end) return;
    size_t session = m[i++];
    if (session > sizeof io->hello_session || i + session + 2 > end) return;
    memcpy(io->hello_session, m + i, session);
    io->hello_session_length = (int)session;
    i += session;
    size_t suites = vouch_u16(m + i);
    i += 2;
    if (suites > sizeof io->hello_suites || i + suites + 1 > end) return;
    memcpy(io->hello_suites, m + i, suites);
    io->hello_suites_length = (int)suites;
    i += suites;
    i += 1 + m[i]; /* compression methods */
    if (i + 2 > end) return;
    size_t extensions = i + 2 + vouch_u16(m + i);
    i += 2;
    if (extensions > end) return;
    io->hello_share_count = 0;
    while (i + 4 <= extensions) {
      unsigned type = vouch_u16(m + i);
      size_t extension = vouch_u16(m + i + 2);
      i += 4;
      if (i + extension > extensions) return;
      if (type == 0x0033 && extension >= 2) { /* key_share: client_shares */
        size_t share = i + 2, shares = i + 2 + vouch_u16(m + i);
        if (shares > i + extension) return;
        while (share + 4 <= shares && io->hello_share_count < 4) {
          io->hello_shares[io->hello_share_count++] = (unsigned short)vouch_u16(m + share);
          share += 4 + vouch_u16(m + share + 2);
        }
      }
      i += extension;
    }
    io->awaiting_hello = 1;
    return;
  }
}

/* Copies the one ClientHello record in `p` to `out` (room for `size` bytes) with the key_share extension's client_shares
   emptied, fixing the record, handshake and extensions lengths; its new size, or 0 when `p` is not a single ClientHello
   record with a key_share extension (then it goes out unchanged). */
static inline size_t vouch_probe_remove_key_shares(const unsigned char *p, size_t size, unsigned char *out) {
  if (size < 5 + 4 || p[0] != SSL3_RT_HANDSHAKE || 5 + vouch_u16(p + 3) != size) return 0;
  const unsigned char *m = p + 5;
  size_t length = size - 5;
  size_t end = 4 + (((size_t)m[1] << 16) | ((size_t)m[2] << 8) | m[3]);
  size_t i = 4 + 2 + 32;
  if (m[0] != SSL3_MT_CLIENT_HELLO || end != length || i + 1 > end) return 0;
  i += 1 + m[i]; /* session id */
  if (i + 2 > end) return 0;
  i += 2 + vouch_u16(m + i); /* suites */
  if (i + 1 > end) return 0;
  i += 1 + m[i]; /* compression methods */
  if (i + 2 > end) return 0;
  size_t list = i, extensions = i + 2 + vouch_u16(m + i);
  if (extensions != end) return 0;
  for (i += 2; i + 4 <= extensions;) {
    unsigned type = vouch_u16(m + i);
    size_t extension = vouch_u16(m + i + 2);
    if (i + 4 + extension > extensions) return 0;
    if (type != 0x0033) {
      i += 4 + extension;
      continue;
    }
    if (extension < 2 || 2 + vouch_u16(m + i + 4) != extension) return 0;
    size_t removed = extension - 2;
    if (removed == 0) return 0;
    size_t cut = 5 + i + 4 + 2; /* first byte of the shares, in `p` */
    memcpy(out, p, cut);
    memcpy(out + cut, p + cut + removed, size - cut - removed);
    size_t record = length - removed, body = record - 4, all = extensions - list - 2 - removed;
    out[3] = (unsigned char)(record >> 8);
    out[4] = (unsigned char)record;
    out[5 + 1] = (unsigned char)(body >> 16);
    out[5 + 2] = (unsigned char)(body >> 8);
    out[5 + 3] = (unsigned char)body;
    out[5 + list] = (unsigned char)(all >> 8);
    out[5 + list + 1] = (unsigned char)all;
    out[5 + i + 2] = 0;
    out[5 + i + 3] = 2;
    out[5 + i + 4] = 0;
    out[5 + i + 5] = 0;
    return size - removed;
  }
  return 0;
}

/* Bytes of a key share of `group` (RFC 8446, 4.2.8.1-2); 0 for a group the probe never offers. */
static inline size_t vouch_key_share_length(unsigned group) {
  switch (group) {
  case 29: return 32;   /* x25519 */
  case 30: return 56;   /* x448 */
  case 23: return 65;   /* secp256r1 */
  case 24: return 97;   /* secp384r1 */
  case 25: return 133;  /* secp521r1 */
  case 256: return 256; /* ffdhe2048 … */
  case 257: return 384;
  case 258: return 512;
  case 259: return 768;
  case 260: return 1024;
  default: return 0;
  }
}

/* A TLS 1.3 probe reads the ServerHello itself, before OpenSSL processes it: processing derives the shared secret and
   checks the server's key share (for P-384, ~3 ms of CPU), none of which the probe needs. It only takes a ServerHello
   that OpenSSL would accept as the answer to the ClientHello just sent: alone in its record, TLS 1.3, the session id
   echoed, a suite and a key share group that were offered, a key share of the right size, no other extension.
   Anything else — a HelloRetryRequest, an alert, another version, anything unusual — goes to OpenSSL as it came.
   After a ClientHello without key shares, a HelloRetryRequest is the answer sought: the same checks, with the
   selected group one that was offered; other extensions (a cookie…) only matter to a second ClientHello, which the
   probe does not send. */
static inline void vouch_probe_read_server_hello(struct vouch_probe_io *io) {
  io->awaiting_hello = 0;
  while (io->end - io->start < 5) {
    if (vouch_probe_fill(io) <= 0) return;
  }
  size_t length = vouch_u16(io->buffer + io->start + 3);
  if (io->buffer[io->start] != SSL3_RT_HANDSHAKE || io->buffer[io->start + 1] != 3 || length < 4 ||
      length > SSL3_RT_MAX_PLAIN_LENGTH)
    return;
  while (io->end - io->start < 5 + length) {
    if (vouch_probe_fill(io) <= 0) return;
  }
  const unsigned char *m = io->buffer + io->start + 5;
  if (m[0] != SSL3_MT_SERVER_HELLO || 4 + (((size_t)m[1] << 16) | ((size_t)m[2] << 8) | m[3]) != length) return;
  size_t i = 4;
  if (length < i + 2 + 32 + 1 || vouch_u16(m + i) != TLS1_2_VERSION) return;
  i += 2;
  int retry = memcmp(m + i, vouch_hello_retry_random, 32) == 0;
  if (retry && !io->shares_removed) return;
  i += 32;
  size_t session = m[i++];
  if ((int)session != io->hello_session_length || i + session + 3 + 2 > length ||
      memcmp(m + i, io->hello_session, session) != 0)
    return;
  i += session;
  unsigned suite = vouch_u16(m + i);
  int offered = 0;
  for (int k = 0; k + 1 < io->hello_suites_length; k += 2) offered |= vouch_u16(io->hello_suites + k) == suite;
  const SSL_CIPHER *cipher = SSL_CIPHER_find(io->ssl, m + i); /* a TLS 1.3 suite, not a signalling value */
  if (!offered || cipher == NULL || SSL_CIPHER_get_kx_nid(cipher) != NID_kx_any || m[i + 2] != 0) return;
  i += 3;
  size_t extensions = i + 2 + vouch_u16(m + i);
  i += 2;
  if (extensions != length) return;
  unsigned version = 0, group = 0;
  while (i + 4 <= extensions) {
    unsigned type = vouch_u16(m + i);
    size_t extension = vouch_u16(m + i + 2);
    i += 4;
    if (i + extension > extensions) return;
    if (type == 0x002b && extension == 2 && version == 0) {
      version = vouch_u16(m + i);
    } else if (retry && type == 0x0033 && extension == 2 && group == 0) {
      group = vouch_u16(m + i);
      if (!vouch_probe_offered_group(io, group)) return;
    } else if (retry && type != 0x002b && type != 0x0033) {
      /* a cookie or anything else meant for the second ClientHello, which the probe does not send */
    } else if (!retry && type == 0x0033 && extension >= 4 && group == 0) {
      group = vouch_u16(m + i);
      size_t key = vouch_u16(m + i + 2);
      if (4 + key != extension || key != vouch_key_share_length(group)) return;
    } else {
      return;
    }
    i += extension;
  }
  if (i != extensions || version != TLS1_3_VERSION || group == 0) return;
  int shared = retry;
  for (int k = 0; k < io->hello_share_count; k++) shared |= io->hello_shares[k] == group;
  if (!shared) return;
  io->suite = suite;
  io->group = (int)group;
  io->stopped = retry ? VOUCH_STOPPED_HELLO_RETRY : VOUCH_STOPPED_SERVER_HELLO;
}

static inline int vouch_probe_bio_read(BIO *bio, char *out, int size) {
  struct vouch_probe_io *io = BIO_get_data(bio);
  if (io->stop == VOUCH_STOP_SERVER_HELLO && io->stopped == 0 && io->awaiting_hello) vouch_probe_read_server_hello(io);
  if ((io->stop == VOUCH_STOP_SERVER_HELLO || io->stop == VOUCH_STOP_KEY_EXCHANGE) && io->stopped == 0 &&
      io->server_hello && SSL_get_state(io->ssl) == TLS_ST_CR_SRVR_HELLO) {
    if (io->stop == VOUCH_STOP_SERVER_HELLO) {
      io->stopped = VOUCH_STOPPED_SERVER_HELLO;
    } else {
      vouch_probe_look_ahead(io);
    }
  }
  if (io->stopped != 0 || size <= 0) return 0; /* The end of the stream ends the handshake. */
  if (io->start < io->end) {
    size_t length = io->end - io->start < (size_t)size ? io->end - io->start : (size_t)size;
    memcpy(out, io->buffer + io->start, length);
    io->start += length;
    return (int)length;
  }
  long got = vouch_probe_receive(io, out, (size_t)size);
  return got < 0 ? -1 : (int)got;
}

/* The client's second flight (Certificate, ClientKeyExchange, ChangeCipherSpec, Finished) is written in one go once the
   server's flight has been processed; an alert after a failure is written from a state that reads. */
static inline int vouch_ssl_writes_second_flight(const SSL *ssl) {
  switch (SSL_get_state(ssl)) {
  case TLS_ST_CW_CERT:
  case TLS_ST_CW_KEY_EXCH:
  case TLS_ST_CW_CERT_VRFY:
  case TLS_ST_CW_CHANGE:
  case TLS_ST_CW_NEXT_PROTO:
  case TLS_ST_CW_FINISHED:
    return 1;
  default:
    return 0;
  }
}

/* Sends every byte; 0, or -1 with `error` set. */
static inline int vouch_probe_send_all(struct vouch_probe_io *io, const char *data, size_t size) {
  size_t sent = 0;
  while (sent < size) {
    size_t done = 0;
    errno = 0;
    int status = io->send(io->connection, (void *)(data + sent), size - sent, &done);
    if (status < 0) {
      io->error = errno;
      return -1;
    }
    if (status == 0) {
      sent += done;
    } else if (vouch_probe_wait(io, POLLOUT) < 0) {
      return -1;
    }
  }
  return 0;
}

static inline int vouch_probe_bio_write(BIO *bio, const char *data, int size) {
  struct vouch_probe_io *io = BIO_get_data(bio);
  if (io->stop == VOUCH_STOP_SERVER_FLIGHT && io->stopped == 0 && io->server_hello &&
      vouch_ssl_writes_second_flight(io->ssl)) {
    io->stopped = VOUCH_STOPPED_SERVER_FLIGHT;
    return -1;
  }
  unsigned char *rewritten = NULL;
  size_t length = (size_t)(size > 0 ? size : 0);
  if (io->stop == VOUCH_STOP_SERVER_HELLO && io->ask_retry && length > 0) {
    io->ask_retry = 0; /* the first ClientHello only */
    rewritten = malloc(length);
    size_t shorter = rewritten == NULL ? 0 : vouch_probe_remove_key_shares((const void *)data, length, rewritten);
    if (shorter > 0) {
      data = (const char *)rewritten;
      length = shorter;
      io->shares_removed = 1;
    }
  }
  if (io->stop == VOUCH_STOP_SERVER_HELLO && length > 0) vouch_probe_note_client_hello(io, (const void *)data, length);
  int written = vouch_probe_send_all(io, data, length) < 0 ? -1 : size;
  free(rewritten);
  return written;
}

/* A closed stream reads as EOF, so OpenSSL reports "unexpected eof" as it does over a socket. */
static inline long vouch_probe_bio_ctrl(BIO *bio, int command, long number, void *pointer) {
  struct vouch_probe_io *io = BIO_get_data(bio);
  if (command == BIO_CTRL_FLUSH) return 1;
  if (command == BIO_CTRL_EOF) return io != NULL && (io->eof || io->stopped);
  return 0;
}

static inline int vouch_probe_bio_create(BIO *bio) {
  BIO_set_init(bio, 1);
  return 1;
}

/* The BIO type that carries a probe's handshake over libcurl's connection; make it once per process. Its data is a
   `struct vouch_probe_io`, owned by the caller for as long as the SSL lives. Reads and writes wait for the socket
   themselves (poll, up to the deadline), so SSL_connect runs to its end in one call. */
static inline BIO_METHOD *vouch_probe_bio_method_new(void) {
  BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "vouch libcurl connection");
  if (method == NULL) return NULL;
  BIO_meth_set_read(method, vouch_probe_bio_read);
  BIO_meth_set_write(method, vouch_probe_bio_write);
  BIO_meth_set_ctrl(method, vouch_probe_bio_ctrl);
  BIO_meth_set_create(method, vouch_probe_bio_create);
  return method;
}

/* Notes ServerHello's renegotiation_info and extended_master_secret extensions, and that a ServerHello (not a
   HelloRetryRequest) is complete: the message callback sees it before OpenSSL processes it. */
static inline void vouch_probe_message(int write_p, int version, int content_type, const void *buf, size_t len,
                                       SSL *ssl, void *arg) {
  struct vouch_probe_io *io = arg;
  const unsigned char *p = buf;
  if (io == NULL || write_p || content_type != SSL3_RT_HANDSHAKE || len < 4 || p[0] != SSL3_MT_SERVER_HELLO) return;
  size_t end = 4 + (((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3]);
  if (end > len || end < 4 + 2 + 32) return;
  if (memcmp(p + 4 + 2, vouch_hello_retry_random, sizeof vouch_hello_retry_random) == 0) return;
  io->server_hello = 1;
  size_t at = 4 + 2 + 32; /* type and length, version, random */
  if (at + 1 > end) return;
  at += 1 + p[at];        /* session id */
  at += 2 + 1;            /* cipher suite, compression */
  if (at + 2 > end) return;
  size_t extensions = at + 2 + (((size_t)p[at] << 8) | p[at + 1]);
  at += 2;
  if (extensions > end) return;
  while (at + 4 <= extensions) {
    unsigned type = ((unsigned)p[at] << 8) | p[at + 1];
    size_t length = ((size_t)p[at + 2] << 8) | p[at + 3];
    if (type == 0xff01) io->renegotiation_info = 1;
    if (type == 0x0017) io->extended_master_secret = 1;
    at += 4 + length;
  }
}

/* Attaches the probe's I/O to `ssl` (which then owns the BIO) and its message callback. */
static inline int vouch_ssl_attach_probe(SSL *ssl, BIO_METHOD *method, struct vouch_probe_io *io) {
  BIO *bio = BIO_new(method);
  if (bio == NULL) return 0;
  BIO_set_data(bio, io);
  SSL_set_bio(ssl, bio, bio);
  io->ssl = ssl;
  SSL_set_msg_callback(ssl, vouch_probe_message);
  SSL_set_msg_callback_arg(ssl, io);
  return 1;
}

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
