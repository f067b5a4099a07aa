//! `compute_system_spectrum`: the front door for built-in systems against the engine run
//! directly, its defaults, options shared with networks, and its errors (docs/DESIGN.md
//! section 2.1).

use lyap_core::systems::{system_by_name, SystemError};
use lyap_core::{
    autonomous_inputs, lyapunov_spectrum_from, CheckConfig, Precision, SpectrumConfig,
};
use lyap_rnn::report::LogBase;
use lyap_rnn::{
    compute_system_spectrum, system_named, ComputeError, LstmState, SpectrumOptions, SYSTEM_STEPS,
};

fn options(warmup: usize, steps: usize) -> SpectrumOptions {
    SpectrumOptions {
        warmup,
        steps: Some(steps),
        ..SpectrumOptions::default()
    }
}

#[test]
fn a_flow_is_the_engine_from_attractor_points_per_time_unit() {
    let lorenz = system_named("lorenz63", None).unwrap();
    let result = compute_system_spectrum(&lorenz, 3, 5, &options(100, 1500)).unwrap();

    let points = lorenz.attractor_points::<f64>(3, 5).unwrap();
    let starts: Vec<&[f64]> = points.iter().map(Vec::as_slice).collect();
    let mut config = SpectrumConfig::new(3, 1500);
    config.warmup = 100;
    let direct = lyapunov_spectrum_from(&lorenz, &starts, &autonomous_inputs(3), &config).unwrap();
    assert_eq!(result.spectrum, direct.per_time_unit(0.01));

    let report = &result.report;
    assert_eq!(report.model.system.as_deref(), Some("lorenz63"));
    assert_eq!((report.model.state_dim, report.model.layers), (3, 0));
    let c = &report.config;
    assert_eq!((c.batch, c.steps, c.warmup, c.k), (3, 1500, 100, 3));
    assert_eq!(c.dt, Some(0.01));
    assert_eq!(c.unit(), "nats/time unit");
    assert_eq!(
        report.exponents.mean,
        direct.per_time_unit(0.01).statistics.mean
    );
    // the sum rule holds per time unit: sum = trace Df = -(sigma + 1 + beta)
    let rule = report.checks.as_ref().unwrap().sum_rule.unwrap();
    assert!(rule.difference.abs() < 1e-9, "{rule:?}");
    assert!((rule.sum + 41.0 / 3.0).abs() < 1e-3, "{rule:?}");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // a seed gives other points
    let other = compute_system_spectrum(&lorenz, 3, 6, &options(100, 1500)).unwrap();
    assert_ne!(other.spectrum, result.spectrum);
}

#[test]
fn a_map_is_per_step_and_defaults_to_system_steps() {
    let henon = system_named("henon", None).unwrap();
    let result = compute_system_spectrum(&henon, 1, 0, &SpectrumOptions::default()).unwrap();
    let report = &result.report;
    assert_eq!(report.config.steps, SYSTEM_STEPS);
    assert_eq!(report.config.dt, None);
    assert_eq!(report.config.unit(), "nats/step");
    let lambda = &report.exponents.mean;
    // one trajectory of 100,000 steps: within the engine test's 3e-3 of the published values
    assert!((lambda[0] - 0.41922).abs() < 3e-3, "{lambda:?}");
    assert!((lambda[1] + 1.62319).abs() < 3e-3, "{lambda:?}");
    assert!((lambda[0] + lambda[1] - 0.3f64.ln()).abs() < 1e-9);
    // D = 1 + 0.41922 / 1.62319
    assert!((report.summary.kaplan_yorke_dimension - 1.2583).abs() < 3e-3);

    let bits = SpectrumOptions {
        log_base: Some(LogBase::Two),
        ..options(0, 1000)
    };
    let in_bits = compute_system_spectrum(&henon, 1, 0, &bits).unwrap();
    let in_nats = compute_system_spectrum(&henon, 1, 0, &options(0, 1000)).unwrap();
    let ratio = in_nats.report.exponents.mean[0] / in_bits.report.exponents.mean[0];
    assert!((ratio - std::f64::consts::LN_2).abs() < 1e-12);
}

#[test]
fn precision_threads_checks_and_trace_work_as_for_networks() {
    let lorenz = system_named("lorenz63", Some(0.01)).unwrap();
    let base = SpectrumOptions {
        checks: CheckConfig {
            sum_rule: true,
            max_by_perturbation: true,
        },
        trace: true,
        ..options(200, 1000)
    };
    let f64_run = compute_system_spectrum(&lorenz, 2, 1, &base).unwrap();
    let f32_run = compute_system_spectrum(
        &lorenz,
        2,
        1,
        &SpectrumOptions {
            precision: Precision::F32,
            ..base.clone()
        },
    )
    .unwrap();
    assert_eq!(f32_run.report.config.precision, "f32");
    for (a, b) in f64_run
        .report
        .exponents
        .mean
        .iter()
        .zip(&f32_run.report.exponents.mean)
    {
        // a chaotic trajectory in f32 separates from the f64 one, but both sample the attractor
        assert!((a - b).abs() < 0.05 * (1.0 + a.abs()), "{a} against {b}");
    }
    let max = f64_run
        .report
        .checks
        .as_ref()
        .unwrap()
        .max_by_perturbation
        .unwrap();
    assert!(max.difference.abs() < 0.05, "{max:?}");
    let csv = f64_run.trace_csv();
    assert_eq!(csv.lines().count(), 1 + 2 * 1000);

    let in_pool = |threads| {
        let options = SpectrumOptions {
            threads: Some(threads),
            ..options(50, 500)
        };
        compute_system_spectrum(&lorenz, 3, 2, &options)
            .unwrap()
            .spectrum
    };
    assert_eq!(in_pool(1), in_pool(2));

    let top = SpectrumOptions {
        k: Some(1),
        ..options(50, 500)
    };
    let first = compute_system_spectrum(&lorenz, 2, 3, &top).unwrap();
    let all = compute_system_spectrum(&lorenz, 2, 3, &options(50, 500)).unwrap();
    assert_eq!(first.report.exponents.mean.len(), 1);
    let (one, full) = (first.report.exponents.mean[0], all.report.exponents.mean[0]);
    assert!((one - full).abs() < 1e-9, "{one} against {full}");
}

#[test]
fn until_converged_never_runs_out_of_inputs() {
    let henon = system_named("henon", None).unwrap();
    let options = SpectrumOptions {
        until_converged: Some(0.01),
        ..SpectrumOptions::default()
    };
    let result = compute_system_spectrum(&henon, 2, 0, &options).unwrap();
    let convergence = result.report.config.convergence.as_ref().unwrap();
    assert!(convergence.converged, "{:?}", result.report.warnings);
    let steps = result.report.config.steps;
    assert!(
        steps > 100,
        "the first chunk is 100 steps; measured {steps}"
    );
    assert!(result.report.exponents.block_sem.iter().all(|e| *e < 0.01));
    // the chunked run equals a run of that many steps
    let fixed = compute_system_spectrum(&henon, 2, 0, &self::options(0, steps)).unwrap();
    assert_eq!(fixed.spectrum.statistics, result.spectrum.statistics);

    // per time unit for a flow: the tolerance is too
    let lorenz = system_named("lorenz63", None).unwrap();
    let options = SpectrumOptions {
        until_converged: Some(0.5),
        max_steps: 3000,
        ..SpectrumOptions::default()
    };
    let result = compute_system_spectrum(&lorenz, 2, 0, &options).unwrap();
    let done = result.report.config.convergence.as_ref().unwrap();
    let below = result.report.exponents.block_sem.iter().all(|e| *e < 0.5);
    assert_eq!(done.converged, below, "{:?}", result.report.exponents);
    assert!(result.report.config.steps <= 3000);
}

/// The message of the error `result` must be.
fn message<R>(result: Result<R, ComputeError>) -> String {
    match result {
        Ok(_) => panic!("no error"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn mistakes_are_errors_that_name_the_culprit() {
    let lorenz = system_named("lorenz63", None).unwrap();
    let henon = system_named("henon", None).unwrap();

    let unknown = system_named("lorenz96", None).unwrap_err();
    assert!(matches!(
        &unknown,
        ComputeError::System {
            context: None,
            source: SystemError::Unknown { .. }
        }
    ));
    let text = unknown.to_string();
    assert!(text.contains("lorenz96") && text.contains("henon, lorenz63, rossler"));
    let text = message(system_named("henon", Some(0.01)));
    assert!(text.starts_with("--dt 0.01: henon is a map"), "{text}");
    for dt in [0.0, -0.01, f64::NAN] {
        let text = message(system_named("lorenz63", Some(dt)));
        assert!(text.starts_with(&format!("--dt {dt}: ")), "{text}");
    }

    let with_dt = |dt| SpectrumOptions {
        dt: Some(dt),
        ..options(0, 10)
    };
    let text = message(compute_system_spectrum(&henon, 1, 0, &with_dt(0.01)));
    assert!(text.starts_with("--dt 0.01: henon is a map"), "{text}");
    let err = compute_system_spectrum(&lorenz, 1, 0, &with_dt(0.02)).unwrap_err();
    assert!(matches!(err, ComputeError::DtMismatch { .. }), "{err}");
    let err = compute_system_spectrum(&lorenz, 1, 0, &with_dt(0.0)).unwrap_err();
    assert!(matches!(err, ComputeError::BadDt(_)), "{err}");
    // the same time step as the system's is accepted
    let same = compute_system_spectrum(&lorenz, 1, 0, &with_dt(0.01)).unwrap();
    assert_eq!(same.report.config.dt, Some(0.01));

    let paper = SpectrumOptions {
        paper_compat: true,
        ..options(0, 10)
    };
    let text = message(compute_system_spectrum(&lorenz, 1, 0, &paper));
    assert!(
        text.contains("--paper-compat") && text.contains("--system"),
        "{text}"
    );
    let hidden = SpectrumOptions {
        state: Some(LstmState::Hidden),
        ..options(0, 10)
    };
    let err = compute_system_spectrum(&lorenz, 1, 0, &hidden).unwrap_err();
    assert!(matches!(err, ComputeError::NotForSystems(_)), "{err}");
    let k = SpectrumOptions {
        k: Some(4),
        ..options(0, 10)
    };
    let err = compute_system_spectrum(&lorenz, 1, 0, &k).unwrap_err();
    assert!(
        matches!(err, ComputeError::BadK { k: 4, state_dim: 3 }),
        "{err}"
    );
    let err = compute_system_spectrum(&lorenz, 0, 0, &options(0, 10)).unwrap_err();
    assert!(matches!(err, ComputeError::Engine(_)), "{err}");

    // RK4 is unstable for Lorenz-63 at dt = 1 (the stable exponent -14.6 times dt is far
    // outside its stability region): the transient diverges
    let unstable = system_by_name("lorenz63", Some(1.0)).unwrap();
    let err = compute_system_spectrum(&unstable, 2, 0, &options(0, 10)).unwrap_err();
    assert!(
        matches!(
            &err,
            ComputeError::System {
                source: SystemError::Diverged { point: 0, .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("lorenz63 with --dt 1: "),
        "{err}"
    );
    assert!(std::error::Error::source(&err).is_some());
}
