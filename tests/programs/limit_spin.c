/* Runs forever without a host call: only the engine (fuel, epoch interruption) can stop it. */
#include "common.h"

int main(void) {
    printf("spinning\n");
    volatile uint64_t n = 0;
    for (;;) n++;
}
