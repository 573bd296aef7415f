"""`ModelHost`: the Host protocol over the abstract filesystem `vwasm.model.fs` (no I/O at all).

A test double, not part of the TCB: it lets the runtime's handlers and `resolve.py` run against the
model, and `host.posix_vs_model` checks that `PosixHost` answers as it does.
"""
from __future__ import annotations

import ipaddress
from collections import deque

from vwasm.model.wasi import I64_MAX, AddressFamily, Clockid, Errno, Filetype, Sdflags, SocketType, WasiError

from .posix_host import Open, Stat, _component

class _Node:
    """A ModelHost handle: an open model node (kept by inode number, so it survives renames)."""

    __slots__ = ("ino", "read", "write", "append", "path_only", "offset", "closed")

    def __init__(self, ino: int, read: bool, write: bool, append: bool, path_only: bool) -> None:
        self.ino, self.read, self.write, self.append, self.path_only = ino, read, write, append, path_only
        self.offset = 0
        self.closed = False


class ModelHost:
    """The Host protocol over the abstract filesystem `vwasm.model.fs` (no I/O at all).

    It answers as Linux does for the *at() calls PosixHost makes (same errnos for the same tree), so
    handlers and resolve.py can be run and checked against the model. `fs` is the current
    `FileSystem` value (replaced on every change); `preopens` maps a host path to a directory inode.
    Clocks are a counter the caller may set; randomness is deterministic. Sockets live in an
    abstract loopback network (`_Network`): `net` holds its listeners and datagram peers.
    """

    def __init__(self, fs=None, preopens: dict | None = None, now: int = 1_000_000_000) -> None:
        from vwasm.model import fs as mfs

        self._m = mfs
        self.fs = fs if fs is not None else mfs.FileSystem()
        self.preopens = preopens or {}
        self.now = now
        self.net = _Network()

    # --- helpers ----------------------------------------------------------------------------------
    def _tick(self) -> int:
        self.now += 1
        return self.now

    def _h(self, h) -> _Node:
        if type(h) is not _Node or h.closed:
            raise WasiError(Errno.BADF)
        return h

    def _dir(self, h) -> int:
        """The inode of an open directory handle (ENOTDIR for anything else, as the kernel)."""
        if type(h) is not _Node:
            raise WasiError(Errno.NOTDIR)
        h = self._h(h)
        if not self.fs.is_dir(h.ino):
            raise WasiError(Errno.NOTDIR)
        return h.ino

    def _lookup(self, d: int, name: str):
        if len(name.encode("utf-8", "surrogateescape")) > self._m.NAME_MAX:
            raise WasiError(Errno.NAMETOOLONG)
        return d if name == "." else self.fs.lookup(d, name)

    def _file(self, h) -> _Node:
        h = self._h(h)
        if not isinstance(self.fs.node(h.ino), self._m.File) or h.path_only:
            raise WasiError(Errno.BADF if h.path_only else Errno.ISDIR)
        return h

    def _stat(self, ino: int) -> Stat:
        n = self.fs.node(ino)
        return Stat(0, ino, n.filetype, self.fs.nlink(ino), self._m.node_size(n), n.atim, n.mtim, n.ctim)

    # --- start-up ---------------------------------------------------------------------------------
    def open_preopen(self, path: str) -> _Node:
        return _Node(self.preopens.get(path, self._m.ROOT), True, False, False, False)

    def open_stdio(self, path: str, write: bool):
        from .streams import BytesInput, CallbackOutput
        return CallbackOutput(lambda data: None) if write else BytesInput(b"")

    def inherited(self, fd: int):
        return self.open_stdio("", fd != 0)

    # --- paths --------------------------------------------------------------------------------------
    def openat(self, dirh, name: str, flags: int = Open.READ, mode: int = 0o666) -> _Node:
        d, name = self._dir(dirh), _component(name)
        ino = self._lookup(d, name)
        write = bool(flags & Open.WRITE) and not flags & Open.PATH
        read = bool(flags & Open.READ) and not flags & Open.PATH
        append = bool(flags & Open.APPEND)
        if ino is None:
            if not flags & Open.CREATE or flags & Open.PATH:
                raise WasiError(Errno.NOENT)
            # Linux: O_CREAT | O_DIRECTORY is EINVAL.
            if flags & Open.DIRECTORY:
                raise WasiError(Errno.INVAL)
            self.fs, ino = self.fs.create_file(d, name, self._tick())
            return _Node(ino, read, write, append, False)
        if flags & Open.CREATE and flags & Open.EXCL:
            raise WasiError(Errno.EXIST)
        node = self.fs.node(ino)
        if isinstance(node, self._m.Symlink):
            # O_NOFOLLOW is implied: a final symlink is refused (ENOTDIR when a directory was asked).
            raise WasiError(Errno.NOTDIR if flags & Open.DIRECTORY else Errno.LOOP)
        is_dir = isinstance(node, self._m.Dir)
        if flags & Open.DIRECTORY and not is_dir:
            raise WasiError(Errno.NOTDIR)
        if is_dir and not flags & Open.PATH and (write or flags & (Open.CREATE | Open.TRUNC)):
            raise WasiError(Errno.ISDIR)
        if flags & Open.TRUNC and not flags & Open.PATH and node.size:
            self.fs = self.fs.truncate(ino, 0, self._tick())
        return _Node(ino, read, write, append, bool(flags & Open.PATH))

    def open_file(self, dirh, name: str, flags: int = Open.READ, mode: int = 0o666) -> tuple[_Node, Filetype]:
        handle = self.openat(dirh, name, flags, mode)
        return handle, self.fstat(handle).filetype

    def readlinkat(self, dirh, name: str) -> str:
        d, name = self._dir(dirh), _component(name)
        ino = self._lookup(d, name)
        if ino is None:
            raise WasiError(Errno.NOENT)
        node = self.fs.node(ino)
        if not isinstance(node, self._m.Symlink):
            raise WasiError(Errno.INVAL)
        return node.target

    def fstatat(self, dirh, name: str) -> Stat:
        d, name = self._dir(dirh), _component(name)
        ino = self._lookup(d, name)
        if ino is None:
            raise WasiError(Errno.NOENT)
        return self._stat(ino)

    def mkdirat(self, dirh, name: str, mode: int = 0o777) -> None:
        d, name = self._dir(dirh), _component(name)
        if self._lookup(d, name) is not None:
            raise WasiError(Errno.EXIST)
        self.fs, _ = self.fs.create_dir(d, name, self._tick())

    def unlinkat(self, dirh, name: str, rmdir: bool = False) -> None:
        d, name = self._dir(dirh), _component(name)
        if name == ".":  # Linux: unlink(".") is EISDIR, rmdir(".") EINVAL
            raise WasiError(Errno.INVAL if rmdir else Errno.ISDIR)
        self._lookup(d, name)
        self.fs = (self.fs.rmdir if rmdir else self.fs.unlink)(d, name, self._tick())

    def renameat(self, odirh, oname: str, ndirh, nname: str) -> None:
        od, oname = self._dir(odirh), _component(oname)
        nd, nname = self._dir(ndirh), _component(nname)
        if oname == "." or nname == ".":
            raise WasiError(Errno.BUSY)
        # As the kernel: the old name is looked up (ENAMETOOLONG, ENOENT) before the new one.
        if self._lookup(od, oname) is None:
            raise WasiError(Errno.NOENT)
        self._lookup(nd, nname)
        self.fs = self.fs.rename(od, oname, nd, nname, self._tick())

    def linkat(self, odirh, oname: str, ndirh, nname: str) -> None:
        od, oname = self._dir(odirh), _component(oname)
        nd, nname = self._dir(ndirh), _component(nname)
        ino = self._lookup(od, oname)
        if ino is None:
            raise WasiError(Errno.NOENT)
        if self._lookup(nd, nname) is not None:
            raise WasiError(Errno.EXIST)
        self.fs = self.fs.link(nd, nname, ino, self._tick())

    def symlinkat(self, target: str, dirh, name: str) -> None:
        d, name = self._dir(dirh), _component(name)
        if self._lookup(d, name) is not None:
            raise WasiError(Errno.EXIST)
        self.fs, _ = self.fs.create_symlink(d, name, target, self._tick())

    def utimensat(self, dirh, name: str, atim: int | None, mtim: int | None) -> None:
        d, name = self._dir(dirh), _component(name)
        ino = self._lookup(d, name)
        if ino is None:
            raise WasiError(Errno.NOENT)
        self.fs = self.fs.set_times(ino, atim, mtim, self._tick())

    def listdir(self, h) -> list[tuple[str, Filetype, int]]:
        d = self._h(h).ino
        if not self.fs.is_dir(d):
            raise WasiError(Errno.NOTDIR)
        return [(name, self.fs.node(ino).filetype, ino) for name, ino in self.fs.listing(d)]

    # --- open objects -------------------------------------------------------------------------------
    def close(self, h) -> None:
        if type(h) is _Node:
            self._h(h).closed = True
        elif type(h) is _Sock:
            self._close_socket(self._sock(h))

    def fstat(self, h) -> Stat:
        if type(h) is _Sock:
            return Stat(0, 0, Filetype.SOCKET_STREAM, 1, 0, 0, 0, 0)  # what Linux's S_ISSOCK maps to
        if type(h) is not _Node:
            return Stat(0, 0, Filetype.UNKNOWN, 1, 0, 0, 0, 0)
        return self._stat(self._h(h).ino)

    def is_tty(self, h) -> bool:
        return False

    def readv(self, h, bufs) -> int:
        if type(h) is _Sock:
            data, _ = self._receive(self._sock(h), sum(len(b) for b in bufs), False, False, True, True)
            return _scatter(bufs, data)
        if type(h) is not _Node:
            return h.readv(bufs)
        h = self._file(h)
        n = self.preadv(h, bufs, h.offset)
        h.offset += n
        return n

    def preadv(self, h, bufs, offset: int) -> int:
        if type(h) is not _Node:
            raise WasiError(Errno.SPIPE)
        h = self._file(h)
        if not h.read:
            raise WasiError(Errno.BADF)
        return _scatter(bufs, self.fs.read(h.ino, offset, sum(len(b) for b in bufs)))

    def writev(self, h, bufs) -> int:
        if type(h) is _Sock:
            # writev(2) of nothing returns at once (no empty datagram is sent; sendmsg would)
            return self.send(h, bufs) if any(len(b) for b in bufs) else self._sock(h) and 0
        if type(h) is not _Node:
            return h.writev(bufs)
        h = self._file(h)
        at = self.fs.node(h.ino).size if h.append else h.offset
        n = self.pwritev(h, bufs, at)
        if n:  # Linux: a write of nothing returns before O_APPEND moves the position
            h.offset = at + n
        return n

    def pwritev(self, h, bufs, offset: int) -> int:
        if type(h) is not _Node:
            raise WasiError(Errno.SPIPE)
        h = self._file(h)
        if not h.write:
            raise WasiError(Errno.BADF)
        data = b"".join(bytes(b) for b in bufs)
        if h.append:  # Linux: pwrite on an O_APPEND file appends
            offset = self.fs.node(h.ino).size
        self.fs = self.fs.write(h.ino, offset, data, self._tick())
        return len(data)

    def seek(self, h, offset: int, whence: int) -> int:
        if type(h) is not _Node:
            raise WasiError(Errno.SPIPE)
        h = self._file(h)
        new = offset + (0, h.offset, self.fs.node(h.ino).size)[whence]
        if not 0 <= new <= I64_MAX:  # Linux: an off_t (a file system's own size limit aside)
            raise WasiError(Errno.INVAL)
        h.offset = new
        return new

    def ftruncate(self, h, size: int) -> None:
        h = self._file(h)
        if not h.write:
            raise WasiError(Errno.INVAL)
        self.fs = self.fs.truncate(h.ino, size, self._tick())

    def fallocate(self, h, offset: int, length: int) -> None:
        h = self._file(h)
        if length == 0:  # fallocate(2) judges the range (EINVAL) before the access mode (EBADF)
            raise WasiError(Errno.INVAL)
        if not h.write:
            raise WasiError(Errno.BADF)
        if offset + length > self.fs.node(h.ino).size:
            self.fs = self.fs.truncate(h.ino, offset + length, self._tick())

    def fadvise(self, h, offset: int, length: int, advice: int) -> None:
        self._file(h)

    def fsync(self, h) -> None:
        self._h(h)

    def fdatasync(self, h) -> None:
        self._h(h)

    def futimens(self, h, atim: int | None, mtim: int | None) -> None:
        self.fs = self.fs.set_times(self._h(h).ino, atim, mtim, self._tick())

    def get_append(self, h) -> bool:
        return type(h) is _Node and self._h(h).append

    def set_status_flags(self, h, append: bool, nonblock: bool) -> None:
        if type(h) is _Node:
            self._h(h).append = append

    def ready(self, reads: list, writes: list, timeout_ns: int | None) -> tuple[list, list]:
        """Files and streams are always ready; sockets as `readiness` says. Waiting for nothing
        that can happen ends the wait when the timeout does (the clock moves on)."""
        rd = [h for h in reads if type(h) is not _Sock or self.readiness(h)[0]]
        wr = [h for h in writes if type(h) is not _Sock or self.readiness(h)[1]]
        if not rd and not wr:
            if timeout_ns is None:
                raise WouldBlock("poll for sockets nothing will ever make ready")
            self.now += timeout_ns
        return rd, wr

    # --- clocks, sleep, randomness ------------------------------------------------------------------
    def clock_time(self, clock: Clockid) -> int:
        return self.now

    def clock_res(self, clock: Clockid) -> int:
        return 1

    def sleep(self, ns: int) -> None:
        self.now += max(0, ns)

    def random(self, n: int) -> bytes:
        return bytes(i & 0xFF for i in range(n))

    # --- sockets, over the abstract loopback network (see `_Network`) ------------------------------
    def _sock(self, h) -> "_Sock":
        if type(h) is not _Sock:
            raise WasiError(Errno.NOTSOCK)
        if h.closed:
            raise WasiError(Errno.BADF)
        return h

    def listen_tcp(self, address: str, port: int):
        ip = ipaddress.ip_address(address)
        family = AddressFamily.INET6 if ip.version == 6 else AddressFamily.INET
        s = _Sock(family, True)
        s.state, s.local = "listening", _where(family, ip.packed) + (port,)
        if s.local in self.net.listeners:
            raise OSError(98, f"address in use: {address} port {port}")
        self.net.listeners[s.local] = s
        self.net.handed_out.append(s)
        return s, family

    def bind_datagram_peer(self, port: int) -> "_Sock":
        """The environment's datagram socket on every loopback address at `port` (not the guest's)."""
        s = _Sock(AddressFamily.INET6, False)
        self.net.datagram_peers[port] = s
        return s

    def echo_datagrams(self, peer: "_Sock") -> int:
        """The environment's peer sends every datagram it holds back where it came from."""
        n = 0
        while peer.rx:
            data, (version, addr, port) = peer.rx.popleft()
            reply_from = (version, addr, next(p for p, s in self.net.datagram_peers.items() if s is peer))
            for g in self.net.guests:
                # a connected datagram socket takes datagrams from its peer only
                if g.local == (version, addr, port) and g.dest == reply_from:
                    g.rx.append(data)
            n += 1
        return n

    def socket(self, family: int, type_: int) -> "_Sock":
        s = _Sock(family, type_ == SocketType.STREAM)
        if not s.stream:
            self.net.guests.append(s)
        self.net.handed_out.append(s)
        return s

    def connect_answer(self, h, family: int, addr: bytes, port: int) -> Errno:
        """What connect would answer (nothing changes)."""
        s = self._sock(h)
        if s.state == "listening":
            return Errno.INVAL
        if s.stream and s.state == "connected":
            return Errno.ISCONN
        # A connection to a loopback port nobody listens on is refused (a RST, at once).
        if s.stream and _where(family, addr) + (port,) not in self.net.listeners:
            return Errno.CONNREFUSED
        return Errno.SUCCESS

    def connect(self, h, family: int, addr: bytes, port: int) -> None:
        answer = self.connect_answer(h, family, addr, port)
        if answer != Errno.SUCCESS:
            raise WasiError(answer)
        s, where = h, _where(family, addr)
        s.local, s.state = where + (self.net.port(),), "connected"
        if not s.stream:  # a datagram socket only remembers its peer
            s.dest = where + (port,)
            return
        # The handshake completes at once: the server's end waits in the listener's queue.
        listener = self.net.listeners[where + (port,)]
        server = _Sock(listener.family, True)
        server.state, server.local, server.peer, s.peer = "connected", listener.local, s, server
        listener.pending.append(server)

    def pending_peer(self, h):
        """The (address, port) of the connection accept would return, or None."""
        s = self._sock(h)
        if s.state != "listening" or not s.pending:
            return None
        return s.pending[0].peer.local[1], s.pending[0].peer.local[2]

    def accept(self, h, nonblock: bool):
        listener = self._sock(h)
        if listener.state != "listening":
            raise WasiError(Errno.INVAL)
        # A granted listener blocks (PosixHost's is a blocking socket): with nothing pending and the
        # guest alone on the network, accept would wait for ever.
        if not listener.pending:
            raise WouldBlock("accept with no connection pending")
        conn = listener.pending.popleft()
        conn.nonblock = nonblock
        self.net.handed_out.append(conn)
        _, addr, port = conn.peer.local
        return conn, addr.to_bytes(4 if listener.family == AddressFamily.INET else 16, "big"), port

    def recv_answer(self, h, capacity: int, peek: bool = False, waitall: bool = False, readv: bool = False):
        """What a recv (or, with `readv`, a read) of `capacity` bytes would give -- (data, truncated)
        or the errno -- with nothing consumed; WouldBlock if it would wait forever."""
        try:
            return self._receive(self._sock(h), capacity, peek, waitall, readv, commit=False)
        except WasiError as e:
            return e.errno

    def recv(self, h, bufs, peek: bool, waitall: bool) -> tuple[int, bool]:
        data, truncated = self._receive(self._sock(h), sum(len(b) for b in bufs), peek, waitall, False, True)
        _scatter(bufs, data)
        return len(data), truncated

    def _receive(self, s: "_Sock", cap: int, peek: bool, waitall: bool, readv: bool, commit: bool):
        # readv(2) of nothing returns at once, whatever the socket holds (recv(2) does not).
        if readv and cap == 0:
            return b"", False
        if not s.stream:
            if s.rx:  # one datagram per call; what does not fit is lost (and reported by recv)
                msg = s.rx[0]
                if commit and not peek:
                    s.rx.popleft()
                return msg[:cap], len(msg) > cap
            return (b"", False) if s.shut_rd else self._block(s)
        if s.rx:
            ended = s.fin or s.err is not None or s.shut_rd or s.done
            # MSG_WAITALL on a blocking socket waits for the whole buffer (or the end of stream).
            if waitall and not s.nonblock and len(s.rx) < cap and not ended:
                raise WouldBlock("MSG_WAITALL for more than is there")
            data = bytes(s.rx[:cap])
            if commit and not peek:
                del s.rx[:len(data)]
            return data, False
        # Nothing buffered, in Linux's order: end of stream, then a pending error, then shutdown.
        if s.fin:
            return b"", False
        if s.err is not None:
            e = s.err
            if commit:
                s.err = None
            raise WasiError(e)
        if s.shut_rd or s.done:
            return b"", False
        if s.state != "connected":
            raise WasiError(Errno.NOTCONN)
        return self._block(s)

    @staticmethod
    def _block(s: "_Sock"):
        if s.nonblock:
            raise WasiError(Errno.AGAIN)
        raise WouldBlock("a blocking read of a socket nothing will ever write to")

    def send_answer(self, h, n: int, writev: bool = False) -> Errno:
        """What a send (or, with `writev`, a write) of n bytes would answer (nothing changes)."""
        if writev and n == 0:
            return Errno.SUCCESS  # writev(2) of nothing never reaches the socket
        try:
            self._transmit(self._sock(h), bytes(n), commit=False)
        except WasiError as e:
            return e.errno
        return Errno.SUCCESS

    def send(self, h, bufs) -> int:
        return self._transmit(self._sock(h), b"".join(bytes(b) for b in bufs), True)

    def _transmit(self, s: "_Sock", data: bytes, commit: bool) -> int:
        if not s.stream:
            if s.shut_wr:
                raise WasiError(Errno.PIPE)
            if s.dest is None:
                raise WasiError(Errno.DESTADDRREQ)
            if s.dest[2] not in self.net.datagram_peers:
                raise WouldBlock("a datagram to a port nobody bound (Linux: ICMP, then ECONNREFUSED)")
            if commit:
                self.net.datagram_peers[s.dest[2]].rx.append((data, s.local))
            return len(data)
        if s.err is not None:
            e = s.err
            if commit:
                s.err = None
            raise WasiError(e)
        if s.shut_wr or s.done:
            raise WasiError(Errno.PIPE)
        if s.state != "connected":
            raise WasiError(Errno.NOTCONN)
        if not data or not commit:
            return len(data)
        y = s.peer
        if y.shut_wr and (y.shut_rd or y.closed):
            # Data for an end that has stopped reading and sent its FIN: it resets, and so do we
            # (RFC 1122; the send itself succeeds, the error comes on the next call).
            y.got_reset()
            s.got_reset()
        else:
            y.rx += data  # Linux queues it even after the reader's shutdown(RD)
        return len(data)

    def shutdown(self, h, how: int) -> None:
        s = self._sock(h)
        if s.state != "connected" or s.stream and s.done:
            raise WasiError(Errno.NOTCONN)
        if how & Sdflags.RD:
            s.shut_rd = True
        if how & Sdflags.WR and not s.shut_wr:
            s.shut_wr = True
            if s.stream:
                s.peer.fin = True

    def shutdown_answer(self, h) -> Errno:
        s = self._sock(h)
        return Errno.NOTCONN if s.state != "connected" or s.stream and s.done else Errno.SUCCESS

    def _close_socket(self, s: "_Sock") -> None:
        s.closed = True
        if s.state == "listening":
            # Connections never accepted are reset.
            del self.net.listeners[s.local]
            for conn in s.pending:
                conn.closed = True
                conn.peer.got_reset()
            s.pending.clear()
        elif s.stream and s.state == "connected" and not s.done:
            if s.rx:  # closing with unread data resets the connection
                s.reset = True
                s.peer.got_reset()
            elif not s.shut_wr:
                s.shut_wr = True
                s.peer.fin = True
        if not s.stream:
            self.net.guests.remove(s)

    def tcp_state(self, h) -> str:
        """The TCP state Linux shows for the socket (TCP_INFO), once the loopback has delivered
        everything in flight; "" for a datagram socket."""
        s = self._sock(h)
        if not s.stream:
            return ""
        if s.state != "connected":
            return "LISTEN" if s.state == "listening" else "CLOSE"
        if s.done:  # reset, or FINs both ways (the end that closed first left a TIME_WAIT twin)
            return "CLOSE"
        return "CLOSE_WAIT" if s.fin else "FIN_WAIT2" if s.shut_wr else "ESTABLISHED"

    def queued(self, h) -> int:
        """What FIONREAD reports: the bytes buffered (a datagram socket: the first datagram's size)."""
        s = self._sock(h)
        if s.state == "listening":
            return 0
        return len(s.rx) if s.stream else len(s.rx[0]) if s.rx else 0

    def status(self, h) -> tuple[str, bool, bool]:
        """(created | listening | connected, shut for reading, shut for writing) by the guest's calls."""
        s = self._sock(h)
        return s.state, s.shut_rd, s.shut_wr

    def open_sockets(self) -> list:
        """The socket handles given out and not yet closed (the runtime must hold each one)."""
        return [s for s in self.net.handed_out if not s.closed]

    def unread(self, h) -> int:
        """What is waiting to be read: bytes (stream) or datagrams."""
        return len(self._sock(h).rx)

    def readiness(self, h) -> tuple[bool, bool]:
        """(readable, writable) as poll(2) reports a socket on Linux (small buffers never fill)."""
        s = self._sock(h)
        if s.state == "listening":
            return bool(s.pending), False
        if not s.stream:
            return bool(s.rx) or s.shut_rd, True
        if s.state != "connected":
            return True, True  # TCP_CLOSE: POLLHUP, which wakes readers and writers
        hangup = s.done or (s.shut_rd or s.fin) and s.shut_wr
        return bool(s.rx) or s.shut_rd or s.fin or s.err is not None or hangup, True


def _scatter(bufs, data: bytes) -> int:
    """Fill the buffers in order with data; its length."""
    at = 0
    for b in bufs:
        chunk = data[at:at + len(b)]
        b[:len(chunk)] = chunk
        at += len(chunk)
    return len(data)


# --- the abstract loopback network ---------------------------------------------------------------
# What ModelHost's sockets live in: every address is on this machine's loopback, as in the
# refinement machines (granted listeners, the guest's own connections to them, a datagram peer the
# environment runs). It answers as Linux does on `lo`: a connect with no listener is refused at
# once, bytes arrive in the peer's buffer during the send, a FIN marks end of stream, and the TCP
# resets Linux sends (closing with unread data, data reaching a side that can read no more) set the
# errors it reports (EPIPE in CLOSE_WAIT, ECONNRESET otherwise), once, on the next send or recv.
LOOPBACK = {4: 0x7F00_0001, 6: 1}


class WouldBlock(Exception):
    """The call would wait forever: nothing but the guest itself could ever make it ready."""


def _where(family: int, addr: bytes) -> tuple[int, int]:
    """(ip version, address) a connect really reaches: an IPv4-mapped IPv6 address is its IPv4
    address, and an unspecified address is the loopback."""
    n = int.from_bytes(addr, "big")
    version = 6 if family == AddressFamily.INET6 else 4
    if version == 6 and n >> 32 == 0xFFFF:
        version, n = 4, n & 0xFFFF_FFFF
    if n == 0:
        n = LOOPBACK[version]
    if not (version == 4 and n >> 24 == 127 or version == 6 and n == 1):
        raise WouldBlock(f"{n:#x} is not on the loopback: the abstract network has nothing there")
    return version, n


class _Sock:
    """A ModelHost socket: one end of a connection, a listener, or a datagram socket."""

    def __init__(self, family: int, stream: bool) -> None:
        self.family, self.stream = family, stream
        self.state = "created"  # "created" | "listening" | "connected"
        self.nonblock = False
        self.closed = False  # the owner let go (an orphan TCP end still answers its peer)
        self.local = None  # (version, address, port) once bound
        self.dest = None  # a datagram socket's connected peer (version, address, port)
        self.peer: _Sock | None = None  # the other end of a TCP connection
        self.pending: deque = deque()  # a listener's connections not yet accepted
        self.rx = bytearray() if stream else deque()  # received and unread: bytes, or datagrams
        self.shut_rd = False  # shutdown(RD)
        self.shut_wr = False  # no more sending: shutdown(WR), or (TCP) close sent our FIN
        self.fin = False  # the peer's FIN arrived (SOCK_DONE)
        self.reset = False  # a RST ended the connection (state CLOSE)
        self.err: Errno | None = None  # the pending socket error (sk_err), reported once

    @property
    def done(self) -> bool:
        """The connection is over (TCP_CLOSE): reset, or both FINs exchanged."""
        return self.reset or (self.fin and self.shut_wr)

    def got_reset(self) -> None:
        """A RST arrived: EPIPE in CLOSE_WAIT (the peer had closed, we had not), ECONNRESET otherwise."""
        if self.closed or self.done:
            return
        self.err = Errno.PIPE if self.fin and not self.shut_wr else Errno.CONNRESET
        self.reset = True


class _Network:
    def __init__(self) -> None:
        self.listeners: dict[tuple, _Sock] = {}  # (version, address, port) -> listener
        self.datagram_peers: dict[int, _Sock] = {}  # port -> a datagram socket the environment bound
        self.guests: list[_Sock] = []  # datagram sockets, to deliver replies to
        self.handed_out: list[_Sock] = []  # every socket handle given to the runtime (to find leaks)
        self.next_port = 40000

    def port(self) -> int:
        self.next_port += 1
        return self.next_port
