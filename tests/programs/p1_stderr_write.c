/* Writes to stderr (raw and through stdio) interleaved with stdout. */
#include "common.h"

int main(void) {
    const char msg[] = "raw stderr line\n";
    __wasi_ciovec_t iov[2] = {{(const uint8_t *)msg, 4}, {(const uint8_t *)msg + 4, sizeof msg - 5}};
    __wasi_size_t n = 0;
    /* A short write is allowed (wasmtime writes only the first non-empty iovec): finish the rest. */
    int e = __wasi_fd_write(2, iov, 2, &n);
    printf("fd_write(2, 2 iovecs): %s wrote_prefix=%s\n", ename(e), (n >= 1 && n <= sizeof msg - 1) ? "yes" : "no");
    if (e == 0 && n < sizeof msg - 1) MUST(raw_write_all(2, msg + n, sizeof msg - 1 - n));
    fprintf(stderr, "stdio stderr line %d\n", 2);
    fputs("stdout line\n", stdout);
    /* zero-length iovecs are allowed */
    __wasi_ciovec_t empty = {(const uint8_t *)msg, 0};
    e = __wasi_fd_write(2, &empty, 1, &n);
    printf("fd_write(2, empty): %s n=%u\n", ename(e), n);
    e = __wasi_fd_write(2, iov, 0, &n);
    printf("fd_write(2, no iovecs): %s n=%u\n", ename(e), n);
    return 0;
}
