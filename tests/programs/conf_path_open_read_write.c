/* Conformance: path_open_read_write (and the retired path_open_read_without_rights, argv[1] "norights").
 *   read-only fd: has FD_READ not FD_WRITE, reads 0 bytes, write is BADF, NOTCAPABLE or ACCES;
 *   write-only fd: the mirror image, writes 50 bytes; read-write fd reads those 50, writes 25, size 75.
 *   norights: after dropping FD_READ from the directory (base and inheriting), a file opened with no
 *   rights has no FD_READ; the old suite expected fd_read to be BADF. */
#include "conf_common.h"

static void read_write(int dir) {
    const char *f = "file.cleanup";
    conf_touch(dir, f);
    int fd;
    __wasi_fdstat_t st;
    uint8_t buf[100], w1[50], w2[25];
    memset(w1, 1, 50);
    memset(w2, 2, 25);
    size_t n;
    OK("open readonly", conf_open(dir, 0, f, 0, R(FD_READ), 0, 0, &fd));
    OK("fdstat ro", __wasi_fd_fdstat_get(fd, &st));
    CHECK("ro has read", (st.fs_rights_base & R(FD_READ)) != 0);
    CHECK("ro lacks write", (st.fs_rights_base & R(FD_WRITE)) == 0);
    OK("read ro", conf_read(fd, buf, 100, &n));
    CHECK("ro empty", n == 0);
    ERR("write ro", conf_write(fd, w1, 50, &n), E(BADF), E(NOTCAPABLE), E(ACCES));
    OK("close ro", __wasi_fd_close(fd));
    OK("open writeonly", conf_open(dir, 0, f, 0, R(FD_WRITE), 0, 0, &fd));
    OK("fdstat wo", __wasi_fd_fdstat_get(fd, &st));
    CHECK("wo lacks read", (st.fs_rights_base & R(FD_READ)) == 0);
    CHECK("wo has write", (st.fs_rights_base & R(FD_WRITE)) != 0);
    ERR("read wo", conf_read(fd, buf, 100, &n), E(BADF), E(NOTCAPABLE), E(ACCES));
    OK("write wo", conf_write(fd, w1, 50, &n));
    CHECK("wrote 50", n == 50);
    OK("close wo", __wasi_fd_close(fd));
    OK("open rw", conf_open(dir, 0, f, 0, R(FD_READ) | R(FD_WRITE) | R(FD_FILESTAT_GET), 0, 0, &fd));
    OK("fdstat rw", __wasi_fd_fdstat_get(fd, &st));
    CHECK("rw has both", (st.fs_rights_base & (R(FD_READ) | R(FD_WRITE))) == (R(FD_READ) | R(FD_WRITE)));
    OK("read rw", conf_read(fd, buf, 100, &n));
    CHECK("read 50", n == 50);
    OK("write rw", conf_write(fd, w2, 25, &n));
    CHECK("wrote 25", n == 25);
    __wasi_filestat_t fs;
    OK("filestat rw", __wasi_fd_filestat_get(fd, &fs));
    CHECK("size 75", fs.size == 75);
    OK("close rw", __wasi_fd_close(fd));
    OK("unlink", __wasi_path_unlink_file(dir, f));
}

static void no_rights(int base) {
    int dir = conf_tmpdir(base, "path_open_read_without_rights_dir.cleanup"), fd;
    conf_touch(dir, "file");
    __wasi_fdstat_t st;
    OK("dir fdstat", __wasi_fd_fdstat_get(dir, &st));
    OK("drop FD_READ", __wasi_fd_fdstat_set_rights(dir, st.fs_rights_base & ~R(FD_READ),
                                                   st.fs_rights_inheriting & ~R(FD_READ)));
    OK("dir fdstat 2", __wasi_fd_fdstat_get(dir, &st));
    CHECK("dir base lacks read", (st.fs_rights_base & R(FD_READ)) == 0);
    CHECK("dir inheriting lacks read", (st.fs_rights_inheriting & R(FD_READ)) == 0);
    OK("open no rights", conf_open(dir, 0, "file", 0, 0, 0, 0, &fd));
    OK("file fdstat", __wasi_fd_fdstat_get(fd, &st));
    CHECK("file base lacks read", (st.fs_rights_base & R(FD_READ)) == 0);
    CHECK("file inheriting lacks read", (st.fs_rights_inheriting & R(FD_READ)) == 0);
    uint8_t b[1];
    size_t n;
    ERR("read without right", conf_read(fd, b, 1, &n), E(BADF), E(NOTCAPABLE));
    OK("unlink", __wasi_path_unlink_file(dir, "file"));
    OK("rmdir", __wasi_path_remove_directory(base, "path_open_read_without_rights_dir.cleanup"));
}

int main(int argc, char **argv) {
    int base = conf_scratch(1, argv);
    if (argc > 1 && strcmp(argv[1], "norights") == 0) no_rights(base);
    else read_write(base);
    conf_pass();
    return 0;
}
