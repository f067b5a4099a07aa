//! `--paper-compat` (docs/DESIGN.md section 4) with warm-up 0 equals an independent computation
//! written here: a 2-layer LSTM's hidden-state map (cell states held fixed), its dense
//! Jacobian by central finite differences, `Q <- J^T Q`, Gram-Schmidt QR every step, log 2.

mod common;
use common::*;
use lyap_rnn::{Arch, LayerWeights, StackWeights};

const INPUT: usize = 2;
const HIDDEN: usize = 3;
const STEPS: usize = 12;
const BATCH: usize = 2;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One PyTorch LSTM step (gates i, f, g, o): returns `(h', c')`.
fn lstm_step(w: &LayerWeights<f64>, x: &[f64], h: &[f64], c: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = h.len();
    let pre = |row: usize| {
        let mut a = (0..x.len())
            .map(|j| w.weight_ih[(row, j)] * x[j])
            .sum::<f64>();
        a += (0..n).map(|j| w.weight_hh[(row, j)] * h[j]).sum::<f64>();
        a + w.bias_ih.as_ref().map_or(0.0, |b| b[row]) + w.bias_hh.as_ref().map_or(0.0, |b| b[row])
    };
    let mut h_new = vec![0.0; n];
    let mut c_new = vec![0.0; n];
    for r in 0..n {
        let (i, f) = (sigmoid(pre(r)), sigmoid(pre(n + r)));
        let (g, o) = (pre(2 * n + r).tanh(), sigmoid(pre(3 * n + r)));
        c_new[r] = f * c[r] + i * g;
        h_new[r] = o * c_new[r].tanh();
    }
    (h_new, c_new)
}

/// The stacked hidden-state map `(h1, h2) -> (h1', h2')` with the cell states `cs` fixed.
fn hidden_map(weights: &StackWeights<f64>, x: &[f64], h: &[f64], cs: &[Vec<f64>]) -> Vec<f64> {
    let (h1, _) = lstm_step(&weights.layers[0], x, &h[..HIDDEN], &cs[0]);
    let (h2, _) = lstm_step(&weights.layers[1], &h1, &h[HIDDEN..], &cs[1]);
    [h1, h2].concat()
}

/// Modified Gram-Schmidt on the columns of `q` (column-major `dim x dim`); returns `|R_ii|`.
fn gram_schmidt(q: &mut [Vec<f64>]) -> Vec<f64> {
    let mut diag = Vec::new();
    for i in 0..q.len() {
        for j in 0..i {
            let dot: f64 = q[i].iter().zip(&q[j]).map(|(a, b)| a * b).sum();
            let qj = q[j].clone();
            q[i].iter_mut().zip(&qj).for_each(|(a, b)| *a -= dot * b);
        }
        let norm = q[i].iter().map(|a| a * a).sum::<f64>().sqrt();
        q[i].iter_mut().for_each(|a| *a /= norm);
        diag.push(norm);
    }
    diag
}

/// The paper's computation for one sequence, in bits per step.
fn reference_spectrum(weights: &StackWeights<f64>, inputs: &[f64]) -> Vec<f64> {
    let dim = 2 * HIDDEN;
    let mut h = vec![0.0; dim];
    let mut cs = vec![vec![0.0; HIDDEN]; 2];
    let mut q: Vec<Vec<f64>> = (0..dim)
        .map(|j| (0..dim).map(|i| f64::from(i == j)).collect())
        .collect();
    let mut acc = vec![0.0; dim];
    let eps = 1e-6;
    for t in 0..STEPS {
        let x = &inputs[t * INPUT..(t + 1) * INPUT];
        // J[:, j] by central differences, c held fixed.
        let jac: Vec<Vec<f64>> = (0..dim)
            .map(|j| {
                let (mut up, mut down) = (h.clone(), h.clone());
                up[j] += eps;
                down[j] -= eps;
                let (fu, fd) = (
                    hidden_map(weights, x, &up, &cs),
                    hidden_map(weights, x, &down, &cs),
                );
                fu.iter()
                    .zip(&fd)
                    .map(|(a, b)| (a - b) / (2.0 * eps))
                    .collect()
            })
            .collect();
        // Q <- J^T Q: (J^T q)_j = sum_i J[i][j] q_i = column j of J dotted with q.
        for column in q.iter_mut() {
            *column = jac
                .iter()
                .map(|jcol| jcol.iter().zip(column.iter()).map(|(a, b)| a * b).sum())
                .collect();
        }
        for (a, r) in acc.iter_mut().zip(gram_schmidt(&mut q)) {
            *a += r.ln();
        }
        // Advance the true state (h and c of both layers).
        let (h1, c1) = lstm_step(&weights.layers[0], x, &h[..HIDDEN], &cs[0]);
        let (h2, c2) = lstm_step(&weights.layers[1], &h1, &h[HIDDEN..], &cs[1]);
        h = [h1, h2].concat();
        cs = vec![c1, c2];
    }
    acc.iter()
        .map(|a| a / STEPS as f64 / std::f64::consts::LN_2)
        .collect()
}

#[test]
fn paper_compat_equals_transposed_jacobian_in_bits() {
    let dir = tempfile::tempdir().unwrap();
    let weights = StackWeights::<f64>::random(Arch::Lstm, INPUT, HIDDEN, 2, true, 0.8, 11);
    let model = dir.path().join("lstm.safetensors");
    write_model(&model, &weights, "rnn.", &[]);
    let values: Vec<f64> = pseudo_random(BATCH * STEPS * INPUT, 5);
    let inputs = dir.path().join("inputs.npy");
    write_npy_f64(&inputs, &[BATCH, STEPS, INPUT], &values);
    let out = dir.path().join("r.json");
    lyap_ok(&[
        "spectrum",
        "--model",
        path_str(&model),
        "--inputs",
        path_str(&inputs),
        "--paper-compat",
        "--warmup",
        "0",
        "--out",
        path_str(&out),
    ]);
    let json = read_json(&out);
    assert_eq!(json["config"]["log_base"], "2");
    assert_eq!(json["config"]["paper_compat"], true);
    assert_eq!(json["config"]["steps"], STEPS);
    assert_eq!(json["model"]["state"], "hidden");
    assert_eq!(json["model"]["state_dim"], 2 * HIDDEN);

    let per_sequence: Vec<Vec<f64>> = values
        .chunks(STEPS * INPUT)
        .map(|seq| reference_spectrum(&weights, seq))
        .collect();
    for (b, expected) in per_sequence.iter().enumerate() {
        let got = numbers(&json["per_sequence"][b]);
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            assert!(
                (g - e).abs() < 1e-7,
                "sequence {b} exponent {i}: {g} vs {e}"
            );
        }
    }
    let mean = numbers(&json["exponents"]["mean"]);
    let std = numbers(&json["exponents"]["std"]);
    for i in 0..2 * HIDDEN {
        let (a, b) = (per_sequence[0][i], per_sequence[1][i]);
        assert!((mean[i] - (a + b) / 2.0).abs() < 1e-7);
        // Sample std (ddof = 1) of two values: |a - b| / sqrt(2).
        assert!((std[i] - (a - b).abs() / 2f64.sqrt()).abs() < 1e-7);
    }
    // The transposed map differs from the default hidden-state spectrum (J Q, nats).
    let default_out = dir.path().join("d.json");
    lyap_ok(&[
        "spectrum",
        "--model",
        path_str(&model),
        "--inputs",
        path_str(&inputs),
        "--state",
        "hidden",
        "--log-base",
        "2",
        "--out",
        path_str(&default_out),
    ]);
    let default_mean = numbers(&read_json(&default_out)["exponents"]["mean"]);
    let differs = default_mean
        .iter()
        .zip(&mean)
        .any(|(a, b)| (a - b).abs() > 1e-6);
    assert!(
        differs,
        "J^T and J gave the same spectrum; the test would not detect a mix-up"
    );
}
