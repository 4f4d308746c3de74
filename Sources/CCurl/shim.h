#ifndef VOUCH_CCURL_SHIM_H
#define VOUCH_CCURL_SHIM_H
#include <curl/curl.h>
#include <errno.h>

/* Swift cannot call C variadic functions, so each option type gets a typed wrapper. */

static inline CURLcode vouch_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vouch_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vouch_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vouch_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vouch_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }

typedef size_t (*vouch_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode vouch_curl_setopt_data_callback(CURL *h, CURLoption o, vouch_curl_data_callback cb) { return curl_easy_setopt(h, o, cb); }

typedef int (*vouch_curl_xferinfo_callback)(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode vouch_curl_setopt_xferinfo_callback(CURL *h, vouch_curl_xferinfo_callback cb) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cb); }

typedef CURLcode (*vouch_curl_ssl_ctx_callback)(CURL *curl, void *ssl_ctx, void *userptr);
static inline CURLcode vouch_curl_setopt_ssl_ctx_callback(CURL *h, vouch_curl_ssl_ctx_callback cb) { return curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, cb); }

typedef int (*vouch_curl_prereq_callback)(void *clientp, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port, int conn_local_port);
static inline CURLcode vouch_curl_setopt_prereq_callback(CURL *h, vouch_curl_prereq_callback cb) { return curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, cb); }

static inline CURLcode vouch_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode vouch_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode vouch_curl_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode vouch_curl_getinfo_pointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode vouch_curl_getinfo_socket(CURL *h, CURLINFO i, curl_socket_t *v) { return curl_easy_getinfo(h, i, v); }

static inline CURLMcode vouch_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

/* CURLMsg.data is a union; Swift reaches it through these accessors. */
static inline CURL *vouch_curl_msg_easy(CURLMsg *m) { return m->easy_handle; }
static inline CURLMSG vouch_curl_msg_kind(CURLMsg *m) { return m->msg; }
static inline CURLcode vouch_curl_msg_result(CURLMsg *m) { return m->data.result; }

/* curl_easy_recv / curl_easy_send on a CURLOPT_CONNECT_ONLY connection, shaped as the TLS prober's transfer functions:
   0 when `done` bytes moved (0 received = the peer closed), 1 when the socket is not ready, -1 on failure (errno). */
static inline int vouch_curl_transfer_status(CURL *easy, CURLcode code) {
  if (code == CURLE_OK) return 0;
  if (code == CURLE_AGAIN) return 1;
  long error = 0;
  curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &error);
  errno = (int)error;
  return -1;
}
static inline int vouch_curl_receive(void *easy, void *buffer, size_t length, size_t *done) {
  return vouch_curl_transfer_status(easy, curl_easy_recv(easy, buffer, length, done));
}
static inline int vouch_curl_send(void *easy, void *buffer, size_t length, size_t *done) {
  return vouch_curl_transfer_status(easy, curl_easy_send(easy, buffer, length, done));
}

/* CURL_GLOBAL_ALL is a macro expression Swift does not import reliably. */
static inline CURLcode vouch_curl_global_init(void) { return curl_global_init(CURL_GLOBAL_ALL); }

#endif
