/* fd_seek/fd_tell on a file: SET/CUR/END, negative results -> EINVAL, past EOF is allowed,
 * a directory; argv[1] = a whence value to try on the file (invalid: EINVAL by the spec). */
#include "common.h"

int main(int argc, char **argv) {
    int d = preopen_fd(NULL), fd;
    MUST(put_file(d, "s.txt", "0123456789"));
    MUST(raw_open(d, "s.txt", 0, 0, 0, &fd));
    __wasi_filesize_t pos = 0;
    if (argc > 1) {
        unsigned w = (unsigned)strtoul(argv[1], NULL, 0);
        printf("fd_seek(file, 0, whence=%u): %s\n", w, ename(__wasi_fd_seek(fd, 0, w, &pos)));
        return 0;
    }
    int e = __wasi_fd_seek(fd, 4, __WASI_WHENCE_SET, &pos);
    printf("seek SET 4: %s pos=%llu\n", ename(e), (unsigned long long)pos);
    e = __wasi_fd_seek(fd, 3, __WASI_WHENCE_CUR, &pos);
    printf("seek CUR +3: %s pos=%llu\n", ename(e), (unsigned long long)pos);
    e = __wasi_fd_seek(fd, -2, __WASI_WHENCE_END, &pos);
    printf("seek END -2: %s pos=%llu\n", ename(e), (unsigned long long)pos);
    char c[3] = {0};
    size_t n;
    MUST(raw_read(fd, c, 2, &n));
    printf("read after seek: <%s>\n", c);
    e = __wasi_fd_tell(fd, &pos);
    printf("tell: %s pos=%llu\n", ename(e), (unsigned long long)pos);
    pos = 4242;
    e = __wasi_fd_seek(fd, -100, __WASI_WHENCE_CUR, &pos);
    printf("seek CUR -100: %s\n", ename(e));
    MUST(__wasi_fd_tell(fd, &pos));
    printf("tell after failed seek: %llu\n", (unsigned long long)pos);
    e = __wasi_fd_seek(fd, -1, __WASI_WHENCE_SET, &pos);
    printf("seek SET -1: %s\n", ename(e));
    e = __wasi_fd_seek(fd, 100, __WASI_WHENCE_END, &pos);
    printf("seek END +100: %s pos=%llu\n", ename(e), (unsigned long long)pos);
    MUST(raw_write_all(fd, "Z", 1));
    __wasi_filestat_t st;
    MUST(__wasi_fd_filestat_get(fd, &st));
    printf("size after write past EOF: %llu\n", (unsigned long long)st.size);
    MUST(__wasi_fd_close(fd));
    int dfd;
    MUST(raw_open(d, ".", 0, __WASI_OFLAGS_DIRECTORY, 0, &dfd));
    e = __wasi_fd_seek(dfd, 0, __WASI_WHENCE_CUR, &pos);
    printf("seek on a directory: %s\n", ename(e));
    e = __wasi_fd_tell(dfd, &pos);
    printf("tell on a directory: %s\n", ename(e));
    return 0;
}
