//! `compute_spectrum`: defaults, option checks, input conversion, threads, culprits, traces.

use lyap_core::{lyapunov_spectrum, Precision, SpectrumConfig};
use lyap_rnn::report::LogBase;
use lyap_rnn::{
    compute_spectrum, Arch, ComputeError, Culprit, InputBatch, LstmState, RecurrentStack,
    SpectrumOptions, StackWeights,
};

fn lstm() -> StackWeights<f64> {
    StackWeights::<f64>::random(Arch::Lstm, 3, 5, 2, true, 0.5, 11)
}

/// `batch` sequences of `steps` steps of input size 3.
fn sequences(batch: usize, steps: usize) -> Vec<Vec<f64>> {
    (0..batch)
        .map(|b| {
            (0..steps * 3)
                .map(|i| ((i * 31 + b * 17) % 23) as f64 / 23.0 - 0.5)
                .collect()
        })
        .collect()
}

fn f64_batch(sequences: &[Vec<f64>]) -> InputBatch<'_> {
    InputBatch::F64(sequences.iter().map(Vec::as_slice).collect())
}

#[test]
fn defaults_give_every_exponent_over_every_step_and_match_the_engine() {
    let weights = lstm();
    let inputs = sequences(3, 40);
    let result = compute_spectrum(&weights, f64_batch(&inputs), &SpectrumOptions::default())
        .expect("spectrum");
    let report = &result.report;
    // two layers of (h, c) with hidden size 5
    assert_eq!(report.model.state_dim, 20);
    assert_eq!(report.config.k, 20);
    assert_eq!(report.config.steps, 40);
    assert_eq!(report.config.batch, 3);
    assert_eq!(report.config.log_base, LogBase::E);
    assert_eq!(report.config.precision, "f64");
    assert_eq!(report.model.state, "full");
    assert_eq!(report.exponents.mean.len(), 20);

    let stack = RecurrentStack::new(weights.clone(), LstmState::Full).unwrap();
    let refs: Vec<&[f64]> = inputs.iter().map(Vec::as_slice).collect();
    let direct = lyapunov_spectrum(&stack, &refs, &SpectrumConfig::new(20, 40)).unwrap();
    assert_eq!(result.spectrum, direct);
    assert_eq!(report.exponents.mean, direct.statistics.mean);
}

#[test]
fn warmup_leaves_the_rest_to_measure_and_k_out_of_range_is_an_error() {
    let weights = lstm();
    let inputs = sequences(2, 30);
    let options = SpectrumOptions {
        warmup: 12,
        ..SpectrumOptions::default()
    };
    let result = compute_spectrum(&weights, f64_batch(&inputs), &options).unwrap();
    assert_eq!(result.report.config.steps, 18);

    for k in [0, 21] {
        let options = SpectrumOptions {
            k: Some(k),
            ..SpectrumOptions::default()
        };
        let err = compute_spectrum(&weights, f64_batch(&inputs), &options).unwrap_err();
        assert!(
            matches!(err, ComputeError::BadK { k: got, state_dim: 20 } if got == k),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("--k {k} is out of range: it must be between 1 and the state dimension 20")
        );
    }
    let options = SpectrumOptions {
        warmup: 30,
        ..SpectrumOptions::default()
    };
    let err = compute_spectrum(&weights, f64_batch(&inputs), &options).unwrap_err();
    assert!(
        matches!(err, ComputeError::NothingToMeasure { .. }),
        "{err}"
    );
    let err = compute_spectrum(&weights, InputBatch::F64(vec![]), &Default::default());
    assert!(matches!(err, Err(ComputeError::Engine(_))));
}

#[test]
fn paper_compat_defaults_and_conflicts() {
    let weights = lstm();
    let inputs = sequences(2, 20);
    let paper = SpectrumOptions {
        paper_compat: true,
        warmup: 5,
        ..SpectrumOptions::default()
    };
    let report = compute_spectrum(&weights, f64_batch(&inputs), &paper)
        .unwrap()
        .report;
    assert_eq!(report.config.log_base, LogBase::Two);
    assert_eq!(report.model.state, "hidden");
    assert_eq!(report.model.state_dim, 10);
    // the paper's measurement starts again from the first input: all 20 steps
    assert_eq!(report.config.steps, 20);
    assert!(report.config.paper_compat);

    let full = SpectrumOptions {
        state: Some(LstmState::Full),
        ..paper.clone()
    };
    let err = compute_spectrum(&weights, f64_batch(&inputs), &full).unwrap_err();
    assert!(matches!(err, ComputeError::PaperCompatConflict(_)));
    assert!(err.to_string().contains("--state full"), "{err}");
    let natural = SpectrumOptions {
        log_base: Some(LogBase::E),
        ..paper.clone()
    };
    let err = compute_spectrum(&weights, f64_batch(&inputs), &natural).unwrap_err();
    assert!(err.to_string().contains("--log-base e"), "{err}");
    // the explicit values paper_compat implies are accepted
    let explicit = SpectrumOptions {
        state: Some(LstmState::Hidden),
        log_base: Some(LogBase::Two),
        ..paper
    };
    assert!(compute_spectrum(&weights, f64_batch(&inputs), &explicit).is_ok());
}

#[test]
fn input_types_are_converted_to_the_precision() {
    let weights = lstm();
    let inputs = sequences(2, 25);
    let as_f32: Vec<Vec<f32>> = inputs
        .iter()
        .map(|s| s.iter().map(|&x| x as f32).collect())
        .collect();
    let widened: Vec<Vec<f64>> = as_f32
        .iter()
        .map(|s| s.iter().map(|&x| f64::from(x)).collect())
        .collect();
    let f32_batch = || InputBatch::F32(as_f32.iter().map(Vec::as_slice).collect());

    // f32 inputs, f64 precision == the widened inputs
    let options = SpectrumOptions::default();
    let from_f32 = compute_spectrum(&weights, f32_batch(), &options).unwrap();
    let from_f64 = compute_spectrum(&weights, f64_batch(&widened), &options).unwrap();
    assert_eq!(from_f32.spectrum, from_f64.spectrum);

    // f64 inputs, f32 precision == the narrowed inputs
    let options = SpectrumOptions {
        precision: Precision::F32,
        ..SpectrumOptions::default()
    };
    let narrowed = compute_spectrum(&weights, f64_batch(&inputs), &options).unwrap();
    let native = compute_spectrum(&weights, f32_batch(), &options).unwrap();
    assert_eq!(narrowed.spectrum, native.spectrum);
    assert_eq!(narrowed.report.config.precision, "f32");
    // f32 weights computed in f32 equal f64 weights cast to f32
    let weights32 = weights.cast::<f32>();
    let from_weights32 = compute_spectrum(&weights32, f32_batch(), &options).unwrap();
    assert_eq!(from_weights32.spectrum, native.spectrum);
}

#[test]
fn one_and_two_threads_are_bit_identical() {
    let weights = lstm();
    let inputs = sequences(4, 30);
    let run = |threads| {
        let options = SpectrumOptions {
            threads: Some(threads),
            k: Some(7),
            qr_every: 3,
            ..SpectrumOptions::default()
        };
        compute_spectrum(&weights, f64_batch(&inputs), &options).unwrap()
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.spectrum, two.spectrum);
    assert_eq!(one.report.per_sequence, two.report.per_sequence);
}

#[test]
fn non_finite_and_overflowing_values_name_their_place() {
    let inputs = sequences(2, 10);
    let mut weights = lstm();
    weights.layers[1].weight_hh[(4, 2)] = f64::NAN;
    let err = compute_spectrum(&weights, f64_batch(&inputs), &Default::default()).unwrap_err();
    let ComputeError::NonFinite { culprit, value } = &err else {
        panic!("{err:?}");
    };
    assert!(value.is_nan());
    assert_eq!(
        *culprit,
        Culprit::Weight {
            tensor: "weight_hh_l1".into(),
            index: vec![4, 2]
        }
    );
    assert!(err.to_string().contains("weight_hh_l1 at [4, 2]"), "{err}");

    let weights = lstm();
    let mut bad = inputs.clone();
    bad[1][3 * 7 + 2] = f64::INFINITY;
    let err = compute_spectrum(&weights, f64_batch(&bad), &Default::default()).unwrap_err();
    assert!(err.to_string().contains("input at [1, 7, 2]"), "{err}");
    assert!(err.to_string().contains("inf"), "{err}");

    let f32_options = SpectrumOptions {
        precision: Precision::F32,
        ..SpectrumOptions::default()
    };
    let mut huge = inputs.clone();
    huge[0][4] = 1e300;
    let err = compute_spectrum(&weights, f64_batch(&huge), &f32_options).unwrap_err();
    assert!(matches!(err, ComputeError::Overflow { .. }), "{err:?}");
    assert!(err.to_string().contains("input at [0, 1, 1]"), "{err}");
    assert!(err.to_string().contains("overflows f32"), "{err}");
    let mut big_weights = lstm();
    big_weights.layers[0].bias_ih.as_mut().unwrap()[3] = -1e200;
    let err = compute_spectrum(&big_weights, f64_batch(&inputs), &f32_options).unwrap_err();
    assert!(err.to_string().contains("bias_ih_l0 at [3]"), "{err}");
}

#[test]
fn trace_csv_ends_each_sequence_at_its_exponents() {
    let weights = lstm();
    let inputs = sequences(2, 12);
    let options = SpectrumOptions {
        trace: true,
        log_base: Some(LogBase::Two),
        k: Some(4),
        ..SpectrumOptions::default()
    };
    let result = compute_spectrum(&weights, f64_batch(&inputs), &options).unwrap();
    let csv = result.trace_csv();
    let rows: Vec<Vec<f64>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 2 * 12);
    for (b, exponents) in result.report.per_sequence.iter().enumerate() {
        let last = &rows[(b + 1) * 12 - 1];
        assert_eq!((last[0], last[1]), (b as f64, 12.0));
        assert_eq!(&last[2..], exponents.as_slice());
    }
}

#[test]
fn a_spectrum_larger_than_memory_is_refused_before_allocating() {
    // LSTM 300 (state 600): about 17 MB of buffers per trajectory; a million trajectories at
    // once (a million threads, one borrowed sequence repeated) need about 17 TB
    let weights = StackWeights::<f64>::random(Arch::Lstm, 3, 300, 1, true, 0.05, 1);
    let sequence = vec![0.1; 3 * 2];
    let batch = InputBatch::F64(vec![sequence.as_slice(); 1_000_000]);
    let options = SpectrumOptions {
        threads: Some(1_000_000),
        ..SpectrumOptions::default()
    };
    let err = compute_spectrum(&weights, batch, &options).unwrap_err();
    let ComputeError::OutOfMemory(oom) = &err else {
        panic!("{err:?}");
    };
    assert!(oom.needed_bytes > 10_000_000_000_000, "{err}");
    assert!(err.to_string().starts_with("the spectrum needs "), "{err}");
    assert!(
        err.to_string().contains(" TB but this machine has "),
        "{err}"
    );
}
