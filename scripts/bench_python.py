#!/usr/bin/env python3
"""`lyap.spectrum` from Python against `lyap spectrum` on the same weights and inputs, and what
the Recorder adds per epoch beyond the spectrum.

Setting: the paper's (random LSTM 512 without biases, 82 one-hot inputs, 10 sequences x 100
steps, full spectrum), f32, hidden state. The CLI's figure is its `timing.seconds` (the
computation); Python's are the wall time of the whole `lyap.spectrum` call (conversion,
checks, computation, building the result) and its `Spectrum.seconds`. CLI and Python runs
alternate; medians over the runs.

usage: python3 scripts/bench_python.py [--reps 7] [--lyap target/release/lyap]
needs: numpy and the package (pip install ./python); cargo build --release
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

import numpy as np
import lyap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def save_safetensors(path, tensors):
    """A minimal safetensors writer (float32 tensors), so the script needs no torch."""
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--lyap", default=os.path.join(ROOT, "target", "release", "lyap"))
    a = p.parse_args()
    rng = np.random.default_rng(0)
    n, d, batch, steps = 512, 82, 10, 100
    scale = 1.0 / np.sqrt(n)
    weights = {
        "rnn.weight_ih_l0": rng.uniform(-scale, scale, (4 * n, d)).astype(np.float32),
        "rnn.weight_hh_l0": rng.uniform(-scale, scale, (4 * n, n)).astype(np.float32),
    }
    tokens = rng.integers(0, d, (batch, steps))
    inputs = np.eye(d, dtype=np.float32)[tokens]
    with tempfile.TemporaryDirectory() as tmp:
        model, x, out = (os.path.join(tmp, f) for f in ("m.safetensors", "x.npy", "s.json"))
        save_safetensors(model, weights)
        np.save(x, inputs)
        cli, call, inner, recorder = [], [], [], []
        for rep in range(a.reps + 1):  # the first round warms up and is not counted
            subprocess.run([a.lyap, "spectrum", "--model", model, "--inputs", x, "--precision",
                            "f32", "--state", "hidden", "--out", out], check=True,
                           stdout=subprocess.DEVNULL)
            with open(out) as f:
                cli_json = json.load(f)
            start = time.perf_counter()
            s = lyap.spectrum(model, inputs, precision="float32", state="hidden")
            wall = time.perf_counter() - start
            assert s.to_dict()["exponents"]["mean"] == cli_json["exponents"]["mean"]
            # The Recorder's own cost per epoch: logging an epoch with a computed spectrum.
            run = os.path.join(tmp, f"run{rep}")
            start = time.perf_counter()
            with lyap.Recorder(run, config={"lr": 0.01}) as rec:
                rec.log_epoch(train_loss=1.0, val_loss=1.1, spectrum=s)
            rec_seconds = time.perf_counter() - start
            if rep:
                cli.append(cli_json["timing"]["seconds"])
                call.append(wall)
                inner.append(s.seconds)
                recorder.append(rec_seconds)
    med = statistics.median
    print(f"lyap spectrum (CLI) timing.seconds   {med(cli):.4f} s")
    print(f"lyap.spectrum wall time of the call  {med(call):.4f} s  ({med(call) / med(cli):.3f}x CLI)")
    print(f"lyap.spectrum Spectrum.seconds       {med(inner):.4f} s  ({med(inner) / med(cli):.3f}x CLI)")
    print(f"Recorder: create + log_epoch + close {1000 * med(recorder):.1f} ms per epoch")


if __name__ == "__main__":
    sys.exit(main())
