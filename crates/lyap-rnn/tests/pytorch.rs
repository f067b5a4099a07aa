//! Reading and writing recurrent stacks in safetensors files with PyTorch's state_dict names.

use lyap_rnn::pytorch::*;
use lyap_rnn::{Arch, StackWeights};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;

fn random(arch: Arch, layers: usize, bias: bool) -> StackWeights<f64> {
    StackWeights::random(arch, 3, 5, layers, bias, 0.5, 7)
}

fn save(weights: &StackWeights<f64>, prefix: &str) -> Vec<u8> {
    save_stack(weights, prefix, &[], &HashMap::new(), SaveDtype::F64).unwrap()
}

fn load(bytes: &[u8]) -> Result<LoadedStack<f64>, PytorchError> {
    load_stack(bytes, &LoadOptions::default())
}

/// Raw safetensors bytes of arbitrary tensors, to build malformed files.
fn raw(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)], meta: &[(&str, &str)]) -> Vec<u8> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let meta: HashMap<String, String> = meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    safetensors::serialize(views, Some(meta)).unwrap()
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn round_trip_every_arch_f64_and_f32() {
    for arch in Arch::ALL {
        for bias in [true, false] {
            let weights = random(arch, 2, bias);
            let loaded = load(&save(&weights, "rnn.")).unwrap();
            assert_eq!(loaded.weights, weights, "{arch} bias {bias}");
            assert_eq!(loaded.prefix, "rnn.");
            assert_eq!(loaded.metadata["arch"], arch.name());

            let bytes = save_stack(&weights, "", &[], &HashMap::new(), SaveDtype::F32).unwrap();
            let single = load_stack::<f32>(&bytes, &LoadOptions::default()).unwrap();
            assert_eq!(single.weights, weights.cast::<f32>());
            assert_eq!(single.prefix, "");
        }
    }
}

#[test]
fn extra_tensors_and_metadata_are_written_and_ignored_on_load() {
    let weights = random(Arch::Lstm, 1, true);
    let fc = ExtraTensor {
        name: "fc.weight".into(),
        shape: vec![2, 5],
        values: (0..10).map(f64::from).collect(),
    };
    let meta = HashMap::from([("vocab".to_string(), "[\"a\",\"b\"]".to_string())]);
    let bytes = save_stack(
        &weights,
        "rnn.",
        std::slice::from_ref(&fc),
        &meta,
        SaveDtype::F32,
    )
    .unwrap();
    let loaded = load(&bytes).unwrap();
    assert_eq!(loaded.weights, weights.cast::<f32>().cast::<f64>());
    assert_eq!(loaded.metadata["vocab"], "[\"a\",\"b\"]");
    assert_eq!(
        read_tensor(&bytes, "fc.weight").unwrap(),
        (fc.shape, fc.values)
    );
}

#[test]
fn explicit_prefix_with_or_without_dot() {
    let bytes = save(&random(Arch::Gru, 1, true), "model.rnn.");
    for prefix in ["model.rnn", "model.rnn."] {
        let options = LoadOptions {
            prefix: Some(prefix.into()),
            arch: None,
        };
        assert_eq!(
            load_stack::<f64>(&bytes, &options).unwrap().prefix,
            "model.rnn."
        );
    }
    let options = LoadOptions {
        prefix: Some("encoder".into()),
        arch: None,
    };
    let err = load_stack::<f64>(&bytes, &options).unwrap_err();
    assert!(err.to_string().contains("encoder.weight_hh_l0"), "{err}");
    assert!(err.to_string().contains("'model.rnn'"), "{err}");
}

#[test]
fn two_prefixes_are_ambiguous_unless_one_is_chosen() {
    let a = random(Arch::Lstm, 1, false);
    let b = random(Arch::Gru, 1, false);
    let mut views = Vec::new();
    for (weights, prefix) in [(&a, "encoder."), (&b, "decoder.")] {
        let bytes = save(weights, prefix);
        let tensors = SafeTensors::deserialize(&bytes).unwrap();
        for (name, view) in tensors.tensors() {
            views.push((name, view.shape().to_vec(), view.data().to_vec()));
        }
    }
    let tensors: Vec<_> = views
        .iter()
        .map(|(n, s, d)| (n.as_str(), Dtype::F64, s.clone(), d.clone()))
        .collect();
    let bytes = raw(&tensors, &[]);
    let err = load(&bytes).unwrap_err();
    assert_eq!(
        err,
        PytorchError::AmbiguousPrefix {
            candidates: vec!["'decoder'".into(), "'encoder'".into()]
        }
    );
    assert!(!err.to_string().contains('\n'));
    let options = LoadOptions {
        prefix: Some("decoder".into()),
        arch: None,
    };
    assert_eq!(load_stack::<f64>(&bytes, &options).unwrap().weights, b);
}

#[test]
fn architecture_from_metadata_and_explicit_choice() {
    let weights = random(Arch::RnnRelu, 1, true);
    let loaded = load(&save(&weights, "")).unwrap();
    assert_eq!(loaded.weights.arch, Arch::RnnRelu);
    assert_eq!(loaded.metadata["nonlinearity"], "relu");

    let plain = random(Arch::RnnTanh, 1, true);
    let hh = f32_bytes(&[0.0; 25]);
    let ih = f32_bytes(&[0.0; 15]);
    let bytes = raw(
        &[
            ("weight_hh_l0", Dtype::F32, vec![5, 5], hh),
            ("weight_ih_l0", Dtype::F32, vec![5, 3], ih),
        ],
        &[("nonlinearity", "relu")],
    );
    assert_eq!(load(&bytes).unwrap().weights.arch, Arch::RnnRelu);
    let options = LoadOptions {
        prefix: None,
        arch: Some(Arch::RnnTanh),
    };
    let explicit = load_stack::<f64>(&save(&plain, ""), &options).unwrap();
    assert_eq!(explicit.weights.arch, Arch::RnnTanh);

    // An explicit architecture inconsistent with the shapes names key and shapes.
    let options = LoadOptions {
        prefix: None,
        arch: Some(Arch::Lstm),
    };
    let err = load_stack::<f64>(&save(&random(Arch::Gru, 1, true), ""), &options);
    let message = err.unwrap_err().to_string();
    assert!(message.contains("weight_ih_l0 has shape [15, 3], expected [20, 3] for lstm"));
}

#[test]
fn half_precision_dtypes_load() {
    let values = [0.5f32, -0.25, 1.0, 2.0];
    let f16: Vec<u8> = values
        .iter()
        .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
        .collect();
    let bf16: Vec<u8> = values
        .iter()
        .flat_map(|&v| half::bf16::from_f32(v).to_le_bytes())
        .collect();
    let bytes = raw(
        &[
            ("weight_hh_l0", Dtype::F16, vec![2, 2], f16),
            ("weight_ih_l0", Dtype::BF16, vec![2, 2], bf16),
        ],
        &[],
    );
    let w = load(&bytes).unwrap().weights;
    assert_eq!(w.arch, Arch::RnnTanh);
    assert_eq!(w.layers[0].weight_hh[(1, 1)], 2.0);
    assert_eq!(w.layers[0].weight_ih[(0, 1)], -0.25);
}

#[test]
fn each_error_names_its_culprit() {
    let good = save(&random(Arch::Lstm, 2, true), "rnn.");
    let truncated = &good[..good.len() - 10];
    assert!(matches!(load(truncated), Err(PytorchError::Format(_))));
    assert!(matches!(
        load(b"hello, world, not safetensors"),
        Err(PytorchError::Format(_))
    ));

    let fc = raw(
        &[("fc.weight", Dtype::F32, vec![1], f32_bytes(&[1.0]))],
        &[],
    );
    let err = load(&fc).unwrap_err().to_string();
    assert!(
        err.contains("no recurrent weights") && err.contains("fc.weight"),
        "{err}"
    );

    let nan = raw(
        &[
            (
                "weight_hh_l0",
                Dtype::F32,
                vec![2, 2],
                f32_bytes(&[0.0, f32::NAN, 0.0, 0.0]),
            ),
            (
                "weight_ih_l0",
                Dtype::F32,
                vec![2, 1],
                f32_bytes(&[0.0, 0.0]),
            ),
        ],
        &[],
    );
    let err = load(&nan).unwrap_err();
    assert!(matches!(&err, PytorchError::NonFinite { key, index: 1, .. } if key == "weight_hh_l0"));
    let inf = raw(
        &[
            ("weight_hh_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
            (
                "weight_ih_l0",
                Dtype::F32,
                vec![1, 1],
                f32_bytes(&[f32::INFINITY]),
            ),
        ],
        &[],
    );
    assert!(load(&inf).unwrap_err().to_string().contains("weight_ih_l0"));

    // Layer 1 has only weight_hh: weight_ih_l1 is missing.
    let missing_ih = raw(
        &[
            ("weight_hh_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
            ("weight_ih_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
            ("weight_hh_l1", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
        ],
        &[],
    );
    let err = load(&missing_ih).unwrap_err();
    assert_eq!(err.to_string(), "missing key weight_ih_l1");
    // Layer 2 present but layer 1 absent.
    let gap = raw(
        &[
            ("weight_hh_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
            ("weight_ih_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
            ("weight_hh_l2", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
        ],
        &[],
    );
    assert_eq!(
        load(&gap).unwrap_err().to_string(),
        "missing key weight_hh_l1"
    );
    let half_bias = raw(
        &[
            ("weight_hh_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
            ("weight_ih_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
            ("bias_ih_l0", Dtype::F32, vec![1], f32_bytes(&[0.0])),
        ],
        &[],
    );
    assert_eq!(
        load(&half_bias).unwrap_err().to_string(),
        "missing key bias_hh_l0"
    );

    let odd_rows = raw(
        &[
            (
                "weight_hh_l0",
                Dtype::F32,
                vec![10, 5],
                f32_bytes(&[0.0; 50]),
            ),
            (
                "weight_ih_l0",
                Dtype::F32,
                vec![10, 1],
                f32_bytes(&[0.0; 10]),
            ),
        ],
        &[],
    );
    let err = load(&odd_rows).unwrap_err().to_string();
    assert!(err.starts_with("weight_hh_l0 has shape [10, 5]"), "{err}");
    let bad_bias = raw(
        &[
            ("weight_hh_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
            ("weight_ih_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
            ("bias_ih_l0", Dtype::F32, vec![2], f32_bytes(&[0.0, 0.0])),
            ("bias_hh_l0", Dtype::F32, vec![1], f32_bytes(&[0.0])),
        ],
        &[],
    );
    let err = load(&bad_bias).unwrap_err().to_string();
    assert!(err.starts_with("bias_ih_l0 has shape [2]"), "{err}");

    let ints = raw(
        &[
            ("weight_hh_l0", Dtype::I32, vec![1, 1], vec![0; 4]),
            ("weight_ih_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
        ],
        &[],
    );
    let err = load(&ints).unwrap_err().to_string();
    assert!(err.contains("weight_hh_l0 has dtype I32"), "{err}");

    let unknown = raw(
        &[
            ("weight_hh_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
            ("weight_ih_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
        ],
        &[("arch", "transformer")],
    );
    assert!(load(&unknown)
        .unwrap_err()
        .to_string()
        .contains("transformer"));

    let reverse = raw(
        &[
            ("weight_hh_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
            ("weight_ih_l0", Dtype::F32, vec![1, 1], f32_bytes(&[0.0])),
            (
                "weight_hh_l0_reverse",
                Dtype::F32,
                vec![1, 1],
                f32_bytes(&[0.0]),
            ),
        ],
        &[],
    );
    assert!(matches!(
        load(&reverse),
        Err(PytorchError::Bidirectional { .. })
    ));
}

/// A 2-layer LSTM (input size 3, hidden 5) under `rnn.` with the given extra tensors.
fn with_extra(extra: &[(&str, Vec<usize>)]) -> Vec<u8> {
    let extra: Vec<ExtraTensor> = extra
        .iter()
        .map(|(name, shape)| ExtraTensor {
            name: name.to_string(),
            shape: shape.clone(),
            values: (0..shape.iter().product::<usize>())
                .map(|i| i as f64 * 0.25)
                .collect(),
        })
        .collect();
    let weights = random(Arch::Lstm, 2, true);
    save_stack(&weights, "rnn.", &extra, &HashMap::new(), SaveDtype::F64).unwrap()
}

#[test]
fn the_embedding_is_found_beside_a_readout() {
    use lyap_rnn::pytorch::embedding::find_embedding;
    let bytes = with_extra(&[
        ("emb.weight", vec![7, 3]),
        ("fc.weight", vec![3, 5]),
        ("fc.bias", vec![3]),
    ]);
    let emb = find_embedding(&bytes, 3, None).unwrap().unwrap();
    assert_eq!((emb.key.as_str(), emb.vocab, emb.dim), ("emb.weight", 7, 3));
    assert_eq!(emb.row(2), Some(&[1.5, 1.75, 2.0][..]));
    assert_eq!(emb.row(7), None);
    // A readout [3, 3] without bias is recognised by its name; without any: one-hot.
    let readout_only = with_extra(&[("decoder.weight", vec![3, 3])]);
    assert_eq!(find_embedding(&readout_only, 3, None).unwrap(), None);
    assert_eq!(
        find_embedding(&save(&random(Arch::Gru, 1, false), ""), 3, None).unwrap(),
        None
    );
}

#[test]
fn several_embedding_candidates_need_a_choice() {
    use lyap_rnn::pytorch::embedding::find_embedding;
    let bytes = with_extra(&[("a.weight", vec![4, 3]), ("b.weight", vec![6, 3])]);
    let err = find_embedding(&bytes, 3, None).unwrap_err();
    assert!(
        matches!(err, PytorchError::AmbiguousEmbedding { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("a.weight, b.weight"), "{err}");
    assert!(err.to_string().contains("--embedding"), "{err}");
    let b = find_embedding(&bytes, 3, Some("b.weight"))
        .unwrap()
        .unwrap();
    assert_eq!(b.vocab, 6);
    // One of them named as an embedding wins.
    let named = with_extra(&[("a.weight", vec![4, 3]), ("word_emb.weight", vec![6, 3])]);
    let found = find_embedding(&named, 3, None).unwrap().unwrap();
    assert_eq!(found.key, "word_emb.weight");
    // An explicit key must exist and have D columns.
    let missing = find_embedding(&bytes, 3, Some("c.weight")).unwrap_err();
    assert_eq!(missing.to_string(), "missing key c.weight");
    let wrong = find_embedding(&bytes, 3, Some("rnn.weight_hh_l0")).unwrap_err();
    assert!(matches!(wrong, PytorchError::BadShape { .. }), "{wrong}");
    assert!(wrong.to_string().contains("[V, 3]"), "{wrong}");
}

#[test]
fn lstm_projections_are_refused() {
    let bytes = with_extra(&[("rnn.weight_hr_l0", vec![2, 5])]);
    let err = load(&bytes).unwrap_err();
    assert!(matches!(err, PytorchError::Projection { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "rnn.weight_hr_l0: LSTMs with a projection (proj_size > 0, keys weight_hr_l*) are not \
         supported"
    );
}
