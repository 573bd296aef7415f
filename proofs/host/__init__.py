"""host obligations (see proofs/__init__.py)."""
