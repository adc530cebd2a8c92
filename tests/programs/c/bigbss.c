/* bigbss: a 64 MB zero-initialized array (and small .data/.bss neighbours) must be mapped, zeroed and writable at its start, middle and end. */
#include <stdio.h>
#include <string.h>

#define BIG (64UL << 20)
static unsigned char big[BIG];
static int small_bss[1000];
static int data_before[1000] = {1, 2, 3};
static const char rodata[] = "read-only data";

int main(void) {
    int ok = 1;
    /* Zero everywhere we look, before touching anything. */
    for (unsigned long off = 0; off < BIG; off += 4096 * 97)
        if (big[off] != 0) ok = 0;
    if (big[0] || big[BIG / 2] || big[BIG - 1]) ok = 0;
    for (int i = 0; i < 1000; i++)
        if (small_bss[i]) ok = 0;
    big[0] = 1;
    big[BIG / 2] = 2;
    big[BIG - 1] = 3;
    memset(big + BIG - 8192, 0x5a, 8192);
    unsigned long sum = 0;
    for (unsigned long off = BIG - 8192; off < BIG; off++) sum += big[off];
    sum += big[0] + big[BIG / 2];
    printf("bigbss: zero=%s sum=%lu data=%d,%d,%d,%d rodata=%s\n", ok ? "yes" : "no", sum,
           data_before[0], data_before[1], data_before[2], data_before[3], rodata);
    return ok ? 0 : 1;
}
