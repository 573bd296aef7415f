/* Out-of-bounds guest pointers passed to the raw fd_write import: must trap (or, for the modes
 * marked errno, be refused), never read outside memory. argv[1] selects the case. */
#include "common.h"

__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_write")))
int32_t raw_fd_write(int32_t fd, int32_t iovs, int32_t iovs_len, int32_t nwritten);

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "iovs";
    uint32_t mem_end = (uint32_t)__builtin_wasm_memory_size(0) * 65536u;
    static char msg[] = "hello\n";
    static uint32_t iov[2];
    static uint32_t nw;
    int32_t e = -1;
    printf("mode=%s\n", mode);
    fflush(stdout);
    if (strcmp(mode, "iovs") == 0) {               /* the iovec array itself past the end */
        e = raw_fd_write(1, (int32_t)(mem_end - 4), 1, (int32_t)(uintptr_t)&nw);
    } else if (strcmp(mode, "buf") == 0) {         /* an iovec whose buffer runs past the end */
        iov[0] = mem_end - 3; iov[1] = 16;
        e = raw_fd_write(1, (int32_t)(uintptr_t)iov, 1, (int32_t)(uintptr_t)&nw);
    } else if (strcmp(mode, "wrap") == 0) {        /* buffer pointer + length wraps around 2^32 */
        iov[0] = 0xfffffff0u; iov[1] = 0x20;
        e = raw_fd_write(1, (int32_t)(uintptr_t)iov, 1, (int32_t)(uintptr_t)&nw);
    } else if (strcmp(mode, "nwritten") == 0) {    /* result pointer past the end */
        iov[0] = (uint32_t)(uintptr_t)msg; iov[1] = 6;
        e = raw_fd_write(1, (int32_t)(uintptr_t)iov, 1, (int32_t)(mem_end - 2));
    } else if (strcmp(mode, "count") == 0) {       /* huge iovec count */
        iov[0] = (uint32_t)(uintptr_t)msg; iov[1] = 6;
        e = raw_fd_write(1, (int32_t)(uintptr_t)iov, 0x10000000, (int32_t)(uintptr_t)&nw);
    } else if (strcmp(mode, "ok") == 0) {          /* control: a valid call */
        iov[0] = (uint32_t)(uintptr_t)msg; iov[1] = 6;
        e = raw_fd_write(1, (int32_t)(uintptr_t)iov, 1, (int32_t)(uintptr_t)&nw);
    }
    printf("returned %s (no trap)\n", ename(e));
    return 0;
}
