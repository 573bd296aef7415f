/* Several preopens: each fd reaches only its own directory; rename/link across preopens. */
#include "common.h"

int main(void) {
    int a = preopen_fd("/a"), b = preopen_fd("/b");
    printf("put a/x: %s\n", ename(put_file(a, "x", "in a")));
    printf("put b/y: %s\n", ename(put_file(b, "y", "in b")));
    char buf[64];
    printf("get x via b: %s\n", ename(get_file(b, "x", buf, sizeof buf)));
    printf("get ../a/x via b: %s\n", ename(get_file(b, "../a/x", buf, sizeof buf)));
    printf("rename a/x -> b/x: %s\n", ename(__wasi_path_rename(a, "x", b, "x")));
    printf("link b/y -> a/y: %s\n", ename(__wasi_path_link(b, 0, "y", a, "y")));
    int e = get_file(b, "x", buf, sizeof buf);
    printf("get b/x: %s <%s>\n", ename(e), e ? "" : buf);
    int ro = preopen_fd("/ro");
    e = get_file(ro, "seed.txt", buf, sizeof buf);
    printf("read ro/seed.txt: %s <%s>\n", ename(e), e ? "" : buf);
    printf("write ro/new.txt: %s\n", ename(put_file(ro, "new.txt", "nope")));
    printf("mkdir ro/d: %s\n", ename(__wasi_path_create_directory(ro, "d")));
    printf("unlink ro/seed.txt: %s\n", ename(__wasi_path_unlink_file(ro, "seed.txt")));
    return 0;
}
