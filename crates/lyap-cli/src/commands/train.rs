//! `lyap train`: trains a recurrent network on a task with a Lyapunov spectrum every epoch
//! (docs/DESIGN.md section 5), writing a run directory (`lyap_train::run_dir`); `--resume`
//! continues an interrupted run.

use crate::error::{CliError, CliResult};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lyap_rnn::{Arch, LstmState};
use lyap_train::closed_loop::comparison::Lorenz63Comparison;
use lyap_train::data::mocap::MocapSplit;
use lyap_train::data::Dataset;
use lyap_train::{
    Control, EpochRecord, Outcome, Precision, RunSummary, TaskName, TrainConfig, TrainError,
    TrainObserver,
};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(after_help = "\
Defaults follow the paper for charrnn (LSTM 512, batch 100, sequences of 100, lr 0.002) and \
mocap (LSTM 256, batch 250, sequences of 25, lr 0.001); the synthetic tasks and lorenz63 need no \
--data. lorenz63 also reports the closed-loop valid prediction time (VPT, in Lyapunov times) on \
held-out trajectories every epoch, stores the normalisation in its checkpoints, and at the end \
compares the closed-loop spectrum of the best checkpoint with Lorenz-63's (closed_loop.json, \
lorenz63.json; printed as a table). \
The learning rate is constant for 10 epochs, then multiplied by 0.95 each epoch.
RUN_DIR gets config.json, metrics.jsonl, spectra/epoch_NNN.json, checkpoints/epoch_NNN.safetensors \
and best.safetensors (PyTorch names rnn.*, fc.weight, fc.bias), state/ (for --resume), \
status.json and summary.json.")]
pub struct TrainArgs {
    /// Task: charrnn | mocap | synthetic-text | synthetic-signal | lorenz63
    #[arg(long, value_name = "TASK", required_unless_present = "resume")]
    pub task: Option<TaskName>,
    /// Text file (charrnn) or CMU Mocap root with train/ and test/ (mocap)
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Cell type: lstm | gru | rnn-tanh | rnn-relu [default: lstm; lorenz63: gru]
    #[arg(long, value_name = "A")]
    pub arch: Option<Arch>,
    /// Hidden units per layer [default: by task]
    #[arg(long, value_name = "N")]
    pub hidden: Option<usize>,
    /// Stacked recurrent layers [default: 1]
    #[arg(long, value_name = "L")]
    pub layers: Option<usize>,
    /// Dropout probability after the top layer and between layers [default: 0]
    #[arg(long, value_name = "P")]
    pub dropout: Option<f64>,
    /// Initial Adam learning rate [default: by task]
    #[arg(long, value_name = "LR")]
    pub lr: Option<f64>,
    /// Recurrent and input weights uniform on [-P, P] [default: 0.1]
    #[arg(long, value_name = "P")]
    pub init_scale: Option<f64>,
    /// Give the recurrent layers biases (the paper's CharRNN has none; lorenz63 always has them)
    #[arg(long)]
    pub bias: bool,
    /// Epochs [default: 10; lorenz63: 150]
    #[arg(long, value_name = "E")]
    pub epochs: Option<usize>,
    /// Sequences per batch [default: by task]
    #[arg(long, value_name = "B")]
    pub batch_size: Option<usize>,
    /// Steps per training sequence [default: by task]
    #[arg(long, value_name = "T")]
    pub seq_len: Option<usize>,
    /// Seed of the initial weights, shuffling and dropout [default: 0]
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Clip the global gradient norm to this value
    #[arg(long, value_name = "NORM")]
    pub clip: Option<f64>,
    /// Use only the first N characters of the text (synthetic tasks: stream length;
    /// lorenz63: steps per training and validation trajectory [default: 4000])
    #[arg(long, value_name = "N")]
    pub max_chars: Option<usize>,
    /// lorenz63: training trajectories; N/4 validation and N/2 held-out ones follow [default: 40]
    #[arg(long, value_name = "N")]
    pub trajectories: Option<usize>,
    /// Spectrum every K epochs (and at the last); 0 for none [default: 1]
    #[arg(long, value_name = "K")]
    pub le_every: Option<usize>,
    /// Sequences the spectrum is averaged over [default: 10]
    #[arg(long, value_name = "B")]
    pub le_batch: Option<usize>,
    /// Measured steps of the spectrum [default: 100]
    #[arg(long, value_name = "T")]
    pub le_steps: Option<usize>,
    /// Warm-up steps before the spectrum is measured [default: 0]
    #[arg(long, value_name = "W")]
    pub le_warmup: Option<usize>,
    /// LSTM state of the spectrum: full (h, c) or hidden (h only) [default: full]
    #[arg(long, value_name = "full|hidden")]
    pub le_state: Option<LstmState>,
    /// Also write each spectrum's running estimates to spectra/trace_epoch_NNN.csv (the
    /// `lyap spectrum --trace` format; drawn by `lyap report` and `lyap analyze`, paper Fig. 2)
    #[arg(long)]
    pub le_trace: bool,
    /// Mocap: split each category 80/20 by sequences (the paper's setting) or by whole
    /// recordings (a harder test of generalisation) [default: sequences]
    #[arg(long, value_name = "sequences|recordings")]
    pub mocap_split: Option<MocapSplit>,
    /// Training precision: f32 | f64 [default: f32]
    #[arg(long, value_name = "f32|f64", value_parser = parse_precision)]
    pub precision: Option<Precision>,
    /// Run directory to create
    #[arg(long, value_name = "RUN_DIR", required_unless_present = "resume")]
    pub out: Option<PathBuf>,
    /// Continue the run in RUN_DIR from its last completed epoch (with --epochs: a new total)
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["task", "out"])]
    pub resume: Option<PathBuf>,
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    match s {
        "f32" => Ok(Precision::F32),
        "f64" => Ok(Precision::F64),
        _ => Err(format!("unknown precision '{s}': expected f32 or f64")),
    }
}

/// The config the flags describe: the task's defaults with every given flag applied.
pub fn config_from_args(args: &TrainArgs, task: TaskName) -> TrainConfig {
    let mut c = TrainConfig::for_task(task);
    c.data = args.data.clone();
    c.bias = c.bias || args.bias;
    c.clip = args.clip;
    c.max_chars = args.max_chars;
    c.trajectories = args.trajectories;
    c.le_trace = args.le_trace;
    macro_rules! apply {
        ($($field:ident),*) => { $( if let Some(v) = args.$field { c.$field = v; } )* };
    }
    apply!(arch, hidden, layers, dropout, lr, init_scale, epochs, batch_size, seq_len, seed);
    apply!(
        le_every,
        le_batch,
        le_steps,
        le_warmup,
        le_state,
        precision,
        mocap_split
    );
    c
}

/// Runs `lyap train`.
pub fn run(args: &TrainArgs) -> CliResult<()> {
    let mut progress = ProgressReporter::new();
    let (outcome, dir) = match (&args.resume, args.task) {
        (Some(dir), _) => (
            lyap_train::resume(dir, args.epochs, &mut progress),
            dir.clone(),
        ),
        (None, Some(task)) => {
            let config = config_from_args(args, task);
            let dir = args.out.clone().unwrap_or_default();
            (lyap_train::train(&config, &dir, &mut progress), dir)
        }
        (None, None) => return Err(CliError::bad("--task or --resume is required")),
    };
    progress.finish();
    match outcome.map_err(|e| train_error(e, &dir))? {
        Outcome::Completed(summary) => {
            print_summary(&summary, &dir);
            if let Some(comparison) = &progress.closed_loop {
                println!("{comparison}");
            }
        }
        Outcome::Interrupted { epochs_completed } => println!(
            "interrupted after {epochs_completed} epochs; continue with: lyap train --resume {}",
            dir.display()
        ),
    }
    Ok(())
}

/// Maps a training failure to the CLI's error kinds.
pub fn train_error(error: TrainError, dir: &std::path::Path) -> CliError {
    match error {
        // The message is composed here (the run directory is the CLI's); `Diverged` carries
        // only its reason, so nothing is lost by printing it.
        TrainError::Diverged { .. } => CliError::bad(format!(
            "{error} (run marked failed in {}; earlier epochs are kept)",
            dir.join("status.json").display()
        )),
        TrainError::Write { .. } | TrainError::Checkpoint(_) => CliError::internal(error),
        _ => CliError::input(error),
    }
}

/// The end-of-run lines: best epoch and the Table-1 timing figure.
pub fn print_summary(summary: &RunSummary, dir: &std::path::Path) {
    let loss = match summary.best_val_loss {
        // forecasting losses fall far below 1e-4
        v if v.abs() < 1e-3 && v != 0.0 => format!("{v:.3e}"),
        v => format!("{v:.4}"),
    };
    println!(
        "best epoch {} (validation loss {loss}); run directory {}",
        summary.best_epoch,
        dir.display()
    );
    if let Some(fraction) = summary.le_fraction_to_best {
        println!(
            "spectrum time up to the best epoch: {:.1} s = {:.1} % of {:.1} s training (Table 1)",
            summary.le_seconds_to_best,
            100.0 * fraction,
            summary.train_seconds_to_best
        );
    }
}

/// One line per finished epoch.
pub fn epoch_line(record: &EpochRecord, epochs: usize) -> String {
    let or_nan = |x: Option<f64>| x.unwrap_or(f64::NAN);
    let spectrum = record.spectrum.as_ref().map_or(String::new(), |s| {
        let show = |v: f64| match v.is_finite() {
            true => format!("{v:+.4}"),
            false => "-inf".to_string(),
        };
        format!(
            "  max LE {}  mean LE {}  ({:.1} s)",
            show(s.max),
            show(s.mean),
            or_nan(record.le_seconds)
        )
    });
    // forecasting tasks: losses in scientific notation (they fall far below 1e-4) and the VPT
    let (train, val, vpt) = match (record.vpt_mean, record.vpt_median) {
        (Some(mean), Some(median)) => (
            format!("{:.3e}", or_nan(record.train_loss)),
            format!("{:.3e}", or_nan(record.val_loss)),
            format!("  VPT {mean:.2} (median {median:.2}) Lyapunov times"),
        ),
        _ => (
            format!("{:.4}", or_nan(record.train_loss)),
            format!("{:.4}", or_nan(record.val_loss)),
            String::new(),
        ),
    };
    format!(
        "epoch {:>3}/{epochs}  train {train}  val {val}  lr {:.2e}  ({:.1} s){vpt}{spectrum}",
        record.epoch,
        or_nan(record.lr),
        or_nan(record.train_seconds)
    )
}

/// Draws a progress bar per epoch (hidden when stdout is not a terminal) and prints a line
/// per finished epoch.
pub struct ProgressReporter {
    bar: ProgressBar,
    epochs: usize,
    terminal: bool,
    /// Print a line per epoch.
    pub print_epochs: bool,
    /// A `lorenz63` run's closed loop against Lorenz-63, printed after the summary.
    pub closed_loop: Option<Lorenz63Comparison>,
}

impl ProgressReporter {
    pub fn new() -> Self {
        Self {
            bar: ProgressBar::hidden(),
            epochs: 0,
            terminal: std::io::stdout().is_terminal(),
            print_epochs: true,
            closed_loop: None,
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Default for ProgressReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl TrainObserver for ProgressReporter {
    fn run_started(&mut self, dataset: &Dataset, config: &TrainConfig, first_epoch: usize) {
        self.epochs = config.epochs;
        if self.print_epochs {
            println!("{}", dataset.description);
            if first_epoch > 1 {
                println!("resuming at epoch {first_epoch} of {}", config.epochs);
            }
        }
    }

    fn epoch_started(&mut self, epoch: usize, batches: usize) {
        self.bar.finish_and_clear();
        self.bar = ProgressBar::new(batches as u64);
        if !self.terminal {
            self.bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        let style = ProgressStyle::with_template(
            "epoch {prefix} [{bar:30}] {pos}/{len} loss {msg} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        self.bar.set_style(style);
        self.bar.set_prefix(format!("{epoch}/{}", self.epochs));
    }

    fn batch_finished(&mut self, _epoch: usize, _batch: usize, loss: f64) -> Control {
        self.bar.set_message(format!("{loss:.4}"));
        self.bar.inc(1);
        Control::Continue
    }

    fn spectrum_started(&mut self, _epoch: usize) {
        self.bar.set_message("(spectrum)");
    }

    fn forecast_started(&mut self, _epoch: usize) {
        self.bar.set_message("(closed-loop forecasts)");
    }

    fn closed_loop_started(&mut self) {
        self.bar.finish_and_clear();
        if self.terminal {
            self.bar = ProgressBar::new_spinner();
            self.bar
                .set_message("closed-loop spectrum of the best checkpoint");
        }
    }

    fn closed_loop_finished(&mut self, comparison: &Lorenz63Comparison) {
        self.bar.finish_and_clear();
        self.closed_loop = Some(comparison.clone());
    }

    fn epoch_finished(&mut self, record: &EpochRecord) {
        self.bar.finish_and_clear();
        if self.print_epochs {
            println!("{}", epoch_line(record, self.epochs));
        }
    }
}
