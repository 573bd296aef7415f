/* Copy stdin to stdout with raw fd_read/fd_write; report the byte count on stderr. */
#include "common.h"

int main(void) {
    static char buf[1000]; /* odd size: exercises partial chunks */
    size_t total = 0, n = 0;
    int reads = 0;
    for (;;) {
        int e = raw_read(0, buf, sizeof buf, &n);
        if (e) {
            fprintf(stderr, "fd_read: %s\n", ename(e));
            return 1;
        }
        reads++;
        if (n == 0) break;
        MUST(raw_write_all(1, buf, n));
        total += n;
    }
    fprintf(stderr, "copied %zu bytes\n", total);
    return 0;
}
