"""The WASI preview1 vocabulary, in one place.

The enums, flags, record layouts and signatures are facts from WebAssembly/WASI
`legacy/preview1/witx/typenames.witx` and `wasi_snapshot_preview1.witx` (checked against the witx
text: names in witx order, values, field offsets, the 46 calls and their core signatures);
nothing else in the project spells these values out. The record layouts (`Layout`) give the byte
offsets wasm32 guests use (little endian, C alignment).
The rights sets by kind (`FILE_RIGHTS`, `STDIN_RIGHTS`, ...) and `FD_LIMIT` are not witx facts but
the sandbox's own choices; they live here so that model and runtime share one definition.
"""
from __future__ import annotations

import enum
import struct


class Errno(enum.IntEnum):
    SUCCESS = 0
    TOOBIG = 1  # witx: 2big
    ACCES = 2
    ADDRINUSE = 3
    ADDRNOTAVAIL = 4
    AFNOSUPPORT = 5
    AGAIN = 6
    ALREADY = 7
    BADF = 8
    BADMSG = 9
    BUSY = 10
    CANCELED = 11
    CHILD = 12
    CONNABORTED = 13
    CONNREFUSED = 14
    CONNRESET = 15
    DEADLK = 16
    DESTADDRREQ = 17
    DOM = 18
    DQUOT = 19
    EXIST = 20
    FAULT = 21
    FBIG = 22
    HOSTUNREACH = 23
    IDRM = 24
    ILSEQ = 25
    INPROGRESS = 26
    INTR = 27
    INVAL = 28
    IO = 29
    ISCONN = 30
    ISDIR = 31
    LOOP = 32
    MFILE = 33
    MLINK = 34
    MSGSIZE = 35
    MULTIHOP = 36
    NAMETOOLONG = 37
    NETDOWN = 38
    NETRESET = 39
    NETUNREACH = 40
    NFILE = 41
    NOBUFS = 42
    NODEV = 43
    NOENT = 44
    NOEXEC = 45
    NOLCK = 46
    NOLINK = 47
    NOMEM = 48
    NOMSG = 49
    NOPROTOOPT = 50
    NOSPC = 51
    NOSYS = 52
    NOTCONN = 53
    NOTDIR = 54
    NOTEMPTY = 55
    NOTRECOVERABLE = 56
    NOTSOCK = 57
    NOTSUP = 58
    NOTTY = 59
    NXIO = 60
    OVERFLOW = 61
    OWNERDEAD = 62
    PERM = 63
    PIPE = 64
    PROTO = 65
    PROTONOSUPPORT = 66
    PROTOTYPE = 67
    RANGE = 68
    ROFS = 69
    SPIPE = 70
    SRCH = 71
    STALE = 72
    TIMEDOUT = 73
    TXTBSY = 74
    XDEV = 75
    NOTCAPABLE = 76


# Errno.SUCCESS itself, for the handlers' hot return: reading an enum member off its class costs
# several times a plain name lookup (Python 3.11), once per host call.
SUCCESS = Errno.SUCCESS


class WasiError(Exception):
    """A call failed with an errno: the one way model and runtime report a WASI error."""

    __slots__ = ("errno",)

    def __init__(self, errno: Errno):
        super().__init__(errno)
        self.errno = errno


class Flags:
    """A witx `flags` type: named bits. The members are plain ints, not `enum.IntFlag`: IntFlag
    arithmetic costs about a microsecond an operation, and one host call does dozens."""


class Rights(Flags):
    FD_DATASYNC = 1 << 0
    FD_READ = 1 << 1
    FD_SEEK = 1 << 2
    FD_FDSTAT_SET_FLAGS = 1 << 3
    FD_SYNC = 1 << 4
    FD_TELL = 1 << 5
    FD_WRITE = 1 << 6
    FD_ADVISE = 1 << 7
    FD_ALLOCATE = 1 << 8
    PATH_CREATE_DIRECTORY = 1 << 9
    PATH_CREATE_FILE = 1 << 10
    PATH_LINK_SOURCE = 1 << 11
    PATH_LINK_TARGET = 1 << 12
    PATH_OPEN = 1 << 13
    FD_READDIR = 1 << 14
    PATH_READLINK = 1 << 15
    PATH_RENAME_SOURCE = 1 << 16
    PATH_RENAME_TARGET = 1 << 17
    PATH_FILESTAT_GET = 1 << 18
    PATH_FILESTAT_SET_SIZE = 1 << 19
    PATH_FILESTAT_SET_TIMES = 1 << 20
    FD_FILESTAT_GET = 1 << 21
    FD_FILESTAT_SET_SIZE = 1 << 22
    FD_FILESTAT_SET_TIMES = 1 << 23
    PATH_SYMLINK = 1 << 24
    PATH_REMOVE_DIRECTORY = 1 << 25
    PATH_UNLINK_FILE = 1 << 26
    POLL_FD_READWRITE = 1 << 27
    SOCK_SHUTDOWN = 1 << 28
    SOCK_ACCEPT = 1 << 29


ALL_RIGHTS = (1 << 30) - 1

# Rights a regular file may carry (what wasmtime grants an opened file; path_* rights are meaningless).
FILE_RIGHTS = (
    Rights.FD_DATASYNC | Rights.FD_READ | Rights.FD_SEEK | Rights.FD_FDSTAT_SET_FLAGS
    | Rights.FD_SYNC | Rights.FD_TELL | Rights.FD_WRITE | Rights.FD_ADVISE | Rights.FD_ALLOCATE
    | Rights.FD_FILESTAT_GET | Rights.FD_FILESTAT_SET_SIZE | Rights.FD_FILESTAT_SET_TIMES
    | Rights.POLL_FD_READWRITE
)
# Rights a directory may carry: everything that names a path beneath it, plus listing and stat --
# exactly what some call uses on a directory (the fd_* calls on data -- sync, advise, set_flags --
# answer EBADF for one, as wasmtime; refinement.rights checks the set against the calls' uses).
DIR_RIGHTS = (
    Rights.PATH_CREATE_DIRECTORY | Rights.PATH_CREATE_FILE | Rights.PATH_LINK_SOURCE
    | Rights.PATH_LINK_TARGET | Rights.PATH_OPEN | Rights.FD_READDIR | Rights.PATH_READLINK
    | Rights.PATH_RENAME_SOURCE | Rights.PATH_RENAME_TARGET | Rights.PATH_FILESTAT_GET
    | Rights.PATH_FILESTAT_SET_SIZE | Rights.PATH_FILESTAT_SET_TIMES | Rights.FD_FILESTAT_GET
    | Rights.FD_FILESTAT_SET_TIMES | Rights.PATH_SYMLINK | Rights.PATH_REMOVE_DIRECTORY
    | Rights.PATH_UNLINK_FILE
)
# Rights a read-only preopen keeps: nothing that creates, modifies or deletes.
DIR_RIGHTS_READONLY = (
    Rights.PATH_OPEN | Rights.FD_READDIR | Rights.PATH_READLINK
    | Rights.PATH_FILESTAT_GET | Rights.FD_FILESTAT_GET
)
# Its files may be read, and flushed (FD_SYNC, FD_DATASYNC: flushing changes nothing, and they are
# what opening with the sync fdflags needs, see model/rights.py).
FILE_RIGHTS_READONLY = (
    Rights.FD_READ | Rights.FD_SEEK | Rights.FD_TELL | Rights.FD_ADVISE
    | Rights.FD_FILESTAT_GET | Rights.POLL_FD_READWRITE | Rights.FD_FDSTAT_SET_FLAGS
    | Rights.FD_SYNC | Rights.FD_DATASYNC
)
# Standard streams (base = inheriting): stdin reads, stdout/stderr write; both may be polled. Their
# fd_filestat_get consults no right (zeros but the type, as wasmtime), so none is granted for it;
# no FD_FDSTAT_SET_FLAGS: a stream's flags are the embedder's, not the guest's.
STDIN_RIGHTS = Rights.FD_READ | Rights.POLL_FD_READWRITE
STDOUT_RIGHTS = Rights.FD_WRITE | Rights.POLL_FD_READWRITE  # and stderr
STDIO_RIGHTS = STDIN_RIGHTS | STDOUT_RIGHTS  # the most any stream may carry
SOCKET_RIGHTS = (
    Rights.FD_READ | Rights.FD_WRITE | Rights.FD_FILESTAT_GET
    | Rights.POLL_FD_READWRITE | Rights.SOCK_SHUTDOWN | Rights.SOCK_ACCEPT
)


class Filetype(enum.IntEnum):
    UNKNOWN = 0
    BLOCK_DEVICE = 1
    CHARACTER_DEVICE = 2
    DIRECTORY = 3
    REGULAR_FILE = 4
    SOCKET_DGRAM = 5
    SOCKET_STREAM = 6
    SYMBOLIC_LINK = 7


class Oflags(Flags):
    CREAT = 1 << 0
    DIRECTORY = 1 << 1
    EXCL = 1 << 2
    TRUNC = 1 << 3


class Fdflags(Flags):
    APPEND = 1 << 0
    DSYNC = 1 << 1
    NONBLOCK = 1 << 2
    RSYNC = 1 << 3
    SYNC = 1 << 4


class Lookupflags(Flags):
    SYMLINK_FOLLOW = 1 << 0


class Fstflags(Flags):
    ATIM = 1 << 0
    ATIM_NOW = 1 << 1
    MTIM = 1 << 2
    MTIM_NOW = 1 << 3


class Whence(enum.IntEnum):
    SET = 0
    CUR = 1
    END = 2


class Advice(enum.IntEnum):
    NORMAL = 0
    SEQUENTIAL = 1
    RANDOM = 2
    WILLNEED = 3
    DONTNEED = 4
    NOREUSE = 5


class Clockid(enum.IntEnum):
    REALTIME = 0
    MONOTONIC = 1
    PROCESS_CPUTIME_ID = 2
    THREAD_CPUTIME_ID = 3


class Eventtype(enum.IntEnum):
    CLOCK = 0
    FD_READ = 1
    FD_WRITE = 2


class Subclockflags(Flags):
    SUBSCRIPTION_CLOCK_ABSTIME = 1 << 0


class Eventrwflags(Flags):
    FD_READWRITE_HANGUP = 1 << 0


class Riflags(Flags):
    RECV_PEEK = 1 << 0
    RECV_WAITALL = 1 << 1


class Roflags(Flags):
    RECV_DATA_TRUNCATED = 1 << 0


SIFLAGS_NONE = 0  # siflags has no bits in preview1


class Sdflags(Flags):
    RD = 1 << 0
    WR = 1 << 1


class Preopentype(enum.IntEnum):
    DIR = 0


class Signal(enum.IntEnum):
    NONE = 0
    HUP = 1
    INT = 2
    QUIT = 3
    ILL = 4
    TRAP = 5
    ABRT = 6
    BUS = 7
    FPE = 8
    KILL = 9
    USR1 = 10
    SEGV = 11
    USR2 = 12
    PIPE = 13
    ALRM = 14
    TERM = 15
    CHLD = 16
    CONT = 17
    STOP = 18
    TSTP = 19
    TTIN = 20
    TTOU = 21
    URG = 22
    XCPU = 23
    XFSZ = 24
    VTALRM = 25
    PROF = 26
    WINCH = 27
    POLL = 28
    PWR = 29
    SYS = 30


# --- WaVe's socket extension (`socket`, `sock_connect`), with WaVe's numbers: `socket(domain, type,
# protocol, fd_out)` takes domain 1 for IPv4 (we add 2 for IPv6), type 6 for a stream and 5 for a
# datagram socket (preview1's filetype numbers) and protocol 0 or the one the type implies.
class AddressFamily(enum.IntEnum):
    INET = 1
    INET6 = 2


class SocketType(enum.IntEnum):
    DGRAM = 5
    STREAM = 6


class Protocol(enum.IntEnum):
    TCP = 6
    UDP = 17


# --- Record layouts -------------------------------------------------------------------------------
class Layout:
    """A preview1 record as wasm32 lays it out: a struct format (with explicit padding), size, alignment.
    (A plain class: `dataclasses` imports `inspect`, ~10 ms of every start.)"""

    __slots__ = ("name", "fmt", "align", "codec", "size")

    def __init__(self, name: str, fmt: str, align: int) -> None:
        self.name, self.fmt, self.align = name, fmt, align
        self.codec = struct.Struct(fmt)  # read on every host call that reads or writes a record
        self.size = self.codec.size

    def __repr__(self) -> str:
        return f"Layout({self.name!r}, {self.fmt!r}, {self.align})"


IOVEC = Layout("iovec", "<II", 4)  # buf, buf_len (ciovec has the same layout)
FDSTAT = Layout("fdstat", "<BxH4xQQ", 8)  # filetype, flags, rights_base, rights_inheriting
FILESTAT = Layout("filestat", "<QQB7xQQQQQ", 8)  # dev, ino, filetype, nlink, size, atim, mtim, ctim
PRESTAT = Layout("prestat", "<B3xI", 4)  # tag (preopentype), pr_name_len
DIRENT = Layout("dirent", "<QQIB3x", 8)  # d_next, d_ino, d_namlen, d_type (name bytes follow)
# subscription: userdata, tag, then the union at offset 16 (clock: id, timeout, precision, flags;
# fd_read/fd_write: file_descriptor).
SUBSCRIPTION = Layout("subscription", "<QB7x32x", 8)
SUBSCRIPTION_CLOCK = Layout("subscription_clock", "<I4xQQH6x", 8)  # at offset 16 of a subscription
SUBSCRIPTION_FD = Layout("subscription_fd_readwrite", "<I", 4)  # at offset 16 of a subscription
SUBSCRIPTION_UNION_OFFSET = 16
EVENT = Layout("event", "<QHB5xQH6x", 8)  # userdata, error, type, fd_readwrite.nbytes, .flags

# sock_connect's address, as WaVe reads it: family (u16, little endian), then the port and address in
# network byte order, as C's sockaddr_in / sockaddr_in6 hold them.
SOCKADDR_IN = Layout("sockaddr_in", "<H2s4s8x", 1)  # family, port, addr
SOCKADDR_IN6 = Layout("sockaddr_in6", "<H2sI16sI", 1)  # family, port, flowinfo, addr, scope_id

U8 = Layout("u8", "<B", 1)
U16 = Layout("u16", "<H", 2)
U32 = Layout("u32", "<I", 4)
U64 = Layout("u64", "<Q", 8)

assert (IOVEC.size, FDSTAT.size, FILESTAT.size, PRESTAT.size, DIRENT.size) == (8, 24, 64, 8, 24)
assert (SUBSCRIPTION.size, SUBSCRIPTION_CLOCK.size, EVENT.size) == (48, 32, 32)
assert (SOCKADDR_IN.size, SOCKADDR_IN6.size) == (16, 28)

# --- The calls ------------------------------------------------------------------------------------
# Core wasm signature of every import: parameter kinds ('i' = i32, 'I' = i64) and result kinds.
# preview1 (46 calls, the current witx) then WaVe's socket extension.
PREVIEW1_MODULE = "wasi_snapshot_preview1"
SIGNATURES: dict[str, tuple[str, str]] = {
    "args_get": ("ii", "i"),
    "args_sizes_get": ("ii", "i"),
    "environ_get": ("ii", "i"),
    "environ_sizes_get": ("ii", "i"),
    "clock_res_get": ("ii", "i"),
    "clock_time_get": ("iIi", "i"),
    "fd_advise": ("iIIi", "i"),
    "fd_allocate": ("iII", "i"),
    "fd_close": ("i", "i"),
    "fd_datasync": ("i", "i"),
    "fd_fdstat_get": ("ii", "i"),
    "fd_fdstat_set_flags": ("ii", "i"),
    "fd_fdstat_set_rights": ("iII", "i"),
    "fd_filestat_get": ("ii", "i"),
    "fd_filestat_set_size": ("iI", "i"),
    "fd_filestat_set_times": ("iIIi", "i"),
    "fd_pread": ("iiiIi", "i"),
    "fd_prestat_get": ("ii", "i"),
    "fd_prestat_dir_name": ("iii", "i"),
    "fd_pwrite": ("iiiIi", "i"),
    "fd_read": ("iiii", "i"),
    "fd_readdir": ("iiiIi", "i"),
    "fd_renumber": ("ii", "i"),
    "fd_seek": ("iIii", "i"),
    "fd_sync": ("i", "i"),
    "fd_tell": ("ii", "i"),
    "fd_write": ("iiii", "i"),
    "path_create_directory": ("iii", "i"),
    "path_filestat_get": ("iiiii", "i"),
    "path_filestat_set_times": ("iiiiIIi", "i"),
    "path_link": ("iiiiiii", "i"),
    "path_open": ("iiiiiIIii", "i"),
    "path_readlink": ("iiiiii", "i"),
    "path_remove_directory": ("iii", "i"),
    "path_rename": ("iiiiii", "i"),
    "path_symlink": ("iiiii", "i"),
    "path_unlink_file": ("iii", "i"),
    "poll_oneoff": ("iiii", "i"),
    "proc_exit": ("i", ""),
    "proc_raise": ("i", "i"),
    "sched_yield": ("", "i"),
    "random_get": ("ii", "i"),
    "sock_accept": ("iii", "i"),
    "sock_recv": ("iiiiii", "i"),
    "sock_send": ("iiiii", "i"),
    "sock_shutdown": ("ii", "i"),
    # WaVe's extension: socket(domain, type, protocol, fd_out), sock_connect(fd, sockaddr, addrlen).
    "socket": ("iiii", "i"),
    "sock_connect": ("iii", "i"),
}
PREVIEW1_CALLS = tuple(SIGNATURES)[:46]
EXTENSION_CALLS = tuple(SIGNATURES)[46:]
assert len(PREVIEW1_CALLS) == 46 and EXTENSION_CALLS == ("socket", "sock_connect")

# The rights each call needs on each descriptor argument: `rights.REQUIRES` (model/rights.py).

SYMLINK_BUDGET = 40  # symlink expansions per resolution, Linux's MAXSYMLINKS
# A sandbox limit, not a WASI fact: descriptors a guest may hold at once (streams and preopens
# included); the next path_open / sock_accept / socket is EMFILE. The runtime imports this one.
FD_LIMIT = 1024
U64_MAX = (1 << 64) - 1
I64_MAX = (1 << 63) - 1
