#!/usr/bin/env python3
"""Side-by-side speed and memory of `lyap spectrum` against the PyTorch baseline
(../shared/bench/torch_spectrum.py), interleaved, on the paper's setting: 1-layer LSTM,
hidden 512, no bias, 82 one-hot inputs, 10 sequences, 100 steps, full spectrum, QR every step.

Both programs run the identical network and tokens (the baseline's --save output).
Reported: median seconds of the spectrum computation itself (torch: its timed run after a
warm-up run; lyap: `timing.seconds` of its JSON), whole-process peak RSS, and the ratio.

usage: python3 scripts/bench_spectrum.py [--reps 5] [--scaling]
needs: pip install torch numpy safetensors; cargo build --release
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH = os.path.join(ROOT, "..", "shared", "bench", "torch_spectrum.py")
LYAP = os.path.join(ROOT, "target", "release", "lyap")


def run_measured(cmd):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}\n{err}")
    return out, usage.ru_maxrss / 1024.0


def torch_run(save_dir, precision, state, hidden=512):
    out, rss = run_measured([sys.executable, TORCH, "--hidden", str(hidden), "--precision", precision,
                             "--state", state, "--save", save_dir])
    seconds = float(re.search(r":\s*([0-9.]+) s", out).group(1))
    top = json.loads(re.search(r"top=(\[.*\])", out).group(1))
    return seconds, rss, top


def lyap_run(save_dir, precision, state, extra=()):
    out_json = os.path.join(save_dir, f"lyap_{precision}_{state}.json")
    cmd = [LYAP, "spectrum", "--model", os.path.join(save_dir, "lstm.safetensors"),
           "--tokens", os.path.join(save_dir, "tokens.npy"), "--precision", precision,
           "--state", state, "--out", out_json, *extra]
    _, rss = run_measured(cmd)
    with open(out_json) as f:
        result = json.load(f)
    return result["timing"]["seconds"], rss, result["exponents"]["mean"][:3]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--scaling", action="store_true", help="also time hidden 64..1024, --k 32 at 1024, --qr-every")
    a = p.parse_args()
    settings = [("f32", "hidden"), ("f64", "hidden"), ("f64", "full")]
    times = {s: {"torch": [], "lyap": [], "torch_rss": [], "lyap_rss": []} for s in settings}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(a.reps):
            for precision, state in settings:
                t = times[(precision, state)]
                ts, trss, ttop = torch_run(tmp, precision, state)
                ls, lrss, ltop = lyap_run(tmp, precision, state)
                t["torch"].append(ts); t["lyap"].append(ls)
                t["torch_rss"].append(trss); t["lyap_rss"].append(lrss)
                agree = max(abs(x - y) for x, y in zip(ttop, ltop))
                print(f"rep {rep} {precision} {state}: torch {ts:.3f} s ({trss:.0f} MB), lyap {ls:.3f} s ({lrss:.0f} MB), "
                      f"ratio {ts / ls:.2f}x, top-3 max |diff| {agree:.2e}", flush=True)
        print("\n| setting | torch_spectrum.py (s) | lyap (s) | speed-up | torch peak RSS (MB) | lyap peak RSS (MB) |")
        print("|---|---|---|---|---|---|")
        for (precision, state), t in times.items():
            tm, lm = statistics.median(t["torch"]), statistics.median(t["lyap"])
            ratios = [x / y for x, y in zip(t["torch"], t["lyap"])]
            print(f"| {precision}, --state {state} | {tm:.2f} | {lm:.2f} | {statistics.median(ratios):.2f}x "
                  f"(min {min(ratios):.2f}, max {max(ratios):.2f}) | {statistics.median(t['torch_rss']):.0f} | "
                  f"{statistics.median(t['lyap_rss']):.0f} |")
        if a.scaling:
            scaling(tmp)


def scaling(tmp):
    print("\n| run | seconds (median of 3) |")
    print("|---|---|")
    def timed(args):
        return statistics.median(float(json.load(open(o))["timing"]["seconds"]) for o in
                                 [lyap_random(args, i) for i in range(3)])
    def lyap_random(args, i):
        out = os.path.join(tmp, f"scale_{i}.json")
        run_measured([LYAP, "spectrum", "--random", "lstm", "--input-size", "82", "--init-scale", "0.08",
                      "--batch", "10", "--steps", "100", "--precision", "f32", "--state", "hidden",
                      "--out", out, *args])
        return out
    for n in [64, 128, 256, 512, 1024]:
        print(f"| hidden {n}, f32, hidden state, full spectrum | {timed(['--hidden', str(n)]):.3f} |", flush=True)
    print(f"| hidden 1024, f32, hidden state, --k 32 | {timed(['--hidden', '1024', '--k', '32']):.3f} |", flush=True)
    for m in [1, 2, 5, 10]:
        print(f"| hidden 512, f32, hidden state, --qr-every {m} | {timed(['--hidden', '512', '--qr-every', str(m)]):.3f} |", flush=True)


if __name__ == "__main__":
    main()
