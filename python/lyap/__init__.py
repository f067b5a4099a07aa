"""Lyapunov spectra of recurrent networks from Python.

``lyap.spectrum(model, inputs)`` computes the Lyapunov spectrum of a PyTorch ``nn.RNN`` /
``nn.LSTM`` / ``nn.GRU`` (or a state_dict, or a ``.safetensors`` file) driven by input
sequences, with the Rust engine of the ``lyap`` command-line tool (same numbers as
``lyap spectrum``). ``lyap.Recorder`` records a training loop (losses and a spectrum per
epoch) into a run directory that ``lyap report`` and ``lyap analyze`` read.

The only runtime dependency is numpy; torch is used only when torch objects are passed.
"""

from ._lyap import __version__
from ._recorder import Recorder
from ._spectrum import Spectrum, spectrum

__all__ = ["spectrum", "Spectrum", "Recorder", "__version__"]
