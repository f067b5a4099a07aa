#!/usr/bin/env python3
"""Two builds of `lyap` side by side: the spectrum at the paper's setting and training steps,
old and new binary alternating run by run, medians and the new/old time ratio per pair.

Spectrum: random LSTM 512, 82 one-hot inputs, 10 sequences x 100 steps, full spectrum,
f32 hidden state and f64 full state (`timing.seconds` of the JSON: the computation itself).
Training: `lyap bench train` (ms per step) for LSTM 128 and 512 (batch 100 x 100, 82 inputs)
and the Mocap shape (LSTM 256, 20 inputs, batch 250 x 25).

usage: python3 scripts/bench_old_new.py --old OLD/lyap --new target/release/lyap [--reps 5]
       [--skip-full]   (the f64 full-state spectrum takes about 40 s per run)
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile

SPECTRUM = {
    "spectrum f32 hidden": ["--precision", "f32", "--state", "hidden"],
    "spectrum f64 full": ["--precision", "f64", "--state", "full"],
}
TRAIN = {  # name: (hidden, vocab, batch, seq_len)
    "train LSTM 128": (128, 82, 100, 100),
    "train LSTM 512": (512, 82, 100, 100),
    "train Mocap shape": (256, 20, 250, 25),
}


def spectrum_seconds(binary, extra, out):
    cmd = [binary, "spectrum", "--random", "lstm", "--hidden", "512", "--input-size", "82",
           "--batch", "10", "--steps", "100", "--seed", "1", "--out", out, *extra]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)["timing"]["seconds"]


def train_ms(binary, shape):
    n, v, b, t = shape
    cmd = [binary, "bench", "train", "--hidden", str(n), "--vocab", str(v), "--batch", str(b),
           "--seq-len", str(t), "--steps", "5"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return float(re.search(r"([0-9.]+) ms/step", out).group(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--old", required=True)
    p.add_argument("--new", required=True)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--skip-full", action="store_true")
    a = p.parse_args()
    cases = [name for name in SPECTRUM if not (a.skip_full and "full" in name)] + list(TRAIN)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "s.json")
        print(f"{'case':22} {'old (s)':>10} {'new (s)':>10} {'new/old':>8}  (per-pair range)")
        for name in cases:
            old, new, ratio = [], [], []
            for _ in range(a.reps):
                if "spectrum" in name:
                    o = spectrum_seconds(a.old, SPECTRUM[name], out)
                    n = spectrum_seconds(a.new, SPECTRUM[name], out)
                else:
                    o = train_ms(a.old, TRAIN[name]) / 1000.0
                    n = train_ms(a.new, TRAIN[name]) / 1000.0
                old.append(o), new.append(n), ratio.append(n / o)
            print(f"{name:22} {statistics.median(old):10.4f} {statistics.median(new):10.4f} "
                  f"{statistics.median(ratio):8.3f}  ({min(ratio):.3f} - {max(ratio):.3f})",
                  flush=True)


if __name__ == "__main__":
    sys.exit(main())
