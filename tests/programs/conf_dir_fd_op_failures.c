/* Conformance: dir_fd_op_failures. File operations on a directory fd fail (ISDIR, BADF or
 * NOTCAPABLE); fd_prestat_dir_name with a too-small buffer fails (INVAL or NAMETOOLONG) and with a
 * larger one succeeds. */
#include "conf_common.h"

int main(int argc, char **argv) {
    int dir = conf_scratch(argc, argv);
    __wasi_filestat_t st;
    OK("filestat", __wasi_fd_filestat_get(dir, &st));
    CHECK("is a directory", st.filetype == __WASI_FILETYPE_DIRECTORY);
    int pre = -1;
    __wasi_prestat_t ps;
    for (int fd = 3; __wasi_fd_prestat_get(fd, &ps) == 0; fd++)
        if (ps.tag == __WASI_PREOPENTYPE_DIR) { pre = fd; break; }
    CHECK("found a preopen", pre >= 0);
    uint8_t name[300];
    ERR("prestat_dir_name len 0", __wasi_fd_prestat_dir_name(pre, name, 0), E(INVAL), E(NAMETOOLONG));
    OK("prestat_dir_name len+1", __wasi_fd_prestat_dir_name(pre, name, ps.u.dir.pr_name_len + 1));

    uint8_t buf[128] = {0};
    __wasi_iovec_t iov = {buf, sizeof buf};
    __wasi_ciovec_t ciov = {buf, sizeof buf};
    __wasi_size_t n;
    __wasi_filesize_t off;
    ERR("fd_read dir", __wasi_fd_read(dir, &iov, 1, &n), E(ISDIR), E(BADF), E(NOTCAPABLE));
    ERR("fd_pread dir", __wasi_fd_pread(dir, &iov, 1, 0, &n), E(ISDIR), E(BADF), E(NOTCAPABLE));
    ERR("fd_write dir", __wasi_fd_write(dir, &ciov, 1, &n), E(ISDIR), E(BADF), E(NOTCAPABLE));
    ERR("fd_pwrite dir", __wasi_fd_pwrite(dir, &ciov, 1, 0, &n), E(ISDIR), E(BADF), E(NOTCAPABLE));
    ERR("fd_seek CUR dir", __wasi_fd_seek(dir, 0, __WASI_WHENCE_CUR, &off), E(ISDIR), E(BADF), E(NOTCAPABLE));
    ERR("fd_seek SET dir", __wasi_fd_seek(dir, 0, __WASI_WHENCE_SET, &off), E(ISDIR), E(BADF), E(NOTCAPABLE));
    ERR("fd_seek END dir", __wasi_fd_seek(dir, 0, __WASI_WHENCE_END, &off), E(ISDIR), E(BADF), E(NOTCAPABLE));
    ERR("fd_tell dir", __wasi_fd_tell(dir, &off), E(ISDIR), E(BADF), E(NOTCAPABLE));
    ERR("fd_allocate dir", __wasi_fd_allocate(dir, 0, 1), E(ISDIR), E(BADF), E(NOTCAPABLE));
    ERR("fd_filestat_set_size dir", __wasi_fd_filestat_set_size(dir, 0), E(ISDIR), E(INVAL), E(BADF), E(NOTCAPABLE));
    conf_pass();
    return 0;
}
