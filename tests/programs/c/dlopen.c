/* dlopen: loads a plugin built beside it (constructor, TLS) and libm.so.6 at run time, calls into both and closes them. */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

#ifndef PLUGIN_PATH
#error PLUGIN_PATH must name the plugin .so
#endif

int main(void) {
    void *p = dlopen(PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!p) {
        printf("dlopen plugin: %s\n", dlerror());
        return 1;
    }
    int (*value)(int) = (int (*)(int))dlsym(p, "plugin_value");
    int (*tls)(void) = (int (*)(void))dlsym(p, "plugin_tls_get");
    if (!value || !tls) {
        printf("dlsym plugin: %s\n", dlerror());
        return 1;
    }
    printf("plugin_value(13)=%d\n", value(13));
    int a = tls(), b = tls();
    printf("plugin_tls=%d,%d\n", a, b);
    void *m = dlopen("libm.so.6", RTLD_NOW);
    if (!m) {
        printf("dlopen libm: %s\n", dlerror());
        return 1;
    }
    double (*cosp)(double) = (double (*)(double))dlsym(m, "cos");
    double (*powp)(double, double) = (double (*)(double, double))dlsym(m, "pow");
    if (!cosp || !powp) {
        printf("dlsym libm: %s\n", dlerror());
        return 1;
    }
    printf("cos(0.5)=%.9f pow(2,0.5)=%.9f\n", cosp(0.5), powp(2, 0.5));
    /* A syscall site in the plugin, called often enough to be rewritten,
       then the plugin closed and opened again (often at the same address)
       and its site called again. */
    int same = 1;
    for (int round = 0; round < 3; round++) {
        long (*pp)(void) = (long (*)(void))dlsym(p, "plugin_getppid");
        for (int i = 0; pp && i < 10; i++) same &= pp() == getppid();
        same &= pp != NULL;
        if (round < 2) {
            dlclose(p);
            p = dlopen(PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
            if (!p) {
                printf("dlopen plugin again: %s\n", dlerror());
                return 1;
            }
        }
    }
    printf("plugin_getppid across dlclose/dlopen: %s\n", same ? "right" : "wrong");
    printf("dlclose=%d,%d\n", dlclose(p), dlclose(m));
    return 0;
}
