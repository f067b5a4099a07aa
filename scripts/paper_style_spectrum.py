"""The paper's spectrum algorithm, written the way its published code computes it
(`calc_LEs_an` with an LSTM: h-only Jacobian, Q <- J^T Q, a warm-up of W steps that
multiplies by J^T without re-orthonormalising and ends with one QR, then the measurement
restarting from the first input with the state carried on, QR every step, log base 2),
on a `lyap train` checkpoint and a token file. Used in EXPERIMENTS.md ("What the paper's
choices do to a trained network") to check `lyap spectrum --paper-compat` independently.
It re-implements the algorithm (the paper's own code is third-party and not vendored).

usage: python scripts/paper_style_spectrum.py --model RUN/checkpoints/best.safetensors \
           --tokens tokens.npy --warmup 100 --steps 100 --precision f32 [--out le.json]
Needs torch, numpy, safetensors. Prints the largest exponents (bits per step) and, with
--out, writes {"mean": [...], "per_sequence": [[...]], "nonfinite": n} as JSON.
"""
import argparse, json, math
import numpy as np
import torch
from safetensors.torch import load_file

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--tokens", required=True)
p.add_argument("--warmup", type=int, default=0)
p.add_argument("--steps", type=int, default=None)
p.add_argument("--batch", type=int, default=None)
p.add_argument("--precision", choices=["f32", "f64"], default="f32")
p.add_argument("--out", default=None)
a = p.parse_args()
torch.set_num_threads(1)
dt = torch.float32 if a.precision == "f32" else torch.float64
sd = load_file(a.model)
Wih, Whh = sd["rnn.weight_ih_l0"].to(dt), sd["rnn.weight_hh_l0"].to(dt)
bias = sd["rnn.bias_ih_l0"].to(dt) + sd["rnn.bias_hh_l0"].to(dt) if "rnn.bias_ih_l0" in sd else 0
N, V = Whh.shape[1], Wih.shape[1]
U = Whh.view(4, N, N)
tokens = torch.from_numpy(np.load(a.tokens)).long()
if a.batch:
    tokens = tokens[: a.batch]
B, L = tokens.shape
T = a.steps or L
assert max(a.warmup, T) <= L, "a sequence needs max(warmup, steps) tokens"
x = torch.nn.functional.one_hot(tokens, V).to(dt)


def step(xt, h, c):
    """One LSTM step and the Jacobian dh'/dh with c held fixed (the paper's h-only map)."""
    z = xt @ Wih.T + h @ Whh.T + bias
    i, f, g, o = z[:, :N].sigmoid(), z[:, N:2*N].sigmoid(), z[:, 2*N:3*N].tanh(), z[:, 3*N:].sigmoid()
    c2 = f * c + i * g
    tc = c2.tanh()
    G = (c*f*(1-f))[:, :, None]*U[1] + (g*i*(1-i))[:, :, None]*U[0] + (i*(1-g*g))[:, :, None]*U[2]
    J = (tc*o*(1-o))[:, :, None]*U[3] + (o*(1-tc*tc))[:, :, None]*G
    return o * tc, c2, J


h = torch.zeros(B, N, dtype=dt)
c = torch.zeros(B, N, dtype=dt)
Q = torch.eye(N, dtype=dt).expand(B, N, N).clone()
for t in range(a.warmup):  # warm-up: Q <- J^T Q, no QR
    h, c, J = step(x[:, t], h, c)
    Q = J.transpose(1, 2) @ Q
Q, _ = torch.linalg.qr(Q, "reduced")
acc = torch.zeros(B, N, dtype=torch.float64)
for t in range(T):  # measurement: from the first input again, state carried on
    h, c, J = step(x[:, t], h, c)
    Q, R = torch.linalg.qr(J.transpose(1, 2) @ Q, "reduced")
    acc += R.diagonal(dim1=1, dim2=2).abs().double().log2()
le = acc / T
mean = le.mean(0)
bad = int((~torch.isfinite(le)).sum())
print(f"paper-style {a.precision} W={a.warmup} T={T} B={B}: top {[round(v, 5) for v in mean[:5].tolist()]} "
      f"bottom {[round(v, 4) for v in mean[-3:].tolist()]} nonfinite {bad}")
if a.out:
    with open(a.out, "w") as fh:
        json.dump({"mean": [v if math.isfinite(v) else None for v in mean.tolist()],
                   "per_sequence": [[v if math.isfinite(v) else None for v in r] for r in le.tolist()],
                   "nonfinite": bad}, fh)
