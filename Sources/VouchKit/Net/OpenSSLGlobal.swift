import COpenSSL

/// OpenSSL's process-wide set-up. Every entry point into libcrypto (libcurl's global init, the TLS catalogue, the
/// pseudonym MAC) reads `ready` first, because the flag only counts in the first initialisation: OpenSSL then never
/// frees its global state at exit. Probe threads may still be inside OpenSSL when the process exits (they finish and
/// free the scan's context after the scan has returned, or keep running after a scan failed early), and would crash
/// on freed state.
enum OpenSSLGlobal {
  static let ready: Bool = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil) == 1
}
