"""``lyap.Recorder``: a training loop recorded into a run directory."""

from __future__ import annotations

import json
import os
import time
from typing import Any, Mapping, Optional, Union

import numpy as np

from . import _lyap
from ._spectrum import Spectrum, spectrum as compute_spectrum


class Recorder:
    """Records a training loop into a run directory, as ``lyap train`` writes one.

    ::

        with lyap.Recorder("runs/lr0.01", model=model.lstm, inputs=x,
                           config={"lr": 0.01, "hidden": 128}) as rec:
            for epoch in range(epochs):
                ...  # train
                rec.log_epoch(train_loss=loss, val_loss=val)

    Every call of :meth:`log_epoch` appends one line to ``metrics.jsonl`` (epoch, losses, and
    the spectrum's summary features) and, for epochs with a spectrum, writes
    ``spectra/epoch_NNN.json`` (the document of ``lyap spectrum --out``). ``config.json`` holds
    ``config``, the hyperparameters ``lyap analyze`` relates to the spectra; ``status.json``
    says ``running`` until :meth:`close` marks the run ``completed`` (or ``failed``). Every
    file is written atomically. ``lyap report RUN_DIR`` makes the run's figures and
    ``lyap analyze DIR`` analyses a directory of such runs.

    Args:
        run_dir: the directory to create (its parents too); one that already holds a run is
            refused.
        model: the network whose spectrum is measured each ``every`` epochs (anything
            :func:`lyap.spectrum` takes, e.g. ``model.lstm``), read at each epoch so that the
            current weights are used. ``None``: spectra are only those passed to
            :meth:`log_epoch`.
        inputs: the input sequences of those spectra (see :func:`lyap.spectrum`).
        config: a dict of hyperparameters (JSON-serialisable: numbers, strings, booleans,
            lists, dicts; numpy scalars and arrays are converted).
        every: measure the spectrum at epochs ``every, 2 every, ...`` (``0``: never).
        **spectrum_options: keyword arguments of :func:`lyap.spectrum` (``warmup``, ``k``,
            ``state``, ``trace``, ...).
    """

    def __init__(
        self,
        run_dir: Union[str, "os.PathLike[str]"],
        model: Any = None,
        inputs: Any = None,
        config: Optional[Mapping[str, Any]] = None,
        every: int = 1,
        **spectrum_options: Any,
    ):
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 0:
            raise ValueError(f"every must be a non-negative integer, got {every!r}")
        if config is None:
            config = {}
        if not isinstance(config, Mapping):
            raise TypeError(f"config must be a dict, got {type(config).__name__}")
        self.run_dir = os.fspath(run_dir)
        self.model = model
        self.inputs = inputs
        self.every = int(every)
        self.spectrum_options = dict(spectrum_options)
        text = json.dumps(_jsonable(dict(config)), allow_nan=False)
        self._writer = _lyap.RunWriter(self.run_dir, text)
        self._closed = False
        self._last = time.perf_counter()

    @property
    def epochs(self) -> int:
        """Number of epochs logged so far."""
        return self._writer.epochs

    def log_epoch(
        self,
        train_loss: Optional[float] = None,
        val_loss: Optional[float] = None,
        spectrum: Any = None,
        *,
        std: Any = None,
        lr: Optional[float] = None,
        seconds: Optional[float] = None,
    ) -> Optional[Spectrum]:
        """Records the next epoch (numbered from 1).

        Args:
            train_loss: the epoch's training loss (optional).
            val_loss: its validation loss (optional; ``lyap analyze`` takes a run's best epoch
                as the one with the lowest validation loss).
            spectrum: ``None`` to measure the spectrum of ``model`` on ``inputs`` when this
                epoch is due (every ``every`` epochs; never without a model), a precomputed
                :class:`lyap.Spectrum`, or a plain array of exponents (mean over sequences,
                largest first) from another tool, with an optional ``std``.
            std: the standard deviations of a plain array of exponents.
            lr: the learning rate (optional).
            seconds: training seconds of the epoch (default: the time since the previous call
                or the Recorder's creation, spectrum excluded).

        Returns:
            The epoch's :class:`lyap.Spectrum` when one was measured or passed, else ``None``.
        """
        self._check_open()
        now = time.perf_counter()
        train_seconds = now - self._last if seconds is None else float(seconds)
        epoch = self.epochs + 1
        report_json = trace_csv = None
        result: Optional[Spectrum] = None
        if isinstance(spectrum, Spectrum):
            result = spectrum
        elif spectrum is not None:
            report_json = _imported(spectrum, std, self.spectrum_options.get("log_base", "e"))
        elif self.model is not None and self.every > 0 and epoch % self.every == 0:
            result = compute_spectrum(self.model, self.inputs, **self.spectrum_options)
        if std is not None and (spectrum is None or isinstance(spectrum, Spectrum)):
            raise ValueError("std= goes with a plain array of exponents (spectrum=[...])")
        if result is not None:
            report_json, trace_csv = result.to_json(), result.trace_csv()
        self._writer.log_epoch(
            train_loss=_number(train_loss, "train_loss"),
            val_loss=_number(val_loss, "val_loss"),
            lr=_number(lr, "lr"),
            train_seconds=train_seconds,
            spectrum_json=report_json,
            trace_csv=trace_csv,
        )
        self._last = time.perf_counter()
        return result

    def close(self, failed: Optional[str] = None) -> None:
        """Marks the run ``completed``, or ``failed`` with the reason ``failed``. A closed
        Recorder logs no more epochs; closing twice is allowed (the last status wins)."""
        self._writer.close(failed=None if failed is None else str(failed))
        self._closed = True

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.close()
        else:
            self.close(failed=f"{exc_type.__name__}: {exc}")

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<lyap.Recorder {self.run_dir!r} epochs={self.epochs} {state}>"

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"the Recorder of {self.run_dir} is closed")


def _number(value: Any, name: str) -> Optional[float]:
    """A loss or rate as a float (torch scalars and numpy scalars included), or ``None``."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None


def _imported(exponents: Any, std: Any, log_base: Any) -> str:
    """The spectrum document of a plain array of exponents (and std) from another tool."""
    values = np.asarray(exponents, dtype=np.float64).ravel().tolist()
    spread = None if std is None else np.asarray(std, dtype=np.float64).ravel().tolist()
    base = "e" if log_base is None else str(log_base)
    return _lyap.imported_spectrum_json(values, std=spread, log_base=base)


def _jsonable(value: Any) -> Any:
    """``value`` with numpy scalars and arrays and paths made JSON types."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"config value {value!r} is not JSON-serialisable")
