"""vwasm: a WebAssembly sandbox whose WASI layer is specified by `vwasm.model` and checked against it.

Run a WASI command: `vwasm.run(module, config)`, or `Sandbox(module, config)` for more control.
Embed it in a wasmtime-py program: `vwasm.define_wasi(linker, store, config)` in place of
`linker.define_wasi()` and `store.set_wasi(...)`. `Config` grants the guest what it may use (nothing
by default) and takes `wasmtime.WasiConfig`'s spellings. `engine_for(config)` makes an engine able to
enforce `Config.fuel` and `Config.timeout`.
"""
from .embed import Wasi, define_wasi
from .limits import engine_for
from .loader import ModuleError
from .sandbox import Config, Sandbox, run

__version__ = "0.1.0"
__all__ = ["Config", "Sandbox", "run", "define_wasi", "Wasi", "engine_for", "ModuleError", "__version__"]
