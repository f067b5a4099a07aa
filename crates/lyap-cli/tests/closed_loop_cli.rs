//! `lyap spectrum --closed-loop` (docs/DESIGN.md section 2.2): the JSON against the engine run
//! directly on the library's closed loop, priming by `--inputs`, `--dt`, and every refusal
//! (no readout, a classification head, a diverging loop, flags that do not combine).

mod common;
use common::*;
use lyap_core::{autonomous_inputs, lyapunov_spectrum_from, SpectrumConfig, TangentSystem};
use lyap_rnn::pytorch::ExtraTensor;
use lyap_rnn::{Arch, ClosedLoop, LstmState, Readout, RecurrentStack, StackWeights};
use std::path::{Path, PathBuf};

const INPUT: usize = 3;
const HIDDEN: usize = 6;

fn tensor(name: &str, shape: Vec<usize>, values: Vec<f64>) -> ExtraTensor {
    ExtraTensor {
        name: name.into(),
        shape,
        values,
    }
}

/// A forecasting model: a 2-layer GRU under `rnn.` with a readout `fc` [3, 6] + bias.
fn forecaster(dir: &Path) -> (PathBuf, StackWeights<f64>, Readout) {
    let weights = StackWeights::<f64>::random(Arch::Gru, INPUT, HIDDEN, 2, true, 0.6, 5);
    let readout = Readout {
        name: "fc".into(),
        output_size: INPUT,
        hidden_size: HIDDEN,
        weight: pseudo_random(INPUT * HIDDEN, 6),
        bias: Some(pseudo_random(INPUT, 7)),
    };
    let path = dir.join("forecaster.safetensors");
    let extra = [
        tensor("fc.weight", vec![INPUT, HIDDEN], readout.weight.clone()),
        tensor("fc.bias", vec![INPUT], readout.bias.clone().unwrap()),
    ];
    write_model(&path, &weights, "rnn", &extra);
    (path, weights, readout)
}

/// The closed-loop spectrum computed by the library directly, from `start`.
fn direct(
    weights: &StackWeights<f64>,
    readout: &Readout,
    start: &[f64],
    warmup: usize,
    steps: usize,
) -> Vec<f64> {
    let stack = RecurrentStack::new(weights.clone(), LstmState::Full).unwrap();
    let closed = ClosedLoop::new(stack, readout).unwrap();
    let mut config = SpectrumConfig::new(closed.state_dim(), steps);
    config.warmup = warmup;
    let spectrum =
        lyapunov_spectrum_from(&closed, &[start], &autonomous_inputs(1), &config).unwrap();
    spectrum.statistics.mean
}

fn failure(args: &[&str]) -> String {
    let out = lyap(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "lyap {args:?}: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn closed_loop_from_the_zero_state_matches_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let (model, weights, readout) = forecaster(dir.path());
    let json = dir.path().join("closed.json");
    let stdout = lyap_ok(&[
        "spectrum",
        "--model",
        path_str(&model),
        "--closed-loop",
        "--warmup",
        "50",
        "--steps",
        "400",
        "--dt",
        "0.5",
        "--out",
        path_str(&json),
    ]);
    assert!(stdout.contains("closed loop through fc"), "{stdout}");
    assert!(stdout.contains("nats/time unit"), "{stdout}");
    let report = read_json(&json);
    assert_eq!(report["config"]["closed_loop"], true);
    assert_eq!(report["config"]["dt"], 0.5);
    assert_eq!(report["config"]["batch"], 1);
    assert_eq!(report["config"]["steps"], 400);
    // the zero state, then one step on a zero input, then the closed loop
    let stack = RecurrentStack::new(weights.clone(), LstmState::Full).unwrap();
    let mut workspace = stack.workspace(1);
    stack.step(&mut workspace, &[0.0; INPUT]);
    let expected = direct(&weights, &readout, stack.state(&workspace), 50, 400);
    let mean = numbers(&report["exponents"]["mean"]);
    assert_eq!(mean.len(), 2 * HIDDEN);
    for (got, want) in mean.iter().zip(&expected) {
        assert!((got - want / 0.5).abs() < 1e-12, "{got} vs {}", want / 0.5);
    }
}

#[test]
fn inputs_prime_the_state_open_loop_without_being_measured() {
    let dir = tempfile::tempdir().unwrap();
    let (model, weights, readout) = forecaster(dir.path());
    let (batch, length) = (2, 7);
    let values = pseudo_random(batch * length * INPUT, 11);
    let inputs = dir.path().join("prime.npy");
    write_npy_f64(&inputs, &[batch, length, INPUT], &values);
    let json = dir.path().join("primed.json");
    lyap_ok(&[
        "spectrum",
        "--model",
        path_str(&model),
        "--closed-loop",
        "--inputs",
        path_str(&inputs),
        "--k",
        "3",
        "--steps",
        "300",
        "--out",
        path_str(&json),
    ]);
    let report = read_json(&json);
    assert_eq!(report["config"]["batch"], 2);
    assert!(report["config"].get("dt").is_none());
    let stack = RecurrentStack::new(weights.clone(), LstmState::Full).unwrap();
    for b in 0..batch {
        let mut workspace = stack.workspace(1);
        let sequence = &values[b * length * INPUT..(b + 1) * length * INPUT];
        for x in sequence.chunks_exact(INPUT) {
            stack.step(&mut workspace, x);
        }
        let expected = direct(&weights, &readout, stack.state(&workspace), 0, 300);
        let got = numbers(&report["per_sequence"][b]);
        for (got, want) in got.iter().zip(&expected) {
            assert!((got - want).abs() < 1e-12, "sequence {b}: {got} vs {want}");
        }
    }
}

#[test]
fn a_model_without_a_fitting_readout_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let weights = StackWeights::<f64>::random(Arch::Lstm, INPUT, HIDDEN, 1, true, 0.5, 1);
    // no readout at all
    let bare = dir.path().join("bare.safetensors");
    write_model(&bare, &weights, "", &[]);
    let message = failure(&["spectrum", "--model", path_str(&bare), "--closed-loop"]);
    assert!(message.contains("no readout found"), "{message}");
    assert!(message.contains("bare.safetensors"), "{message}");
    // a classification head: 11 classes from an input of size 3
    let classifier = dir.path().join("classifier.safetensors");
    let head = [
        tensor("fc.weight", vec![11, HIDDEN], pseudo_random(11 * HIDDEN, 2)),
        tensor("fc.bias", vec![11], pseudo_random(11, 3)),
    ];
    write_model(&classifier, &weights, "", &head);
    let message = failure(&[
        "spectrum",
        "--model",
        path_str(&classifier),
        "--closed-loop",
    ]);
    assert!(
        message.contains("predicts 11 values but the network reads 3"),
        "{message}"
    );
    // a readout named explicitly that is not there
    let message = failure(&[
        "spectrum",
        "--model",
        path_str(&classifier),
        "--closed-loop",
        "--readout",
        "head",
    ]);
    assert!(message.contains("missing key head.weight"), "{message}");
    // a readout reading the wrong hidden size
    let wrong = dir.path().join("wrong.safetensors");
    let head = [tensor("out.weight", vec![INPUT, 4], pseudo_random(12, 2))];
    write_model(&wrong, &weights, "", &head);
    let message = failure(&[
        "spectrum",
        "--model",
        path_str(&wrong),
        "--closed-loop",
        "--readout",
        "out",
    ]);
    assert!(message.contains("out.weight has shape [3, 4]"), "{message}");
    // two candidate maps [3, 6]: ambiguous without --readout, fine with it
    let two = dir.path().join("two.safetensors");
    let maps = [
        tensor("a.weight", vec![INPUT, HIDDEN], pseudo_random(18, 4)),
        tensor("b.weight", vec![INPUT, HIDDEN], pseudo_random(18, 5)),
    ];
    write_model(&two, &weights, "", &maps);
    let message = failure(&["spectrum", "--model", path_str(&two), "--closed-loop"]);
    assert!(message.contains("a, b"), "{message}");
    lyap_ok(&[
        "spectrum",
        "--model",
        path_str(&two),
        "--closed-loop",
        "--readout",
        "b",
        "--steps",
        "20",
    ]);
    // the hidden state of an LSTM is not a closed system
    let message = failure(&[
        "spectrum",
        "--model",
        path_str(&two),
        "--closed-loop",
        "--readout",
        "a",
        "--state",
        "hidden",
    ]);
    assert!(message.contains("full LSTM state"), "{message}");
}

#[test]
fn a_diverging_closed_loop_names_the_step() {
    let dir = tempfile::tempdir().unwrap();
    // ReLU units with a readout that multiplies their sum by 100 and feeds it back: the state
    // grows by a large factor every step until it overflows.
    let weights = StackWeights::<f64>::random(Arch::RnnRelu, 1, 2, 1, false, 0.0, 1);
    let mut weights = weights;
    weights.layers[0].weight_ih = faer::Mat::from_fn(2, 1, |_, _| 1.0);
    let path = dir.path().join("relu.safetensors");
    let extra = [
        tensor("fc.weight", vec![1, 2], vec![100.0, 100.0]),
        tensor("fc.bias", vec![1], vec![1.0]),
    ];
    write_model(&path, &weights, "", &extra);
    let message = failure(&[
        "spectrum",
        "--model",
        path_str(&path),
        "--closed-loop",
        "--steps",
        "1000",
    ]);
    assert!(message.contains("diverged"), "{message}");
    assert!(message.contains("not finite after step"), "{message}");
}

#[test]
fn flags_that_do_not_combine_with_a_closed_loop_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _, _) = forecaster(dir.path());
    let model = path_str(&model);
    failure(&[
        "spectrum",
        "--random",
        "gru",
        "--hidden",
        "4",
        "--input-size",
        "2",
        "--closed-loop",
    ]);
    failure(&[
        "spectrum",
        "--model",
        model,
        "--closed-loop",
        "--paper-compat",
    ]);
    failure(&[
        "spectrum",
        "--model",
        model,
        "--closed-loop",
        "--zero-input",
        "--steps",
        "5",
    ]);
    failure(&[
        "spectrum",
        "--model",
        model,
        "--readout",
        "fc",
        "--zero-input",
        "--steps",
        "5",
    ]);
    let message = failure(&[
        "spectrum",
        "--model",
        model,
        "--closed-loop",
        "--batch",
        "3",
    ]);
    assert!(message.contains("--batch must be 1"), "{message}");
    let message = failure(&["spectrum", "--model", model, "--closed-loop", "--dt", "0"]);
    assert!(message.contains("--dt 0"), "{message}");
}
