"""Turning what a user passes (torch modules and tensors, numpy arrays, mappings, paths) into
what the Rust extension reads: a path or a dict of names to numpy arrays, and a float32 /
float64 C-ordered numpy array ``[B, T, D]``. No numerics happen here; torch is imported only
when a torch object is passed."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any, Optional, Tuple, Union

import numpy as np

# torch.nn.RNNBase.mode -> the library's architecture name.
_TORCH_MODES = {
    "RNN_TANH": "rnn-tanh",
    "RNN_RELU": "rnn-relu",
    "LSTM": "lstm",
    "GRU": "gru",
}

Source = Union[str, "dict[str, np.ndarray]"]


def _torch():
    """The torch module if it is already imported (a torch object can only exist then)."""
    return sys.modules.get("torch")


def _is_tensor(value: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)


def _tensor_to_numpy(tensor: Any) -> np.ndarray:
    """A CPU numpy view (or copy) of a tensor; float16 / bfloat16 become float32 (exact)."""
    torch = _torch()
    tensor = tensor.detach()
    if tensor.device.type != "cpu":
        tensor = tensor.cpu()
    if tensor.dtype in (torch.float16, torch.bfloat16):
        tensor = tensor.to(torch.float32)
    elif tensor.is_complex():
        raise TypeError(f"complex tensors are not supported (dtype {tensor.dtype})")
    return tensor.numpy()


def _array(value: Any) -> np.ndarray:
    """A numpy array of a tensor or array-like; float16 becomes float32, long double float64."""
    if _is_tensor(value):
        array = _tensor_to_numpy(value)
    elif isinstance(value, np.ndarray):
        array = value
    else:
        array = np.asarray(value)
    if array.dtype.kind == "f":
        if array.dtype.itemsize < 4:
            array = array.astype(np.float32)
        elif array.dtype.itemsize > 8:
            array = array.astype(np.float64)
        elif not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
    return array


def torch_rnn_info(model: Any) -> Optional[dict]:
    """``{"arch", "batch_first"}`` of a torch.nn.RNN / LSTM / GRU module, or ``None`` when
    ``model`` is not one. Dropout is ignored (the spectrum is that of the eval-mode network)."""
    torch = _torch()
    if torch is None or not isinstance(model, torch.nn.Module):
        return None
    if not isinstance(model, torch.nn.RNNBase):
        raise TypeError(
            f"model is a {type(model).__name__}; pass its recurrent part (a torch.nn.RNN, LSTM "
            "or GRU module) or its state_dict()"
        )
    arch = _TORCH_MODES.get(model.mode)
    if arch is None:
        raise ValueError(f"unsupported recurrent module mode {model.mode!r}")
    return {"arch": arch, "batch_first": bool(model.batch_first)}


def model_source(
    model: Any, arch: Optional[str], prefix: Optional[str]
) -> Tuple[Source, Optional[str], Optional[str], bool]:
    """``(source, arch, prefix, batch_first)`` for the extension: a module becomes its
    state_dict with its own architecture (no prefix); a mapping becomes a dict of numpy arrays;
    a path stays a path."""
    info = torch_rnn_info(model)
    if info is not None:
        if arch is not None and arch != info["arch"]:
            raise ValueError(
                f"arch={arch!r} conflicts with the module, which is {info['arch']}"
            )
        state = {name: _array(t) for name, t in model.state_dict().items()}
        return state, info["arch"], "" if prefix is None else prefix, info["batch_first"]
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if _is_torch_checkpoint(path):
            converted = os.path.splitext(path)[0] + ".safetensors"
            raise ValueError(
                f"{path}: a PyTorch checkpoint (torch.save), not a safetensors file; pass "
                f'torch.load("{path}") as the model, or convert it once: '
                f'safetensors.torch.save_file(torch.load("{path}"), "{converted}")'
            )
        return path, arch, prefix, True
    if isinstance(model, Mapping):
        state = {}
        for name, value in model.items():
            if not isinstance(name, str):
                raise TypeError(f"state_dict keys must be strings, got {name!r}")
            state[name] = _array(value)
        return state, arch, prefix, True
    raise TypeError(
        "model must be a torch.nn.RNN/LSTM/GRU module, a state_dict-like mapping of names to "
        f"tensors or arrays, or a path to a .safetensors file; got {type(model).__name__}"
    )


def readout_source(readout: Any) -> Any:
    """The readout as the extension takes it: ``None`` or a key prefix unchanged, a
    ``torch.nn.Linear`` (anything with ``weight`` and ``bias`` attributes), a mapping with
    ``weight`` (and ``bias``) or a ``(weight, bias)`` pair as float64 numpy arrays."""
    if readout is None or isinstance(readout, str):
        return readout
    if hasattr(readout, "weight") and hasattr(readout, "bias"):
        weight, bias = readout.weight, readout.bias
    elif isinstance(readout, Mapping) and "weight" in readout:
        weight, bias = readout["weight"], readout.get("bias")
    elif isinstance(readout, (tuple, list)) and len(readout) == 2:
        weight, bias = readout
    else:
        raise TypeError(
            "readout must be None, a key prefix (str), a torch.nn.Linear, a mapping with "
            f"'weight' and 'bias', or a (weight, bias) pair; got {type(readout).__name__}"
        )

    def as_float64(value: Any, what: str) -> np.ndarray:
        array = _array(value)
        if array.dtype.kind != "f":
            raise TypeError(f"readout {what} must hold floats, got dtype {array.dtype}")
        return np.ascontiguousarray(array, dtype=np.float64)

    weight = as_float64(weight, "weight")
    bias = None if bias is None else as_float64(bias, "bias")
    return (weight, bias)


def _is_torch_checkpoint(path: str) -> bool:
    """A ``.pt`` / ``.pth`` name, or the bytes of a zip archive (``torch.save`` since PyTorch
    1.6) or of a pickle (protocols 2 to 5), as ``lyap spectrum --model`` recognises them."""
    if path.lower().endswith((".pt", ".pth")):
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return False  # the extension reports the unreadable file
    return head.startswith(b"PK\x03\x04") or (len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5)


def input_array(inputs: Any, batch_first: bool) -> np.ndarray:
    """``inputs`` as a C-ordered float32/float64 array ``[B, T, D]`` when it can be one: a
    float32/float64 C-ordered array ``[B, T, D]`` (or ``[T, D]``) is passed on without a copy;
    ``[T, B, D]`` of a module with ``batch_first=False`` is transposed (one copy). Arrays of
    other ranks or kinds are passed on unchanged so that the extension reports them."""
    array = _array(inputs)
    if array.dtype.kind != "f":
        return array
    if array.ndim == 2:
        array = array[np.newaxis]
    elif array.ndim == 3 and not batch_first:
        array = array.transpose(1, 0, 2)
    if array.ndim == 3 and not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)
    return array


def zero_inputs(batch: int, length: int, size: int) -> np.ndarray:
    """``batch`` all-zero sequences of ``length`` steps (``lyap spectrum --zero-input``)."""
    return np.zeros((batch, length, size), dtype=np.float64)
