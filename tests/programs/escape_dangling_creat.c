/* O_CREAT through dangling symlinks whose targets lie outside (guest-made and host-made, given as
 * argv[1..]): the file must not be created outside. Also O_CREAT|O_EXCL and mkdir through them. */
#include "escape_common.h"

static void attack(int d, const char *p) {
    __wasi_fd_t fd;
    int e = __wasi_path_open(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, p, __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
    note("creat-follow", p, e);
    if (!e) { raw_write_all(fd, "PWNED", 5); __wasi_fd_close(fd); }
    e = __wasi_path_open(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, p, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL,
                         __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
    note("creat-excl-follow", p, e);
    if (!e) __wasi_fd_close(fd);
    e = __wasi_path_open(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, p, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC,
                         __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
    note("creat-trunc-follow", p, e);
    if (!e) __wasi_fd_close(fd);
    note("mkdir", p, __wasi_path_create_directory(d, p));
    char sub[256];
    snprintf(sub, sizeof sub, "%s/x", p);
    note("mkdir-under", sub, __wasi_path_create_directory(d, sub));
}

int main(int argc, char **argv) {
    int d = preopen_fd(NULL);
    printf("symlink g1 -> ../canary/created-by-guest: %s\n",
           ename(__wasi_path_symlink("../canary/created-by-guest", d, "g1")));
    printf("symlink g2 -> ../created-next-to-sandbox: %s\n",
           ename(__wasi_path_symlink("../created-next-to-sandbox", d, "g2")));
    attack(d, "g1");
    attack(d, "g2");
    for (int i = 1; i < argc; i++) attack(d, argv[i]);
    printf("attempts=%d successes=%d\n", attempts, successes);
    return 0;
}
