"""Planted bugs for the z3 lemmas on memory and rights. Each: the change, the guarantee it breaks,
the obligation that must report a counterexample (in a throw-away child process)."""
from __future__ import annotations

from proofs.core import mutant, patch


@mutant("check_ge_for_gt", breaks="accesses ending exactly at the end of memory trap (completeness)",
        killers=("memory.check",))
def check_ge_for_gt():
    """Bug when an access ends exactly at the end of memory: `>=` instead of `>`."""
    from vwasm import memory
    from vwasm.errors import Trap

    def check(self, ptr, length, align=1):
        if ptr + length >= self.size:
            raise Trap("oob")
        if ptr & (align - 1):
            raise Trap("misaligned")
    patch(memory.GuestMemory, "check", check)


@mutant("check_end_plus_one", breaks="1 memory isolation: one byte past the end is accepted",
        killers=("memory.check", "memory.accessors"))
def check_end_plus_one():
    """Bug when ptr+len == size+1: the bound is off by one the unsafe way."""
    from vwasm import memory
    from vwasm.errors import Trap

    def check(self, ptr, length, align=1):
        if ptr + length > self.size + 1:
            raise Trap("oob")
        if ptr & (align - 1):
            raise Trap("misaligned")
    patch(memory.GuestMemory, "check", check)


@mutant("check_no_alignment", breaks="misaligned record pointers are accepted (§5: they must trap)",
        killers=("memory.check", "memory.accessors"))
def check_no_alignment():
    """Bug when ptr is not a multiple of align: the alignment test is dropped."""
    from vwasm import memory
    from vwasm.errors import Trap

    def check(self, ptr, length, align=1):
        if ptr + length > self.size:
            raise Trap("oob")
    patch(memory.GuestMemory, "check", check)


@mutant("check_wraps_32bit", breaks="1 memory isolation: ptr+len wraps around 2^32",
        killers=("memory.check",))
def check_wraps_32bit():
    """Bug when ptr+len >= 2^32: the sum is computed in 32 bits and wraps to a small number."""
    from vwasm import memory
    from vwasm.errors import Trap

    def check(self, ptr, length, align=1):
        if (ptr + length) & 0xFFFF_FFFF > self.size:
            raise Trap("oob")
        if ptr & (align - 1):
            raise Trap("misaligned")
    patch(memory.GuestMemory, "check", check)


@mutant("iovec_buffer_unchecked", breaks="1 memory isolation: an iovec's buffer may lie past the end",
        killers=("memory.accessors",))
def iovec_buffer_unchecked():
    """Bug when an iovec's buf+len passes the end: only buf is compared with the size."""
    from vwasm import memory
    from vwasm.errors import Trap

    def iovecs(self, ptr, count):
        self.check(ptr, count * 8, 4)
        bufs = []
        for i in range(count):
            buf, length = memory._IOVEC.unpack_from(self.view, ptr + 8 * i)
            if buf > self.size:
                raise Trap("oob iovec")
            bufs.append(self.view[buf:buf + length])
        return bufs
    patch(memory.GuestMemory, "iovecs", iovecs)


@mutant("strings_write_before_check", breaks="1 memory isolation: args_get writes, then traps",
        killers=("memory.accessors",))
def strings_write_before_check():
    """Bug when the string buffer is out of bounds: pointers are written before the buffer is checked."""
    from vwasm import memory

    def strings(self, items, ptrs, buf):
        total = sum(len(s) + 1 for s in items)
        self.check(ptrs, 4 * len(items), 4)
        at = buf
        for i, s in enumerate(items):
            memory._U32.pack_into(self.view, ptrs + 4 * i, at)
            at += len(s) + 1
        self.check(buf, total)
        at = buf
        for s in items:
            self.view[at:at + len(s)] = s
            self.view[at + len(s)] = 0
            at += len(s) + 1
    patch(memory.GuestMemory, "strings", strings)


@mutant("narrow_inheriting_grows", breaks="3 rights only shrink: set_rights may add inheriting bits",
        killers=("rights.lattice",))
def narrow_inheriting_grows():
    """Bug when fd_fdstat_set_rights asks for new inheriting bits: only the base is compared."""
    from vwasm import fdtable
    from vwasm.model.wasi import Errno, WasiError

    def narrow(desc, base, inheriting):
        if base & ~desc.rights_base:
            raise WasiError(Errno.NOTCAPABLE)
        desc.rights_base = base
        desc.rights_inheriting = inheriting
    patch(fdtable.FdTable, "narrow", staticmethod(narrow))


@mutant("open_mask_grows", breaks="3 rights only shrink: an opened descriptor exceeds the parent's inheriting",
        killers=("rights.lattice",))
def open_mask_grows():
    """Bug when a kind mask is wider than the parent's inheriting rights: the mask is OR-ed in."""
    from vwasm.model import fdtable
    patch(fdtable, "narrow", lambda requested, parent_inheriting, mask: requested & (parent_inheriting | mask))


@mutant("get_ignores_rights", breaks="3 every operation checks its right",
        killers=("rights.lattice",))
def get_ignores_rights():
    """Bug when a descriptor lacks the right: FdTable.get returns it anyway."""
    from vwasm import fdtable
    from vwasm.model.wasi import Errno, WasiError

    def get(self, fd, rights=0):
        desc = self._fds.get(fd)
        if desc is None:
            raise WasiError(Errno.BADF)
        return desc
    patch(fdtable.FdTable, "get", get)
