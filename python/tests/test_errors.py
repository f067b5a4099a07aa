"""Every bad input raises ValueError or TypeError with the CLI's one-line message; a Rust
panic becomes a RuntimeError instead of aborting the interpreter."""

from __future__ import annotations

import numpy as np
import pytest

import lyap
from lyap import _lyap
from conftest import random_state_dict, run_cli, write_safetensors

X = np.random.default_rng(0).standard_normal((2, 10, 3))


@pytest.fixture
def weights():
    return random_state_dict("lstm", 3, 4, seed=1, prefix="lstm.")


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and message
    return message


def test_nan_in_weights_names_the_key(weights):
    weights["lstm.weight_hh_l0"][2, 1] = np.nan
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, X)
    assert one_line(error) == "lstm.weight_hh_l0 holds a non-finite value NaN at flat index 9"


def test_inf_in_inputs_is_refused(weights):
    x = X.copy()
    x[1, 4, 2] = np.inf
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, x)
    assert "non-finite" in one_line(error) and "inf" in one_line(error)


def test_wrong_input_size(weights):
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, np.zeros((2, 10, 5)))
    assert one_line(error) == (
        "inputs: inputs have size D = 5 (shape [2, 10, 5]) but the model's input size is 3"
    )


@pytest.mark.parametrize("shape", [(0, 10, 3), (2, 0, 3)])
def test_empty_batch_or_sequence(weights, shape):
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, np.zeros(shape))
    assert one_line(error) == f"inputs: array of shape {list(shape)} holds no sequences or no steps"


def test_wrong_rank(weights):
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, np.zeros(3))
    assert one_line(error) == "inputs: array of shape [3] has rank 1; expected [B, T, D] or [T, D]"


def test_k_larger_than_the_state(weights):
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, X, k=9)
    assert "out of range: it must be between 1 and the state dimension 8" in one_line(error)
    with pytest.raises(ValueError):
        lyap.spectrum(weights, X, k=0)


def test_warmup_not_shorter_than_the_sequence(weights):
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, X, warmup=10)
    assert one_line(error) == "inputs: warmup 10 leaves none of its 10 steps to measure"
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, X, warmup=4, steps=7)
    assert one_line(error) == (
        "inputs: warmup 4 and steps 7 need 11 input steps but the sequences have 10"
    )


def test_integer_inputs_are_a_type_error(weights):
    with pytest.raises(TypeError) as error:
        lyap.spectrum(weights, np.zeros((2, 10, 3), dtype=np.int64))
    assert one_line(error).startswith("inputs: needs a float32/float64 array, got integers")


def test_integer_weights_are_a_type_error(weights):
    weights["lstm.weight_ih_l0"] = weights["lstm.weight_ih_l0"].astype(np.int64)
    with pytest.raises(TypeError) as error:
        lyap.spectrum(weights, X)
    assert one_line(error) == (
        "lstm.weight_ih_l0 has dtype I64; supported dtypes are F32, F64, F16, BF16"
    )


def test_bidirectional_weights(weights):
    weights["lstm.weight_hh_l0_reverse"] = weights["lstm.weight_hh_l0"]
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, X)
    assert "bidirectional recurrent layers are not supported" in one_line(error)


def test_no_recurrent_keys_lists_the_keys():
    with pytest.raises(ValueError) as error:
        lyap.spectrum({"fc.weight": np.zeros((2, 3))}, X)
    assert one_line(error) == (
        "no recurrent weights found (no key ending in weight_hh_l0); keys present: fc.weight"
    )


def test_ambiguous_prefix_and_explicit_choice(weights):
    both = dict(weights)
    both.update(random_state_dict("gru", 3, 2, seed=2, prefix="gru."))
    with pytest.raises(ValueError) as error:
        lyap.spectrum(both, X)
    assert "several prefixes: 'gru', 'lstm'" in one_line(error)
    assert lyap.spectrum(both, X, prefix="gru").model["arch"] == "gru"
    with pytest.raises(ValueError) as error:
        lyap.spectrum(both, X, prefix="rnn")
    assert one_line(error).startswith("no key rnn.weight_hh_l0")


def test_paper_compat_conflicts_use_the_cli_message(weights):
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, X, paper_compat=True, state="full")
    assert one_line(error) == "--paper-compat uses the hidden state only; drop --state full"
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, X, paper_compat=True, log_base="e")
    assert one_line(error) == "--paper-compat uses log base 2; drop --log-base e"
    # The defaults do not conflict.
    result = lyap.spectrum(weights, X, paper_compat=True)
    assert result.model["state"] == "hidden" and result.config["log_base"] == "2"


@pytest.mark.parametrize("options,text", [
    ({"state": "both"}, "unknown LSTM state 'both': expected full or hidden"),
    ({"log_base": "10"}, "unknown log base '10': expected e or 2"),
    ({"precision": "float16"}, "unknown precision 'float16': expected float64 or float32"),
    ({"arch": "transformer"}, "unknown architecture 'transformer': expected one of lstm, gru, rnn-tanh, rnn-relu"),
    ({"qr_every": 0}, "qr_every must be at least 1"),
    ({"steps": 0}, "steps must be at least 1"),
    ({"threads": 0}, "threads must be at least 1"),
    ({"warmup": -1}, "warmup must be non-negative, got -1"),
])
def test_bad_options(weights, options, text):
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, X, **options)
    assert text in one_line(error)


def test_non_integer_counts_are_type_errors(weights):
    with pytest.raises(TypeError):
        lyap.spectrum(weights, X, k=2.0)
    with pytest.raises(TypeError):
        lyap.spectrum(weights, X, warmup=True)


def test_float32_overflow_of_float64_weights(weights):
    weights["lstm.weight_ih_l0"][0, 0] = 1e300
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, X, precision="float32")
    assert "overflow" in one_line(error)


def test_unsupported_model_objects_are_type_errors():
    with pytest.raises(TypeError) as error:
        lyap.spectrum(42, X)
    assert "model must be" in one_line(error)
    with pytest.raises(TypeError) as error:
        lyap.spectrum({"lstm.weight_hh_l0": "not an array"}, X)
    assert "lstm.weight_hh_l0" in one_line(error)


def test_files_missing_corrupt_or_torch_checkpoints(tmp_path):
    with pytest.raises(ValueError) as error:
        lyap.spectrum(tmp_path / "missing.safetensors", X)
    assert one_line(error).startswith(f"cannot read {tmp_path / 'missing.safetensors'}")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x01\x02")
    with pytest.raises(ValueError) as error:
        lyap.spectrum(bad, X)
    assert one_line(error).startswith(f"{bad}: not a valid safetensors file")
    pt = tmp_path / "model.pt"
    pt.write_bytes(b"PK\x03\x04")
    with pytest.raises(ValueError) as error:
        lyap.spectrum(pt, X)
    assert one_line(error).endswith(
        f'safetensors.torch.save_file(torch.load("{pt}"), "{tmp_path / "model.safetensors"}")')
    pickle = tmp_path / "weights.bin"
    pickle.write_bytes(b"\x80\x02rest")
    with pytest.raises(ValueError) as error:
        lyap.spectrum(pickle, X)
    assert "a PyTorch checkpoint (torch.save), not a safetensors file" in one_line(error)


def test_same_messages_as_the_cli_for_a_bad_file(tmp_path):
    weights = random_state_dict("gru", 3, 2, seed=3)
    weights["weight_ih_l0"][1, 1] = np.inf
    path = tmp_path / "m.safetensors"
    write_safetensors(path, weights)
    np.save(tmp_path / "x.npy", X)
    cli = run_cli("spectrum", "--model", path, "--inputs", tmp_path / "x.npy", expect=2)
    with pytest.raises(ValueError) as error:
        lyap.spectrum(path, X)
    assert one_line(error) in cli.stderr


def test_a_panic_is_a_runtime_error():
    with pytest.raises(RuntimeError) as error:
        _lyap._panic_for_test()
    assert "deliberate panic" in one_line(error)
    # The interpreter and the library still work afterwards.
    assert lyap.spectrum(random_state_dict("gru", 3, 2), X).exponents.shape == (2,)
