/* fd_fdstat_get and fd_filestat_get on the stdio descriptors, and on a bad fd. */
#include "common.h"

int main(void) {
    for (int fd = 0; fd < 3; fd++) {
        __wasi_fdstat_t st;
        memset(&st, 0, sizeof st);
        int e = __wasi_fd_fdstat_get(fd, &st);
        printf("fd_fdstat_get(%d): %s filetype=%s flags=0x%x read=%d write=%d\n", fd, ename(e),
               ftname(st.fs_filetype), st.fs_flags, !!(st.fs_rights_base & __WASI_RIGHTS_FD_READ),
               !!(st.fs_rights_base & __WASI_RIGHTS_FD_WRITE));
        __wasi_filestat_t fs;
        memset(&fs, 0, sizeof fs);
        e = __wasi_fd_filestat_get(fd, &fs);
        printf("fd_filestat_get(%d): %s filetype=%s\n", fd, ename(e), ftname(fs.filetype));
    }
    __wasi_fdstat_t st;
    printf("fd_fdstat_get(99): %s\n", ename(__wasi_fd_fdstat_get(99, &st)));
    __wasi_filestat_t fs;
    printf("fd_filestat_get(99): %s\n", ename(__wasi_fd_filestat_get(99, &fs)));
    printf("fd_fdstat_get(-1): %s\n", ename(__wasi_fd_fdstat_get((__wasi_fd_t)-1, &st)));
    return 0;
}
