/* fd_filestat_set_size (grow, shrink) and fd_filestat_set_times on an open file; errors. */
#include "common.h"

int main(void) {
    int d = preopen_fd(NULL), fd;
    MUST(put_file(d, "f", "0123456789"));
    MUST(raw_open(d, "f", 0, 0, 0, &fd));
    __wasi_filestat_t s;
    printf("set_size(4): %s\n", ename(__wasi_fd_filestat_set_size(fd, 4)));
    MUST(__wasi_fd_filestat_get(fd, &s));
    printf("size=%llu\n", (unsigned long long)s.size);
    printf("set_size(8): %s\n", ename(__wasi_fd_filestat_set_size(fd, 8)));
    MUST(__wasi_fd_filestat_get(fd, &s));
    printf("size=%llu\n", (unsigned long long)s.size);
    printf("set_times(1s,2s): %s\n", ename(__wasi_fd_filestat_set_times(fd, 1000000000ULL, 2000000000ULL,
                                                                      __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM)));
    MUST(__wasi_fd_filestat_get(fd, &s));
    printf("atim=%llu mtim=%llu\n", (unsigned long long)s.atim, (unsigned long long)s.mtim);
    printf("set_times(MTIM|MTIM_NOW): %s\n",
           ename(__wasi_fd_filestat_set_times(fd, 0, 1, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW)));
    MUST(__wasi_fd_close(fd));
    __wasi_fd_t ro;
    MUST(__wasi_path_open(d, 0, "f", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_FILESTAT_GET, 0, 0, &ro));
    printf("set_size on read-only fd: %s\n", ename(__wasi_fd_filestat_set_size(ro, 1)));
    printf("set_size on stdout: %s\n", ename(__wasi_fd_filestat_set_size(1, 1)));
    int dfd;
    MUST(raw_open(d, ".", 0, __WASI_OFLAGS_DIRECTORY, 0, &dfd));
    printf("set_size on a directory: %s\n", ename(__wasi_fd_filestat_set_size(dfd, 1)));
    return 0;
}
