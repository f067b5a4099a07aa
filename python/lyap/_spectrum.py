"""``lyap.spectrum`` and its result ``lyap.Spectrum``."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, List, Optional, Union

import numpy as np

from . import _convert, _lyap

# `state` and `log_base` default to "not given": under paper_compat they mean hidden / 2, and
# only an explicit "full" / "e" conflicts with it (as `--state full --paper-compat` in the CLI).
_NOT_GIVEN: Any = type("_NotGiven", (), {"__repr__": lambda self: "'full'"})()
_NOT_GIVEN_BASE: Any = type("_NotGivenBase", (), {"__repr__": lambda self: "'e'"})()


class Spectrum:
    """The Lyapunov spectrum of a network over a batch of input sequences.

    Every value comes from the Rust report that ``lyap spectrum --out`` writes, in its log base
    (``config["log_base"]``: ``"e"`` nats per step, ``"2"`` bits per step; per time unit
    instead of per step when ``dt`` was given). Non-finite values are kept: a diverged exponent
    is ``-inf``, an undefined std/sem (one sequence) ``nan``.

    Attributes:
        exponents: numpy ``[k]``, mean over sequences, in QR order (largest first).
        std: numpy ``[k]``, sample standard deviation over sequences (ddof = 1).
        sem: numpy ``[k]``, standard error of the mean over sequences (``std / sqrt(B)``).
        block_sem: numpy ``[k]``, standard error of the mean from the fluctuations over time:
            each sequence's time average gets an error from the means of blocks of steps
            (batch means), combined over the batch as ``sqrt(sum_b se_b^2) / B``. It shrinks as
            the run gets longer, and is what ``until_converged`` compares with its tolerance;
            ``nan`` for an exponent that diverged to ``-inf`` or a run of a single QR step.
        per_sequence: numpy ``[B, k]``, the exponents of each sequence.
        summary: dict ``max, mean, min, variance, sum, n_positive, kaplan_yorke_dimension`` of
            the mean spectrum.
        config: dict of the computation's settings (``batch, steps, warmup, qr_every, k,
            log_base, precision, paper_compat``; ``until_converged, max_steps, converged``
            with ``until_converged``; ``dt`` with ``dt``).
        steps: the number of steps measured (``config["steps"]``; with ``until_converged``,
            where the run stopped).
        converged: ``None`` unless ``until_converged`` was given; then whether every
            ``block_sem`` (of exponents that did not diverge) fell below the tolerance before
            ``max_steps`` or the end of the inputs.
        dt: the time step given to :func:`lyap.spectrum` (``None``: exponents per step).
        checks: the built-in checks, or ``None`` when none ran: a dict with, when all
            exponents were computed (and ``sum_rule``), ``"sum_rule": {"sum",
            "mean_log_abs_det", "difference"}`` (the sum of the exponents against the time
            average of ``ln|det J_t|``, computed from the Jacobians, not from QR), and with
            ``check_max=True`` ``"max_by_perturbation": {"estimate", "difference"}`` (the
            largest exponent from two nearby trajectories, and its difference from
            ``exponents[0]``). Same keys and units as ``checks`` in the JSON; non-finite
            values are floats here (``None`` in the JSON). A sum-rule difference larger than
            rounding explains also adds a warning.
        model: dict of the network (``arch, layers, hidden_size, input_size, state,
            state_dim``).
        seconds: wall-clock seconds of the computation.
        warnings: list of notes on diverged or undefined values, a failed sum rule, or a run
            that stopped before converging.
        trace: ``None``, or with ``trace=True`` numpy ``[B, n_points, k]``: the running
            estimate ``(1/t) sum ln|R_ii|`` after each measured QR step (``trace_steps``), in
            the report's log base; the last point equals ``per_sequence``.
        trace_steps: ``None`` or numpy ``[n_points]``, the measured steps of ``trace``
            (1-based).
        prefix: the state_dict key prefix the recurrent weights were found under.
    """

    def __init__(self, raw: Dict[str, Any]):
        self._json: str = raw["json"]
        document = json.loads(self._json)
        self.exponents: np.ndarray = raw["exponents"]
        self.std: np.ndarray = raw["std"]
        self.sem: np.ndarray = raw["sem"]
        self.block_sem: np.ndarray = raw["block_sem"]
        self.per_sequence: np.ndarray = raw["per_sequence"]
        self.summary: Dict[str, Any] = raw["summary"]
        self.config: Dict[str, Any] = document["config"]
        self.model: Dict[str, Any] = document["model"]
        self.seconds: float = raw["seconds"]
        self.warnings: List[str] = list(raw["warnings"])
        self.checks: Optional[Dict[str, Dict[str, float]]] = raw.get("checks")
        self.steps: int = self.config["steps"]
        self.converged: Optional[bool] = self.config.get("converged")
        self.dt: Optional[float] = self.config.get("dt")
        self.trace: Optional[np.ndarray] = raw.get("trace")
        self.trace_steps: Optional[np.ndarray] = raw.get("trace_steps")
        self.prefix: str = raw.get("prefix", "")
        self._input_address: Optional[int] = raw.get("input_address")
        self._trace_csv: Optional[str] = raw.get("trace_csv")

    def to_dict(self) -> Dict[str, Any]:
        """The JSON document ``lyap spectrum --out`` writes, as a dict (same keys and numbers;
        non-finite values are ``None`` as in the file)."""
        return json.loads(self._json)

    def to_json(self) -> str:
        """The JSON text ``lyap spectrum --out`` writes (without the final newline)."""
        return self._json

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Writes the JSON document to ``path`` atomically (a temporary file in the same
        directory, flushed and renamed), byte for byte what ``lyap spectrum --out`` writes."""
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        fd, temp = tempfile.mkstemp(prefix=".spectrum.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self._json + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            if os.path.exists(temp):
                os.remove(temp)
            raise

    def trace_csv(self) -> Optional[str]:
        """The running estimates as the CSV text ``lyap spectrum --trace`` writes (``None``
        without ``trace=True``)."""
        return self._trace_csv

    def __repr__(self) -> str:
        m, c = self.model, self.config
        shown = np.array2string(self.exponents[:4], precision=4, separator=", ")
        more = ", ..." if len(self.exponents) > 4 else ""
        unit = f" dt={self.dt:g}" if self.dt is not None else ""
        extra = ""
        finite = self.block_sem[np.isfinite(self.block_sem)]
        if finite.size:
            extra += f" block_sem<={finite.max():.2g}"
        if self.converged is not None:
            extra += f" converged={self.converged}"
        return (
            f"<lyap.Spectrum {m['arch']} {m['layers']}x{m['hidden_size']} state={m['state']}"
            f" k={c['k']} batch={c['batch']} steps={c['steps']} log_base={c['log_base']}{unit}:"
            f" {shown[:-1]}{more}] max={self.summary['max']:.4g}{extra}>"
        )


def spectrum(
    model: Any,
    inputs: Any = None,
    *,
    arch: Optional[str] = None,
    prefix: Optional[str] = None,
    warmup: int = 0,
    steps: Optional[int] = None,
    k: Optional[int] = None,
    qr_every: int = 1,
    state: str = _NOT_GIVEN,
    precision: str = "float64",
    log_base: str = _NOT_GIVEN_BASE,
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
) -> Spectrum:
    """The Lyapunov spectrum of a recurrent network driven by input sequences.

    The discrete QR (Benettin) method: the state's tangent vectors ``Q`` are propagated by the
    Jacobian of each step and re-orthonormalised, ``J_t Q_{t-1} = Q_t R_t``, and exponent ``i``
    is ``(1/T) sum_t ln|R_t[i, i]|``, per sequence, then averaged over the batch (see the
    repository's docs/DESIGN.md section 2). The numbers are those of ``lyap spectrum`` on the
    same weights and inputs, bit for bit in float64. The GIL is released while it runs.

    Args:
        model: a ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` module (``num_layers``, ``bias``,
            ``nonlinearity`` and ``batch_first`` honoured; dropout ignored, as in eval mode;
            bidirectional and ``proj_size`` modules are refused), a state_dict-like mapping of
            names to torch tensors or numpy arrays (the prefix of the recurrent keys, e.g.
            ``lstm.``, and the architecture are found as the CLI finds them; ``arch=`` and
            ``prefix=`` choose), or a path to a ``.safetensors`` file.
        inputs: float numpy array or torch tensor (any device, any float dtype; float16 and
            bfloat16 are read as float32), ``[B, T, D]`` or ``[T, D]`` for one sequence; for a
            module with ``batch_first=False`` its own layout ``[T, B, D]``. float32/float64
            C-ordered arrays are read without a copy. ``None``: zero input, as
            ``lyap spectrum --zero-input`` (10 sequences, ``steps`` default 100).
        arch: ``"lstm"``, ``"gru"``, ``"rnn-tanh"`` or ``"rnn-relu"`` (default: from the
            module, or the file's metadata, or the shapes).
        prefix: key prefix of the recurrent weights in a mapping or file (``""``: none).
        warmup: steps run before measuring (``W``).
        steps: measured steps (default: every step after the warm-up; all of them under
            ``paper_compat``, whose warm-up replays the sequence).
        k: number of exponents (default: all, the state dimension).
        qr_every: re-orthonormalise every this many steps (and at the last step).
        state: ``"full"`` (LSTM ``(h, c)``, 2n exponents per layer) or ``"hidden"`` (``h``
            only, the paper's choice); RNN and GRU states are ``h`` anyway.
        precision: ``"float64"`` or ``"float32"`` arithmetic.
        log_base: ``"e"`` (nats per step) or ``"2"`` (bits per step).
        paper_compat: reproduce the paper's reference code (transposed Jacobian, its warm-up,
            log base 2, hidden state); an explicit ``state="full"`` or ``log_base="e"``
            conflicts with it.
        trace: record the running estimates (``Spectrum.trace``).
        threads: number of threads (default: all cores).
        until_converged: a tolerance: measure in chunks until every exponent's ``block_sem``
            (in the reported unit) is below it, as ``lyap spectrum --until-converged``;
            ``steps`` is then the first chunk (default 100, or fewer if the inputs hold fewer).
            Zero inputs (``inputs=None``) are extended as needed; an input array stops the run
            where it ends. ``Spectrum.converged`` and ``Spectrum.steps`` say how it ended (a
            run that stops short also adds a warning).
        max_steps: the step limit of ``until_converged`` (used only with it).
        check_max: also estimate the largest exponent by two nearby trajectories
            (``Spectrum.checks["max_by_perturbation"]``); needs the full state of an LSTM.
        sum_rule: check the sum of all exponents against the time average of ``ln|det J|``
            (``Spectrum.checks["sum_rule"]``; only when all exponents are computed).
            ``False`` skips it (it costs an LU per step for a GRU or a hidden-state LSTM).
        dt: the time between two steps (a network trained on a flow sampled every ``dt``):
            exponents, errors, checks and ``until_converged`` are then per time unit (per
            step divided by ``dt``).
        closed_loop: run the network on its own output, as ``lyap spectrum --closed-loop``
            (docs/DESIGN.md section 2.2): the readout ``x = W h + b`` of the top layer's hidden
            state becomes the next input, an autonomous system with an exact Jacobian.
            ``inputs`` then only prime the state (open loop, all their steps, not measured);
            the closed loop runs ``warmup`` steps and measures ``steps`` (default 100). With
            ``inputs=None``: the zero state and a zero first input, one sequence.
        readout: for ``closed_loop``: ``None`` (``fc.weight``/``fc.bias`` of the mapping or
            file, or its only linear map from the hidden size to the input size), a key
            prefix (``"head"`` for ``head.weight``), a ``torch.nn.Linear``, or a
            ``(weight, bias)`` pair of arrays (``bias`` may be ``None``). Needed with a
            ``torch.nn`` recurrent module, whose state_dict has no readout.

    Returns:
        A :class:`Spectrum`.

    Raises:
        ValueError: a bad value (NaN/inf in weights or inputs, wrong input size, empty batch,
            ``k`` larger than the state, a warm-up leaving no steps, a bidirectional module,
            conflicting options, ``until_converged`` or ``dt`` not positive and finite,
            ``max_steps=0``, ``check_max`` with ``state="hidden"`` on an LSTM), with the CLI's
            one-line message.
        TypeError: a wrong type (integer arrays where floats are needed, an unsupported
            model object).
        RuntimeError: an internal fault of the library (never an abort).

    Example:
        >>> import torch, lyap
        >>> lstm = torch.nn.LSTM(8, 32, batch_first=True)
        >>> s = lyap.spectrum(lstm, torch.randn(4, 200, 8), warmup=100)
        >>> s.exponents.shape
        (64,)
    """
    source, arch, prefix, batch_first = _convert.model_source(model, arch, prefix)
    if closed_loop and readout is None and _convert.torch_rnn_info(model) is not None:
        raise ValueError(
            "closed_loop=True with a torch.nn recurrent module needs readout=, the nn.Linear "
            "that maps its hidden state to its input"
        )
    readout = _convert.readout_source(readout)
    if state is _NOT_GIVEN:
        state = None
    if log_base is _NOT_GIVEN_BASE:
        log_base = None
    elif log_base is not None:
        log_base = str(log_base)
    array = None if inputs is None else _convert.input_array(inputs, batch_first)
    raw = _lyap.spectrum(
        source,
        array,
        arch=arch,
        prefix=prefix,
        warmup=_count(warmup, "warmup"),
        steps=None if steps is None else _count(steps, "steps"),
        k=None if k is None else _count(k, "k"),
        qr_every=_count(qr_every, "qr_every"),
        state=state,
        precision=str(precision),
        log_base=log_base,
        paper_compat=bool(paper_compat),
        trace=bool(trace),
        threads=None if threads is None else _count(threads, "threads"),
        until_converged=_number(until_converged, "until_converged"),
        max_steps=_count(max_steps, "max_steps"),
        check_max=bool(check_max),
        sum_rule=bool(sum_rule),
        dt=_number(dt, "dt"),
        closed_loop=bool(closed_loop),
        readout=readout,
    )
    return Spectrum(raw)


def _count(value: Any, name: str) -> int:
    """A non-negative integer option (``True``/``False`` and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    return int(value)


def _number(value: Any, name: str) -> Optional[float]:
    """An optional real option (``True``/``False`` and non-numbers refused); its range is
    checked by the extension."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)
