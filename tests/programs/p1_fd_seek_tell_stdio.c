/* fd_seek / fd_tell on the stdio descriptors (streams: ESPIPE), bad fd; with argv[1]=whence, one
 * fd_seek(1, 0, whence) (an invalid whence: EINVAL by the spec; wasmtime traps). */
#include "common.h"

int main(int argc, char **argv) {
    if (argc > 1) {
        __wasi_filesize_t pos;
        unsigned w = (unsigned)strtoul(argv[1], NULL, 0);
        printf("fd_seek(1, 0, whence=%u): %s\n", w, ename(__wasi_fd_seek(1, 0, w, &pos)));
        return 0;
    }
    for (int fd = 0; fd < 3; fd++) {
        __wasi_filesize_t pos = 777;
        int e = __wasi_fd_seek(fd, 0, __WASI_WHENCE_CUR, &pos);
        printf("fd_seek(%d, 0, CUR): %s\n", fd, ename(e));
        e = __wasi_fd_seek(fd, 5, __WASI_WHENCE_SET, &pos);
        printf("fd_seek(%d, 5, SET): %s\n", fd, ename(e));
        e = __wasi_fd_tell(fd, &pos);
        printf("fd_tell(%d): %s\n", fd, ename(e));
    }
    __wasi_filesize_t pos;
    printf("fd_seek(99, 0, SET): %s\n", ename(__wasi_fd_seek(99, 0, __WASI_WHENCE_SET, &pos)));
    printf("fd_tell(99): %s\n", ename(__wasi_fd_tell(99, &pos)));
    return 0;
}
