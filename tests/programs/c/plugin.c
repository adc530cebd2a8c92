/* plugin: a shared object loaded by dlopen.c at run time, with a constructor, data, a TLS variable (dynamic TLS after startup) and a raw getppid site of the shape preld's fast path rewrites. */
static int constructed;
__thread int plugin_tls = 77;

__attribute__((constructor)) static void init(void) { constructed = 1; }

int plugin_value(int x) { return constructed ? x * 3 + 1 : -1; }
int plugin_tls_get(void) { return plugin_tls++; }

/* mov eax, 110 (getppid); syscall: rewritten under preld after its second
   call, and forgotten when the plugin is closed. */
long plugin_getppid(void);
__asm__(".intel_syntax noprefix\n.text\n.globl plugin_getppid\n.type plugin_getppid,@function\n"
        "plugin_getppid:\n.cfi_startproc\n  mov eax, 110\n  syscall\n  ret\n.cfi_endproc\n"
        ".size plugin_getppid, .-plugin_getppid\n.att_syntax\n");
