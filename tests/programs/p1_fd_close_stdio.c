/* fd_close on stdio: closing stdin works, operations on it then give EBADF, closing twice EBADF. */
#include "common.h"

int main(void) {
    printf("fd_close(0): %s\n", ename(__wasi_fd_close(0)));
    size_t n;
    char b[4];
    printf("fd_read(0) after close: %s\n", ename(raw_read(0, b, sizeof b, &n)));
    printf("fd_close(0) again: %s\n", ename(__wasi_fd_close(0)));
    __wasi_fdstat_t st;
    printf("fd_fdstat_get(0): %s\n", ename(__wasi_fd_fdstat_get(0, &st)));
    fflush(stdout);
    printf("fd_close(2): %s\n", ename(__wasi_fd_close(2)));
    printf("fd_write(2) after close: %s\n", ename(raw_write_all(2, "x\n", 2)));
    printf("fd_close(1234): %s\n", ename(__wasi_fd_close(1234)));
    return 0;
}
