/* plugin: a shared object loaded by dlopen.c at run time, with a constructor, data and a TLS variable (dynamic TLS after startup). */
static int constructed;
__thread int plugin_tls = 77;

__attribute__((constructor)) static void init(void) { constructed = 1; }

int plugin_value(int x) { return constructed ? x * 3 + 1 : -1; }
int plugin_tls_get(void) { return plugin_tls++; }
