/* Sockets through WaVe's extension (socket, sock_connect) and preview1's sock_* calls.
 *   p1_sockets client PORT BADPORT   connect to 127.0.0.1:PORT, send "ping", print the reply;
 *                                    then try 127.0.0.1:BADPORT and 10.1.2.3:PORT (not in the netlist)
 *   p1_sockets server FD             accept one connection on the granted listener FD, echo a line
 *   p1_sockets denied                every socket call with nothing granted */
#include "common.h"

__attribute__((import_module("wasi_snapshot_preview1"), import_name("socket")))
int32_t vw_socket(int32_t domain, int32_t type, int32_t protocol, int32_t *fd_out);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_connect")))
int32_t vw_sock_connect(int32_t fd, const void *addr, int32_t addr_len);

enum { INET = 1, STREAM = 6, DGRAM = 5 };

struct addr_in {
    uint16_t family;
    uint8_t port[2]; /* network byte order */
    uint8_t addr[4];
    uint8_t zero[8];
};

static struct addr_in endpoint(uint8_t a, uint8_t b, uint8_t c, uint8_t d, int port) {
    struct addr_in s = {INET, {(uint8_t)(port >> 8), (uint8_t)port}, {a, b, c, d}, {0}};
    return s;
}

static int send_all(int fd, const char *text) {
    __wasi_ciovec_t iov = {(const uint8_t *)text, strlen(text)};
    __wasi_size_t n;
    return __wasi_sock_send(fd, &iov, 1, 0, &n);
}

static void recv_print(int fd, const char *label) {
    char buf[64] = {0};
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
    __wasi_size_t n = 0;
    __wasi_roflags_t flags = 0;
    int e = __wasi_sock_recv(fd, &iov, 1, 0, &n, &flags);
    printf("%s: %s <%.*s>\n", label, ename(e), (int)n, buf);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "denied";
    if (!strcmp(mode, "client")) {
        int port = atoi(argv[2]), bad = atoi(argv[3]);
        int32_t fd = -1;
        REPORT("socket(inet, stream)", vw_socket(INET, STREAM, 0, &fd));
        REPORT("socket(inet, dgram) without a udp rule", ({ int32_t u; vw_socket(INET, DGRAM, 0, &u); }));
        REPORT("socket(7, stream)", ({ int32_t u; vw_socket(7, STREAM, 0, &u); }));
        REPORT("send before connect", send_all(fd, "x"));
        struct addr_in far = endpoint(10, 1, 2, 3, port);
        REPORT("connect 10.1.2.3 (not allowed)", vw_sock_connect(fd, &far, sizeof far));
        struct addr_in wrong = endpoint(127, 0, 0, 1, bad);
        REPORT("connect 127.0.0.1:bad (not allowed)", vw_sock_connect(fd, &wrong, sizeof wrong));
        REPORT("connect with a short address", vw_sock_connect(fd, &wrong, 8));
        struct addr_in ok = endpoint(127, 0, 0, 1, port);
        REPORT("connect 127.0.0.1:port", vw_sock_connect(fd, &ok, sizeof ok));
        REPORT("connect again", vw_sock_connect(fd, &ok, sizeof ok));
        REPORT("send ping", send_all(fd, "ping\n"));
        recv_print(fd, "recv");
        REPORT("shutdown(wr)", __wasi_sock_shutdown(fd, __WASI_SDFLAGS_WR));
        REPORT("send after shutdown", send_all(fd, "x"));
        REPORT("sock_accept on a client", ({ __wasi_fd_t c; __wasi_sock_accept(fd, 0, &c); }));
        __wasi_fdstat_t st;
        MUST(__wasi_fd_fdstat_get(fd, &st));
        printf("filetype: %s\n", ftname(st.fs_filetype));
        REPORT("close", __wasi_fd_close(fd));
    } else if (!strcmp(mode, "server")) {
        int lfd = atoi(argv[2]);
        __wasi_fdstat_t st;
        MUST(__wasi_fd_fdstat_get(lfd, &st));
        printf("listener filetype: %s\n", ftname(st.fs_filetype));
        __wasi_fd_t c = 0;
        REPORT("accept", __wasi_sock_accept(lfd, 0, &c));
        recv_print(c, "recv");
        REPORT("send", send_all(c, "pong\n"));
        MUST(__wasi_fd_fdstat_get(c, &st));
        printf("accepted can accept: %s\n", (st.fs_rights_base & __WASI_RIGHTS_SOCK_ACCEPT) ? "yes" : "no");
        REPORT("close", __wasi_fd_close(c));
    } else {
        int32_t fd = -1;
        REPORT("socket(inet, stream)", vw_socket(INET, STREAM, 0, &fd));
        REPORT("sock_accept(stdin)", ({ __wasi_fd_t c; __wasi_sock_accept(0, 0, &c); }));
        REPORT("sock_shutdown(stdout)", __wasi_sock_shutdown(1, __WASI_SDFLAGS_RD));
        REPORT("sock_send(99)", send_all(99, "x"));
        struct addr_in ok = endpoint(127, 0, 0, 1, 80);
        REPORT("sock_connect(stdout)", vw_sock_connect(1, &ok, sizeof ok));
    }
    return 0;
}
