"""Type stubs of the lyap package (see the docstrings in lyap/_spectrum.py and _recorder.py)."""

import os
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

__version__: str

PathLike = Union[str, "os.PathLike[str]"]
# A torch.nn.RNN / LSTM / GRU module, a state_dict-like mapping of names to torch tensors or
# numpy arrays, or a path to a .safetensors file.
Model = Union[Any, Mapping[str, Any], PathLike]
# A float numpy array or torch tensor [B, T, D] or [T, D] ([T, B, D] for a module with
# batch_first=False).
Inputs = Union[npt.ArrayLike, Any]

class Spectrum:
    exponents: npt.NDArray[np.float64]
    std: npt.NDArray[np.float64]
    sem: npt.NDArray[np.float64]
    block_sem: npt.NDArray[np.float64]
    per_sequence: npt.NDArray[np.float64]
    summary: Dict[str, Any]
    config: Dict[str, Any]
    model: Dict[str, Any]
    seconds: float
    warnings: List[str]
    checks: Optional[Dict[str, Dict[str, float]]]
    steps: int
    converged: Optional[bool]
    dt: Optional[float]
    trace: Optional[npt.NDArray[np.float64]]
    trace_steps: Optional[npt.NDArray[np.uint64]]
    prefix: str
    def to_dict(self) -> Dict[str, Any]: ...
    def to_json(self) -> str: ...
    def save(self, path: PathLike) -> None: ...
    def trace_csv(self) -> Optional[str]: ...

def spectrum(
    model: Model,
    inputs: Optional[Inputs] = None,
    *,
    arch: Optional[Literal["lstm", "gru", "rnn-tanh", "rnn-relu"]] = None,
    prefix: Optional[str] = None,
    warmup: int = 0,
    steps: Optional[int] = None,
    k: Optional[int] = None,
    qr_every: int = 1,
    state: Literal["full", "hidden"] = "full",
    precision: Literal["float64", "float32"] = "float64",
    log_base: Literal["e", "2"] = "e",
    paper_compat: bool = False,
    trace: bool = False,
    threads: Optional[int] = None,
    until_converged: Optional[float] = None,
    max_steps: int = 100_000,
    check_max: bool = False,
    sum_rule: bool = True,
    dt: Optional[float] = None,
    closed_loop: bool = False,
    readout: Any = None,
) -> Spectrum: ...

class Recorder:
    run_dir: str
    model: Optional[Model]
    inputs: Optional[Inputs]
    every: int
    spectrum_options: Dict[str, Any]
    def __init__(
        self,
        run_dir: PathLike,
        model: Optional[Model] = None,
        inputs: Optional[Inputs] = None,
        config: Optional[Mapping[str, Any]] = None,
        every: int = 1,
        **spectrum_options: Any,
    ) -> None: ...
    @property
    def epochs(self) -> int: ...
    def log_epoch(
        self,
        train_loss: Optional[float] = None,
        val_loss: Optional[float] = None,
        spectrum: Union[Spectrum, Sequence[float], npt.ArrayLike, None] = None,
        *,
        std: Optional[npt.ArrayLike] = None,
        lr: Optional[float] = None,
        seconds: Optional[float] = None,
    ) -> Optional[Spectrum]: ...
    def close(self, failed: Optional[str] = None) -> None: ...
    def __enter__(self) -> "Recorder": ...
    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None: ...
