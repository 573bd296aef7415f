/* Leave and re-enter: `a/../../sandbox/a` names a file inside, but the walk leaves the sandbox on the
 * way, so it must be refused even though the result would be inside (DESIGN §1.2). */
#include "escape_common.h"

int main(void) {
    int d = preopen_fd(NULL);
    MUST(__wasi_path_create_directory(d, "a"));
    MUST(put_file(d, "a/file.txt", "inside"));
    const char *paths[] = {"../sandbox/a/file.txt", "a/../../sandbox/a/file.txt", "a/../../sandbox",
                           "../sandbox/a", "a/../../sandbox/a/../a/file.txt"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) try_read_ops(d, paths[i]);
    /* write ops through re-entry: use names that do not exist yet */
    note("mkdir", "../sandbox/newdir", __wasi_path_create_directory(d, "../sandbox/newdir"));
    note("creat", "a/../../sandbox/new.txt", put_file(d, "a/../../sandbox/new.txt", "x"));
    note("unlink", "../sandbox/a/file.txt", __wasi_path_unlink_file(d, "../sandbox/a/file.txt"));
    note("rename", "a/file.txt -> ../sandbox/moved.txt", __wasi_path_rename(d, "a/file.txt", d, "../sandbox/moved.txt"));
    note("symlink", "a/../../sandbox/l", __wasi_path_symlink("a", d, "a/../../sandbox/l"));
    printf("attempts=%d successes=%d\n", attempts, successes);
    return 0;
}
