/* argv: N. Makes call N of the i386 table with `int $0x80` (all arguments
   0) and prints its result, and `pid` where it is the process's pid. i386
   39 is mkdir (EFAULT natively with a null path); x86_64 39 is getpid;
   i386 20 is getpid. In a session the seccomp filter refuses
   every call of another ABI with ENOSYS; the handler, which Syscall User
   Dispatch hands an `int $0x80` too, made the x86_64 call of the same
   number instead (session-15b adversary; pola_sessions.rs,
   int80_calls_are_not_served_as_x86_64_calls). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 39, r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(0L), "c"(0L), "d"(0L), "S"(0L), "D"(0L) : "memory");
    if (r == (long)getpid()) printf("pid\n");
    else printf("%ld\n", r);
    return 0;
}
