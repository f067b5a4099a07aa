"""lyap.Recorder end to end: the run directory it writes, `lyap report` on it and
`lyap analyze` on a directory of such runs (through the binary)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lyap
from conftest import random_state_dict, run_cli

X = np.random.default_rng(0).standard_normal((3, 30, 3))


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def record(run_dir, lr, epochs=4, every=1, **options):
    weights = random_state_dict("lstm", 3, 4, seed=int(lr * 1000), prefix="lstm.")
    with lyap.Recorder(run_dir, model=weights, inputs=X, config={"lr": lr, "hidden": 4},
                       every=every, warmup=5, **options) as rec:
        for epoch in range(1, epochs + 1):
            # "training": shrink the recurrent weights a little each epoch
            weights["lstm.weight_hh_l0"] *= 0.9
            rec.log_epoch(train_loss=1.0 / epoch, val_loss=1.5 / epoch + lr)
    return rec


def test_run_directory_layout(tmp_path):
    run = tmp_path / "run"
    rec = record(run, 0.01, epochs=3, every=2, trace=True)
    assert rec.epochs == 3
    assert json.loads((run / "config.json").read_text()) == {"lr": 0.01, "hidden": 4}
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "completed" and status["epochs_completed"] == 3
    metrics = read_jsonl(run / "metrics.jsonl")
    assert [m["epoch"] for m in metrics] == [1, 2, 3]
    assert [m["train_loss"] for m in metrics] == [1.0, 0.5, 1.0 / 3]
    # every=2: only epoch 2 has a spectrum (its file, its trace and its summary line).
    assert [m["spectrum"] is not None for m in metrics] == [False, True, False]
    assert sorted(p.name for p in (run / "spectra").iterdir()) == [
        "epoch_002.json", "trace_epoch_002.csv"]
    document = json.loads((run / "spectra" / "epoch_002.json").read_text())
    assert document["config"]["warmup"] == 5 and document["model"]["arch"] == "lstm"
    assert metrics[1]["spectrum"]["max"] == document["summary"]["max"]


def test_the_recorded_spectrum_is_the_computed_one(tmp_path):
    weights = random_state_dict("gru", 3, 4, seed=7)
    with lyap.Recorder(tmp_path / "run", model=weights, inputs=X) as rec:
        returned = rec.log_epoch(train_loss=0.5, val_loss=0.6)
    text = (tmp_path / "run" / "spectra" / "epoch_001.json").read_text()
    assert text.rstrip("\n") == returned.to_json()
    expected = lyap.spectrum(weights, X).to_dict()
    recorded = json.loads(text)
    expected.pop("timing"), recorded.pop("timing")
    assert recorded == expected


def test_spectra_from_elsewhere_and_optional_losses(tmp_path):
    run = tmp_path / "run"
    weights = random_state_dict("rnn-tanh", 3, 4, seed=8)
    precomputed = lyap.spectrum(weights, X)
    with lyap.Recorder(run, config={"source": "another tool"}) as rec:
        rec.log_epoch(train_loss=np.float32(2.0), spectrum=precomputed)
        rec.log_epoch(val_loss=1.0, spectrum=[0.1, -0.2, -1.0], std=[0.01, 0.02, 0.03])
        rec.log_epoch(train_loss=0.5)  # no model: no spectrum
    metrics = read_jsonl(run / "metrics.jsonl")
    # An omitted loss is absent from its line (lyap train writes both).
    assert "val_loss" not in metrics[0] and "train_loss" not in metrics[1]
    assert metrics[0]["train_loss"] == 2.0
    assert [m["spectrum"] is not None for m in metrics] == [True, True, False]
    imported = json.loads((run / "spectra" / "epoch_002.json").read_text())
    assert imported["exponents"]["mean"] == [0.1, -0.2, -1.0]
    assert imported["exponents"]["std"] == [0.01, 0.02, 0.03]
    assert imported["summary"]["n_positive"] == 1
    assert metrics[1]["spectrum"]["max"] == 0.1


def test_failure_and_misuse(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(KeyError):
        with lyap.Recorder(run) as rec:
            rec.log_epoch(train_loss=1.0)
            raise KeyError("boom")
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "failed" and "KeyError" in status["reason"]
    with pytest.raises(ValueError) as error:
        rec.log_epoch(train_loss=1.0)
    assert "closed" in str(error.value)
    with pytest.raises(ValueError) as error:
        lyap.Recorder(run)
    assert "already holds a run" in str(error.value)
    with pytest.raises(TypeError):
        lyap.Recorder(tmp_path / "other", config={"f": object()})
    rec = lyap.Recorder(tmp_path / "explicit")
    rec.close(failed="diverged")
    status = json.loads((tmp_path / "explicit" / "status.json").read_text())
    assert status["status"] == "failed" and status["reason"] == "diverged"


def test_lyap_report_and_analyze_read_recorded_runs(tmp_path):
    runs = tmp_path / "runs"
    for i, lr in enumerate([0.01, 0.03, 0.1]):
        record(runs / f"lr{i}", lr)
    run_cli("report", runs / "lr0")
    assert any((runs / "lr0" / "report").iterdir())
    first = run_cli("analyze", runs)
    assert (runs / "analysis").is_dir()
    # A second analyze skips its own output directory.
    second = run_cli("analyze", runs)
    assert first.stdout.splitlines()[-1:] == second.stdout.splitlines()[-1:]


def test_lyap_analyze_without_runs_is_one_line_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    done = run_cli("analyze", tmp_path / "empty", expect=2)
    assert len(done.stderr.strip().splitlines()) == 1
