//! Flows integrated with RK4 and their exact tangent maps, initial states, built-in systems
//! (docs/DESIGN.md section 2.1).

use faer::{Mat, MatMut, MatRef};
use lyap_core::flows::{Lorenz63, Rk4Flow, Rossler, VectorField};
use lyap_core::systems::{
    attractor_points, system_by_name, transient_steps, SystemError, DEFAULT_INITIAL_POINTS,
};
use lyap_core::{
    autonomous_inputs, dense_jacobian, kaplan_yorke_dimension, lyapunov_spectrum,
    lyapunov_spectrum_from, Real, Spectrum, SpectrumConfig, SpectrumError, Tangent, TangentOnly,
    TangentSystem,
};

/// The spectrum per time unit of `flow` from `count` seeded attractor points.
fn flow_spectrum<F: VectorField>(
    flow: &Rk4Flow<F>,
    count: usize,
    warmup: usize,
    steps: usize,
) -> (Spectrum, Vec<Vec<f64>>) {
    let region = flow.field.initial_region();
    let points = attractor_points(flow, &region, count, transient_steps(flow.dt), 2024).unwrap();
    let starts: Vec<&[f64]> = points.iter().map(|p| p.as_slice()).collect();
    let mut config = SpectrumConfig::new(flow.field.dim(), steps);
    config.warmup = warmup;
    let spectrum =
        lyapunov_spectrum_from(flow, &starts, &autonomous_inputs(count), &config).unwrap();
    (flow.per_time_unit(&spectrum), points)
}

/// `Phi(s)`: one RK4 step from `s`.
fn rk4_step<F: VectorField>(flow: &Rk4Flow<F>, s: &[f64]) -> Vec<f64> {
    let mut ws = TangentSystem::<f64>::workspace(flow, 1);
    assert!(flow.set_state(&mut ws, s));
    flow.step(&mut ws, &[]);
    flow.state(&ws).to_vec()
}

fn frobenius(m: MatRef<'_, f64>) -> f64 {
    let mut sum = 0.0;
    for c in 0..m.ncols() {
        for r in 0..m.nrows() {
            sum += m[(r, c)] * m[(r, c)];
        }
    }
    sum.sqrt()
}

#[test]
fn rk4_tangent_map_matches_central_differences_of_the_step() {
    for dt in [0.01, 0.05] {
        let flow = Rk4Flow::new(Lorenz63::default(), dt);
        let points =
            attractor_points::<f64, _>(&flow, &flow.field.initial_region(), 4, 3000, 5).unwrap();
        for s in &points {
            let mut ws = flow.workspace(3);
            assert!(flow.set_state(&mut ws, s));
            flow.step(&mut ws, &[]);
            let exact = dense_jacobian(&flow, &mut ws, Tangent::Jacobian);
            let eps = 1e-5;
            let numeric = Mat::from_fn(3, 3, |r, c| {
                let (mut plus, mut minus) = (s.clone(), s.clone());
                plus[c] += eps;
                minus[c] -= eps;
                (rk4_step(&flow, &plus)[r] - rk4_step(&flow, &minus)[r]) / (2.0 * eps)
            });
            let error = frobenius((&exact - &numeric).as_ref()) / frobenius(exact.as_ref());
            assert!(error < 1e-6, "dt {dt}: relative error {error}");

            // the dense fast path and the transposed map give the same matrix
            let mut dense = Mat::zeros(3, 3);
            assert!(flow.dense_jacobian_into(&mut ws, dense.as_mut(), Tangent::Jacobian));
            assert!(frobenius((&dense - &exact).as_ref()) < 1e-13);
            let transposed = dense_jacobian(&flow, &mut ws, Tangent::Transposed);
            assert!(frobenius((&transposed - exact.transpose()).as_ref()) < 1e-13);
            assert!(flow.dense_jacobian_into(&mut ws, dense.as_mut(), Tangent::Transposed));
            assert!(frobenius((&dense - exact.transpose()).as_ref()) < 1e-13);
        }
    }
}

/// `ds/dt = A s`.
#[derive(Clone)]
struct LinearField(Mat<f64>);

impl VectorField for LinearField {
    fn dim(&self) -> usize {
        self.0.nrows()
    }
    fn f<T: Real>(&self, s: &[T], out: &mut [T]) {
        for (r, out) in out.iter_mut().enumerate() {
            *out = (0..s.len()).map(|c| T::of_f64(self.0[(r, c)]) * s[c]).sum();
        }
    }
    fn jacobian<T: Real>(&self, _s: &[T], mut out: MatMut<'_, T>) {
        for c in 0..self.0.ncols() {
            for r in 0..self.0.nrows() {
                out[(r, c)] = T::of_f64(self.0[(r, c)]);
            }
        }
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![0.0; self.dim()]
    }
    fn initial_region(&self) -> Vec<(f64, f64)> {
        vec![(-1.0, 1.0); self.dim()]
    }
}

#[test]
fn linear_flow_gives_real_parts_of_eigenvalues() {
    // A = S B S^-1 with B = diag(0.5, [[-0.2, 1.5], [-1.5, -0.2]], -2): eigenvalues 0.5,
    // -0.2 +- 1.5i, -2; S = I + N with N strictly lower triangular, S^-1 = I - N + N^2 - N^3
    let mut b = Mat::<f64>::zeros(4, 4);
    b[(0, 0)] = 0.5;
    b[(1, 1)] = -0.2;
    b[(2, 2)] = -0.2;
    b[(1, 2)] = 1.5;
    b[(2, 1)] = -1.5;
    b[(3, 3)] = -2.0;
    let n = Mat::from_fn(4, 4, |r, c| {
        if r > c {
            0.3 + 0.1 * (r + c) as f64
        } else {
            0.0
        }
    });
    let identity = Mat::<f64>::identity(4, 4);
    let n2 = &n * &n;
    let s = &identity + &n;
    let s_inverse = &identity - &n + &n2 - &n2 * &n;
    assert!(frobenius((&s * &s_inverse - &identity).as_ref()) < 1e-12);
    let a = &s * &b * &s_inverse;
    let trace: f64 = (0..4).map(|i| a[(i, i)]).sum();

    let dt = 0.01;
    let flow = Rk4Flow::new(LinearField(a), dt);
    let mut config = SpectrumConfig::new(4, 100_000);
    config.warmup = 10_000;
    for spectrum in [
        lyapunov_spectrum::<f64, _>(&flow, &autonomous_inputs(1), &config).unwrap(),
        lyapunov_spectrum::<f64, _>(&TangentOnly(flow.clone()), &autonomous_inputs(1), &config)
            .unwrap(),
    ] {
        let lambda = flow.per_time_unit(&spectrum).statistics.mean;
        for (got, want) in lambda.iter().zip([0.5, -0.2, -0.2, -2.0]) {
            assert!((got - want).abs() < 2e-3, "{lambda:?}");
        }
        // the sum is ln|det P(dt A)| / dt = trace(A) + O(dt^4) at every length
        let sum: f64 = lambda.iter().sum();
        assert!((sum - trace).abs() < 1e-7, "{sum} vs {trace}");
    }
    // the same flow in f32: state, tangent vectors and QR in f32, accumulators in f64
    let single = lyapunov_spectrum::<f32, _>(&flow, &autonomous_inputs(1), &config).unwrap();
    let lambda = flow.per_time_unit(&single).statistics.mean;
    for (got, want) in lambda.iter().zip([0.5, -0.2, -0.2, -2.0]) {
        assert!((got - want).abs() < 5e-3, "f32: {lambda:?}");
    }
}

#[test]
fn lorenz63_matches_published_exponents() {
    let flow = Rk4Flow::new(Lorenz63::default(), 0.01);
    let (spectrum, _) = flow_spectrum(&flow, DEFAULT_INITIAL_POINTS, 1000, 100_000);
    let lambda = &spectrum.statistics.mean;
    assert!((lambda[0] / 0.9056 - 1.0).abs() < 0.015, "{lambda:?}");
    assert!(lambda[1].abs() < 0.005, "{lambda:?}");
    assert!((lambda[2] / -14.5723 - 1.0).abs() < 0.003, "{lambda:?}");
    let dimension = kaplan_yorke_dimension(lambda);
    assert!((dimension - 2.062).abs() < 0.002, "{dimension}");
    // the sum rule: sum = time average of trace Df = -(sigma + 1 + beta), to RK4 accuracy
    let sum: f64 = lambda.iter().sum();
    assert!((sum + 10.0 + 1.0 + 8.0 / 3.0).abs() < 2e-4, "{sum}");
    assert_eq!(spectrum.per_sequence.len(), DEFAULT_INITIAL_POINTS);
    println!("lorenz63 per time unit: {lambda:?}, sum {sum}, Kaplan-Yorke {dimension}");
}

/// `sum_i lambda_i - (1/T) int trace Df(s(t)) dt` over `time` time units of one trajectory of
/// `flow` (the integral by the trapezoid rule on the steps' states), per time unit.
fn sum_rule_error<F: VectorField>(
    flow: &Rk4Flow<F>,
    time: f64,
    trace_of: impl Fn(&[f64]) -> f64,
) -> f64 {
    let steps = (time / flow.dt).round() as usize;
    let (spectrum, points) = flow_spectrum(flow, 1, 0, steps);
    let mut ws = TangentSystem::<f64>::workspace(flow, 1);
    assert!(flow.set_state(&mut ws, &points[0]));
    let mut integral = 0.5 * trace_of(flow.state(&ws));
    for _ in 0..steps {
        flow.step(&mut ws, &[]);
        integral += trace_of(flow.state(&ws));
    }
    integral -= 0.5 * trace_of(flow.state(&ws));
    let sum: f64 = spectrum.statistics.mean.iter().sum();
    sum - integral / steps as f64
}

#[test]
fn sum_equals_the_time_average_of_the_trace_to_rk4_accuracy() {
    // Lorenz: trace Df = -(sigma + 1 + beta) everywhere; Rossler: trace Df = a + x - c
    let lorenz = Lorenz63::default();
    let lorenz_trace = -(lorenz.sigma + 1.0 + lorenz.beta);
    let rossler = Rossler::default();
    let rossler_trace = |s: &[f64]| rossler.a + s[0] - rossler.c;
    let lorenz_errors = [0.01, 0.005]
        .map(|dt| sum_rule_error(&Rk4Flow::new(lorenz.clone(), dt), 200.0, |_| lorenz_trace));
    let rossler_errors = [0.01, 0.005]
        .map(|dt| sum_rule_error(&Rk4Flow::new(rossler.clone(), dt), 200.0, rossler_trace));
    for errors in [lorenz_errors, rossler_errors] {
        // the error of RK4 is O(dt^4): halving dt divides it by about 16
        assert!(errors[0].abs() < 2e-4, "{errors:?}");
        assert!(errors[0].abs() > 10.0 * errors[1].abs(), "{errors:?}");
    }
}

#[test]
fn rossler_matches_published_exponents() {
    let flow = Rk4Flow::new(Rossler::default(), 0.01);
    let (spectrum, _) = flow_spectrum(&flow, 4, 1000, 50_000);
    let lambda = &spectrum.statistics.mean;
    assert!((lambda[0] - 0.0714).abs() < 0.01, "{lambda:?}");
    assert!(lambda[1].abs() < 0.01, "{lambda:?}");
    assert!((lambda[2] + 5.3943).abs() < 0.05, "{lambda:?}");
}

#[test]
fn builtin_systems_by_name() {
    let henon = system_by_name("henon", None).unwrap();
    assert_eq!(henon.time_step(), None);
    let points = henon.attractor_points::<f64>(3, 1).unwrap();
    let starts: Vec<&[f64]> = points.iter().map(|p| p.as_slice()).collect();
    let config = SpectrumConfig::new(2, 200_000);
    let spectrum = lyapunov_spectrum_from(&henon, &starts, &autonomous_inputs(3), &config).unwrap();
    let lambda = &henon.per_time_unit(&spectrum).statistics.mean;
    assert!((lambda[0] - 0.41922).abs() < 3e-3, "{lambda:?}");
    assert!((lambda[0] + lambda[1] - 0.3f64.ln()).abs() < 1e-9);

    let lorenz = system_by_name("Lorenz63", Some(0.02)).unwrap();
    assert_eq!(
        (lorenz.name(), lorenz.time_step()),
        ("lorenz63", Some(0.02))
    );
    assert_eq!(lorenz.transient_steps(), 5000);
    assert_eq!(
        system_by_name("rossler", None).unwrap().time_step(),
        Some(0.01)
    );
    assert_eq!(
        system_by_name("henon", Some(0.1)).err(),
        Some(SystemError::TimeStepForMap {
            name: "henon".into()
        })
    );
    assert_eq!(
        system_by_name("lorenz63", Some(-1.0)).err(),
        Some(SystemError::BadTimeStep { dt: -1.0 })
    );
    let unknown = system_by_name("lorenz96", None).unwrap_err().to_string();
    assert!(unknown.contains("henon, lorenz63, rossler"), "{unknown}");
}

#[test]
fn attractor_points_are_seeded_and_on_the_attractor() {
    let flow = Rk4Flow::new(Lorenz63::default(), 0.01);
    let region = flow.field.initial_region();
    let a = attractor_points::<f64, _>(&flow, &region, 5, 2000, 9).unwrap();
    let b = attractor_points::<f64, _>(&flow, &region, 5, 2000, 9).unwrap();
    let c = attractor_points::<f64, _>(&flow, &region, 5, 2000, 10).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    for p in &a {
        assert!(p[0].abs() < 25.0 && p[1].abs() < 30.0 && p[2] > 0.0 && p[2] < 50.0);
    }
    // a flow that leaves every finite value
    let blow_up = Rk4Flow::new(Lorenz63::default(), 1.0);
    assert_eq!(
        attractor_points::<f64, _>(&blow_up, &region, 2, 1000, 1).err(),
        Some(SystemError::Diverged {
            point: 0,
            steps: 1000
        })
    );
    assert_eq!(
        attractor_points::<f64, _>(&flow, &region[..2], 2, 10, 1).err(),
        Some(SystemError::RegionDimension {
            region: 2,
            state_dim: 3
        })
    );
}

/// `s' = s / 2` in one dimension, without `set_state`.
struct Halving;

impl TangentSystem<f64> for Halving {
    type Workspace = [f64; 1];
    fn state_dim(&self) -> usize {
        1
    }
    fn input_dim(&self) -> usize {
        0
    }
    fn workspace(&self, _max_vectors: usize) -> [f64; 1] {
        [1.0]
    }
    fn state<'a>(&self, workspace: &'a [f64; 1]) -> &'a [f64] {
        workspace
    }
    fn step(&self, workspace: &mut [f64; 1], _input: &[f64]) {
        workspace[0] *= 0.5;
    }
    fn apply_jacobian(
        &self,
        _workspace: &mut [f64; 1],
        tangent: MatRef<'_, f64>,
        mut out: MatMut<'_, f64>,
        _which: Tangent,
    ) {
        out[(0, 0)] = 0.5 * tangent[(0, 0)];
    }
}

#[test]
fn initial_states_are_checked() {
    let flow = Rk4Flow::new(Lorenz63::default(), 0.01);
    let config = SpectrumConfig::new(3, 10);
    let inputs = autonomous_inputs::<f64>(2);
    let good = [1.0, 2.0, 3.0];
    let run = |starts: &[&[f64]]| lyapunov_spectrum_from(&flow, starts, &inputs, &config).err();
    assert_eq!(
        run(&[&good]),
        Some(SpectrumError::InitialStatesMismatch {
            states: 1,
            sequences: 2
        })
    );
    assert_eq!(
        run(&[&good, &[1.0, 2.0]]),
        Some(SpectrumError::InitialStateLength {
            sequence: 1,
            len: 2,
            state_dim: 3
        })
    );
    assert_eq!(
        run(&[&[f64::NAN, 0.0, 0.0], &good]),
        Some(SpectrumError::NonFiniteInitialState { sequence: 0 })
    );
    assert_eq!(run(&[&good, &good]), None);
    let halving = lyapunov_spectrum_from(&Halving, &[&[2.0]], &[&[]], &SpectrumConfig::new(1, 5));
    assert_eq!(halving.err(), Some(SpectrumError::CannotSetState));
    let plain = lyapunov_spectrum(&Halving, &[&[]], &SpectrumConfig::new(1, 5)).unwrap();
    assert!((plain.statistics.mean[0] - 0.5f64.ln()).abs() < 1e-15);
}

#[test]
fn a_given_start_equals_the_default_start() {
    // starting from the field's own initial state through set_state changes nothing
    let flow = Rk4Flow::new(Lorenz63::default(), 0.01);
    let initial = flow.field.initial_state();
    let mut config = SpectrumConfig::new(2, 3000);
    config.warmup = 100;
    config.record_trace = true;
    let plain = lyapunov_spectrum::<f64, _>(&flow, &autonomous_inputs(1), &config).unwrap();
    let from = lyapunov_spectrum_from(&flow, &[&initial], &autonomous_inputs(1), &config).unwrap();
    assert_eq!(plain.per_sequence, from.per_sequence);
    let per_time = flow.per_time_unit(&plain);
    assert_eq!(per_time.per_sequence[0].trace.last().unwrap().step, 3000);
    assert!((per_time.statistics.mean[0] - plain.statistics.mean[0] / 0.01).abs() < 1e-12);
}
