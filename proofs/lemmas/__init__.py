"""lemmas obligations (see proofs/__init__.py)."""
