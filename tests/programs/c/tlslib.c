/* tlslib: a shared library with initialized and zero __thread variables (global-dynamic TLS), used by tls.c. */
__thread int lib_tls = 1234;
__thread char lib_tls_str[16] = "lib-tls";
__thread long lib_tls_zero;

int lib_get(void) { return lib_tls; }
const char *lib_str(void) { return lib_tls_str; }
long lib_bump(long by) { lib_tls_zero += by; lib_tls += 1; return lib_tls_zero; }
