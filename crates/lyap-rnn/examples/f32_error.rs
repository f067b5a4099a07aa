//! Where the f32 error of a spectrum comes from: the same network and inputs computed with
//! parts of the method in f32 and the rest in f64, each compared exponent by exponent with the
//! all-f64 run (docs/DESIGN.md section 2, "Precision"; BENCHMARKS.md).
//!
//! `cargo run --release -p lyap-rnn --example f32_error -- [hidden] [input] [batch] [state]`

use faer::{Mat, MatMut, MatRef};
use lyap_core::{lyapunov_spectrum, Real, SpectrumConfig, Tangent, TangentSystem};
use lyap_rnn::{Arch, LstmState, RecurrentStack, StackWeights, StackWorkspace};

/// The f32 stack's trajectory and Jacobian seen from an f64 engine. `dense`: the Jacobian is
/// formed in f32 (exactly: a product with the identity), converted, and applied in f64;
/// otherwise the f64 tangent vectors are rounded to f32 and the product runs in f32.
struct Mixed {
    inner: RecurrentStack<f32>,
    dense: bool,
}

struct MixedWorkspace {
    inner: StackWorkspace<f32>,
    state: Vec<f64>,
    tangent: Mat<f32>,
    out: Mat<f32>,
    identity: Mat<f32>,
}

impl TangentSystem<f64> for Mixed {
    type Workspace = MixedWorkspace;
    fn state_dim(&self) -> usize {
        self.inner.state_dim()
    }
    fn input_dim(&self) -> usize {
        self.inner.input_dim()
    }
    fn workspace(&self, max_vectors: usize) -> MixedWorkspace {
        let d = self.inner.state_dim();
        MixedWorkspace {
            inner: self.inner.workspace(d),
            state: vec![0.0; d],
            tangent: Mat::zeros(d, max_vectors),
            out: Mat::zeros(d, max_vectors.max(d)),
            identity: Mat::identity(d, d),
        }
    }
    fn state<'a>(&self, ws: &'a MixedWorkspace) -> &'a [f64] {
        &ws.state
    }
    fn step(&self, ws: &mut MixedWorkspace, input: &[f64]) {
        let x: Vec<f32> = input.iter().map(|&v| v as f32).collect();
        self.inner.step(&mut ws.inner, &x);
        for (s, &v) in ws.state.iter_mut().zip(self.inner.state(&ws.inner)) {
            *s = v as f64;
        }
    }
    fn apply_jacobian(
        &self,
        ws: &mut MixedWorkspace,
        tangent: MatRef<'_, f64>,
        mut out: MatMut<'_, f64>,
        which: Tangent,
    ) {
        let (d, k) = (tangent.nrows(), tangent.ncols());
        if self.dense {
            let mut j32 = ws.out.as_mut().subcols_mut(0, d);
            self.inner
                .apply_jacobian(&mut ws.inner, ws.identity.as_ref(), j32.as_mut(), which);
            let j = Mat::<f64>::from_fn(d, d, |r, c| ws.out[(r, c)] as f64);
            lyap_core::dense::gemm(out, faer::Accum::Replace, j.as_ref(), tangent, 1.0);
        } else {
            let mut t = ws.tangent.as_mut().subcols_mut(0, k);
            for c in 0..k {
                for r in 0..d {
                    t[(r, c)] = tangent[(r, c)] as f32;
                }
            }
            let o = ws.out.as_mut().subcols_mut(0, k);
            self.inner
                .apply_jacobian(&mut ws.inner, ws.tangent.as_ref().subcols(0, k), o, which);
            for c in 0..k {
                for r in 0..d {
                    out[(r, c)] = ws.out[(r, c)] as f64;
                }
            }
        }
    }
}

/// The f64 stack whose tangent vectors are rounded to f32 before every product: what a kernel
/// with f32 inputs (weights and `Q`) and exact f64 accumulation would compute, the gate factors
/// staying in f64.
struct RoundedBasis {
    inner: RecurrentStack<f64>,
}

impl TangentSystem<f64> for RoundedBasis {
    type Workspace = (StackWorkspace<f64>, Mat<f64>);
    fn state_dim(&self) -> usize {
        self.inner.state_dim()
    }
    fn input_dim(&self) -> usize {
        self.inner.input_dim()
    }
    fn workspace(&self, max_vectors: usize) -> Self::Workspace {
        let d = self.inner.state_dim();
        (
            self.inner.workspace(max_vectors),
            Mat::zeros(d, max_vectors),
        )
    }
    fn state<'a>(&self, ws: &'a Self::Workspace) -> &'a [f64] {
        self.inner.state(&ws.0)
    }
    fn step(&self, ws: &mut Self::Workspace, input: &[f64]) {
        self.inner.step(&mut ws.0, input);
    }
    fn apply_jacobian(
        &self,
        ws: &mut Self::Workspace,
        tangent: MatRef<'_, f64>,
        out: MatMut<'_, f64>,
        which: Tangent,
    ) {
        let (d, k) = (tangent.nrows(), tangent.ncols());
        let mut rounded = ws.1.as_mut().subcols_mut(0, k);
        for c in 0..k {
            for r in 0..d {
                rounded[(r, c)] = tangent[(r, c)] as f32 as f64;
            }
        }
        self.inner
            .apply_jacobian(&mut ws.0, ws.1.as_ref().subcols(0, k), out, which);
    }
}

fn tokens<T: Real>(steps: usize, size: usize, seed: u64) -> Vec<T> {
    let mut state = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    let mut inputs = vec![T::zero(); steps * size];
    for t in 0..steps {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        inputs[t * size + (state % size as u64) as usize] = T::one();
    }
    inputs
}

fn spectrum<T: Real, S: TangentSystem<T>>(
    system: &S,
    batch: usize,
    config: &SpectrumConfig,
) -> Vec<f64> {
    let m = system.input_dim();
    let inputs: Vec<Vec<T>> = (0..batch)
        .map(|b| tokens(config.warmup + config.steps, m, b as u64))
        .collect();
    let refs: Vec<&[T]> = inputs.iter().map(Vec::as_slice).collect();
    lyapunov_spectrum(system, &refs, config)
        .unwrap()
        .statistics
        .mean
}

fn report(name: &str, reference: &[f64], other: &[f64]) {
    let rel: Vec<f64> = reference
        .iter()
        .zip(other)
        .map(|(a, b)| ((a - b) / a).abs())
        .collect();
    let worst = rel.iter().cloned().fold(0.0, f64::max);
    let at = rel.iter().position(|&r| r == worst).unwrap_or(0);
    let top = rel[..rel.len() / 2].iter().cloned().fold(0.0, f64::max);
    let below6 = reference
        .iter()
        .zip(&rel)
        .filter(|(a, _)| **a < -6.0)
        .map(|(_, r)| *r)
        .fold(0.0, f64::max);
    println!(
        "{name:<40} worst rel {worst:.2e} (exponent {} = {:.3}), top half {top:.2e}, below -6 {below6:.2e}",
        at + 1,
        reference[at]
    );
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .take(3)
        .map(|a| a.parse().unwrap())
        .collect();
    let (n, m, batch) = (
        *args.first().unwrap_or(&256),
        *args.get(1).unwrap_or(&32),
        *args.get(2).unwrap_or(&4),
    );
    let state = match std::env::args().nth(4).as_deref() {
        Some("hidden") => LstmState::Hidden,
        _ => LstmState::Full,
    };
    let weights =
        StackWeights::<f64>::random(Arch::Lstm, m, n, 1, false, 1.0 / (n as f64).sqrt(), 0);
    let rounded = weights.cast::<f32>().cast::<f64>();
    let stack64 = RecurrentStack::new(weights.clone(), state).unwrap();
    let d = stack64.state_dim();
    let mut config = SpectrumConfig::new(d, 300);
    config.warmup = 100;
    let reference = spectrum::<f64, _>(&stack64, batch, &config);
    println!(
        "LSTM {n}, input {m}, batch {batch}, {state:?}: exponents {:.3} .. {:.3}",
        reference[0],
        reference[d - 1]
    );
    let rounded64 = spectrum::<f64, _>(
        &RecurrentStack::new(rounded, state).unwrap(),
        batch,
        &config,
    );
    report("f64 with f32-rounded weights", &reference, &rounded64);
    let basis = RoundedBasis {
        inner: RecurrentStack::new(weights.cast::<f32>().cast::<f64>(), state).unwrap(),
    };
    report(
        "f32-rounded weights and Q, rest f64",
        &reference,
        &spectrum::<f64, _>(&basis, batch, &config),
    );
    let stack32 = RecurrentStack::new(weights.cast::<f32>(), state).unwrap();
    let all32 = spectrum::<f32, _>(&stack32, batch, &config);
    report("f32 (all)", &reference, &all32);
    let mixed = Mixed {
        inner: stack32.clone(),
        dense: false,
    };
    report(
        "f32 trajectory + J Q in f32, QR f64",
        &reference,
        &spectrum::<f64, _>(&mixed, batch, &config),
    );
    let dense = Mixed {
        inner: stack32,
        dense: true,
    };
    report(
        "f32 trajectory + J entries, J Q + QR f64",
        &reference,
        &spectrum::<f64, _>(&dense, batch, &config),
    );
}
