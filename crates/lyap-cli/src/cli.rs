//! Command-line arguments (docs/DESIGN.md section 6). Names and flags here are a contract.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Lyapunov spectra of recurrent neural networks (RNN, LSTM, GRU, stacked).
#[derive(Debug, Parser)]
#[command(name = "lyap", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lyapunov spectrum of a network driven by input sequences (discrete QR method).
    Spectrum(SpectrumArgs),
    /// Train a network on a task with a Lyapunov spectrum every epoch.
    Train(crate::commands::train::TrainArgs),
    /// The paper's experiment in miniature on built-in data (no files needed): a sweep of 12 small
    /// LSTMs with a spectrum every epoch, the analysis, a verdict and report.html.
    Demo(crate::commands::demo::DemoArgs),
    /// Benchmarks.
    Bench(crate::commands::bench_train::BenchArgs),
    /// Run a hyperparameter sweep of lyap train runs (TOML spec), locally, sharded or via Slurm.
    Sweep(crate::commands::sweep::SweepArgs),
    /// Analyze a sweep: do early spectra predict final performance?
    Analyze(crate::commands::analyze::AnalyzeArgs),
    /// Figures and report.html of one lyap train run directory.
    Report(crate::commands::report::ReportArgs),
}

/// Which LSTM state the spectrum is computed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    /// (h, c): 2n exponents per LSTM layer (the true state).
    Full,
    /// h only with c held fixed (the paper's code): n exponents per layer.
    Hidden,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogBaseArg {
    /// Natural log (nats per step).
    #[value(name = "e")]
    E,
    /// Base 2 (bits per step).
    #[value(name = "2")]
    Two,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    F64,
    F32,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Inputs: one of --inputs, --tokens, --zero-input. With --random and none of them, the inputs \
are generated: random tokens drawn uniformly from [0, D) with --seed (a stream separate from \
the weights'), one-hot encoded, --steps 100 by default. Generated inputs (these and \
--zero-input) use --batch 10 by default.
Built-in systems (--system henon | lorenz63 | rossler): no inputs; the trajectories start from \
--batch points on the attractor (default 10, drawn with --seed, each after a transient of 100 \
time units, 1000 steps for a map) and run --steps 100000 by default (the first chunk is 100 \
with --until-converged), after --warmup steps that align the tangent vectors (default 0; \
e.g. --warmup 1000). A flow is integrated by RK4 with --dt (default 0.01) and its exponents \
are per time unit; a map's are per step and it takes no --dt. Example: lyap spectrum \
--system lorenz63 --warmup 1000 gives about 0.906, 0, -14.57 nats/time unit.
Exit codes: 0 success, 2 bad input (one line on stderr), 1 internal error.")]
pub struct SpectrumArgs {
    /// .safetensors file holding a PyTorch nn.RNN / nn.LSTM / nn.GRU state_dict (keys
    /// [prefix.]weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}; F32, F64, F16, BF16;
    /// other keys are ignored)
    #[arg(long, value_name = "PATH", required_unless_present_any = ["random", "system"])]
    pub model: Option<PathBuf>,

    /// Key prefix of the recurrent stack in --model (found automatically when omitted)
    #[arg(long, value_name = "PREFIX", requires = "model")]
    pub prefix: Option<String>,

    /// Architecture of --model: lstm | gru | rnn-tanh | rnn-relu (default: from the file's
    /// metadata, else from the shapes: 4n rows lstm, 3n gru, n rnn-tanh)
    #[arg(long, value_name = "A", requires = "model")]
    pub arch: Option<String>,

    /// A random network instead of --model: lstm | gru | rnn-tanh | rnn-relu
    #[arg(long, value_name = "A", conflicts_with = "model", requires_all = ["hidden", "input_size"])]
    pub random: Option<String>,

    /// Hidden size of the --random network
    #[arg(long, value_name = "N", requires = "random")]
    pub hidden: Option<usize>,

    /// Input size of the --random network
    #[arg(long, value_name = "D", requires = "random")]
    pub input_size: Option<usize>,

    /// Layers of the --random network [default: 1]
    #[arg(long, value_name = "L", requires = "random")]
    pub layers: Option<usize>,

    /// Weights of the --random network uniform on [-P, P] [default: 1/sqrt(N), PyTorch's]
    #[arg(long, value_name = "P", requires = "random")]
    pub init_scale: Option<f64>,

    /// A built-in dynamical system instead of a network: henon (a map), lorenz63 or rossler
    /// (flows); see below
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with_all = ["model", "random", "input", "state"]
    )]
    pub system: Option<String>,

    /// Seed of the --random network (and of generated inputs), or of the --system's initial
    /// points [default: 0]
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,

    /// Give the --random network biases (drawn like the weights)
    #[arg(long, requires = "random")]
    pub bias: bool,

    /// float32/float64 .npy array [B, T, D] (or [T, D] for one sequence)
    #[arg(long, value_name = "PATH.npy", group = "input")]
    pub inputs: Option<PathBuf>,

    /// Integer .npy array [B, T] (or [T]) of tokens: rows of the --model file's token
    /// embedding [V, D] when it has one (e.g. emb.weight of an nn.Embedding), else one-hot
    /// encoded to D = input size
    #[arg(long, value_name = "PATH.npy", group = "input")]
    pub tokens: Option<PathBuf>,

    /// Key of the token embedding [V, D] in --model used by --tokens [default: the only 2-D
    /// tensor with D columns that is not a recurrent or readout weight]
    #[arg(long, value_name = "KEY", requires_all = ["model", "tokens"])]
    pub embedding: Option<String>,

    /// All-zero inputs (autonomous dynamics); needs --steps
    #[arg(long, group = "input", requires = "steps")]
    pub zero_input: bool,

    /// Sequences to use, the first B [default: all given; 10 for generated inputs]; with
    /// --system the number of initial points on the attractor [default: 10]
    #[arg(long, value_name = "B")]
    pub batch: Option<usize>,

    /// Measured steps [default: all that remain after the warm-up; 100 for generated inputs;
    /// 100000 with --system]
    #[arg(long, value_name = "T")]
    pub steps: Option<usize>,

    /// Warm-up steps before measuring
    #[arg(long, value_name = "W", default_value_t = 0)]
    pub warmup: usize,

    /// Re-orthonormalise (QR) every M steps
    #[arg(long, value_name = "M", default_value_t = 1)]
    pub qr_every: usize,

    /// Exponents to compute [default: the whole state dimension]
    #[arg(long, value_name = "K")]
    pub k: Option<usize>,

    /// LSTM state: full (h, c) or hidden (h only) [default: full; hidden with --paper-compat]
    #[arg(long, value_enum, value_name = "full|hidden")]
    pub state: Option<StateArg>,

    /// Log base of the exponents [default: e; 2 with --paper-compat]
    #[arg(long, value_enum, value_name = "e|2")]
    pub log_base: Option<LogBaseArg>,

    /// Floating-point precision of the computation
    #[arg(long, value_enum, value_name = "f64|f32", default_value = "f64")]
    pub precision: PrecisionArg,

    /// Reproduce the paper's reference code: state hidden, Q <- J^T Q, log base 2, warm-up
    /// without QR that then restarts the inputs from the first step
    #[arg(long)]
    pub paper_compat: bool,

    /// Cross-check the largest exponent by two nearby trajectories (Benettin's two-trajectory
    /// method); written as checks.max_by_perturbation in the JSON
    #[arg(long)]
    pub check_max: bool,

    /// Skip the sum rule (sum of the exponents against the time average of ln|det J|, computed
    /// when all exponents are), which costs an LU per step for a GRU or a hidden-state LSTM
    #[arg(long)]
    pub no_sum_rule: bool,

    /// Write the result as JSON
    #[arg(long, value_name = "PATH.json")]
    pub out: Option<PathBuf>,

    /// Write the running estimate of every exponent at each QR step, per sequence, as CSV
    #[arg(long, value_name = "PATH.csv")]
    pub trace: Option<PathBuf>,

    /// Plot the spectrum (mean with std error bars) as SVG or PNG, by extension
    #[arg(long, value_name = "PATH.svg|.png")]
    pub plot: Option<PathBuf>,

    /// Also draw +- block_sem error bars (the standard error of the mean over time) in the
    /// --plot figure
    #[arg(long, requires = "plot")]
    pub plot_block_sem: bool,

    /// Measure in chunks until every exponent's block_sem (standard error of the mean from
    /// batch means over time, in the reported unit) is below TOL, or --max-steps is reached;
    /// --steps is the first chunk [default: 100, or fewer if the inputs hold fewer]. Generated
    /// inputs are extended as needed; given inputs stop the run where they end
    #[arg(long, value_name = "TOL")]
    pub until_converged: Option<f64>,

    /// Step limit of --until-converged
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100_000,
        requires = "until_converged"
    )]
    pub max_steps: usize,

    /// Run the --model on its own output: its readout (fc.weight/fc.bias, or --readout)
    /// becomes the next input. --inputs only prime the state (open loop, not measured); then
    /// --warmup and --steps [default: 100] run closed. Without --inputs: from the zero state
    /// and a zero first input, one sequence
    #[arg(long, requires = "model", conflicts_with_all = ["tokens", "zero_input", "paper_compat"])]
    pub closed_loop: bool,

    /// Key prefix of the readout in --model for --closed-loop (PREFIX.weight [, PREFIX.bias])
    /// [default: fc, else the only [input size, hidden size] linear map]
    #[arg(long, value_name = "PREFIX")]
    pub readout: Option<String>,

    /// Time step between two steps (a flow, or a network trained on a flow sampled every DT):
    /// exponents, errors and --until-converged per time unit instead of per step; with a
    /// --system flow the RK4 step [default: 0.01]
    #[arg(long, value_name = "DT", allow_negative_numbers = true)]
    pub dt: Option<f64>,
}
