"""The trustworthiness features of lyap.spectrum (issue 14): error bars over time (block_sem),
runs until converged, the built-in checks (sum rule, largest exponent by two nearby
trajectories) and exponents per time unit (dt); each against `lyap spectrum --out` where the
CLI has the same option, and every bad value as a one-line ValueError."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import lyap
from conftest import random_state_dict, run_cli, without_timing, write_safetensors


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and message
    return message


def nulls(values):
    """The JSON's spelling of non-finite values."""
    return [None if not math.isfinite(v) else v for v in values]


# A chaotic tanh RNN (weights on [-1.2, 1.2], 16 units: lambda_1 = 0.12 nats per step with
# these inputs) and a contracting LSTM, both driven by normal inputs of std 0.3.
CHAOTIC = dict(arch="rnn-tanh", input_size=3, hidden=16, scale=1.2, seed=4)
CONTRACTING = dict(arch="lstm", input_size=3, hidden=4, scale=0.6, seed=1)


def network(arch, input_size, hidden, scale, seed):
    return random_state_dict(arch, input_size, hidden, scale=scale, seed=seed)


def inputs(batch, length, size=3, seed=0):
    return 0.3 * np.random.default_rng(seed).standard_normal((batch, length, size))


CLI_CASES = [
    # (network, batch, length, python options, CLI flags)
    (CONTRACTING, 3, 60, {}, []),
    (CONTRACTING, 3, 60, {"k": 3, "qr_every": 4, "log_base": "2"},
     ["--k", "3", "--qr-every", "4", "--log-base", "2"]),
    (CHAOTIC, 2, 400, {"check_max": True, "warmup": 50}, ["--check-max", "--warmup", "50"]),
    (CHAOTIC, 2, 300, {"sum_rule": False, "dt": 0.05}, ["--no-sum-rule", "--dt", "0.05"]),
    (CHAOTIC, 3, 3000, {"until_converged": 0.02, "warmup": 20},
     ["--until-converged", "0.02", "--warmup", "20"]),
    (CHAOTIC, 2, 3000, {"until_converged": 1e-6, "max_steps": 700, "steps": 50},
     ["--until-converged", "1e-6", "--max-steps", "700", "--steps", "50"]),
    (CONTRACTING, 2, 500, {"until_converged": 1e-9, "state": "hidden", "dt": 0.1},
     ["--until-converged", "1e-9", "--state", "hidden", "--dt", "0.1"]),
]


@pytest.mark.parametrize("net,batch,length,options,flags", CLI_CASES)
def test_same_document_as_the_cli(tmp_path, net, batch, length, options, flags):
    weights = network(**net)
    write_safetensors(tmp_path / "m.safetensors", weights, {"arch": net["arch"]})
    x = inputs(batch, length)
    np.save(tmp_path / "x.npy", x)
    run_cli("spectrum", "--model", tmp_path / "m.safetensors", "--inputs", tmp_path / "x.npy",
            "--out", tmp_path / "cli.json", *flags)
    expected = json.loads((tmp_path / "cli.json").read_text())
    result = lyap.spectrum(tmp_path / "m.safetensors", x, **options)
    assert without_timing(result.to_dict()) == without_timing(expected)
    assert nulls(result.block_sem.tolist()) == expected["exponents"]["block_sem"]
    assert len(result.block_sem) == result.config["k"]
    assert result.steps == expected["config"]["steps"]
    assert result.converged == expected["config"].get("converged")
    assert result.dt == expected["config"].get("dt")
    assert result.warnings == expected["warnings"]
    if "checks" in expected:
        assert {part: {key: nulls([v])[0] for key, v in values.items()}
                for part, values in result.checks.items()} == expected["checks"]
    else:
        assert result.checks is None


def test_zero_input_until_converged_matches_the_cli(tmp_path):
    # inputs=None is `--zero-input`: generated as long as the run needs.
    weights = network(**CHAOTIC)
    write_safetensors(tmp_path / "m.safetensors", weights)
    run_cli("spectrum", "--model", tmp_path / "m.safetensors", "--zero-input",
            "--steps", "100", "--until-converged", "0.01", "--out", tmp_path / "cli.json")
    expected = json.loads((tmp_path / "cli.json").read_text())
    # steps defaults to 100 with zero input (the CLI asks for it).
    result = lyap.spectrum(tmp_path / "m.safetensors", None, until_converged=0.01)
    assert without_timing(result.to_dict()) == without_timing(expected)
    assert result.converged is True
    # Longer than the 100 steps of a plain zero-input run: the inputs grew with the run.
    assert result.steps > 100


def test_until_converged_stops_below_the_tolerance():
    weights = network(**CHAOTIC)
    x = inputs(4, 20_000)
    tol = 0.02
    result = lyap.spectrum(weights, x, warmup=100, until_converged=tol)
    assert result.converged is True
    assert np.all(result.block_sem < tol), result.block_sem
    assert 100 <= result.steps < 20_000 - 100
    assert result.config["until_converged"] == tol
    assert result.config["max_steps"] == 100_000
    assert not any("not converged" in w for w in result.warnings)
    assert f"converged=True" in repr(result) and "block_sem<=" in repr(result)
    # A tighter tolerance needs more steps and gives smaller errors.
    tighter = lyap.spectrum(weights, x, warmup=100, until_converged=tol / 2)
    assert tighter.converged is True and tighter.steps > result.steps
    assert np.all(tighter.block_sem < tol / 2)


def test_until_converged_on_zero_input_of_generated_length():
    weights = network(**CHAOTIC)
    result = lyap.spectrum(weights, None, until_converged=0.01, warmup=100)
    assert result.converged is True
    assert np.all(result.block_sem < 0.01)
    assert result.config["batch"] == 10


def test_not_converged_when_max_steps_is_too_small():
    weights = network(**CHAOTIC)
    x = inputs(2, 5000)
    result = lyap.spectrum(weights, x, until_converged=1e-6, max_steps=300)
    assert result.converged is False
    assert result.steps <= 300
    assert np.any(result.block_sem >= 1e-6)
    assert any(w.startswith("not converged") and "300" in w for w in result.warnings)
    assert "converged=False" in repr(result)


def test_not_converged_when_the_inputs_end():
    weights = network(**CHAOTIC)
    x = inputs(2, 400)
    result = lyap.spectrum(weights, x, until_converged=1e-6, warmup=10)
    assert result.converged is False
    assert result.steps == 390
    assert any("input sequences ended after 390 measured steps" in w for w in result.warnings)


def test_without_until_converged_there_is_no_outcome():
    result = lyap.spectrum(network(**CONTRACTING), inputs(2, 50))
    assert result.converged is None
    assert result.steps == 50
    for key in ("until_converged", "max_steps", "converged", "dt"):
        assert key not in result.config
    assert result.block_sem.shape == (8,) and np.all(np.isfinite(result.block_sem))


def test_sum_rule_for_the_full_spectrum():
    for net in (CHAOTIC, CONTRACTING):
        weights = network(**net)
        for state in ("full", "hidden"):
            result = lyap.spectrum(weights, inputs(3, 300), warmup=20, state=state)
            rule = result.checks["sum_rule"]
            assert set(rule) == {"sum", "mean_log_abs_det", "difference"}
            assert abs(rule["difference"]) < 1e-8, rule
            assert rule["sum"] == pytest.approx(float(np.sum(result.exponents)), abs=1e-12)
            assert rule["difference"] == pytest.approx(rule["sum"] - rule["mean_log_abs_det"],
                                                       abs=1e-12)
            assert "max_by_perturbation" not in result.checks
            assert not any("sum rule" in w for w in result.warnings)


def test_sum_rule_needs_all_exponents_and_can_be_skipped():
    weights = network(**CONTRACTING)
    x = inputs(2, 100)
    assert lyap.spectrum(weights, x, k=3).checks is None
    assert lyap.spectrum(weights, x, sum_rule=False).checks is None
    only_max = lyap.spectrum(weights, x, sum_rule=False, check_max=True).checks
    assert set(only_max) == {"max_by_perturbation"}


def test_check_max_estimates_the_largest_exponent():
    weights = network(**CHAOTIC)
    result = lyap.spectrum(weights, inputs(3, 3000), warmup=200, check_max=True)
    lambda_1 = result.exponents[0]
    assert lambda_1 > 0.05  # chaotic
    check = result.checks["max_by_perturbation"]
    assert check["difference"] == pytest.approx(check["estimate"] - lambda_1, abs=1e-12)
    assert abs(check["difference"]) < 0.02 * abs(lambda_1) + 0.005, (check, lambda_1)
    # k = 1 computes only lambda_1; the check needs no other exponent.
    top = lyap.spectrum(weights, inputs(3, 3000), warmup=200, check_max=True, k=1)
    assert top.checks["max_by_perturbation"]["estimate"] == pytest.approx(check["estimate"],
                                                                         rel=1e-12)


def test_dt_divides_the_exponents():
    weights = network(**CHAOTIC)
    x = inputs(3, 400)
    dt = 0.025
    per_step = lyap.spectrum(weights, x, check_max=True)
    per_time = lyap.spectrum(weights, x, check_max=True, dt=dt)
    assert per_step.dt is None and per_time.dt == dt and per_time.config["dt"] == dt
    for name in ("exponents", "std", "sem", "block_sem", "per_sequence"):
        np.testing.assert_allclose(getattr(per_time, name), getattr(per_step, name) / dt,
                                   rtol=1e-12, err_msg=name)
    for part, values in per_step.checks.items():
        for key, value in values.items():
            assert per_time.checks[part][key] == pytest.approx(value / dt, rel=1e-9, abs=1e-12)
    assert per_time.summary["max"] == pytest.approx(per_step.summary["max"] / dt, rel=1e-12)
    assert "dt=0.025" in repr(per_time)


def test_until_converged_is_in_the_unit_of_dt():
    # The tolerance is per time unit with dt: 0.4 per time unit at dt = 0.05 is 0.02 per step.
    weights = network(**CHAOTIC)
    x = inputs(3, 20_000)
    per_time = lyap.spectrum(weights, x, until_converged=0.4, dt=0.05)
    per_step = lyap.spectrum(weights, x, until_converged=0.02)
    assert per_time.converged and per_step.converged
    assert per_time.steps == per_step.steps
    np.testing.assert_allclose(per_time.block_sem, per_step.block_sem / 0.05, rtol=1e-12)


@pytest.mark.parametrize("options,text", [
    ({"until_converged": 0}, "until_converged 0 must be a positive finite tolerance"),
    ({"until_converged": -1}, "until_converged -1 must be a positive finite tolerance"),
    ({"until_converged": float("nan")}, "until_converged NaN must be a positive finite tolerance"),
    ({"until_converged": float("inf")}, "until_converged inf must be a positive finite tolerance"),
    ({"max_steps": 0}, "max_steps must be at least 1"),
    ({"max_steps": 0, "until_converged": 0.01}, "max_steps must be at least 1"),
    ({"dt": 0}, "dt 0 must be a positive finite time step"),
    ({"dt": -0.5}, "dt -0.5 must be a positive finite time step"),
    ({"dt": float("nan")}, "dt NaN must be a positive finite time step"),
    ({"check_max": True, "state": "hidden"},
     'check_max needs the full LSTM state (state="full"): with the hidden state the '
     "perturbation of c is held at zero, which no pair of trajectories can do"),
])
def test_bad_values_are_one_line_value_errors(options, text):
    weights = network(**CONTRACTING)
    with pytest.raises(ValueError) as error:
        lyap.spectrum(weights, inputs(2, 20), **options)
    assert one_line(error) == text


def test_check_max_on_hidden_lstm_state_under_paper_compat_is_refused():
    with pytest.raises(ValueError) as error:
        lyap.spectrum(network(**CONTRACTING), inputs(2, 20), paper_compat=True, check_max=True)
    assert one_line(error).startswith("check_max needs the full LSTM state")


def test_check_max_with_hidden_state_is_fine_without_a_cell_state():
    gru = random_state_dict("gru", 3, 4, seed=2)
    result = lyap.spectrum(gru, inputs(2, 50), state="hidden", check_max=True)
    assert "max_by_perturbation" in result.checks


@pytest.mark.parametrize("options", [
    {"until_converged": "0.01"}, {"until_converged": True}, {"dt": "0.1"},
    {"max_steps": 10.0}, {"max_steps": True},
])
def test_wrong_types_are_type_errors(options):
    with pytest.raises(TypeError) as error:
        lyap.spectrum(network(**CONTRACTING), inputs(2, 20), **options)
    assert one_line(error)


def test_negative_max_steps_is_a_value_error():
    with pytest.raises(ValueError) as error:
        lyap.spectrum(network(**CONTRACTING), inputs(2, 20), max_steps=-3)
    assert one_line(error) == "max_steps must be non-negative, got -3"


def test_recorder_passes_the_new_options_through(tmp_path):
    weights = network(**CHAOTIC)
    x = inputs(2, 3000)
    with lyap.Recorder(tmp_path / "run", model=weights, inputs=x, until_converged=0.1,
                       check_max=True, dt=0.5) as rec:
        measured = rec.log_epoch(train_loss=1.0)
    document = json.loads((tmp_path / "run" / "spectra" / "epoch_001.json").read_text())
    assert without_timing(document) == without_timing(measured.to_dict())
    assert document["config"]["converged"] is True and document["config"]["dt"] == 0.5
    assert set(document["checks"]) == {"sum_rule", "max_by_perturbation"}
    assert len(document["exponents"]["block_sem"]) == 16
    line = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[0])
    assert line["spectrum"]["max"] == pytest.approx(measured.summary["max"])
