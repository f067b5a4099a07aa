//! Data loading: vocabulary, split and batches of text; the Mocap pipeline on a tiny folder
//! and on the real data; the synthetic tasks; clear errors for malformed data.

mod common;

use lyap_train::data::mocap::{load_mocap, parse_recording, MocapSplit, Normalisation, Recording};
use lyap_train::data::synthetic::{bracket_text, synthetic_signal, synthetic_text};
use lyap_train::data::text::{load_text_file, text_dataset, EncodedText};
use lyap_train::data::{BatchInputs, SequenceSet, SpectrumInputSpec, Targets, TaskKind};
use lyap_train::DataError;
use std::path::Path;

const SPEC: SpectrumInputSpec = SpectrumInputSpec {
    count: 2,
    length: 3,
};

#[test]
fn text_vocabulary_split_windows_and_batches() {
    // 40 characters: train 32, val 4, test 4
    let text = "hello world, hello text! abcdefghijklmno";
    assert_eq!(text.chars().count(), 40);
    let spec = SpectrumInputSpec {
        count: 1,
        length: 3,
    };
    let data = text_dataset(EncodedText::new(text, None), "t", 3, spec).unwrap();
    let TaskKind::Text { vocab } = &data.kind else {
        panic!("not text")
    };
    let mut expected: Vec<char> = text.chars().collect();
    expected.sort();
    expected.dedup();
    assert_eq!(vocab, &expected);
    assert_eq!(vocab[0], ' ');
    // train: 32 chars -> (32 - 1) / 3 = 10 windows of 4; val: 4 chars -> 1 window
    assert_eq!((data.train.len(), data.val.len()), (10, 1));
    let SequenceSet::Tokens { windows, .. } = &data.train else {
        panic!()
    };
    let decode = |w: &[u32]| w.iter().map(|&t| vocab[t as usize]).collect::<String>();
    assert_eq!(decode(&windows[0]), "hell");
    assert_eq!(decode(&windows[1]), "lo w");
    let SequenceSet::Tokens { windows: val, .. } = &data.val else {
        panic!()
    };
    assert_eq!(decode(&val[0]), "hijk");
    // spectrum inputs: from the test part "lmno", one-hot; two stretches of 3 do not fit
    assert_eq!(data.spectrum_inputs.len(), 1);
    assert_eq!(data.spectrum_inputs[0].len(), 3 * vocab.len());
    let index = |c: char| vocab.iter().position(|&x| x == c).unwrap();
    assert_eq!(data.spectrum_inputs[0][index('l')], 1.0);
    assert_eq!(data.spectrum_inputs[0][vocab.len() + index('m')], 1.0);
    let err = text_dataset(EncodedText::new(text, None), "t", 3, SPEC).unwrap_err();
    assert!(err.to_string().contains("--le-batch"), "{err}");

    // a batch of windows 1 and 0: time-major one-hot inputs and next-char targets
    let batch = data.train.batch::<f32>(&[1, 0]);
    let BatchInputs::Tokens(tokens) = &batch.inputs else {
        panic!("text batches carry tokens")
    };
    assert_eq!(tokens.len(), 3 * 2);
    assert_eq!(tokens[0], index('l') as u32); // t=0, b=0 ("lo w")
    assert_eq!(tokens[1], index('h') as u32); // t=0, b=1 ("hell")
    let Targets::Classes(targets) = &batch.targets else {
        panic!()
    };
    let chars: String = targets.iter().map(|&t| vocab[t as usize]).collect();
    assert_eq!(chars, "oe lwl");
}

#[test]
fn max_chars_limits_the_text() {
    let encoded = EncodedText::new("zyxabc", Some(3));
    assert_eq!(encoded.vocab, vec!['x', 'y', 'z']);
    assert_eq!(encoded.tokens, vec![2, 1, 0]);
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A tiny Mocap folder: 25 columns (0 and 3 constant), 2 training recordings per category of
/// 60 frames, one test recording of 60 frames.
fn tiny_mocap(root: &Path) {
    let recording = |seed: usize| -> String {
        (0..60)
            .map(|t| {
                (0..25)
                    .map(|d| match d {
                        0 => "1.5".to_string(),
                        3 => "-0".to_string(),
                        _ => format!(
                            "{}",
                            ((t * (d + 1) + seed * 7) % 13) as f64 * 0.5 + d as f64
                        ),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    for (c, category) in ["basketball", "soccer", "walking", "jumping"]
        .iter()
        .enumerate()
    {
        for i in 1..=2 {
            write(
                &root.join(format!("train/{category}/{category}_{i}.txt")),
                &recording(c * 3 + i),
            );
        }
        write(
            &root.join(format!("test/{category}/{category}_1.txt")),
            &recording(c + 50),
        );
    }
}

#[test]
fn mocap_pipeline_on_a_tiny_folder() {
    let dir = tempfile::tempdir().unwrap();
    tiny_mocap(dir.path());
    let spec = SpectrumInputSpec {
        count: 6,
        length: 12,
    };
    let data = load_mocap(dir.path(), 5, spec, MocapSplit::Recordings).unwrap();
    assert_eq!(data.kind, TaskKind::Signal { dim: 20 });
    // per category: 2 recordings -> 1 train, 1 validation; 60 frames -> 30 after
    // downsampling -> (30 - 1) / 5 = 5 windows each
    assert_eq!((data.train.len(), data.val.len()), (20, 20));
    // test recordings: 30 frames -> 2 stretches of 12 each, round robin over 4 recordings
    assert_eq!(data.spectrum_inputs.len(), 6);
    assert!(data.spectrum_inputs.iter().all(|s| s.len() == 12 * 20));

    // normalisation: constant columns 0 and 3 dropped, first 20 varying kept, and the
    // training frames have mean 0 and std 1 in every kept dimension
    let text = std::fs::read_to_string(dir.path().join("train/soccer/soccer_1.txt")).unwrap();
    let a = parse_recording(Path::new("a"), &text)
        .unwrap()
        .downsampled();
    assert_eq!(a.len(), 30);
    let text = std::fs::read_to_string(dir.path().join("train/walking/walking_1.txt")).unwrap();
    let b = parse_recording(Path::new("b"), &text)
        .unwrap()
        .downsampled();
    let norm = Normalisation::fit(&[&a, &b]).unwrap();
    let expected: Vec<usize> = (0..25).filter(|&d| d != 0 && d != 3).take(20).collect();
    assert_eq!(norm.columns, expected);
    let frames: Vec<f64> = [norm.apply(&a), norm.apply(&b)].concat();
    check_standardised(&frames, 20, 1e-9);
}

fn check_standardised(frames: &[f64], dim: usize, tolerance: f64) {
    let n = (frames.len() / dim) as f64;
    for d in 0..dim {
        let column = frames.iter().skip(d).step_by(dim);
        let mean = column.clone().sum::<f64>() / n;
        let std = (column.map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(mean.abs() < tolerance, "dim {d}: mean {mean}");
        assert!((std - 1.0).abs() < tolerance, "dim {d}: std {std}");
    }
}

#[test]
fn mocap_pipeline_on_the_real_data() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let spec = SpectrumInputSpec {
        count: 10,
        length: 100,
    };
    let data = load_mocap(
        &shared.join("data/cmu_mocap"),
        25,
        spec,
        MocapSplit::Recordings,
    )
    .unwrap();
    assert_eq!(data.kind, TaskKind::Signal { dim: 20 });
    assert_eq!(data.spectrum_inputs.len(), 10);
    assert!(
        data.train.len() > 100 && data.val.len() > 20,
        "{}",
        data.description
    );
    // the statistics: over every frame of the training recordings (the first 4 of 5 per
    // category), downsampled by 2; normalised training frames have mean 0 and std 1
    let root = shared.join("data/cmu_mocap/train");
    let mut recordings = Vec::new();
    for category in ["basketball", "soccer", "walking", "jumping"] {
        for i in 1..=4 {
            let path = root.join(format!("{category}/{category}_{i}.txt"));
            let text = std::fs::read_to_string(&path).unwrap();
            recordings.push(parse_recording(&path, &text).unwrap().downsampled());
        }
    }
    assert_eq!(recordings[0].columns, 117);
    let norm = Normalisation::fit(&recordings.iter().collect::<Vec<_>>()).unwrap();
    assert_eq!(norm.dim(), 20);
    let frames: Vec<f64> = recordings.iter().flat_map(|r| norm.apply(r)).collect();
    check_standardised(&frames, 20, 1e-9);
    // and the first training window is the start of basketball_1, normalised
    let SequenceSet::Signals { windows, .. } = &data.train else {
        panic!()
    };
    assert_eq!(windows[0], norm.apply(&recordings[0])[..26 * 20].to_vec());
}

#[test]
fn real_text_has_the_papers_vocabulary() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let spec = SpectrumInputSpec {
        count: 10,
        length: 100,
    };
    let data = load_text_file(&shared.join("data/war_and_peace.txt"), 100, None, spec).unwrap();
    assert_eq!(data.kind.width(), 82);
    let chars = 3_202_303;
    assert_eq!(data.train.len(), (chars * 8 / 10 - 1) / 100);
}

#[test]
fn synthetic_tasks_are_deterministic_and_shaped() {
    assert_eq!(bracket_text(500, 3), bracket_text(500, 3));
    assert_ne!(bracket_text(500, 3), bracket_text(500, 4));
    // brackets are balanced as far as they are closed: every closer matches its opener
    let text = bracket_text(20_000, 1);
    let mut stack = Vec::new();
    for c in text.chars() {
        match c {
            '(' | '[' | '{' | '<' => stack.push(c),
            ')' | ']' | '}' | '>' => {
                let open = stack.pop().expect("closer without opener");
                assert_eq!("([{<".find(open), ")]}>".find(c));
            }
            _ => {}
        }
    }
    let spec = SpectrumInputSpec {
        count: 3,
        length: 40,
    };
    let text = synthetic_text(5000, 20, 1, spec).unwrap();
    assert_eq!(text.kind.width(), 20);
    assert_eq!(text.spectrum_inputs.len(), 3);
    let signal = synthetic_signal(3000, 25, 1, spec).unwrap();
    assert_eq!(signal.kind, TaskKind::Signal { dim: 20 });
    let SequenceSet::Signals { windows, .. } = &signal.train else {
        panic!()
    };
    let frames: Vec<f64> = windows.iter().flat_map(|w| w[..25 * 20].to_vec()).collect();
    check_standardised(&frames, 20, 0.05);
}

#[test]
fn malformed_data_gives_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    write(&empty, "");
    let err = load_text_file(&empty, 10, None, SPEC).unwrap_err();
    assert!(matches!(err, DataError::Empty { .. }), "{err}");
    assert!(err.to_string().contains("empty.txt"));

    let short = dir.path().join("short.txt");
    write(&short, "abcdefghij");
    let err = load_text_file(&short, 100, None, SPEC).unwrap_err();
    assert!(matches!(err, DataError::TooShort { .. }), "{err}");
    assert!(err.to_string().contains("too short"), "{err}");

    let err = parse_recording(Path::new("r.txt"), "1,2,3\n4,5\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "r.txt:2: 2 values, but the first row has 3"
    );
    let err = parse_recording(Path::new("r.txt"), "1,2,3\n4,x5,6\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "r.txt:2: value 2 ('x5') is not a finite number"
    );
    let err = parse_recording(Path::new("r.txt"), "\n\n").unwrap_err();
    assert!(matches!(err, DataError::Empty { .. }));

    let root = dir.path().join("mocap");
    tiny_mocap(&root);
    let err = load_mocap(&root, 100, SPEC, MocapSplit::Recordings).unwrap_err();
    assert!(matches!(err, DataError::EmptySplit { .. }), "{err}");
    std::fs::remove_dir_all(root.join("test/jumping")).unwrap();
    let err = load_mocap(&root, 5, SPEC, MocapSplit::Recordings).unwrap_err();
    assert!(matches!(err, DataError::MissingCategory { .. }), "{err}");
    assert!(err.to_string().contains("test/jumping"), "{err}");

    let never = Recording {
        path: "x".into(),
        columns: 2,
        frames: vec![1.0, 1.0, 1.0, 1.0],
    };
    assert!(matches!(
        Normalisation::fit(&[&never]),
        Err(DataError::NoVaryingDimension)
    ));
}

#[test]
fn mocap_sequence_split_is_fixed_disjoint_and_80_20_per_category() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let spec = SpectrumInputSpec {
        count: 4,
        length: 50,
    };
    let root = shared.join("data/cmu_mocap");
    let by_sequences = load_mocap(&root, 25, spec, MocapSplit::Sequences).unwrap();
    let again = load_mocap(&root, 25, spec, MocapSplit::Sequences).unwrap();
    assert_eq!(
        by_sequences, again,
        "the split must not change between runs"
    );
    let by_recordings = load_mocap(&root, 25, spec, MocapSplit::Recordings).unwrap();
    let windows = |set: &SequenceSet| match set {
        SequenceSet::Signals { windows, .. } => windows.clone(),
        SequenceSet::Tokens { .. } => panic!("mocap yields signals"),
    };
    let (train, val) = (windows(&by_sequences.train), windows(&by_sequences.val));
    // the same windows in total as the recording split, divided about 80/20
    let total = by_recordings.train.len() + by_recordings.val.len();
    assert_eq!(train.len() + val.len(), total);
    let share = train.len() as f64 / total as f64;
    assert!((share - 0.8).abs() < 0.02, "training share {share}");
    // no window sits on both sides (windows are distinct stretches of frames)
    assert!(val.iter().all(|w| !train.contains(w)));
    // the normalisation is fitted on the training windows: their frames are standardised
    let frames: Vec<f64> = train.iter().flatten().copied().collect();
    check_standardised(&frames, 20, 1e-9);
}
