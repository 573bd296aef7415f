/* Allocates (and touches) 1 MiB blocks until malloc fails, then reports how many it got: with a
 * memory limit, memory.grow returns -1 and malloc NULL, and the program carries on. */
#include "common.h"

static char *volatile last; /* keeps each block observable: the compiler may not drop the malloc */

int main(void) {
    size_t mib = 0;
    for (;;) {
        char *p = malloc(1 << 20);
        if (p == NULL) break;
        memset(p, 1, 1 << 20);
        last = p;
        mib++;
    }
    printf("allocated %zu MiB before malloc failed\n", mib);
    return 0;
}
