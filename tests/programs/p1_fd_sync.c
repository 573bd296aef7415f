/* fd_sync / fd_datasync on a file, a directory, stdout, a bad fd. */
#include "common.h"

int main(void) {
    int d = preopen_fd(NULL), fd, dfd;
    MUST(put_file(d, "f", "data"));
    MUST(raw_open(d, "f", 0, 0, 0, &fd));
    MUST(raw_open(d, ".", 0, __WASI_OFLAGS_DIRECTORY, 0, &dfd));
    printf("sync(file): %s\n", ename(__wasi_fd_sync(fd)));
    printf("datasync(file): %s\n", ename(__wasi_fd_datasync(fd)));
    printf("sync(dir): %s\n", ename(__wasi_fd_sync(dfd)));
    printf("datasync(dir): %s\n", ename(__wasi_fd_datasync(dfd)));
    printf("sync(bad fd): %s\n", ename(__wasi_fd_sync(77)));
    __wasi_fd_t ro;
    MUST(__wasi_path_open(d, 0, "f", 0, __WASI_RIGHTS_FD_READ, 0, 0, &ro));
    printf("sync(fd without FD_SYNC): %s\n", ename(__wasi_fd_sync(ro)));
    return 0;
}
