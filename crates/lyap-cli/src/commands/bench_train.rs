//! `lyap bench train`: training throughput, the counterpart of `shared/bench/torch_train.py`.
//! Times K full training steps (forward, backward, Adam) of one-hot characters -> recurrent
//! stack (no biases) -> dropout 0.05 -> linear readout, cross-entropy, on random tokens, after
//! two warm-up steps; prints the median milliseconds per step and symbols per second.

use crate::error::{CliError, CliResult};
use clap::{Args, Subcommand};
use lyap_rnn::Arch;
use lyap_train::data::SequenceSet;
use lyap_train::model::{DropoutMasks, Model, ModelShape};
use lyap_train::optim::Learner;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Training steps per second on random one-hot data (like bench/torch_train.py)
    Train(BenchTrainArgs),
}

#[derive(Debug, Args)]
pub struct BenchTrainArgs {
    /// Cell type: lstm | gru | rnn-tanh | rnn-relu (rnn = rnn-tanh)
    #[arg(long, value_name = "A", default_value = "lstm")]
    pub arch: Arch,
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub hidden: usize,
    #[arg(long, value_name = "V", default_value_t = 82)]
    pub vocab: usize,
    #[arg(long, value_name = "B", default_value_t = 100)]
    pub batch: usize,
    #[arg(long, value_name = "T", default_value_t = 100)]
    pub seq_len: usize,
    /// Timed steps (after two warm-up steps)
    #[arg(long, value_name = "K", default_value_t = 5)]
    pub steps: usize,
}

const DROPOUT: f64 = 0.05;
const LEARNING_RATE: f64 = 0.002;
const WARMUP_STEPS: usize = 2;

/// Runs `lyap bench ...`.
pub fn run(args: &BenchArgs) -> CliResult<()> {
    match &args.command {
        BenchCommand::Train(a) => run_train(a),
    }
}

fn run_train(args: &BenchTrainArgs) -> CliResult<()> {
    let sizes = [
        args.hidden,
        args.vocab,
        args.batch,
        args.seq_len,
        args.steps,
    ];
    if sizes.contains(&0) {
        return Err(CliError::bad(
            "--hidden, --vocab, --batch, --seq-len and --steps must be at least 1",
        ));
    }
    let shape = ModelShape {
        arch: args.arch,
        input_size: args.vocab,
        hidden: args.hidden,
        layers: 1,
        bias: false,
        output_size: args.vocab,
    };
    let init = 1.0 / (args.hidden as f64).sqrt();
    let mut learner = Learner::new(Model::<f32>::random(&shape, init, 0));
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let windows = (0..args.batch)
        .map(|_| {
            (0..=args.seq_len)
                .map(|_| rng.random_range(0..args.vocab as u32))
                .collect()
        })
        .collect();
    let data = SequenceSet::Tokens {
        seq_len: args.seq_len,
        vocab_size: args.vocab,
        windows,
    };
    let indices: Vec<usize> = (0..args.batch).collect();
    let batch = data.batch::<f32>(&indices);
    let mask_len = args.seq_len * args.batch * args.hidden;
    let mut millis = Vec::with_capacity(args.steps);
    let mut masks = DropoutMasks::default();
    for step in 0..WARMUP_STEPS + args.steps {
        let start = Instant::now();
        masks.resample(DROPOUT, 1, mask_len, &mut rng);
        let loss = learner.step(&batch, &masks, LEARNING_RATE, None);
        if !loss.is_finite() {
            return Err(CliError::Internal(format!("loss became {loss}")));
        }
        if step >= WARMUP_STEPS {
            millis.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    millis.sort_by(f64::total_cmp);
    let median = millis[millis.len() / 2];
    let symbols = (args.batch * args.seq_len) as f64 / (median / 1e3);
    println!(
        "lyap train {} N={} B={} T={}: {median:.1} ms/step (median of {}), {symbols:.0} symbols/s ({} threads)",
        args.arch,
        args.hidden,
        args.batch,
        args.seq_len,
        args.steps,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(())
}
