"""mutants obligations (see proofs/__init__.py)."""
