/* Conformance: path_filestat and symlink_filestat.
 *   path_filestat: the scratch dir has PATH_FILESTAT_GET; a file created APPEND|SYNC (or APPEND
 *     when SYNC is NOTSUP) reports those flags; path_filestat_set_times(MTIM) sets mtim; MTIM with
 *     MTIM_NOW and ATIM with ATIM_NOW are INVAL and change nothing.
 *   symlink_filestat: set_times on a link without following changes the link's mtim only; with
 *     SYMLINK_FOLLOW it changes the file's. */
#include "conf_common.h"

static void path_filestat(int base) {
    int dir = conf_tmpdir(base, "path_filestat_dir.cleanup"), fd;
    __wasi_fdstat_t fs;
    OK("pf: dir fdstat", __wasi_fd_fdstat_get(dir, &fs));
    CHECK("pf: dir has PATH_FILESTAT_GET", (fs.fs_rights_base & R(PATH_FILESTAT_GET)) != 0);
    __wasi_rights_t rights = R(FD_READ) | R(FD_WRITE) | R(PATH_FILESTAT_GET);
    int flags = __WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_SYNC;
    int e = conf_open(dir, 0, "file", __WASI_OFLAGS_CREAT, rights, 0, flags, &fd);
    if (e == E(NOTSUP)) {
        flags = __WASI_FDFLAGS_APPEND;
        e = conf_open(dir, 0, "file", __WASI_OFLAGS_CREAT, rights, 0, flags, &fd);
    }
    printf("ok pf: open with %s\n", flags & __WASI_FDFLAGS_SYNC ? "APPEND|SYNC" : "APPEND");
    OK("pf: open file", e);
    OK("pf: file fdstat", __wasi_fd_fdstat_get(fd, &fs));
    CHECK("pf: APPEND kept", (fs.fs_flags & __WASI_FDFLAGS_APPEND) != 0);
    if (flags & __WASI_FDFLAGS_SYNC) CHECK("pf: SYNC kept", (fs.fs_flags & __WASI_FDFLAGS_SYNC) != 0);
    __wasi_filestat_t st;
    OK("pf: path stat", __wasi_path_filestat_get(dir, 0, "file", &st));
    CHECK("pf: size 0", st.size == 0);
    __wasi_timestamp_t m = st.mtim - 100;
    OK("pf: set mtim", __wasi_path_filestat_set_times(dir, 0, "file", 0, m, __WASI_FSTFLAGS_MTIM));
    OK("pf: path stat 2", __wasi_path_filestat_get(dir, 0, "file", &st));
    CHECK("pf: mtim set", st.mtim == m);
    ERR("pf: mtim|mtim_now",
        __wasi_path_filestat_set_times(dir, 0, "file", 0, m, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW), E(INVAL));
    OK("pf: path stat 3", __wasi_path_filestat_get(dir, 0, "file", &st));
    CHECK("pf: mtim untouched", st.mtim == m);
    ERR("pf: atim|atim_now",
        __wasi_path_filestat_set_times(dir, 0, "file", 0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW), E(INVAL));
    OK("pf: close", __wasi_fd_close(fd));
    OK("pf: unlink", __wasi_path_unlink_file(dir, "file"));
    OK("pf: close dir", __wasi_fd_close(dir));
    OK("pf: rmdir", __wasi_path_remove_directory(base, "path_filestat_dir.cleanup"));
}

static void symlink_filestat(int base) {
    int dir = conf_tmpdir(base, "symlink_filestat_dir.cleanup"), fd;
    __wasi_fdstat_t fs;
    OK("sf: dir fdstat", __wasi_fd_fdstat_get(dir, &fs));
    CHECK("sf: dir has PATH_FILESTAT_GET", (fs.fs_rights_base & R(PATH_FILESTAT_GET)) != 0);
    OK("sf: create", conf_open(dir, 0, "file", __WASI_OFLAGS_CREAT, R(FD_READ) | R(FD_WRITE) | R(PATH_FILESTAT_GET),
                               0, 0, &fd));
    __wasi_filestat_t fst, lst, st;
    OK("sf: stat file", __wasi_path_filestat_get(dir, 0, "file", &fst));
    CHECK("sf: size 0", fst.size == 0);
    OK("sf: symlink", __wasi_path_symlink("file", dir, "symlink"));
    OK("sf: stat link", __wasi_path_filestat_get(dir, 0, "symlink", &lst));
    __wasi_timestamp_t m = lst.mtim - 200;
    OK("sf: set link mtim", __wasi_path_filestat_set_times(dir, 0, "symlink", 0, m, __WASI_FSTFLAGS_MTIM));
    OK("sf: stat link 2", __wasi_path_filestat_get(dir, 0, "symlink", &st));
    CHECK("sf: link mtim set", st.mtim == m);
    OK("sf: stat file 2", __wasi_path_filestat_get(dir, 0, "file", &st));
    CHECK("sf: file mtim untouched", st.mtim == fst.mtim);
    OK("sf: stat through link", __wasi_path_filestat_get(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "symlink", &st));
    CHECK("sf: followed mtim is the file's", st.mtim == fst.mtim);
    OK("sf: set through link", __wasi_path_filestat_set_times(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "symlink", 0,
                                                              lst.mtim, __WASI_FSTFLAGS_MTIM));
    OK("sf: stat file 3", __wasi_path_filestat_get(dir, 0, "file", &st));
    CHECK("sf: file mtim set", st.mtim == lst.mtim);
    OK("sf: close", __wasi_fd_close(fd));
    OK("sf: unlink link", __wasi_path_unlink_file(dir, "symlink"));
    OK("sf: unlink file", __wasi_path_unlink_file(dir, "file"));
    OK("sf: close dir", __wasi_fd_close(dir));
    OK("sf: rmdir", __wasi_path_remove_directory(base, "symlink_filestat_dir.cleanup"));
}

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv);
    path_filestat(base);
    symlink_filestat(base);
    conf_pass();
    return 0;
}
