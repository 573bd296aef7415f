/* Conformance: file_allocate, file_pread_pwrite, file_seek_tell, file_truncation and
 * file_unbuffered_write (one scratch subdirectory each, as the suite does). */
#include "conf_common.h"

static void file_allocate(int base) {
    int dir = conf_tmpdir(base, "file_allocate_dir.cleanup"), fd;
    OK("allocate: create", conf_open(dir, 0, "file", __WASI_OFLAGS_CREAT,
                                     R(FD_READ) | R(FD_WRITE) | R(FD_ALLOCATE) | R(FD_FILESTAT_GET), 0, 0, &fd));
    __wasi_filestat_t st;
    OK("allocate: stat", __wasi_fd_filestat_get(fd, &st));
    CHECK("allocate: size 0", st.size == 0);
    int e = __wasi_fd_allocate(fd, 0, 100);
    if (e == 0) {
        OK("allocate: stat 2", __wasi_fd_filestat_get(fd, &st));
        CHECK("allocate: size 100", st.size == 100);
        OK("allocate: inside", __wasi_fd_allocate(fd, 10, 10));
        OK("allocate: stat 3", __wasi_fd_filestat_get(fd, &st));
        CHECK("allocate: still 100", st.size == 100);
        OK("allocate: past end", __wasi_fd_allocate(fd, 90, 20));
        OK("allocate: stat 4", __wasi_fd_filestat_get(fd, &st));
        CHECK("allocate: 110", st.size == 110);
    } else {
        ERR("allocate: unsupported", e, E(NOTSUP));
    }
    OK("allocate: close", __wasi_fd_close(fd));
    OK("allocate: unlink", __wasi_path_unlink_file(dir, "file"));
    OK("allocate: close dir", __wasi_fd_close(dir));
    OK("allocate: rmdir", __wasi_path_remove_directory(base, "file_allocate_dir.cleanup"));
}

static void pread_pwrite(int base) {
    int dir = conf_tmpdir(base, "file_pread_pwrite_dir.cleanup"), fd;
    OK("pp: create", conf_open(dir, 0, "file", __WASI_OFLAGS_CREAT, R(FD_READ) | R(FD_SEEK) | R(FD_WRITE), 0, 0, &fd));
    uint8_t w[4] = {0, 1, 2, 3}, r[4];
    __wasi_size_t n;
    __wasi_ciovec_t c1 = {w, 4};
    OK("pp: pwrite at 0", __wasi_fd_pwrite(fd, &c1, 1, 0, &n));
    CHECK("pp: wrote 4", n == 4);
    memset(r, 9, 4);
    __wasi_iovec_t i1 = {r, 4};
    OK("pp: pread at 0", __wasi_fd_pread(fd, &i1, 1, 0, &n));
    CHECK("pp: read 0123", n == 4 && memcmp(r, w, 4) == 0);
    size_t off = 0;
    while (off < 4) {  /* several iovecs: 2 bytes then the rest */
        __wasi_ciovec_t cv[2];
        int k = 0;
        size_t rem = 4 - off;
        if (rem > 2) { cv[k].buf = w + off; cv[k].buf_len = 2; k++; rem -= 2; }
        cv[k].buf = w + 4 - rem; cv[k].buf_len = rem; k++;
        OK("pp: pwrite iovecs", __wasi_fd_pwrite(fd, cv, k, off, &n));
        off += n;
    }
    CHECK("pp: offset 4", off == 4);
    uint8_t all[4] = {0};
    off = 0;
    for (;;) {
        uint8_t b[4] = {0};
        __wasi_iovec_t iv[2] = {{b, 2}, {b + 2, 2}};
        OK("pp: pread iovecs", __wasi_fd_pread(fd, iv, 2, off, &n));
        if (n == 0) break;
        CHECK("pp: not past 4", off + n <= 4);
        memcpy(all + off, b, n);
        off += n;
    }
    CHECK("pp: read back 4", off == 4 && memcmp(all, w, 4) == 0);
    memset(r, 0, 4);
    OK("pp: pread at 2", __wasi_fd_pread(fd, &i1, 1, 2, &n));
    CHECK("pp: 2 bytes 2,3", n == 2 && r[0] == 2 && r[1] == 3 && r[2] == 0 && r[3] == 0);
    uint8_t w2[2] = {1, 0};
    __wasi_ciovec_t c2 = {w2, 2};
    OK("pp: pwrite at 2", __wasi_fd_pwrite(fd, &c2, 1, 2, &n));
    CHECK("pp: wrote 2", n == 2);
    memset(r, 9, 4);
    OK("pp: pread all", __wasi_fd_pread(fd, &i1, 1, 0, &n));
    CHECK("pp: 0,1,1,0", n == 4 && r[0] == 0 && r[1] == 1 && r[2] == 1 && r[3] == 0);
    OK("pp: close", __wasi_fd_close(fd));
    OK("pp: unlink", __wasi_path_unlink_file(dir, "file"));
    OK("pp: rmdir", __wasi_path_remove_directory(base, "file_pread_pwrite_dir.cleanup"));
}

static void seek_tell(int base) {
    int dir = conf_tmpdir(base, "file_seek_tell_dir.cleanup"), fd;
    OK("st: create", conf_open(dir, 0, "file", __WASI_OFLAGS_CREAT,
                               R(FD_READ) | R(FD_WRITE) | R(FD_SEEK) | R(FD_TELL), 0, 0, &fd));
    __wasi_filesize_t off;
    OK("st: tell", __wasi_fd_tell(fd, &off));
    CHECK("st: at 0", off == 0);
    uint8_t d[100] = {0};
    size_t n;
    OK("st: write", conf_write(fd, d, 100, &n));
    CHECK("st: wrote 100", n == 100);
    OK("st: tell 2", __wasi_fd_tell(fd, &off));
    CHECK("st: at 100", off == 100);
    OK("st: seek -50 cur", __wasi_fd_seek(fd, -50, __WASI_WHENCE_CUR, &off));
    CHECK("st: at 50", off == 50);
    OK("st: seek 0 set", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
    CHECK("st: at 0 again", off == 0);
    OK("st: seek past end", __wasi_fd_seek(fd, 1000, __WASI_WHENCE_CUR, &off));
    ERR("st: seek before 0", __wasi_fd_seek(fd, -2000, __WASI_WHENCE_CUR, &off), E(INVAL));
    OK("st: seek 0 set again", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
    OK("st: read", conf_read(fd, d, 100, &n));
    CHECK("st: read 100", n == 100);
    OK("st: tell 3", __wasi_fd_tell(fd, &off));
    CHECK("st: at 100 after read", off == 100);
    OK("st: close", __wasi_fd_close(fd));
    OK("st: unlink", __wasi_path_unlink_file(dir, "file"));
    OK("st: close dir", __wasi_fd_close(dir));
    OK("st: rmdir", __wasi_path_remove_directory(base, "file_seek_tell_dir.cleanup"));
}

static void truncation(int base) {
    int dir = conf_tmpdir(base, "file_truncation_dir.cleanup"), fd;
    const char *msg = "this content will be truncated!";
    size_t n;
    OK("tr: create", conf_open(dir, 0, "test.txt", __WASI_OFLAGS_CREAT, R(FD_WRITE), 0, 0, &fd));
    OK("tr: write", conf_write(fd, msg, strlen(msg), &n));
    CHECK("tr: wrote all", n == strlen(msg));
    OK("tr: close", __wasi_fd_close(fd));
    OK("tr: open trunc", conf_open(dir, 0, "test.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC,
                                   R(FD_WRITE) | R(FD_READ), 0, 0, &fd));
    uint8_t b[100];
    OK("tr: read", conf_read(fd, b, 100, &n));
    CHECK("tr: empty", n == 0);
    OK("tr: close 2", __wasi_fd_close(fd));
    OK("tr: unlink", __wasi_path_unlink_file(dir, "test.txt"));
    OK("tr: close dir", __wasi_fd_close(dir));
    OK("tr: rmdir", __wasi_path_remove_directory(base, "file_truncation_dir.cleanup"));
}

static void unbuffered(int base) {
    int dir = conf_tmpdir(base, "file_unbuffered_write_dir.cleanup"), rfd, wfd;
    OK("ub: create for read", conf_open(dir, 0, "file", __WASI_OFLAGS_CREAT, R(FD_READ), 0, 0, &rfd));
    OK("ub: open for write", conf_open(dir, 0, "file", 0, R(FD_WRITE), 0, 0, &wfd));
    CHECK("ub: fds > 2", rfd > 2 && wfd > 2);
    uint8_t one = 1, got = 0;
    size_t n;
    OK("ub: write", conf_write(wfd, &one, 1, &n));
    CHECK("ub: wrote 1", n == 1);
    OK("ub: read", conf_read(rfd, &got, 1, &n));
    CHECK("ub: read the byte", n == 1 && got == 1);
    OK("ub: close w", __wasi_fd_close(wfd));
    OK("ub: close r", __wasi_fd_close(rfd));
    OK("ub: unlink", __wasi_path_unlink_file(dir, "file"));
    OK("ub: close dir", __wasi_fd_close(dir));
    OK("ub: rmdir", __wasi_path_remove_directory(base, "file_unbuffered_write_dir.cleanup"));
}

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv);
    file_allocate(base);
    pread_pwrite(base);
    seek_tell(base);
    truncation(base);
    unbuffered(base);
    conf_pass();
    return 0;
}
