"""Shared worlds for the model tests: a filesystem with a preopened `box` and a `secret` outside it."""
import pytest

from vwasm.model import net
from vwasm.model.fs import ROOT, FileSystem
from vwasm.model.sandbox import Preopen, initial_state
from vwasm.model.wasi import AddressFamily, SocketType

BOX_FD = 3
RO_FD = 4


def world():
    """/ (not preopened): secret, box/{a/{f}, file, link->a/f, dangling->nowhere, up->.., abs->/secret}, ro/{r}."""
    fs = FileSystem()
    fs, box = fs.create_dir(ROOT, "box", 0)
    fs, secret = fs.create_file(ROOT, "secret", 0)
    fs = fs.write(secret, 0, b"top secret", 0)
    fs, a = fs.create_dir(box, "a", 0)
    fs, f = fs.create_file(a, "f", 0)
    fs = fs.write(f, 0, b"in a", 0)
    fs, file = fs.create_file(box, "file", 0)
    fs = fs.write(file, 0, b"0123456789", 0)
    fs, _ = fs.create_symlink(box, "link", "a/f", 0)
    fs, _ = fs.create_symlink(box, "dangling", "nowhere", 0)
    fs, _ = fs.create_symlink(box, "up", "..", 0)
    fs, _ = fs.create_symlink(box, "abs", "/secret", 0)
    fs, ro = fs.create_dir(ROOT, "ro", 0)
    fs, r = fs.create_file(ro, "r", 0)
    fs = fs.write(r, 0, b"read only", 0)
    return fs, box, ro


@pytest.fixture
def fs_box():
    fs, box, _ = world()
    return fs, box


@pytest.fixture
def state():
    fs, box, ro = world()
    return initial_state(
        fs,
        (Preopen("/box", box), Preopen("/ro", ro, readonly=True)),
        netlist=(net.parse_rule("tcp:10.0.0.0/8:80-90"), net.parse_rule("udp:[::1]:53")),
        args=("prog", "x"),
        env=(("HOME", "/box"),),
        stdin=b"input",
        listeners=((AddressFamily.INET, SocketType.STREAM),),
    )
