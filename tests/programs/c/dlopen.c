/* dlopen: loads a plugin built beside it (constructor, TLS) and libm.so.6 at run time, calls into both and closes them. */
#include <dlfcn.h>
#include <stdio.h>

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
    printf("dlclose=%d,%d\n", dlclose(p), dlclose(m));
    return 0;
}
