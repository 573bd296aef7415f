/* A guest with a host function of the embedder's own (env.host_add) beside WASI: prints the sum the
 * host computes for argv[1] + argv[2], the environment variable GREETING, and the stdin it reads;
 * then exits with host_add(argv[3], 0) (default 0). Also exports plain functions for `--invoke`. */
#include <stdint.h>
#include <unistd.h>
#include "common.h"

__attribute__((import_module("env"), import_name("host_add"))) int32_t host_add(int32_t a, int32_t b);

__attribute__((export_name("add"))) int32_t add(int32_t a, int32_t b) { return a + b; }
__attribute__((export_name("scale"))) double scale(double x, int64_t k) { return x * (double)k; }
__attribute__((export_name("wide"))) int64_t wide(int64_t x) { return x * 3; }

int main(int argc, char **argv) {
    int a = argc > 1 ? atoi(argv[1]) : 1, b = argc > 2 ? atoi(argv[2]) : 2;
    int code = argc > 3 ? atoi(argv[3]) : 0;
    printf("host_add(%d, %d) = %d\n", a, b, (int)host_add(a, b));
    const char *greeting = getenv("GREETING");
    printf("GREETING=%s\n", greeting ? greeting : "(unset)");
    char buf[256];
    ssize_t n = read(0, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("stdin: %s\n", buf);
    fprintf(stderr, "to stderr\n");
    fflush(stdout);
    if (code) exit((int)host_add(code, 0));
    return 0;
}
