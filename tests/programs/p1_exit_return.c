/* The exit status is main's return value: argv[1] (default 0). */
#include "common.h"

int main(int argc, char **argv) {
    int code = argc > 1 ? atoi(argv[1]) : 0;
    printf("returning %d\n", code);
    return code;
}
