/* limit_accept FD: blocks in sock_accept on the granted listener FD until a client connects. */
#include "common.h"

int main(int argc, char **argv) {
    int lfd = argc > 1 ? atoi(argv[1]) : 3;
    printf("accepting\n");
    __wasi_fd_t c = 0;
    __wasi_errno_t e = __wasi_sock_accept(lfd, 0, &c);
    printf("accept: %s\n", ename(e));
    return 0;
}
