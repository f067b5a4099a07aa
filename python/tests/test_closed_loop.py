"""lyap.spectrum(..., closed_loop=True): the network on its own readout (docs/DESIGN.md section
2.2), the same document as `lyap spectrum --closed-loop`, the readout found or given, priming by
inputs, and the refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lyap
from conftest import random_state_dict, run_cli, without_timing, write_safetensors

INPUT, HIDDEN = 3, 6


def forecaster(seed: int = 1) -> dict:
    """A 2-layer GRU under `rnn.` with a readout `fc` [3, 6] + bias, as numpy arrays."""
    state = random_state_dict("gru", INPUT, HIDDEN, layers=2, scale=0.6, seed=seed, prefix="rnn.")
    rng = np.random.default_rng(seed + 100)
    state["fc.weight"] = rng.uniform(-1, 1, (INPUT, HIDDEN))
    state["fc.bias"] = rng.uniform(-1, 1, INPUT)
    return state


def test_same_document_as_the_cli_from_the_zero_state(tmp_path):
    state = forecaster()
    write_safetensors(tmp_path / "m.safetensors", state, {"arch": "gru"})
    run_cli("spectrum", "--model", tmp_path / "m.safetensors", "--closed-loop", "--warmup", "30",
            "--steps", "200", "--dt", "0.5", "--out", tmp_path / "cli.json")
    expected = json.loads((tmp_path / "cli.json").read_text())
    assert expected["config"]["closed_loop"] is True
    from_file = lyap.spectrum(tmp_path / "m.safetensors", closed_loop=True, warmup=30, steps=200,
                              dt=0.5)
    assert without_timing(from_file.to_dict()) == without_timing(expected)
    from_mapping = lyap.spectrum(state, closed_loop=True, warmup=30, steps=200, dt=0.5)
    assert without_timing(from_mapping.to_dict()) == without_timing(expected)
    given = lyap.spectrum(state, closed_loop=True, warmup=30, steps=200, dt=0.5,
                          readout=(state["fc.weight"], state["fc.bias"]))
    np.testing.assert_array_equal(given.exponents, from_mapping.exponents)
    as_mapping = lyap.spectrum(state, closed_loop=True, warmup=30, steps=200, dt=0.5,
                               readout={"weight": state["fc.weight"], "bias": state["fc.bias"]})
    np.testing.assert_array_equal(as_mapping.exponents, from_mapping.exponents)


def test_inputs_prime_the_state_as_the_cli_does(tmp_path):
    state = forecaster(2)
    write_safetensors(tmp_path / "m.safetensors", state, {"arch": "gru"})
    x = np.random.default_rng(5).uniform(-1, 1, (2, 9, INPUT))
    np.save(tmp_path / "x.npy", x)
    run_cli("spectrum", "--model", tmp_path / "m.safetensors", "--closed-loop", "--inputs",
            tmp_path / "x.npy", "--k", "3", "--steps", "150", "--out", tmp_path / "cli.json")
    expected = json.loads((tmp_path / "cli.json").read_text())
    result = lyap.spectrum(state, x, closed_loop=True, k=3, steps=150)
    assert without_timing(result.to_dict()) == without_timing(expected)
    assert result.config["batch"] == 2


def test_a_different_readout_changes_the_spectrum():
    state = forecaster(3)
    found = lyap.spectrum(state, closed_loop=True, steps=200)
    other = lyap.spectrum(state, closed_loop=True, steps=200,
                          readout=(0.5 * state["fc.weight"], None))
    assert not np.allclose(found.exponents, other.exponents)


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message, message
    return message


def test_refusals_are_one_line_errors():
    state = random_state_dict("lstm", INPUT, HIDDEN, seed=4)
    with pytest.raises(ValueError) as error:
        lyap.spectrum(state, closed_loop=True)
    assert "no readout found" in one_line(error)
    state["fc.weight"] = np.ones((11, HIDDEN))
    with pytest.raises(ValueError) as error:
        lyap.spectrum(state, closed_loop=True)
    assert "predicts 11 values but the network reads 3" in one_line(error)
    with pytest.raises(ValueError) as error:
        lyap.spectrum(state, closed_loop=True, readout="head")
    assert "missing key head.weight" in one_line(error)
    with pytest.raises(ValueError) as error:
        lyap.spectrum(state, np.zeros((1, 5, INPUT)), readout="fc")
    assert "closed_loop=True" in one_line(error)
    with pytest.raises(ValueError) as error:
        lyap.spectrum(state, closed_loop=True, readout=(np.ones((INPUT, HIDDEN)), np.ones(2)))
    assert "bias has shape" in one_line(error)
    with pytest.raises(ValueError) as error:
        lyap.spectrum(state, closed_loop=True, state="hidden",
                      readout=(np.ones((INPUT, HIDDEN)), None))
    assert "full LSTM state" in one_line(error)
    with pytest.raises(TypeError):
        lyap.spectrum(state, closed_loop=True, readout=42)
    with pytest.raises(TypeError):
        lyap.spectrum(state, closed_loop=True, readout=(np.ones((INPUT, HIDDEN), dtype=int), None))


def test_a_diverging_loop_names_the_step():
    state = {
        "weight_ih_l0": np.ones((2, 1)),
        "weight_hh_l0": np.zeros((2, 2)),
    }
    with pytest.raises(ValueError) as error:
        lyap.spectrum(state, arch="rnn-relu", closed_loop=True, steps=1000,
                      readout=(np.full((1, 2), 100.0), np.ones(1)))
    message = one_line(error)
    assert "diverged" in message and "not finite after step" in message


def test_a_torch_module_needs_its_linear_readout():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    gru = torch.nn.GRU(INPUT, HIDDEN, batch_first=True)
    fc = torch.nn.Linear(HIDDEN, INPUT)
    with pytest.raises(ValueError) as error:
        lyap.spectrum(gru, closed_loop=True)
    assert "readout=" in one_line(error)
    result = lyap.spectrum(gru, closed_loop=True, readout=fc, steps=100)
    state = {k: v.detach().numpy().astype(np.float64) for k, v in gru.state_dict().items()}
    pair = (fc.weight.detach().numpy().astype(np.float64), fc.bias.detach().numpy().astype(np.float64))
    np.testing.assert_array_equal(
        result.exponents, lyap.spectrum(state, closed_loop=True, readout=pair, steps=100).exponents)
