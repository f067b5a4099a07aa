"""The Rust extension module (internal; use lyap.spectrum and lyap.Recorder)."""

from typing import Any, Dict, Optional, List

import numpy as np

__version__: str

def spectrum(
    source: Any,
    inputs: Optional[np.ndarray],
    *,
    arch: Optional[str] = None,
    prefix: Optional[str] = None,
    warmup: int = 0,
    steps: Optional[int] = None,
    k: Optional[int] = None,
    qr_every: int = 1,
    state: Optional[str] = None,
    precision: str = "float64",
    log_base: Optional[str] = None,
    paper_compat: bool = False,
    trace: bool = False,
    threads: Optional[int] = None,
) -> Dict[str, Any]: ...
def imported_spectrum_json(
    exponents: List[float], std: Optional[List[float]] = None, log_base: str = "e"
) -> str: ...
def _panic_for_test() -> None: ...

class RunWriter:
    epochs: int
    def __init__(self, path: str, config_json: str) -> None: ...
    def log_epoch(
        self,
        train_loss: Optional[float] = None,
        val_loss: Optional[float] = None,
        lr: Optional[float] = None,
        train_seconds: Optional[float] = None,
        spectrum_json: Optional[str] = None,
        trace_csv: Optional[str] = None,
    ) -> int: ...
    def close(self, failed: Optional[str] = None) -> None: ...
