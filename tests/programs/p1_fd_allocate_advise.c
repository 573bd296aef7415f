/* fd_allocate grows a file (never shrinks); fd_advise accepts valid advice, EINVAL for bad advice. */
#include "common.h"

int main(void) {
    int d = preopen_fd(NULL), fd;
    MUST(put_file(d, "f", "0123456789"));
    MUST(raw_open(d, "f", 0, 0, 0, &fd));
    __wasi_filestat_t s;
    int e = __wasi_fd_allocate(fd, 0, 100);
    MUST(__wasi_fd_filestat_get(fd, &s));
    printf("allocate(0,100): %s size=%llu\n", ename(e), (unsigned long long)s.size);
    e = __wasi_fd_allocate(fd, 0, 5);
    MUST(__wasi_fd_filestat_get(fd, &s));
    printf("allocate(0,5): %s size=%llu\n", ename(e), (unsigned long long)s.size);
    for (int adv = 0; adv <= 5; adv++) printf("advise(%d): %s\n", adv, ename(__wasi_fd_advise(fd, 0, 10, adv)));
    printf("allocate on stdout: %s\n", ename(__wasi_fd_allocate(1, 0, 10)));
    printf("advise on bad fd: %s\n", ename(__wasi_fd_advise(77, 0, 10, 0)));
    return 0;
}
