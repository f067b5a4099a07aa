"""lyap.spectrum against an independent reference: tiny RNN / GRU / LSTM cells written in
numpy from PyTorch's equations, their Jacobians by central finite differences, and the QR
method (Benettin) run in numpy over a few steps."""

from __future__ import annotations

import numpy as np
import pytest

import lyap
from conftest import random_state_dict


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def cell_step(arch, w, layer, state, x, n):
    """One layer's step in PyTorch's equations; state is h (RNN, GRU) or (h, c) (LSTM)."""
    wi, wh = w[f"weight_ih_l{layer}"], w[f"weight_hh_l{layer}"]
    bi = w.get(f"bias_ih_l{layer}", np.zeros(wi.shape[0]))
    bh = w.get(f"bias_hh_l{layer}", np.zeros(wh.shape[0]))
    if arch in ("rnn-tanh", "rnn-relu"):
        z = wi @ x + bi + wh @ state + bh
        return np.tanh(z) if arch == "rnn-tanh" else np.maximum(z, 0.0)
    if arch == "gru":
        gi, gh = wi @ x + bi, wh @ state + bh
        r = sigmoid(gi[:n] + gh[:n])
        z = sigmoid(gi[n:2 * n] + gh[n:2 * n])
        cand = np.tanh(gi[2 * n:] + r * gh[2 * n:])
        return (1 - z) * cand + z * state
    h, c = state[:n], state[n:]
    g = wi @ x + bi + wh @ h + bh
    i, f, gg, o = sigmoid(g[:n]), sigmoid(g[n:2 * n]), np.tanh(g[2 * n:3 * n]), sigmoid(g[3 * n:])
    c2 = f * c + i * gg
    return np.concatenate([o * np.tanh(c2), c2])


def stack_step(arch, w, layers, n, state, x):
    """The stacked state (each layer's state in turn) after one input step."""
    size = 2 * n if arch == "lstm" else n
    out, below = [], x
    for layer in range(layers):
        new = cell_step(arch, w, layer, state[layer * size:(layer + 1) * size], below, n)
        out.append(new)
        below = new[:n]
    return np.concatenate(out)


def jacobian(f, s, eps=1e-6):
    columns = []
    for j in range(len(s)):
        e = np.zeros_like(s)
        e[j] = eps
        columns.append((f(s + e) - f(s - e)) / (2 * eps))
    return np.stack(columns, axis=1)


def reference(arch, w, layers, n, x, warmup, hidden_only=False):
    """Full spectrum of one sequence by the QR method, QR every step, standard warm-up."""
    size = 2 * n if arch == "lstm" else n
    state = np.zeros(layers * size)
    dim = layers * n if hidden_only else layers * size
    q = np.eye(dim)
    acc = np.zeros(dim)
    for t, xt in enumerate(x):
        if hidden_only:
            # h-only tangent map of the paper: c held fixed, the dh'/dh block of each layer.
            def f(h, state=state, xt=xt):
                full = state.copy()
                for layer in range(layers):
                    full[layer * size:layer * size + n] = h[layer * n:(layer + 1) * n]
                new = stack_step(arch, w, layers, n, full, xt)
                return np.concatenate([new[layer * size:layer * size + n] for layer in range(layers)])
            h = np.concatenate([state[layer * size:layer * size + n] for layer in range(layers)])
            jac = jacobian(f, h)
        else:
            jac = jacobian(lambda s: stack_step(arch, w, layers, n, s, xt), state)
        state = stack_step(arch, w, layers, n, state, xt)
        q, r = np.linalg.qr(jac @ q)
        if t >= warmup:
            acc += np.log(np.abs(np.diag(r)))
    return acc / (len(x) - warmup)


@pytest.mark.parametrize("arch,layers,bias", [
    ("rnn-tanh", 1, True), ("rnn-relu", 1, True), ("gru", 1, True), ("gru", 2, False),
    ("lstm", 1, True), ("lstm", 2, True),
])
def test_matches_numpy_finite_difference_qr(arch, layers, bias):
    n, m, steps, warmup = 4, 3, 30, 5
    w = random_state_dict(arch, m, n, layers, bias, scale=0.8, seed=11 + layers)
    x = np.random.default_rng(4).standard_normal((2, steps, m))
    if arch == "rnn-relu":
        # Keep every unit active (non-negative weights and inputs): a dead unit's exponent is
        # exactly -inf in the engine but rounding noise (about -37) by finite differences.
        w = {key: np.abs(value) * 0.5 for key, value in w.items()}
        x = np.abs(x)
    # A ReLU RNN has the shapes of a tanh one: the architecture is given (as --arch).
    result = lyap.spectrum(w, x, warmup=warmup, arch=arch)
    expected = np.array([reference(arch, w, layers, n, seq, warmup) for seq in x])
    assert result.per_sequence.shape == expected.shape
    np.testing.assert_allclose(np.sort(result.per_sequence, axis=1),
                               np.sort(expected, axis=1), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(result.exponents, result.per_sequence.mean(axis=0), rtol=1e-12)


def test_lstm_hidden_state_matches_h_only_reference():
    n, m, steps = 3, 2, 25
    w = random_state_dict("lstm", m, n, 1, True, scale=0.9, seed=21)
    x = np.random.default_rng(5).standard_normal((1, steps, m))
    result = lyap.spectrum(w, x, state="hidden")
    expected = reference("lstm", w, 1, n, x[0], 0, hidden_only=True)
    np.testing.assert_allclose(np.sort(result.per_sequence[0]), np.sort(expected), rtol=1e-6, atol=1e-7)


def test_log_base_two_is_nats_over_ln2():
    w = random_state_dict("gru", 2, 3, seed=2)
    x = np.random.default_rng(6).standard_normal((3, 20, 2))
    nats = lyap.spectrum(w, x)
    bits = lyap.spectrum(w, x, log_base="2")
    np.testing.assert_allclose(bits.exponents, nats.exponents / np.log(2), rtol=1e-14)
    assert bits.config["log_base"] == "2"


def test_trace_ends_at_the_exponents():
    w = random_state_dict("lstm", 2, 3, seed=8)
    x = np.random.default_rng(7).standard_normal((2, 12, 2))
    result = lyap.spectrum(w, x, trace=True, k=4)
    assert result.trace.shape == (2, 12, 4)
    assert result.trace_steps.tolist() == list(range(1, 13))
    np.testing.assert_array_equal(result.trace[:, -1, :], result.per_sequence)
    assert lyap.spectrum(w, x).trace is None
