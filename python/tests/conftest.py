"""Shared helpers of the lyap Python tests: the CLI binary, safetensors / npy writers and
random networks as numpy state_dicts."""

from __future__ import annotations

import json
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
GATES = {"lstm": 4, "gru": 3, "rnn-tanh": 1, "rnn-relu": 1}


def lyap_bin() -> str:
    """The `lyap` binary: $LYAP_BIN, default <repo>/target/debug/lyap."""
    path = os.environ.get("LYAP_BIN") or str(REPO / "target" / "debug" / "lyap")
    if not os.path.isfile(path):
        pytest.fail(f"the lyap binary {path} does not exist: build it (cargo build -p lyap-cli) or set LYAP_BIN")
    return path


def run_cli(*args: str, expect: int = 0) -> subprocess.CompletedProcess:
    """Runs `lyap ARGS`, asserting its exit code."""
    done = subprocess.run([lyap_bin(), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == expect, (
        f"lyap {' '.join(map(str, args))} exited {done.returncode}, expected {expect}\n"
        f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    )
    return done


def write_safetensors(path: Path, tensors: dict, metadata: dict | None = None) -> None:
    """A minimal safetensors writer (little-endian F32/F64 tensors in the given order)."""
    codes = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64"}
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {
            "dtype": codes[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def random_state_dict(
    arch: str,
    input_size: int,
    hidden: int,
    layers: int = 1,
    bias: bool = True,
    scale: float = 0.6,
    seed: int = 0,
    prefix: str = "",
    dtype=np.float64,
) -> dict:
    """PyTorch-named weights drawn uniformly on [-scale, scale]."""
    rng = np.random.default_rng(seed)
    g = GATES[arch] * hidden
    out = {}
    for layer in range(layers):
        m = input_size if layer == 0 else hidden
        out[f"{prefix}weight_ih_l{layer}"] = rng.uniform(-scale, scale, (g, m)).astype(dtype)
        out[f"{prefix}weight_hh_l{layer}"] = rng.uniform(-scale, scale, (g, hidden)).astype(dtype)
        if bias:
            out[f"{prefix}bias_ih_l{layer}"] = rng.uniform(-scale, scale, g).astype(dtype)
            out[f"{prefix}bias_hh_l{layer}"] = rng.uniform(-scale, scale, g).astype(dtype)
    return out


def without_timing(document: dict) -> dict:
    """A spectrum document with its timing field removed (the only field that differs)."""
    document = dict(document)
    document.pop("timing", None)
    return document
