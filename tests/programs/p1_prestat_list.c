/* List preopens: fd_prestat_get / fd_prestat_dir_name from fd 3 until EBADF; also error paths. */
#include "common.h"

int main(void) {
    int fd = 3;
    for (;; fd++) {
        __wasi_prestat_t ps;
        int e = __wasi_fd_prestat_get(fd, &ps);
        if (e) {
            printf("fd_prestat_get(%d): %s\n", fd, ename(e));
            break;
        }
        char name[512];
        size_t n = ps.u.dir.pr_name_len;
        e = __wasi_fd_prestat_dir_name(fd, (uint8_t *)name, n);
        name[n < sizeof name ? n : sizeof name - 1] = 0;
        printf("preopen fd=%d tag=%d name_len=%zu name=<%s> %s\n", fd, ps.tag, n, name, ename(e));
        if (n > 0) {
            e = __wasi_fd_prestat_dir_name(fd, (uint8_t *)name, n - 1);
            printf("  dir_name with short buffer: %s\n", ename(e));
        }
        __wasi_fdstat_t st;
        MUST(__wasi_fd_fdstat_get(fd, &st));
        printf("  filetype=%s\n", ftname(st.fs_filetype));
    }
    __wasi_prestat_t ps;
    printf("fd_prestat_get(0): %s\n", ename(__wasi_fd_prestat_get(0, &ps)));
    printf("fd_prestat_get(1): %s\n", ename(__wasi_fd_prestat_get(1, &ps)));
    char b[8];
    printf("fd_prestat_dir_name(1): %s\n", ename(__wasi_fd_prestat_dir_name(1, (uint8_t *)b, sizeof b)));
    return 0;
}
