#!/usr/bin/env python3
"""What `--until-converged` costs and saves at the paper's setting (random LSTM 512, 82 one-hot
inputs, 10 sequences, hidden state, f32): a run until every block_sem is below TOL against a
plain run of the same number of steps (the cost of measuring in chunks), alternating run by
run, engine seconds (`timing.seconds`) and their ratio per pair; and the block_sem a plain
100-step run (the paper's length) reports.

usage: python3 scripts/bench_until.py [--bin target/release/lyap] [--tol 0.02] [--reps 3]
"""
import argparse, json, os, statistics, subprocess, tempfile

BASE = ["spectrum", "--random", "lstm", "--hidden", "512", "--input-size", "82", "--batch", "10",
        "--state", "hidden", "--precision", "f32", "--seed", "1"]


def run(binary, extra, out):
    subprocess.run([binary, *BASE, *extra, "--out", out], check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default="target/release/lyap")
    p.add_argument("--tol", type=float, default=0.02)
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "s.json")
        short = run(a.bin, ["--steps", "100"], out)
        print(f"plain 100 steps: largest block_sem {max(short['exponents']['block_sem']):.4f} nats/step, "
              f"{short['timing']['seconds']:.2f} s")
        until_s, plain_s, ratio, steps = [], [], [], None
        for _ in range(a.reps):
            until = run(a.bin, ["--until-converged", str(a.tol)], out)
            steps = until["config"]["steps"]
            plain = run(a.bin, ["--steps", str(steps)], out)
            u, q = until["timing"]["seconds"], plain["timing"]["seconds"]
            until_s.append(u)
            plain_s.append(q)
            ratio.append(u / q)
            print(f"  until {a.tol}: {steps} steps (converged {until['config']['converged']}), "
                  f"{u:.2f} s; plain {steps} steps {q:.2f} s; ratio {u / q:.3f}")
        print(f"median: until {statistics.median(until_s):.2f} s, plain {statistics.median(plain_s):.2f} s, "
              f"ratio {statistics.median(ratio):.3f} ({min(ratio):.3f} - {max(ratio):.3f}), {steps} steps")


if __name__ == "__main__":
    main()
