"""Generated mutants as the measure of the obligations: `python -m proofs.mutate` (`make mutate`).

- `operators.py`   the mutation operators (ast): what a generated bug looks like
- `targets.py`     which files are mutated, and which obligations each file's mutants run against
- `child.py`       the process that runs one mutant's obligations over a mutated copy of the package
- `equivalent.toml` mutants judged equivalent (no observable difference), each with the reason
- `__main__.py`    generation, the seeded choice, 2 at a time, the score and the survivors
"""
