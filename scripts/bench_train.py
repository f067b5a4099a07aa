#!/usr/bin/env python3
"""Side-by-side training throughput of `lyap bench train` against the PyTorch CPU baseline
(../shared/bench/torch_train.py), interleaved, with peak memory of each process.

Shapes: LSTM 128 and LSTM 512 on 82 one-hot characters (batch 100 x 100 steps, the paper's
CharRNN), and the Mocap shape (LSTM 256, 20 inputs, batch 250 x 25 steps).

usage: python3 scripts/bench_train.py [--reps 3] [--steps 5]
needs: pip install torch; cargo build --release
"""
import argparse, os, re, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH = os.path.join(ROOT, "..", "shared", "bench", "torch_train.py")
LYAP = os.path.join(ROOT, "target", "release", "lyap")
SHAPES = [  # (hidden, vocab, batch, seq_len)
    (128, 82, 100, 100),
    (512, 82, 100, 100),
    (256, 20, 250, 25),
]


def run_measured(cmd):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}\n{err}")
    return float(re.search(r"([0-9.]+) ms/step", out).group(1)), usage.ru_maxrss / 1024.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--steps", type=int, default=5)
    a = p.parse_args()
    rows = {s: ([], [], [], []) for s in SHAPES}
    for rep in range(a.reps):
        for shape in SHAPES:
            n, v, b, t = shape
            common = ["--hidden", str(n), "--vocab", str(v), "--batch", str(b), "--seq-len", str(t),
                      "--steps", str(a.steps)]
            torch_ms, torch_rss = run_measured([sys.executable, TORCH, "--arch", "lstm", *common])
            lyap_ms, lyap_rss = run_measured([LYAP, "bench", "train", "--arch", "lstm", *common])
            for lst, x in zip(rows[shape], (torch_ms, lyap_ms, torch_rss, lyap_rss)):
                lst.append(x)
            print(f"rep {rep} LSTM {n} ({b}x{t}, {v} inputs): torch {torch_ms:.1f} ms ({torch_rss:.0f} MB), "
                  f"lyap {lyap_ms:.1f} ms ({lyap_rss:.0f} MB), throughput ratio {torch_ms / lyap_ms:.2f}x", flush=True)
    print("\n| shape | torch_train.py (ms/step) | lyap (ms/step) | throughput vs torch | torch peak RSS (MB) | lyap peak RSS (MB) |")
    print("|---|---|---|---|---|---|")
    for (n, v, b, t), (tm, lm, tr, lr) in rows.items():
        ratios = [x / y for x, y in zip(tm, lm)]
        print(f"| LSTM {n}, batch {b} x {t}, {v} inputs | {statistics.median(tm):.1f} | {statistics.median(lm):.1f} | "
              f"{statistics.median(ratios):.2f}x (min {min(ratios):.2f}, max {max(ratios):.2f}) | "
              f"{statistics.median(tr):.0f} | {statistics.median(lr):.0f} |")


if __name__ == "__main__":
    main()
