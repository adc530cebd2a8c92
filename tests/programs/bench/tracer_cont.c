//! A minimal external tracer (docs/tracer-protocol.md), for the bench's
//! tracer row (xtask/src/bench.rs): answers every `call` with `cont`, every
//! `signal` with `deliver`, every `result` with its value unchanged; `exit`
//! lines need no answer. It reads its stdin in blocks and writes each answer
//! with one write, as a C tracer would.
#include <string.h>
#include <unistd.h>

static char buf[1 << 16];

int main(void) {
    size_t have = 0;
    for (;;) {
        ssize_t n = read(0, buf + have, sizeof buf - have);
        if (n <= 0)
            return 0;
        have += n;
        char *p = buf, *nl;
        while ((nl = memchr(p, '\n', buf + have - p))) {
            if (!strncmp(p, "call ", 5)) {
                if (write(1, "cont\n", 5) != 5)
                    return 1;
            } else if (!strncmp(p, "signal ", 7)) {
                if (write(1, "deliver\n", 8) != 8)
                    return 1;
            } else if (!strncmp(p, "result ", 7)) {
                // `result SEQ ok N` / `result SEQ fail E`: given back as is.
                char *r = memchr(p + 7, ' ', nl - p - 7);
                if (r && write(1, r + 1, nl - r) != nl - r)
                    return 1;
            }
            p = nl + 1;
        }
        have = buf + have - p;
        memmove(buf, p, have);
        if (have == sizeof buf)
            have = 0;  // a line longer than the buffer: dropped
    }
}
