"""The specification of vwasm's WASI preview1 layer: an abstract sandbox and its transitions.

`wasi` is the vocabulary; `fs`, `paths`, `fdtable`, `net` the abstract parts; `effects` the safety
policy (trace safety); `sandbox` the state machine the runtime must refine. Pure Python, no I/O
(except `fs.FileSystem.from_host`, which reads a real tree for comparisons).
"""
