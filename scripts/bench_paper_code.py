#!/usr/bin/env python3
"""Side-by-side speed of `lyap spectrum` against the paper's own PyTorch code, interleaved, on the
paper's setting (1-layer LSTM, hidden 512, no bias, 82 one-hot inputs, 10 sequences, 100 steps,
the full hidden-state spectrum, QR every step), f32.

The paper's code is third-party and not vendored here: pass the folder that holds its
`LE_calculation.py` (the authors' published module with `calc_LEs_an` and `lstm_jac`). It is run
as published, except that its deprecated `torch.qr(Z, some=True)` is mapped onto
`torch.linalg.qr` when this PyTorch no longer has `torch.qr`.

Both programs run the identical network and tokens (`torch_spectrum.py --save`). Reported: the
seconds of the spectrum computation (the paper's `calc_LEs_an` call; lyap's `timing.seconds`),
whole-process peak RSS, and the ratio.

usage: python3 scripts/bench_paper_code.py --paper-code DIR [--reps 3]
needs: pip install torch numpy safetensors tqdm matplotlib; cargo build --release
"""
import argparse, json, os, statistics, sys, tempfile

from bench_spectrum import LYAP, TORCH, run_measured  # stdout and peak RSS (MB) of a command

# Runs in a child process: loads the saved network and tokens, times one calc_LEs_an call.
CHILD = r"""
import sys, time, math, numpy as np, torch
sys.path.insert(0, sys.argv[1])
if not hasattr(torch, "qr"):
    torch.qr = lambda z, some=True: torch.linalg.qr(z, "reduced" if some else "complete")
import LE_calculation as paper
from safetensors.torch import load_file
state = load_file(sys.argv[2] + "/lstm.safetensors")
n, vocab = state["weight_hh_l0"].shape[1], state["weight_ih_l0"].shape[1]
lstm = torch.nn.LSTM(vocab, n, 1, batch_first=True, bias=False)
lstm.load_state_dict(state)
class Model(torch.nn.Module):
    def __init__(self, rnn_layer):
        super().__init__()
        self.rnn_layer = rnn_layer
    def forward(self, x, states):
        return self.rnn_layer(x, states)
tokens = torch.from_numpy(np.load(sys.argv[2] + "/tokens.npy"))
x = torch.nn.functional.one_hot(tokens, vocab).float()
zeros = torch.zeros(1, x.shape[0], n)
with torch.no_grad():
    start = time.perf_counter()
    exponents, _ = paper.calc_LEs_an(x, (zeros, zeros.clone()), model=Model(lstm), rec_layer="lstm", warmup=0)
    seconds = time.perf_counter() - start
print(seconds, (exponents.mean(0) * math.log(2))[:3].tolist())  # its log2 units -> natural log
"""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--paper-code", required=True, help="folder holding the paper's LE_calculation.py")
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    if not os.path.isfile(os.path.join(a.paper_code, "LE_calculation.py")):
        sys.exit(f"{a.paper_code}: no LE_calculation.py here")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        run_measured([sys.executable, TORCH, "--steps", "100", "--save", tmp])
        for rep in range(a.reps):
            out, paper_rss = run_measured([sys.executable, "-c", CHILD, a.paper_code, tmp])
            paper_seconds = float(out.split()[0])
            result = os.path.join(tmp, "lyap.json")
            _, lyap_rss = run_measured([LYAP, "spectrum", "--model", os.path.join(tmp, "lstm.safetensors"),
                                       "--tokens", os.path.join(tmp, "tokens.npy"), "--precision", "f32",
                                       "--state", "hidden", "--out", result])
            with open(result) as f:
                lyap_seconds = json.load(f)["timing"]["seconds"]
            rows.append((paper_seconds, lyap_seconds))
            print(f"rep {rep}: paper's code {paper_seconds:.2f} s ({paper_rss:.0f} MB), lyap {lyap_seconds:.3f} s "
                  f"({lyap_rss:.0f} MB), ratio {paper_seconds / lyap_seconds:.1f}x", flush=True)
    ratios = [x / y for x, y in rows]
    print(f"median: paper's code {statistics.median(r[0] for r in rows):.1f} s, lyap "
          f"{statistics.median(r[1] for r in rows):.2f} s, ratio {statistics.median(ratios):.1f}x "
          f"(min {min(ratios):.1f}, max {max(ratios):.1f})")


if __name__ == "__main__":
    main()
