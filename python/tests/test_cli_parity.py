"""lyap.spectrum against `lyap spectrum --out`: same weights and inputs give the same JSON
document apart from the timing, bit for bit in float64 (and float32)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lyap
from conftest import random_state_dict, run_cli, without_timing, write_safetensors

CASES = [
    # (arch, layers, bias, weight dtype, options)
    ("lstm", 1, True, np.float32, {}),
    ("lstm", 2, True, np.float64, {"warmup": 5, "state": "hidden"}),
    ("gru", 2, False, np.float32, {"k": 3, "qr_every": 3}),
    ("rnn-tanh", 1, True, np.float64, {"log_base": "2", "steps": 20}),
    ("rnn-relu", 1, True, np.float32, {"warmup": 4}),
    ("lstm", 1, False, np.float32, {"paper_compat": True, "warmup": 8}),
    ("gru", 1, True, np.float64, {"precision": "float32", "warmup": 3}),
]

FLAGS = {
    "warmup": "--warmup",
    "steps": "--steps",
    "k": "--k",
    "qr_every": "--qr-every",
    "state": "--state",
    "log_base": "--log-base",
}


def cli_args(options: dict) -> list:
    args = []
    for key, value in options.items():
        if key == "paper_compat":
            args.append("--paper-compat")
        elif key == "precision":
            args += ["--precision", {"float32": "f32", "float64": "f64"}[value]]
        else:
            args += [FLAGS[key], str(value)]
    return args


@pytest.mark.parametrize("arch,layers,bias,dtype,options", CASES)
def test_same_document_as_the_cli(tmp_path, arch, layers, bias, dtype, options):
    weights = random_state_dict(arch, 3, 5, layers, bias, seed=layers + 7, prefix="rnn.", dtype=dtype)
    weights["fc.weight"] = np.ones((2, 5), dtype=np.float32)
    model = tmp_path / "model.safetensors"
    # The file names its architecture in the metadata (a ReLU RNN has the shapes of a tanh
    # one); the dict passes it as arch=.
    write_safetensors(model, weights, {"arch": arch})
    x = np.random.default_rng(1).standard_normal((4, 30, 3))
    np.save(tmp_path / "x.npy", x)
    out, trace = tmp_path / "cli.json", tmp_path / "cli.csv"
    run_cli("spectrum", "--model", model, "--inputs", tmp_path / "x.npy", "--out", out,
            "--trace", trace, *cli_args(options))
    expected = json.loads(out.read_text())

    from_file = lyap.spectrum(model, x, trace=True, **options)
    from_dict = lyap.spectrum(weights, x, arch=arch, **options)
    assert without_timing(from_file.to_dict()) == without_timing(expected)
    assert without_timing(from_dict.to_dict()) == without_timing(expected)
    assert from_file.trace_csv() == trace.read_text()
    assert from_file.prefix == "rnn."
    assert from_file.model["arch"] == arch

    # The arrays are the document's numbers, with -inf kept where the file has null.
    def nulls(values):
        return [None if v == -np.inf else v for v in values]
    assert nulls(from_file.exponents.tolist()) == expected["exponents"]["mean"]
    assert [nulls(row) for row in from_file.per_sequence.tolist()] == expected["per_sequence"]
    assert from_file.model == expected["model"] and from_file.config == expected["config"]


def test_save_writes_the_cli_bytes_apart_from_timing(tmp_path):
    weights = random_state_dict("lstm", 2, 4, seed=3)
    write_safetensors(tmp_path / "m.safetensors", weights)
    x = np.random.default_rng(2).standard_normal((2, 15, 2))
    np.save(tmp_path / "x.npy", x)
    run_cli("spectrum", "--model", tmp_path / "m.safetensors", "--inputs", tmp_path / "x.npy",
            "--out", tmp_path / "cli.json")
    result = lyap.spectrum(tmp_path / "m.safetensors", x)
    result.save(tmp_path / "py.json")
    cli = (tmp_path / "cli.json").read_text().splitlines()
    ours = (tmp_path / "py.json").read_text().splitlines()
    differ = [(a, b) for a, b in zip(cli, ours) if a != b]
    assert len(cli) == len(ours)
    assert all('"seconds"' in a for a, _ in differ), differ
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_float32_inputs_match_float64_file_inputs(tmp_path):
    # An f32 array borrowed as f32 and the same values as f64 give the same spectrum.
    weights = random_state_dict("gru", 3, 4, seed=5)
    x = np.random.default_rng(3).standard_normal((3, 25, 3)).astype(np.float32)
    a = lyap.spectrum(weights, x)
    b = lyap.spectrum(weights, x.astype(np.float64))
    assert without_timing(a.to_dict()) == without_timing(b.to_dict())


def test_zero_input_matches_cli_zero_input(tmp_path):
    weights = random_state_dict("rnn-tanh", 2, 6, seed=9)
    write_safetensors(tmp_path / "m.safetensors", weights)
    run_cli("spectrum", "--model", tmp_path / "m.safetensors", "--zero-input", "--steps", "40",
            "--warmup", "5", "--out", tmp_path / "cli.json")
    result = lyap.spectrum(tmp_path / "m.safetensors", None, steps=40, warmup=5)
    expected = json.loads((tmp_path / "cli.json").read_text())
    assert without_timing(result.to_dict()) == without_timing(expected)
