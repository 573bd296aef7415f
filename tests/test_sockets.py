"""Sockets: deny by default, the netlist decides every connect, granted listeners accept."""
import socket
import threading

import vwasm

from difftest import wasm_path


def sockets_config(args, out: list, *, allow=(), listen=()) -> vwasm.Config:
    """A Config running p1_sockets with `args`, its stdout collected in `out`."""
    cfg = vwasm.Config()
    cfg.argv = ["p1_sockets", *map(str, args)]
    cfg.stdout_custom(out.append)
    for rule in allow:
        cfg.allow_net(rule)
    for address, port in listen:
        cfg.tcp_listen(address, port)
    return cfg


def run(args, *, allow=(), listen=()):
    out = []
    status = vwasm.run(wasm_path("p1_sockets"), sockets_config(args, out, allow=allow, listen=listen))
    return status, b"".join(out).decode().splitlines()


def echo_server():
    """A one-shot TCP server on loopback answering "pong" to one line; returns (port, thread)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)

    def serve():
        with srv:
            try:
                conn, _ = srv.accept()
            except TimeoutError:  # the guest never came (the test then fails on its own output)
                return
            with conn:
                assert conn.recv(64) == b"ping\n"
                conn.sendall(b"pong\n")
                conn.recv(64)  # the client's shutdown(WR)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return srv.getsockname()[1], t


def hello_client(port):
    """A client that keeps trying 127.0.0.1:port until it is accepted, sends "hello", keeps the reply."""
    result = {}

    def client():
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
                    c.sendall(b"hello\n")
                    result["reply"] = c.recv(64)
                    return
            except ConnectionRefusedError:
                threading.Event().wait(0.05)

    t = threading.Thread(target=client, daemon=True)
    t.start()
    return t, result


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nothing_granted_means_no_sockets():
    status, lines = run(["denied"])
    assert status == 0
    assert lines == [
        "socket(inet, stream): ENOTCAPABLE",
        "sock_accept(stdin): ENOTSOCK",
        "sock_shutdown(stdout): ENOTSOCK",
        "sock_send(99): EBADF",
        "sock_connect(stdout): ENOTSOCK",
    ]


def test_client_reaches_only_the_netlist():
    port, server = echo_server()
    bad = free_port()
    status, lines = run(["client", port, bad], allow=[f"tcp:127.0.0.1:{port}"])
    server.join(10)
    assert status == 0
    assert lines == [
        "socket(inet, stream): SUCCESS",
        "socket(inet, dgram) without a udp rule: ENOTCAPABLE",
        "socket(7, stream): EAFNOSUPPORT",
        "send before connect: ENOTCONN",
        "connect 10.1.2.3 (not allowed): ENOTCAPABLE",
        "connect 127.0.0.1:bad (not allowed): ENOTCAPABLE",
        "connect with a short address: EINVAL",
        "connect 127.0.0.1:port: SUCCESS",
        "connect again: EISCONN",
        "send ping: SUCCESS",
        "recv: SUCCESS <pong", ">",
        "shutdown(wr): SUCCESS",
        "send after shutdown: EPIPE",
        "sock_accept on a client: ENOTCAPABLE",
        "filetype: SOCKET_STREAM",
        "close: SUCCESS",
    ]


def test_granted_listener_accepts_and_connections_cannot_accept():
    port = free_port()
    t, result = hello_client(port)
    status, lines = run(["server", 3], listen=[("127.0.0.1", port)])
    t.join(10)
    assert status == 0
    assert lines == [
        "listener filetype: SOCKET_STREAM",
        "accept: SUCCESS",
        "recv: SUCCESS <hello", ">",
        "send: SUCCESS",
        "accepted can accept: no",
        "close: SUCCESS",
    ]
    assert result["reply"] == b"pong\n"


def test_bad_netlist_rule_is_a_clear_error():
    cfg = vwasm.Config()
    try:
        cfg.allow_net("tcp:999.1.1.1:80")
    except ValueError as e:
        assert "bad netlist rule" in str(e)
    else:
        raise AssertionError("a malformed rule was accepted")
