"""proofs.mutate: the generator is deterministic, big enough, writes every chosen mutant as the tree it
means, and every mutated file is mapped to obligations. (Running mutants is `make mutate`.)"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from proofs.mutate.__main__ import choose, edited_line, generate, load_equivalents
from proofs.mutate.operators import apply
from proofs.mutate.targets import COVERS, obligations_for


@pytest.fixture(scope="module")
def generated():
    return generate()


def test_enough_mutants_over_every_target(generated):
    mutants, texts = generated
    assert len(mutants) >= 300
    assert {m.file for m in mutants} == set(texts)
    ops = {m.op for m in mutants}
    assert {"cmp", "arith", "const", "swap_name", "drop_check", "drop_call", "swap_args", "bool", "check_late"} <= ops


def test_ids_and_keys_are_unique_and_stable(generated):
    mutants, _ = generated
    assert len({m.key for m in mutants}) == len(mutants)
    again, _ = generate()
    assert [m.key for m in again] == [m.key for m in mutants]
    assert [m.key for m in choose(again, 40, 1)] == [m.key for m in choose(mutants, 40, 1)]
    assert [m.key for m in choose(mutants, 40, 1)] != [m.key for m in choose(mutants, 40, 2)]


def test_sampled_mutants_apply_as_one_change(generated):
    mutants, texts = generated
    applied = 0
    for m in choose(mutants, 60, 7):
        try:
            text = apply(texts[m.file], m)
        except ValueError as e:  # a C edit the compiler refuses is no mutant: the run skips it too
            if m.file.endswith(".c") and "does not compile" in str(e):
                continue
            raise
        applied += 1
        if m.file.endswith(".py"):  # a C mutant is checked by compiling it (c_operators.apply)
            assert ast.dump(ast.parse(text)) != ast.dump(ast.parse(texts[m.file]))
        assert text != texts[m.file]
        changed = [i for i, (a, b) in enumerate(zip(texts[m.file].splitlines(), text.splitlines())) if a != b]
        assert changed and changed[0] + 1 >= m.line - 1, m.id
    assert applied >= 50


def test_c_mutants_are_single_compilable_edits_of_the_c_entries():
    """The C operators find the bug families in impl/fastcalls.c, each mutant one edit that builds."""
    from proofs.mutate import c_operators
    src = (Path(__file__).resolve().parent.parent / "impl" / "fastcalls.c").read_text()
    mutants = c_operators.find_mutants(src, "impl/fastcalls.c")
    assert {"cmp", "arith", "bool", "drop_not", "const", "swap_name", "drop_stmt"} <= {m.op for m in mutants}
    assert all(m.scope != "<file>" or m.op == "swap_name" for m in mutants)  # layouts are not mutated
    bounds = [m for m in mutants if m.scope == "guest_bytes" and m.op == "drop_stmt" and "ptr + len" in m.desc]
    assert len(bounds) == 1
    text = c_operators.apply(src, bounds[0])
    assert "ptr + len >" not in text and len(text) < len(src)
    broken = c_operators.Mutant("impl/fastcalls.c", 1, "const", "x", "f", change=("text", 0, 0, "not C "))
    with pytest.raises(ValueError, match="does not compile"):
        c_operators.apply(src, broken)


def test_every_target_file_runs_some_obligation(generated):
    from proofs.core import OBLIGATIONS
    from proofs.runner import discover
    discover()
    _, texts = generated
    for f in texts:
        assert obligations_for(f, OBLIGATIONS), f"{f}: no obligation covers it"
    assert all(patterns for _, patterns in COVERS)


def test_equivalents_name_generated_mutants_with_reasons(generated):
    """Each entry names a mutant generated now, with a reason, and says the edit it judged: a key's
    `#n` counts alike edits within one function, so after the function changes it may name another."""
    mutants, texts = generated
    by_key = {m.key: m for m in mutants}
    for key, (reason, edit) in load_equivalents(with_edits=True).items():
        assert reason.strip(), key
        assert key in by_key, f"equivalent.toml names {key}, which is no longer generated"
        now = edited_line(texts[by_key[key].file], by_key[key])
        assert edit == now, f"equivalent.toml: {key} was judged as `{edit}`; that key now edits `{now}`"
