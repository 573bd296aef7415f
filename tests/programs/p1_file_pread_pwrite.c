/* fd_pread/fd_pwrite at offsets: do not move the offset; past EOF; on a stream -> ESPIPE. */
#include "common.h"

int main(void) {
    int d = preopen_fd(NULL), fd;
    MUST(put_file(d, "p.txt", "0123456789"));
    MUST(raw_open(d, "p.txt", 0, 0, 0, &fd));
    __wasi_filesize_t pos;
    MUST(__wasi_fd_seek(fd, 2, __WASI_WHENCE_SET, &pos));
    char b[32] = {0};
    __wasi_iovec_t iov = {(uint8_t *)b, 4};
    __wasi_size_t n;
    int e = __wasi_fd_pread(fd, &iov, 1, 5, &n);
    printf("pread(4 @5): %s n=%u <%.*s>\n", ename(e), n, (int)n, b);
    MUST(__wasi_fd_tell(fd, &pos));
    printf("offset unchanged: %llu\n", (unsigned long long)pos);
    e = __wasi_fd_pread(fd, &iov, 1, 8, &n);
    printf("pread(4 @8): %s n=%u <%.*s>\n", ename(e), n, (int)n, b);
    e = __wasi_fd_pread(fd, &iov, 1, 100, &n);
    printf("pread past EOF: %s n=%u\n", ename(e), n);
    __wasi_ciovec_t w = {(const uint8_t *)"AB", 2};
    e = __wasi_fd_pwrite(fd, &w, 1, 3, &n);
    printf("pwrite(2 @3): %s n=%u\n", ename(e), n);
    e = __wasi_fd_pwrite(fd, &w, 1, 12, &n);
    printf("pwrite(2 @12) past EOF: %s n=%u\n", ename(e), n);
    MUST(__wasi_fd_tell(fd, &pos));
    printf("offset still: %llu\n", (unsigned long long)pos);
    MUST(__wasi_fd_close(fd));
    char buf[64];
    MUST(get_file(d, "p.txt", buf, sizeof buf));
    printf("contents:");
    for (int i = 0; i < 14; i++) printf(" %02x", (unsigned char)buf[i]);
    printf("\n");
    e = __wasi_fd_pread(0, &iov, 1, 0, &n);
    printf("pread on stdin: %s\n", ename(e));
    e = __wasi_fd_pwrite(1, &w, 1, 0, &n);
    printf("pwrite on stdout: %s\n", ename(e));
    return 0;
}
