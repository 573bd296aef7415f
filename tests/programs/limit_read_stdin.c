/* Blocks in fd_read on stdin until a line arrives (or end of input), then echoes what it read. */
#include <unistd.h>
#include "common.h"

int main(void) {
    printf("reading\n");
    char buf[64];
    ssize_t n = read(0, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    printf("read %d: %s\n", (int)n, buf);
    return 0;
}
