/* Conformance: overwrite_preopen, close_preopen and renumber (argv[1] picks which; the suite runs
 * them as separate programs because the first two destroy the preopen at fd 3).
 *   overwrite_preopen: renumbering a scratch dir fd over fd 3 succeeds; fd 3 is then that
 *     directory (same dev/ino) and the old number is BADF.
 *   close_preopen: closing fd 3 succeeds, the re-opened scratch dir still works, fd 3 is BADF.
 *   renumber: renumber one file fd over another; the source is BADF, the destination has the
 *     source's fdstat; renumbering to the now-closed number is BADF. */
#include "conf_common.h"

static void overwrite_preopen(int base) {
    int dir = conf_tmpdir(base, "overwrite_preopen_dir.cleanup");
    CHECK("dir fd > 3", dir > 3);
    __wasi_filestat_t a, b;
    OK("stat dir", __wasi_fd_filestat_get(dir, &a));
    OK("renumber over preopen", __wasi_fd_renumber(dir, 3));
    OK("stat fd 3", __wasi_fd_filestat_get(3, &b));
    CHECK("same dev", a.dev == b.dev);
    CHECK("same ino", a.ino == b.ino);
    __wasi_fdstat_t st;
    ERR("old number closed", __wasi_fd_fdstat_get(dir, &st), E(BADF));
    OK("close fd 3", __wasi_fd_close(3));
    OK("rmdir", __wasi_path_remove_directory(base, "overwrite_preopen_dir.cleanup"));
}

static void close_preopen(int dir) {
    CHECK("dir fd > 3", dir > 3);
    OK("close preopen", __wasi_fd_close(3));
    __wasi_fdstat_t st;
    OK("dir still open", __wasi_fd_fdstat_get(dir, &st));
    CHECK("dir is a directory", st.fs_filetype == __WASI_FILETYPE_DIRECTORY);
    ERR("fd 3 closed", __wasi_fd_fdstat_get(3, &st), E(BADF));
}

static void renumber(int base) {
    int dir = conf_tmpdir(base, "renumber_dir.cleanup"), from, to;
    CHECK("dir fd > 3", dir > 3);
    OK("create file1", conf_open(dir, 0, "file1", __WASI_OFLAGS_CREAT, R(FD_READ) | R(FD_WRITE), 0, 0, &from));
    __wasi_fdstat_t sf, st;
    OK("fdstat from", __wasi_fd_fdstat_get(from, &sf));
    OK("create file2", conf_open(dir, 0, "file2", __WASI_OFLAGS_CREAT, R(FD_READ) | R(FD_WRITE), 0, 0, &to));
    OK("renumber", __wasi_fd_renumber(from, to));
    ERR("close source", __wasi_fd_close(from), E(BADF));
    OK("fdstat to", __wasi_fd_fdstat_get(to, &st));
    CHECK("same filetype", sf.fs_filetype == st.fs_filetype);
    CHECK("same flags", sf.fs_flags == st.fs_flags);
    CHECK("same base rights", sf.fs_rights_base == st.fs_rights_base);
    CHECK("same inheriting rights", sf.fs_rights_inheriting == st.fs_rights_inheriting);
    ERR("renumber to closed", __wasi_fd_renumber(to, from), E(BADF));
    OK("close to", __wasi_fd_close(to));
    OK("unlink file1", __wasi_path_unlink_file(dir, "file1"));
    OK("unlink file2", __wasi_path_unlink_file(dir, "file2"));
    OK("close dir", __wasi_fd_close(dir));
    OK("rmdir", __wasi_path_remove_directory(base, "renumber_dir.cleanup"));
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    int base = conf_scratch(1, argv);
    if (strcmp(which, "overwrite_preopen") == 0) overwrite_preopen(base);
    else if (strcmp(which, "close_preopen") == 0) close_preopen(base);
    else if (strcmp(which, "renumber") == 0) renumber(base);
    else conf_fail("usage", "unknown case %s", which);
    conf_pass();
    return 0;
}
