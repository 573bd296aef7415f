/* fd_read/fd_write on a file: scatter/gather, short reads at EOF, reading a write-only fd,
 * writing a read-only fd, the file offset shared by reads and writes. */
#include "common.h"

int main(void) {
    int d = preopen_fd(NULL), fd;
    MUST(raw_open(d, "rw.txt", 0, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, 0, &fd));
    const char *parts[] = {"alpha ", "", "beta ", "gamma\n"};
    __wasi_ciovec_t iov[4];
    for (int i = 0; i < 4; i++) iov[i] = (__wasi_ciovec_t){(const uint8_t *)parts[i], strlen(parts[i])};
    size_t want = 17, total = 0;
    __wasi_size_t n;
    int e = __wasi_fd_write(fd, iov, 4, &n);
    total = n;
    printf("gather write: %s\n", ename(e));
    /* finish a short write byte-exactly */
    char all[] = "alpha beta gamma\n";
    if (total < want) MUST(raw_write_all(fd, all + total, want - total));
    __wasi_filesize_t pos;
    MUST(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos));
    char a[6] = {0}, b[64] = {0};
    __wasi_iovec_t riov[2] = {{(uint8_t *)a, 5}, {(uint8_t *)b, sizeof b - 1}};
    e = __wasi_fd_read(fd, riov, 2, &n);
    /* a short read is allowed (wasmtime fills only the first iovec): read the rest */
    printf("scatter read: %s first=<%s>\n", ename(e), a);
    size_t got, have = n > 5 ? n - 5 : 0;
    do {
        e = raw_read(fd, b + have, sizeof b - 1 - have, &got);
        have += got;
    } while (e == 0 && got > 0);
    b[have] = 0;
    printf("rest: %s <%s>\n", ename(e), b);
    e = raw_read(fd, b, sizeof b, &got);
    printf("read at EOF: %s n=%zu\n", ename(e), got);
    MUST(__wasi_fd_close(fd));

    __wasi_fd_t ro, wo;
    MUST(__wasi_path_open(d, 0, "rw.txt", 0, __WASI_RIGHTS_FD_READ, 0, 0, &ro));
    printf("write to read-only fd: %s\n", ename(raw_write_all(ro, "x", 1)));
    MUST(__wasi_path_open(d, 0, "rw.txt", 0, __WASI_RIGHTS_FD_WRITE, 0, 0, &wo));
    printf("read from write-only fd: %s\n", ename(raw_read(wo, b, 4, &got)));
    printf("write to write-only fd: %s\n", ename(raw_write_all(wo, "ALPHA", 5)));
    e = raw_read(ro, b, 10, &got);
    b[got] = 0;
    printf("read-only fd sees: %s <%s>\n", ename(e), b);
    MUST(__wasi_fd_close(ro));
    MUST(__wasi_fd_close(wo));
    char buf[128];
    MUST(get_file(d, "rw.txt", buf, sizeof buf));
    printf("final contents: <%s>\n", buf);
    /* a larger write */
    MUST(raw_open(d, "big.bin", 0, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, 0, &fd));
    static char big[300000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
    printf("big write: %s\n", ename(raw_write_all(fd, big, sizeof big)));
    __wasi_filestat_t st;
    MUST(__wasi_fd_filestat_get(fd, &st));
    printf("big size: %llu\n", (unsigned long long)st.size);
    MUST(__wasi_fd_close(fd));
    return 0;
}
