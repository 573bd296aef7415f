/* The start-up benchmark's guest (bench/startup.py): one line to stdout, nothing else. */
#include <stdio.h>

int main(void) {
    puts("hello, world");
    return 0;
}
