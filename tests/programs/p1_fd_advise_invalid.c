/* fd_advise with an invalid advice value (argv[1]): EINVAL by the spec (wasmtime may trap). */
#include "common.h"

int main(int argc, char **argv) {
    int d = preopen_fd(NULL), fd;
    MUST(put_file(d, "f", "0123456789"));
    MUST(raw_open(d, "f", 0, 0, 0, &fd));
    unsigned adv = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 6;
    printf("advise(%u): %s\n", adv, ename(__wasi_fd_advise(fd, 0, 10, (__wasi_advice_t)adv)));
    return 0;
}
