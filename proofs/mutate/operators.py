"""The mutation operators: single-point bugs of the kinds the project's bug families are made of.

Each operator finds sites in a module's syntax tree (`ast`) and describes one small change per
site. A change is applied to the source text (the changed node's span is replaced, so the rest of
the file keeps its lines) and checked: the changed text must parse to exactly the tree the change
means, and to a tree different from the original.

Operators (PIT's few boring ones, plus the names our handlers confuse):
  cmp          `<` <-> `<=`, `>` <-> `>=`, a comparison negated, `in` <-> `not in`, `is` <-> `is not`
  arith        `+` <-> `-`, `&` <-> `|`, `<<` <-> `>>`, `*` -> `//`, ...
  drop_flag    one operand of a `|` dropped (a rights or flags set missing a member)
  drop_not     `not x` -> `x`;  drop_invert: `~x` -> `x` (a mask used the wrong way round)
  const        an integer constant +1 / -1 (bounds, sizes, offsets, limits)
  swap_name    Rights.X -> Rights.Y, Errno.X -> Errno.Y, a flag or filetype confused; a descriptor
               kind (FILE <-> DIR), a rights set (DIR_RIGHTS <-> DIR_RIGHTS_READONLY) or
               `rights_base` <-> `rights_inheriting` confused
  drop_check   an `if ...: raise` removed
  drop_call    a call statement removed (a check, a close, a write)
  drop_store   an assignment to an attribute or item removed (state not updated)
  swap_args    two neighbouring positional arguments of a call exchanged
  bool         `and` <-> `or`
  check_late   a check (an `if ...: raise`, or a call statement) moved after the statement that
               follows it (the check-after-effect family)
Not mutated: docstrings, annotations, decorators (the model's icontract contracts are checks of
the model, not its behaviour), well-formedness predicates (`wf`, `*_wf`: the same), `assert`
statements, f-strings.
"""
from __future__ import annotations

import ast
import copy
import hashlib
from dataclasses import dataclass, field

# Enumerations and flag classes of model/wasi.py whose members a handler may confuse.
ENUM_CLASSES = (
    "Rights", "Errno", "Oflags", "Fdflags", "Lookupflags", "Fstflags", "Filetype", "Whence", "Sdflags",
    "Riflags", "Roflags", "Eventtype", "Eventrwflags", "Subclockflags", "Clockid", "Advice",
    "AddressFamily", "SocketType", "Protocol", "Preopentype",
)
# Bare names that stand for one of a family of values.
NAME_GROUPS = (
    ("STDIN", "STDOUT", "STDERR", "FILE", "DIR", "SOCKET"),  # impl descriptor kinds
    ("FILE_RIGHTS", "DIR_RIGHTS", "DIR_RIGHTS_READONLY", "FILE_RIGHTS_READONLY", "STDIN_RIGHTS",
     "STDOUT_RIGHTS", "SOCKET_RIGHTS", "ALL_RIGHTS"),
    ("_READABLE", "_WRITABLE", "_FILES", "_NODES"),  # impl/syscalls/fd.py kind sets
)
ATTR_GROUPS = (("rights_base", "rights_inheriting"),)
# Functions not mutated: well-formedness predicates are the model's contracts (checks of the model,
# not its behaviour); `from_host` reads a real tree for the tests; text forms are for messages.
SKIP_FUNCTIONS = ("wf", "from_host", "__repr__", "__str__")
# Calls whose positional arguments commute or whose order is not a bug worth a mutant.
NO_SWAP_CALLS = {"isinstance", "range", "getattr", "setattr", "hasattr", "min", "max", "print", "int",
                 "str", "len", "format", "super", "replace", "dict", "tuple", "frozenset", "set", "zip"}

_CMP_ALTS = {
    ast.Lt: (ast.LtE, ast.GtE), ast.LtE: (ast.Lt, ast.Gt), ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt), ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,), ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,),
}
_ARITH_ALTS = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv,
    ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.BitXor: ast.BitOr, ast.LShift: ast.RShift,
    ast.RShift: ast.LShift, ast.Div: ast.Mult,
}
_SYM = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
    ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
    ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
    ast.RShift: ">>", ast.Div: "/", ast.And: "and", ast.Or: "or",
}


@dataclass
class Mutant:
    """One generated mutant. `id` is what reports show; `key` (no line number, so edits elsewhere in
    the file do not change it) is what the equivalents list names."""

    file: str  # repository-relative path
    line: int
    op: str
    desc: str
    scope: str  # enclosing function/class (qualified), or the top-level name
    nth: int = 0  # the n-th mutant with the same file, scope, op and description
    # How to make it: the path from the module to the node, and the change (see `_apply_change`).
    path: tuple = field(default=(), repr=False)
    change: tuple = field(default=(), repr=False)

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}:{self.op}:{self.desc}"

    @property
    def key(self) -> str:
        return f"{self.file}::{self.scope}::{self.op}::{self.desc}" + (f"#{self.nth}" if self.nth else "")


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


class _Source:
    """A module's text with its line offsets (ast positions are UTF-8 byte columns)."""

    def __init__(self, src: str):
        self.bytes = src.encode()
        self.starts = _offsets(self.bytes)

    def span(self, n: ast.AST) -> tuple[int, int]:
        return self.starts[n.lineno - 1] + n.col_offset, self.starts[n.end_lineno - 1] + n.end_col_offset

    def seg(self, n: ast.AST) -> str:
        s, e = self.span(n)
        return self.bytes[s:e].decode()


def _pick(options: list, salt: str):
    """A stable choice (no global random state): the same site always gets the same alternative."""
    h = int.from_bytes(hashlib.sha256(salt.encode()).digest()[:8], "big")
    return options[h % len(options)]


class _Finder:
    """Walks one module and lists its mutation sites."""

    def __init__(self, src: str, file: str, members: dict[str, list[str]], region):
        self.src, self.file, self.members, self.region = _Source(src), file, members, region
        self.out: list[Mutant] = []
        self.used_members: dict[str, set[str]] = {}
        self.names_in_file: set[str] = set()

    def note_names(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in self.members:
                self.used_members.setdefault(node.value.id, set()).add(node.attr)
            elif isinstance(node, ast.Name):
                self.names_in_file.add(node.id)

    def add(self, node, path, op, desc, change, scope):
        self.out.append(Mutant(self.file, node.lineno, op, desc, scope, path=tuple(path), change=change))

    # --- the walk ----------------------------------------------------------------------------
    def run(self, tree: ast.Module) -> list[Mutant]:
        self.note_names(tree)
        for i, stmt in enumerate(tree.body):
            name = _top_name(stmt)
            if not self.region(name):
                continue
            self.visit(stmt, [("body", i)], name or "<module>")
        self.stmt_list(tree.body, [], "body", "<module>", top=True)
        return self.out

    def visit(self, node, path, scope):
        if isinstance(node, (ast.Assert, ast.JoinedStr)):
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name in SKIP_FUNCTIONS or node.name.endswith("_wf"):
                return
            scope = node.name if scope in ("<module>", node.name) else f"{scope}.{node.name}"
        self.site(node, path, scope)
        for fname, value in ast.iter_fields(node):
            if fname in ("decorator_list", "annotation", "returns", "type_comment"):
                continue
            if isinstance(value, list):
                if fname in ("body", "orelse", "finalbody") and value and isinstance(value[0], ast.stmt):
                    self.stmt_list(value, path, fname, scope)
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        if fname == "body" and i == 0 and _is_docstring(item):
                            continue
                        self.visit(item, path + [(fname, i)], scope)
            elif isinstance(value, ast.AST):
                if fname == "args" and isinstance(value, ast.arguments):
                    # Only default values: parameter names and annotations are not behaviour.
                    for j, d in enumerate(value.defaults):
                        self.visit(d, path + [("args",), ("defaults", j)], scope)
                    for j, d in enumerate(value.kw_defaults):
                        if d is not None:
                            self.visit(d, path + [("args",), ("kw_defaults", j)], scope)
                    continue
                self.visit(value, path + [(fname,)], scope)

    def stmt_list(self, body, path, fname, scope, top=False):
        """Statement-level operators over one block (`path` leads to the block's owner)."""
        for i, stmt in enumerate(body):
            if top and not self.region(_top_name(stmt)):
                continue
            if _is_docstring(stmt) or isinstance(stmt, ast.Assert):
                continue
            here = path + [(fname, i)]
            if top:
                scope = _top_name(stmt) or "<module>"
            first = _short(self.src.seg(stmt).splitlines()[0], 60)
            if _is_if_raise(stmt):
                self.add(stmt, here, "drop_check", f"removed `{first}`", ("remove",), scope)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                self.add(stmt, here, "drop_call", f"removed `{first}`", ("remove",), scope)
            elif isinstance(stmt, (ast.Assign, ast.AugAssign)) and all(
                    isinstance(t, (ast.Attribute, ast.Subscript))
                    for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])):
                self.add(stmt, here, "drop_store", f"removed `{first}`", ("remove",), scope)
            nxt = body[i + 1] if i + 1 < len(body) else None
            if (nxt is not None and not isinstance(nxt, (ast.Return, ast.Raise, ast.FunctionDef, ast.ClassDef))
                    and (_is_if_raise(stmt) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)))):
                nfirst = _short(self.src.seg(nxt).splitlines()[0], 40)
                self.add(stmt, here, "check_late", f"`{first}` moved after `{nfirst}`", ("swap_next",), scope)

    def site(self, node, path, scope):
        src = self.src
        if isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                for alt in _CMP_ALTS.get(type(op), ()):
                    self.add(node, path, "cmp", f"`{_SYM[type(op)]}` -> `{_SYM[alt]}` in `{_short(src.seg(node), 50)}`",
                             ("cmpop", k, alt.__name__), scope)
        elif isinstance(node, ast.BinOp):
            if _is_string_format(node):
                return
            alt = _ARITH_ALTS.get(type(node.op))
            if alt is not None:
                self.add(node, path, "arith", f"`{_SYM[type(node.op)]}` -> `{_SYM[alt]}` in `{_short(src.seg(node), 50)}`",
                         ("binop", alt.__name__), scope)
            if isinstance(node.op, ast.BitOr):
                self.add(node, path, "drop_flag", f"`{_short(src.seg(node.right), 40)}` dropped from a `|`",
                         ("keep", "left"), scope)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
            op = "drop_not" if isinstance(node.op, ast.Not) else "drop_invert"
            self.add(node, path, op, f"`{_short(src.seg(node), 50)}` -> `{_short(src.seg(node.operand), 46)}`",
                     ("keep", "operand"), scope)
        elif isinstance(node, ast.BoolOp):
            alt = ast.Or if isinstance(node.op, ast.And) else ast.And
            self.add(node, path, "bool", f"`{_SYM[type(node.op)]}` -> `{_SYM[alt]}` in `{_short(src.seg(node), 50)}`",
                     ("boolop", alt.__name__), scope)
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            for d in (1, -1):
                self.add(node, path, "const", f"{node.value} -> {node.value + d}", ("const", node.value + d), scope)
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id in self.members and node.attr in self.members[node.value.id]):
            cls = node.value.id
            # A confusion with a member this file also uses, if any (the plausible slip).
            options = sorted(self.used_members.get(cls, set()) - {node.attr}) or \
                [m for m in self.members[cls] if m != node.attr]
            if options:
                other = _pick(options, f"{self.file}:{scope}:{node.lineno}:{node.col_offset}")
                self.add(node, path, "swap_name", f"{cls}.{node.attr} -> {cls}.{other}", ("attr", other), scope)
        elif isinstance(node, ast.Attribute):
            for group in ATTR_GROUPS:
                if node.attr in group:
                    other = _pick([g for g in group if g != node.attr], node.attr)
                    self.add(node, path, "swap_name", f".{node.attr} -> .{other}", ("attr", other), scope)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            for group in NAME_GROUPS:
                if node.id in group:
                    options = [g for g in group if g != node.id and g in self.names_in_file]
                    if options:
                        other = _pick(options, f"{self.file}:{scope}:{node.lineno}:{node.col_offset}")
                        self.add(node, path, "swap_name", f"{node.id} -> {other}", ("name", other), scope)
        if isinstance(node, ast.Call) and not any(isinstance(a, ast.Starred) for a in node.args):
            fname = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if fname not in NO_SWAP_CALLS:
                for k in range(len(node.args) - 1):
                    a, b = src.seg(node.args[k]), src.seg(node.args[k + 1])
                    if a != b:
                        self.add(node, path, "swap_args",
                                 f"{fname}(.. `{_short(a, 25)}`, `{_short(b, 25)}` ..) swapped", ("swapargs", k), scope)


def _top_name(stmt) -> str | None:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt.name
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    return None


def _is_docstring(stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _is_if_raise(stmt) -> bool:
    return isinstance(stmt, ast.If) and not stmt.orelse and isinstance(stmt.body[-1], ast.Raise)


def _is_string_format(node: ast.BinOp) -> bool:
    return isinstance(node.op, ast.Mod) and isinstance(node.left, (ast.Constant, ast.JoinedStr))


def find_mutants(src: str, file: str, members: dict[str, list[str]], region=lambda name: True) -> list[Mutant]:
    """Every mutation site of one module, in source order; `region(top-level name)` limits the walk.
    A C file (the C entries of the trusted base) has its own operators (c_operators.py)."""
    if file.endswith(".c"):
        from . import c_operators
        found = c_operators.find_mutants(src, file)
    else:
        found = _Finder(src, file, members, region).run(ast.parse(src))
    # Statement operators were listed per block after the expression walk: sort into source order.
    found.sort(key=lambda m: (m.line, m.op, m.desc))
    seen: dict[tuple, int] = {}
    for m in found:
        k = (m.scope, m.op, m.desc)
        m.nth = seen.get(k, 0)
        seen[k] = m.nth + 1
    return found


# --- applying a mutant ------------------------------------------------------------------------------
def _resolve(tree, path):
    """The node at `path` and a setter that replaces it (or, for a statement, its list and index)."""
    node = tree
    parent, slot = None, None
    for step in path:
        parent = node
        if len(step) == 1:
            slot = (step[0], None)
            node = getattr(node, step[0])
        else:
            slot = step
            node = getattr(node, step[0])[step[1]]
    return parent, slot, node


def _expected(tree, m: Mutant):
    """The tree the mutant means (a changed copy), and the changed node in it."""
    tree = copy.deepcopy(tree)
    parent, (fname, idx), node = _resolve(tree, m.path)
    kind = m.change[0]
    new = node
    if kind == "cmpop":
        new.ops[m.change[1]] = getattr(ast, m.change[2])()
    elif kind == "binop":
        new.op = getattr(ast, m.change[1])()
    elif kind == "boolop":
        new.op = getattr(ast, m.change[1])()
    elif kind == "keep":
        new = getattr(node, m.change[1])
    elif kind == "const":
        v = m.change[1]
        new = ast.Constant(v) if v >= 0 else ast.UnaryOp(ast.USub(), ast.Constant(-v))
    elif kind == "attr":
        new.attr = m.change[1]
    elif kind == "name":
        new.id = m.change[1]
    elif kind == "swapargs":
        k = m.change[1]
        new.args[k], new.args[k + 1] = new.args[k + 1], new.args[k]
    elif kind == "remove":
        new = ast.Pass()
    elif kind == "swap_next":
        lst = getattr(parent, fname)
        lst[idx], lst[idx + 1] = lst[idx + 1], lst[idx]
        return tree, None
    else:
        raise ValueError(kind)
    if idx is None:
        setattr(parent, fname, new)
    else:
        getattr(parent, fname)[idx] = new
    return tree, new


def _offsets(src_bytes: bytes) -> list[int]:
    starts = [0]
    for i, b in enumerate(src_bytes):
        if b == 10:
            starts.append(i + 1)
    return starts


def apply(src: str, m: Mutant) -> str:
    """The mutated source text, or ValueError if the change cannot be written as the tree it means."""
    if m.change[0] == "text":  # a C mutant (c_operators.py)
        from . import c_operators
        return c_operators.apply(src, m)
    tree = ast.parse(src)
    want, new_node = _expected(tree, m)
    _, _, node = _resolve(tree, m.path)
    b = src.encode()
    starts = _offsets(b)

    def span(n):
        return starts[n.lineno - 1] + n.col_offset, starts[n.end_lineno - 1] + n.end_col_offset

    if m.change[0] == "swap_next":
        parent, (fname, idx), _ = _resolve(tree, m.path)
        first, second = getattr(parent, fname)[idx], getattr(parent, fname)[idx + 1]
        s1, e1 = span(first)
        s2, e2 = span(second)
        indent = b[starts[first.lineno - 1]:s1]
        text = b[s2:e2] + b"\n" + indent + b[s1:e1]
        out = b[:s1] + text + b[e2:]
    else:
        s, e = span(node)
        if m.change[0] == "remove":
            text = "pass"
        else:
            text = ast.unparse(new_node)
            if not isinstance(new_node, (ast.Name, ast.Attribute, ast.Constant)):
                text = f"({text})"
        out = b[:s] + text.encode() + b[e:]
    result = out.decode()
    got = ast.parse(result)
    if ast.dump(got) != ast.dump(want):
        raise ValueError(f"mutant {m.id}: the edited text does not parse to the intended tree")
    if ast.dump(got) == ast.dump(tree):
        raise ValueError(f"mutant {m.id}: no change")
    return result


def diff_lines(src: str, mutated: str) -> tuple[str, str]:
    """The first changed line, before and after (for reports)."""
    a, b = src.splitlines(), mutated.splitlines()
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return x.strip(), y.strip()
    return "", ""
