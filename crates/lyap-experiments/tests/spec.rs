//! Parsing, validation and per-trial sampling of sweep specifications.

use lyap_experiments::spec::*;

const SPEC: &str = r#"
trials = 3
seed = 7

[train]
task = "synthetic-text"
epochs = 2
bias = true
init_scale = 0.1

[sample.lr]
dist = "loguniform"
low = 1e-4
high = 1e-1

[sample.hidden]
dist = "int"
low = 4
high = 16

[sample.dropout]
dist = "uniform"
low = 0.0
high = 0.5

[sample.le-state]
dist = "choice"
values = ["full", "hidden"]

[sample.arch]
dist = "grid"
values = ["lstm", "gru"]
"#;

#[test]
fn parses_and_builds_arguments() {
    let spec = SweepSpec::parse(SPEC).unwrap();
    assert_eq!(spec.trials, 3);
    assert_eq!(spec.grid_size(), 2);
    assert_eq!(spec.trial_count(), 6);
    let trial = spec.trial(1);
    assert_eq!(trial.name, "trial_0001");
    assert_eq!(trial.params["arch"], FlagValue::Text("gru".into()));
    assert_eq!(spec.trial(2).params["arch"], FlagValue::Text("lstm".into()));
    let args = trial.args.join(" ");
    assert!(args.contains("--arch gru"), "{args}");
    assert!(args.contains("--bias"), "{args}");
    assert!(args.contains("--init-scale 0.1"), "{args}");
    assert!(args.contains("--task synthetic-text"), "{args}");
    assert!(args.contains("--seed 8"), "derived seed = 7 + 1: {args}");
    for t in spec.trials() {
        let lr = t.params["lr"].as_f64().unwrap();
        assert!((1e-4..1e-1).contains(&lr));
        let FlagValue::Int(h) = t.params["hidden"] else {
            panic!("hidden not an int")
        };
        assert!((4..=16).contains(&h));
        let d = t.params["dropout"].as_f64().unwrap();
        assert!((0.0..0.5).contains(&d));
        assert!(
            matches!(&t.params["le-state"], FlagValue::Text(s) if s == "full" || s == "hidden")
        );
    }
}

#[test]
fn false_boolean_is_omitted() {
    let spec = SweepSpec::parse("[train]\nbias = false\ntask = \"x\"\nseed = 3").unwrap();
    assert_eq!(spec.trial(0).args, vec!["--seed", "3", "--task", "x"]);
}

#[test]
fn sampling_is_deterministic_per_seed_and_index() {
    let spec = SweepSpec::parse(SPEC).unwrap();
    let again = SweepSpec::parse(SPEC).unwrap();
    // any order of asking gives the same trial
    let backwards: Vec<Trial> = (0..6).rev().map(|i| again.trial(i)).collect();
    for t in &backwards {
        assert_eq!(*t, spec.trial(t.index));
    }
    // different indices and different seeds give different draws
    assert_ne!(spec.trial(0).params["lr"], spec.trial(2).params["lr"]);
    let other = SweepSpec::parse(&SPEC.replace("seed = 7", "seed = 8")).unwrap();
    assert_ne!(spec.trial(0).params["lr"], other.trial(0).params["lr"]);
}

#[test]
fn grid_is_the_cartesian_product() {
    let text = "trials = 2\n[sample.arch]\ndist = \"grid\"\nvalues = [\"lstm\", \"gru\"]\n\
                [sample.hidden]\ndist = \"grid\"\nvalues = [8, 16, 32]\n";
    let spec = SweepSpec::parse(text).unwrap();
    assert_eq!(spec.trial_count(), 12);
    let points: std::collections::BTreeSet<String> = spec
        .trials()
        .iter()
        .map(|t| format!("{} {}", t.params["arch"], t.params["hidden"]))
        .collect();
    assert_eq!(points.len(), 6);
    // Every grid point appears once per replicate block of G trials.
    let first_block: std::collections::BTreeSet<String> = spec.trials()[..6]
        .iter()
        .map(|t| format!("{} {}", t.params["arch"], t.params["hidden"]))
        .collect();
    assert_eq!(first_block, points);
}

fn error_of(text: &str) -> String {
    let message = SweepSpec::parse(text).unwrap_err().to_string();
    assert!(!message.contains('\n'), "not one line: {message}");
    message
}

#[test]
fn validation_errors_are_one_line_and_specific() {
    let cases = [
        (
            "[sample.lr]\ndist = \"normal\"\nlow = 1\nhigh = 2",
            "unknown distribution `normal`",
        ),
        (
            "[sample.lr]\ndist = \"uniform\"\nlow = 2\nhigh = 1",
            "low < high",
        ),
        (
            "[sample.lr]\ndist = \"uniform\"\nlow = 1\nhigh = 1",
            "low < high",
        ),
        (
            "[sample.lr]\ndist = \"loguniform\"\nlow = 0\nhigh = 1",
            "loguniform needs low > 0",
        ),
        (
            "[sample.hidden]\ndist = \"int\"\nlow = 5\nhigh = 2",
            "low < high",
        ),
        (
            "[sample.arch]\ndist = \"choice\"\nvalues = []",
            "sample.arch.values: empty",
        ),
        (
            "[sample.arch]\ndist = \"grid\"\nvalues = []",
            "sample.arch.values: empty",
        ),
        (
            "[train]\nlearning-rate = 0.1",
            "train.learning-rate: unknown train flag",
        ),
        (
            "[sample.size]\ndist = \"int\"\nlow = 1\nhigh = 3",
            "sample.size: unknown train flag",
        ),
        ("[train]\nout = \"x\"", "set by the sweep"),
        (
            "[train]\nlr = 0.1\n[sample.lr]\ndist = \"uniform\"\nlow = 0\nhigh = 1",
            "also set in [train]",
        ),
        ("[sample.lr]\ndist = \"uniform\"\nlow = 0", "missing `high`"),
        (
            "[sample.lr]\ndist = \"uniform\"\nlow = 0\nhigh = 1\nvalues = [1]",
            "unknown key `values`",
        ),
        ("trials = 0", "trials: expected a positive integer"),
        ("trails = 3", "unknown key `trails`"),
        ("[train]\nbias = 1", "expected true or false"),
        ("trials = [", "invalid TOML"),
    ];
    for (text, expected) in cases {
        let message = error_of(text);
        assert!(message.contains(expected), "{text:?}: {message}");
    }
}
