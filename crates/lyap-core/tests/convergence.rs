//! Error bars over time and runs until converged (docs/DESIGN.md section 2, "Error bars over
//! time and stopping when converged"): chunked runs equal single runs bit for bit, the
//! standard error over time matches the spread of independent trajectories, and the stopping
//! rule stops where it says.

use faer::{Mat, MatMut, MatRef};
use lyap_core::maps::{Henon, LinearMap};
use lyap_core::systems::attractor_points;
use lyap_core::{
    autonomous_inputs, lyapunov_spectrum, lyapunov_spectrum_from, lyapunov_spectrum_until,
    FixedInputs, SpectrumConfig, Tangent, TangentOnly, TangentSystem, UntilConverged, WarmupStyle,
};

fn nats(x: f64) -> f64 {
    x
}

fn henon_starts(count: usize) -> Vec<Vec<f64>> {
    let region = [(-0.1, 0.1), (-0.1, 0.1)];
    attractor_points::<f64, _>(&Henon::default(), &region, count, 1000, 5).unwrap()
}

/// A run in chunks that never converges (tolerance 0) equals the single run of `max_steps`,
/// on the dense path (k = d, QR every step), the tangent path (k < d, QR every 3 steps) and
/// the paper's warm-up style, with traces.
#[test]
fn chunked_runs_equal_a_single_run_bit_for_bit() {
    let starts = henon_starts(3);
    let starts: Vec<&[f64]> = starts.iter().map(Vec::as_slice).collect();
    let henon = Henon::default();
    for (k, qr_every, warmup) in [(2, 1, 0), (2, 1, 7), (1, 3, 5), (2, 4, 0)] {
        let mut config = SpectrumConfig::new(k, 10);
        config.qr_every = qr_every;
        config.warmup = warmup;
        config.record_trace = true;
        let rule = UntilConverged {
            tolerance: 0.0,
            max_steps: 1001,
        };
        let empty = autonomous_inputs::<f64>(3);
        let source = FixedInputs {
            sequences: &empty,
            input_dim: 0,
        };
        let chunked =
            lyapunov_spectrum_until(&henon, Some(&starts), 3, &source, &config, &rule, &nats)
                .unwrap();
        assert_eq!((chunked.steps, chunked.converged), (1001, false));
        assert!(!chunked.inputs_ended);
        config.steps = 1001;
        let single = lyapunov_spectrum_from(&henon, &starts, &empty, &config).unwrap();
        assert_eq!(chunked.spectrum, single, "k {k}, qr_every {qr_every}");
        assert!(single.block_sem.iter().all(|s| s.is_finite() && *s > 0.0));
    }
    // the paper's style replays the inputs after the warm-up; an input-driven map
    let system = LinearMap {
        a: Mat::from_fn(3, 3, |r, c| {
            [[0.9, 0.3, 0.0], [-0.3, 0.8, 0.2], [0.1, 0.0, -0.7]][r][c]
        }),
        b: Mat::from_fn(3, 1, |r, _| 1.0 + r as f64),
    };
    let inputs: Vec<Vec<f64>> = (0..2)
        .map(|b| {
            (0..300)
                .map(|t| ((t * (b + 3)) as f64 * 0.37).sin())
                .collect()
        })
        .collect();
    let sequences: Vec<&[f64]> = inputs.iter().map(Vec::as_slice).collect();
    let mut config = SpectrumConfig::new(2, 16);
    config.warmup = 40;
    config.qr_every = 2;
    config.warmup_style = WarmupStyle::Paper;
    config.tangent = Tangent::Transposed;
    let source = FixedInputs {
        sequences: &sequences,
        input_dim: 1,
    };
    let rule = UntilConverged {
        tolerance: 0.0,
        max_steps: 250,
    };
    let chunked =
        lyapunov_spectrum_until(&system, None, 2, &source, &config, &rule, &nats).unwrap();
    config.steps = 250;
    assert_eq!(
        chunked.spectrum,
        lyapunov_spectrum(&system, &sequences, &config).unwrap()
    );
}

/// With a tolerance the run stops once every combined standard error is below it, and the
/// result is the single run of the steps it used; the inputs ending first is reported.
#[test]
fn stops_when_converged_or_when_the_inputs_end() {
    let starts = henon_starts(4);
    let starts: Vec<&[f64]> = starts.iter().map(Vec::as_slice).collect();
    let empty = autonomous_inputs::<f64>(4);
    let source = FixedInputs {
        sequences: &empty,
        input_dim: 0,
    };
    let mut config = SpectrumConfig::new(2, 100);
    config.warmup = 10;
    let rule = UntilConverged {
        tolerance: 0.004,
        max_steps: 100_000,
    };
    let henon = Henon::default();
    let run =
        lyapunov_spectrum_until(&henon, Some(&starts), 4, &source, &config, &rule, &nats).unwrap();
    assert!(run.converged && !run.inputs_ended);
    assert!(run.spectrum.block_sem.iter().all(|s| *s < 0.004));
    assert!(run.steps > 100 && run.steps < 20_000, "{}", run.steps);
    config.steps = run.steps;
    let single = lyapunov_spectrum_from(&henon, &starts, &empty, &config).unwrap();
    assert_eq!(run.spectrum, single);
    // in bits, the same tolerance is reached later (errors are 1 / ln 2 times larger)
    let bits = |x: f64| x / std::f64::consts::LN_2;
    config.steps = 100;
    let in_bits =
        lyapunov_spectrum_until(&henon, Some(&starts), 4, &source, &config, &rule, &bits).unwrap();
    assert!(in_bits.converged && in_bits.steps > run.steps);
    assert!(in_bits.spectrum.block_sem.iter().all(|s| bits(*s) < 0.004));
    // the step limit
    let capped = UntilConverged {
        tolerance: 1e-6,
        max_steps: 500,
    };
    let run = lyapunov_spectrum_until(&henon, Some(&starts), 4, &source, &config, &capped, &nats)
        .unwrap();
    assert_eq!(
        (run.steps, run.converged, run.inputs_ended),
        (500, false, false)
    );
    // fixed inputs that end: 300 inputs, 40 of them warm-up
    let system = LinearMap {
        a: Mat::from_fn(2, 2, |r, c| [[0.5, 0.4], [-0.4, 0.5]][r][c]),
        b: Mat::from_fn(2, 1, |_, _| 1.0),
    };
    let inputs: Vec<f64> = (0..300).map(|t| (t as f64 * 0.61).cos()).collect();
    let source = FixedInputs {
        sequences: &[&inputs],
        input_dim: 1,
    };
    config.warmup = 40;
    let never = UntilConverged {
        tolerance: 0.0,
        max_steps: 500,
    };
    let run = lyapunov_spectrum_until(&system, None, 1, &source, &config, &never, &nats).unwrap();
    assert_eq!(
        (run.steps, run.converged, run.inputs_ended),
        (260, false, true)
    );
}

/// A constant Jacobian grows every direction by the same factor each step once aligned: the
/// standard error over time tends to zero. A collapsed direction (`-inf`) has an undefined
/// error and is not waited for.
#[test]
fn known_errors_constant_jacobian_and_collapsed_direction() {
    let system = LinearMap {
        a: Mat::from_fn(2, 2, |r, c| [[0.8, 0.0], [0.0, 0.0]][r][c]),
        b: Mat::from_fn(2, 1, |_, _| 1.0),
    };
    let inputs = vec![0.5; 2000];
    let mut config = SpectrumConfig::new(2, 1000);
    config.warmup = 10;
    let spectrum = lyapunov_spectrum(&system, &[&inputs], &config).unwrap();
    assert!((spectrum.statistics.mean[0] - 0.8f64.ln()).abs() < 1e-12);
    assert!(spectrum.block_sem[0] < 1e-14, "{}", spectrum.block_sem[0]);
    assert_eq!(spectrum.statistics.mean[1], f64::NEG_INFINITY);
    assert!(spectrum.block_sem[1].is_nan());
    let source = FixedInputs {
        sequences: &[&inputs],
        input_dim: 1,
    };
    config.steps = 50;
    let rule = UntilConverged {
        tolerance: 1e-6,
        max_steps: 1000,
    };
    let run = lyapunov_spectrum_until(&system, None, 1, &source, &config, &rule, &nats).unwrap();
    assert!(run.converged && run.steps == 50, "{} steps", run.steps);
    // per time unit: errors divide by dt like the exponents
    let per_time = spectrum.per_time_unit(0.5);
    assert_eq!(per_time.block_sem[0], spectrum.block_sem[0] / 0.5);
    assert_eq!(
        per_time.per_sequence[0].block_se[0],
        spectrum.per_sequence[0].block_se[0] / 0.5
    );
}

/// The standard error over time of one trajectory predicts the spread of independent
/// trajectories: over 40 Henon trajectories of 4000 steps the sample std of `lambda_i` and
/// the root mean square of their `block_se` agree within the sampling error (a factor 1.5).
#[test]
fn block_errors_match_the_spread_of_independent_trajectories() {
    let starts = henon_starts(40);
    let starts: Vec<&[f64]> = starts.iter().map(Vec::as_slice).collect();
    let empty = autonomous_inputs::<f64>(40);
    let mut config = SpectrumConfig::new(2, 4000);
    config.warmup = 100;
    let spectrum = lyapunov_spectrum_from(&Henon::default(), &starts, &empty, &config).unwrap();
    for i in 0..2 {
        let std = spectrum.statistics.std[i];
        let rms = (spectrum
            .per_sequence
            .iter()
            .map(|s| s.block_se[i].powi(2))
            .sum::<f64>()
            / 40.0)
            .sqrt();
        assert!(
            rms / std < 1.5 && std / rms < 1.5,
            "exponent {i}: std {std}, rms block se {rms}"
        );
        // and the combined error is that of the mean
        let sem = spectrum.statistics.sem[i];
        assert!((spectrum.block_sem[i] - rms / 40f64.sqrt()).abs() < 1e-12 * rms);
        assert!(spectrum.block_sem[i] / sem < 1.5 && sem / spectrum.block_sem[i] < 1.5);
    }
}

/// A system whose dense Jacobian stops after 5 steps: the trajectory continues on the tangent
/// path from the same basis and equals the tangent path throughout (to rounding).
#[test]
fn a_dense_path_that_stops_continues_on_the_tangent_path() {
    struct DenseForFive(LinearMap<f64>);
    struct Counted(<LinearMap<f64> as TangentSystem<f64>>::Workspace, usize);
    impl TangentSystem<f64> for DenseForFive {
        type Workspace = Counted;
        fn state_dim(&self) -> usize {
            self.0.state_dim()
        }
        fn input_dim(&self) -> usize {
            TangentSystem::<f64>::input_dim(&self.0)
        }
        fn workspace(&self, max_vectors: usize) -> Counted {
            Counted(self.0.workspace(max_vectors), 0)
        }
        fn state<'a>(&self, ws: &'a Counted) -> &'a [f64] {
            self.0.state(&ws.0)
        }
        fn step(&self, ws: &mut Counted, input: &[f64]) {
            ws.1 += 1;
            self.0.step(&mut ws.0, input)
        }
        fn apply_jacobian(
            &self,
            ws: &mut Counted,
            tangent: MatRef<'_, f64>,
            out: MatMut<'_, f64>,
            which: Tangent,
        ) {
            self.0.apply_jacobian(&mut ws.0, tangent, out, which)
        }
        fn dense_jacobian_into(&self, ws: &mut Counted, out: MatMut<'_, f64>, w: Tangent) -> bool {
            ws.1 <= 5 && self.0.dense_jacobian_into(&mut ws.0, out, w)
        }
    }
    let mut seed = 11u64;
    let a = Mat::from_fn(6, 6, |_, _| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 1.2
    });
    let map = LinearMap {
        a,
        b: Mat::zeros(6, 1),
    };
    let inputs = vec![0.0; 40];
    let mut config = SpectrumConfig::new(6, 37);
    config.warmup = 3;
    let flaky = lyapunov_spectrum(&DenseForFive(map.clone()), &[&inputs], &config).unwrap();
    let tangent = lyapunov_spectrum(&TangentOnly(map), &[&inputs], &config).unwrap();
    for (x, y) in flaky.statistics.mean.iter().zip(&tangent.statistics.mean) {
        assert!((x - y).abs() < 1e-12, "{x} vs {y}");
    }
}
