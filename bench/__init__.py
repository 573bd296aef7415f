"""Side-by-side benchmarks: vwasm against wasmtime's built-in WASI, measured in the same run."""
