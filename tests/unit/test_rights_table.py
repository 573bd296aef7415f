"""The rights table (model/rights.py) is the only place rights checks come from.

Every row that names a right is asked for, by name, in the runtime's handler and in the model's
transition; no handler or transition checks a right spelled out by hand.
"""
import ast
import re
from pathlib import Path

from vwasm.model.rights import REQUIRES, need

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted((ROOT / "impl" / "syscalls").glob("*.py"))
MODEL = ROOT / "model" / "sandbox.py"
# The functions through which a handler or transition checks rights: their rights argument must
# come from the table.
CHECKS = {"require_rights", "get_kind", "get", "_dir", "_positioned", "_socket"}


def _asked(path: Path) -> set[str]:
    """Calls named as need("call", ...) in a source file, or passed to a helper that asks (_recv/_send)."""
    text = path.read_text()
    return set(re.findall(r'need\("(\w+)"', text)) | set(re.findall(r'_(?:recv|send)\(s, "(\w+)"', text))


def test_every_row_is_asked_for_by_runtime_and_model():
    rows = {call for call, needs in REQUIRES.items() if needs}
    runtime = set().union(*(_asked(p) for p in HANDLERS))
    assert rows - runtime == set(), "rows no handler asks for"
    assert rows - _asked(MODEL) == set(), "rows no transition asks for"


def _hand_written_rights(path: Path) -> list[str]:
    bad = []
    for node in ast.walk(ast.parse(path.read_text())):
        # `Rights.X & ~d.rights_base`: a check written out by hand.
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd)
                and isinstance(node.right, ast.UnaryOp) and isinstance(node.right.op, ast.Invert)
                and getattr(node.right.operand, "attr", "") in ("rights_base", "rights_inheriting")
                and any(isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "Rights"
                        for n in ast.walk(node.left))):
            bad.append(f"{path.name}:{node.lineno} Rights.* & ~rights")
            continue
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in CHECKS:
            continue
        for arg in node.args[1:]:
            for sub in ast.walk(arg):
                if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "Rights":
                    bad.append(f"{path.name}:{node.lineno} {name}(... Rights.{sub.attr} ...)")
    return bad


def test_no_rights_check_is_spelled_by_hand():
    assert [b for p in HANDLERS + [MODEL] for b in _hand_written_rights(p)] == []


def test_conditional_rights():
    from vwasm.model.rights import INHERITING, NEW_FD, SUBSCRIBED, open_conditions, seek_condition
    from vwasm.model.wasi import Fdflags, Oflags, Rights
    assert need("fd_seek", "fd", seek_condition(0, 1)) == Rights.FD_TELL
    assert need("fd_seek", "fd", seek_condition(1, 1)) == Rights.FD_SEEK
    assert need("fd_seek", "fd", seek_condition(0, 0)) == Rights.FD_SEEK
    conds = open_conditions(Oflags.CREAT | Oflags.TRUNC, Fdflags.RSYNC)
    assert need("path_open", "fd", *conds) == Rights.PATH_OPEN | Rights.PATH_CREATE_FILE | Rights.PATH_FILESTAT_SET_SIZE
    assert need("path_open", "fd", *conds, rights=INHERITING) == Rights.FD_SYNC
    assert need("path_rename", NEW_FD) == Rights.PATH_RENAME_TARGET
    assert need("poll_oneoff", SUBSCRIBED, "read") == Rights.POLL_FD_READWRITE | Rights.FD_READ
