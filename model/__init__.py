"""vwasm.model: the specification of the sandbox (pure Python, no I/O, no wasmtime)."""
