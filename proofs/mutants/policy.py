"""Planted bugs in the safety policy (paths.policy)."""
from __future__ import annotations

from proofs.core import mutant, patch

POLICY = ("paths.policy",)


@mutant("policy_path_ignores_owner", breaks="2 filesystem isolation: a path access is judged by its path alone, "
        "whatever directory it is resolved from", killers=POLICY)
def policy_path_ignores_owner():
    """Bug in effect_safe: the base descriptor of a path access is not checked."""
    from vwasm.model import effects
    real = effects.effect_safe

    def effect_safe(e, p):
        if isinstance(e, effects.PathAccess):
            return effects.beneath(e.relpath)
        return real(e, p)
    patch(effects, "effect_safe", effect_safe)


@mutant("policy_dotdot_inside", breaks="2 filesystem isolation: `a/..` counts as beneath its directory (it "
        "resolves back inside, but leaves it on the way)", killers=POLICY)
def policy_dotdot_inside():
    """Bug in beneath: only a leading `..` is refused."""
    from vwasm.model import effects
    patch(effects, "beneath", lambda rel: rel == "" or (not rel.startswith(("/", "..")) and "\0" not in rel
                                                         and all(c not in ("", ".") for c in rel.split("/"))))


@mutant("policy_memory_end_exclusive", breaks="1 memory isolation: an access ending one byte past memory is "
        "judged in bounds", killers=POLICY)
def policy_memory_end_exclusive():
    """Bug in mem_safe: `addr + length <= size + 1`."""
    from vwasm.model import effects
    patch(effects, "mem_safe", lambda addr, length, size: 0 <= addr and 0 <= length and addr + length <= size + 1)


@mutant("policy_trace_first_only", breaks="every guarantee: trace_safe judges the first effect only",
        killers=POLICY)
def policy_trace_first_only():
    """Bug in trace_safe: an unsafe effect after the first passes."""
    from vwasm.model import effects
    patch(effects, "trace_safe", lambda trace, policy: not trace or effects.effect_safe(trace[0], policy))
