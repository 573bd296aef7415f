"""vwasm: a WebAssembly sandbox whose WASI layer is specified by `vwasm.model` and checked against it."""
from .sandbox import Config, Sandbox, run

__version__ = "0.1.0"
__all__ = ["Config", "Sandbox", "run", "__version__"]
