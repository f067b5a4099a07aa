//! Error bars over time (`block_sem`) and runs until converged through the front door
//! (docs/DESIGN.md section 2, "Error bars over time and stopping when converged"), and the
//! calibration of those error bars on random networks.

use lyap_rnn::report::{LogBase, SpectrumReport};
use lyap_rnn::{
    compute_spectrum, Arch, ComputeError, GeneratedTokens, InputBatch, LstmState, SpectrumOptions,
    StackWeights, ZeroInputs,
};

/// The report without its timing, for bit-for-bit comparisons.
fn untimed(mut report: SpectrumReport) -> SpectrumReport {
    report.timing.seconds = 0.0;
    report.config.convergence = None;
    report
}

fn sequences(batch: usize, steps: usize, input_size: usize) -> Vec<Vec<f64>> {
    (0..batch)
        .map(|b| {
            (0..steps * input_size)
                .map(|i| ((i * 31 + b * 17) % 23) as f64 / 23.0 - 0.5)
                .collect()
        })
        .collect()
}

/// A run until converged equals the plain run of the steps it used, on the dense path (one GRU
/// layer, all exponents, QR every step) and the tangent path (two LSTM layers, QR every 2
/// steps), with fixed and generated inputs.
#[test]
fn until_converged_equals_the_plain_run_of_its_steps() {
    let cases = [
        (Arch::Gru, 1, 1, LogBase::E),
        (Arch::Lstm, 2, 2, LogBase::Two),
    ];
    for (arch, layers, qr_every, log_base) in cases {
        let weights = StackWeights::<f64>::random(arch, 3, 6, layers, true, 0.6, 5);
        let inputs = sequences(3, 3000, 3);
        let fixed = || InputBatch::F64(inputs.iter().map(Vec::as_slice).collect());
        let tokens = GeneratedTokens {
            input_size: 3,
            seed: 9,
        };
        let generated = || InputBatch::Generated {
            batch: 3,
            generator: &tokens,
        };
        for (name, batch) in [("fixed", 0), ("generated", 1)] {
            let make = || if batch == 0 { fixed() } else { generated() };
            let options = SpectrumOptions {
                warmup: 20,
                steps: Some(50),
                qr_every,
                log_base: Some(log_base),
                until_converged: Some(0.03),
                ..SpectrumOptions::default()
            };
            let until = compute_spectrum(&weights, make(), &options).unwrap().report;
            let convergence = until.config.convergence.clone().unwrap();
            assert!(
                convergence.converged,
                "{arch:?} {name}: {:?}",
                until.warnings
            );
            assert!(until.exponents.block_sem.iter().all(|s| *s < 0.03));
            assert!(
                until.config.steps > 50,
                "{arch:?} {name}: {}",
                until.config.steps
            );
            let plain = SpectrumOptions {
                steps: Some(until.config.steps),
                until_converged: None,
                ..options
            };
            let single = compute_spectrum(&weights, make(), &plain).unwrap().report;
            assert_eq!(untimed(until), untimed(single), "{arch:?} {name}");
        }
    }
}

#[test]
fn inputs_that_end_and_the_step_limit_say_so() {
    let weights = StackWeights::<f64>::random(Arch::Lstm, 2, 4, 1, true, 0.5, 2);
    let inputs = sequences(2, 120, 2);
    let batch = || InputBatch::F64(inputs.iter().map(Vec::as_slice).collect());
    let options = SpectrumOptions {
        warmup: 20,
        steps: Some(30),
        until_converged: Some(1e-9),
        ..SpectrumOptions::default()
    };
    let report = compute_spectrum(&weights, batch(), &options)
        .unwrap()
        .report;
    assert_eq!(report.config.steps, 100);
    assert!(!report.config.convergence.as_ref().unwrap().converged);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("input sequences ended after 100")),
        "{:?}",
        report.warnings
    );
    let zeros = ZeroInputs { input_size: 2 };
    let capped = SpectrumOptions {
        max_steps: 70,
        ..options.clone()
    };
    let generated = InputBatch::Generated {
        batch: 2,
        generator: &zeros,
    };
    let report = compute_spectrum(&weights, generated, &capped)
        .unwrap()
        .report;
    assert_eq!(report.config.steps, 70);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["config"]["until_converged"], 1e-9);
    assert_eq!(json["config"]["max_steps"], 70);
    assert_eq!(json["config"]["converged"], false);
    assert!(report.warnings.iter().any(|w| w.contains("--max-steps 70")));
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let options = SpectrumOptions {
            until_converged: Some(bad),
            ..options.clone()
        };
        let err = compute_spectrum(&weights, batch(), &options).unwrap_err();
        assert!(matches!(err, ComputeError::BadTolerance(_)), "{err}");
    }
    let options = SpectrumOptions {
        max_steps: 0,
        ..options
    };
    assert!(matches!(
        compute_spectrum(&weights, batch(), &options),
        Err(ComputeError::BadMaxSteps)
    ));
}

/// `block_sem` is in the report's unit (bits: nats / ln 2), has one value per exponent, and a
/// plain report is unchanged apart from it (no convergence keys).
#[test]
fn block_sem_is_in_the_reported_unit() {
    let weights = StackWeights::<f64>::random(Arch::RnnTanh, 2, 5, 1, false, 1.5, 4);
    let inputs = sequences(2, 200, 2);
    let batch = || InputBatch::F64(inputs.iter().map(Vec::as_slice).collect());
    let nats = compute_spectrum(&weights, batch(), &SpectrumOptions::default()).unwrap();
    let options = SpectrumOptions {
        log_base: Some(LogBase::Two),
        ..SpectrumOptions::default()
    };
    let bits = compute_spectrum(&weights, batch(), &options)
        .unwrap()
        .report;
    let ln2 = std::f64::consts::LN_2;
    assert_eq!(nats.report.exponents.block_sem.len(), 5);
    for (b, n) in bits
        .exponents
        .block_sem
        .iter()
        .zip(&nats.report.exponents.block_sem)
    {
        assert!(n.is_finite() && *n > 0.0);
        assert!((b - n / ln2).abs() < 1e-15);
    }
    assert_eq!(nats.report.exponents.block_sem, nats.spectrum.block_sem);
    assert!(nats.report.config.convergence.is_none());
}

/// Calibration (issue 14 item 5): on random networks over many seeds, the mean exponent of a
/// short run (4 sequences x 250 steps) differs from that of a run 20 times longer (on other
/// inputs) by at most 2 of the short run's reported `block_sem` for at least 85 % of the
/// exponents.
#[test]
fn block_sem_is_calibrated_on_random_networks() {
    let mut within = 0usize;
    let mut total = 0usize;
    let mut worst = 0.0f64;
    let networks = [
        (Arch::Lstm, 5, 1.0),
        (Arch::Gru, 6, 2.0),
        (Arch::RnnTanh, 8, 2.5),
        (Arch::RnnTanh, 8, 1.0),
    ];
    for seed in 0..6u64 {
        for (arch, hidden, scale) in networks {
            let weights = StackWeights::<f64>::random(
                arch,
                3,
                hidden,
                1,
                true,
                scale / (hidden as f64).sqrt(),
                100 + seed,
            );
            let run = |steps: usize, input_seed: u64| {
                let tokens = GeneratedTokens {
                    input_size: 3,
                    seed: input_seed,
                };
                let batch = InputBatch::Generated {
                    batch: 4,
                    generator: &tokens,
                };
                let options = SpectrumOptions {
                    warmup: 100,
                    steps: Some(steps),
                    state: Some(LstmState::Full),
                    ..SpectrumOptions::default()
                };
                compute_spectrum(&weights, batch, &options).unwrap().report
            };
            let short = run(250, seed);
            let long = run(5000, 1000 + seed);
            for i in 0..short.exponents.mean.len() {
                let error = (short.exponents.mean[i] - long.exponents.mean[i]).abs();
                let sem = short.exponents.block_sem[i];
                assert!(sem.is_finite() && sem > 0.0, "{arch:?} seed {seed}: {sem}");
                total += 1;
                within += usize::from(error <= 2.0 * sem);
                worst = worst.max(error / sem);
            }
        }
    }
    let fraction = within as f64 / total as f64;
    eprintln!("calibration: {within} of {total} exponents within 2 block_sem ({fraction:.3}); worst {worst:.2}");
    assert!(fraction >= 0.85, "{within} of {total} ({fraction:.3})");
}
