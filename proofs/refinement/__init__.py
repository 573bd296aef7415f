"""refinement obligations (see proofs/__init__.py)."""
