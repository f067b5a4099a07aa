//! `lyap demo`: trains a small LSTM on the built-in `synthetic-text` task (a bracket grammar,
//! no files needed) for a few epochs with a spectrum each epoch, prints the per-epoch table
//! and writes the run directory plus plots of the loss curves and of the spectrum per epoch.

use crate::commands::train::{print_summary, train_error, ProgressReporter};
use crate::error::{CliError, CliResult};
use clap::Args;
use lyap_plot::{ColourChart, Figure, LineChart};
use lyap_rnn::report::SpectrumReport;
use lyap_rnn::Arch;
use lyap_train::{EpochRecord, Outcome, RunDir, TaskName, TrainConfig};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Run directory to create; a previous demo run there (same settings) is replaced
    #[arg(long, value_name = "DIR", default_value = "lyap-demo")]
    pub out: PathBuf,
    /// Epochs to train
    #[arg(long, value_name = "E", default_value_t = 10)]
    pub epochs: usize,
    /// Seed of the data, weights, shuffling and dropout
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
}

/// The demo's settings: a 48-unit LSTM, sequences of 50 symbols, batches of 32, a spectrum of
/// all 96 exponents of the full (h, c) state on 10 fresh sequences x 100 steps each epoch.
pub fn demo_config(args: &DemoArgs) -> TrainConfig {
    let mut config = TrainConfig::for_task(TaskName::SyntheticText);
    config.arch = Arch::Lstm;
    config.hidden = 48;
    config.epochs = args.epochs;
    config.seed = args.seed;
    config.max_chars = Some(50_000);
    config.lr = 0.01;
    config.init_scale = 0.1;
    config.dropout = 0.05;
    config.le_warmup = 20;
    config
}

/// Running the demo twice must just work, but a directory holding anything other than an
/// earlier demo run with exactly these settings is never deleted (`lyap train` then refuses it).
fn replace_previous_demo(config: &TrainConfig, out: &Path) -> CliResult<()> {
    let run = RunDir::new(out);
    let previous: Option<TrainConfig> = lyap_train::run_dir::read_json(&run.config()).ok();
    if previous.as_ref() == Some(config) {
        println!("replacing the previous demo run in {}", out.display());
        std::fs::remove_dir_all(out)
            .map_err(|e| CliError::input_at(format!("cannot remove {}", out.display()), e))?;
    }
    Ok(())
}

/// Runs `lyap demo`.
pub fn run(args: &DemoArgs) -> CliResult<()> {
    let config = demo_config(args);
    println!(
        "lyap demo: LSTM {} on synthetic-text (bracket grammar over 20 symbols), {} epochs, \
         spectrum each epoch ({} sequences x {} steps, full state)",
        config.hidden, config.epochs, config.le_batch, config.le_steps
    );
    replace_previous_demo(&config, &args.out)?;
    let mut progress = ProgressReporter::new();
    progress.print_epochs = false;
    let outcome = lyap_train::train(&config, &args.out, &mut progress);
    progress.finish();
    let summary = match outcome.map_err(|e| train_error(e, &args.out))? {
        Outcome::Completed(summary) => summary,
        Outcome::Interrupted { .. } => return Err(CliError::bad("the demo was interrupted")),
    };
    let run = RunDir::new(&args.out);
    let records = lyap_train::run_dir::read_metrics(&run.metrics()).map_err(CliError::input)?;
    print!("{}", table(&records));
    print_summary(&summary, &args.out);
    let written = write_plots(&run, &records)?;
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The per-epoch table: epoch, losses, max and mean exponent, seconds.
pub fn table(records: &[EpochRecord]) -> String {
    let mut out = format!(
        "{:>5}  {:>10}  {:>10}  {:>9}  {:>9}  {:>8}  {:>8}\n",
        "epoch", "train loss", "val loss", "max LE", "mean LE", "train s", "LE s"
    );
    for r in records {
        let (max, mean) = r
            .spectrum
            .as_ref()
            .map_or((f64::NAN, f64::NAN), |s| (s.max, s.mean));
        let show = |v: f64| match v.is_finite() {
            true => format!("{v:+.4}"),
            false => "-".to_string(),
        };
        let or_nan = |x: Option<f64>| x.unwrap_or(f64::NAN);
        out.push_str(&format!(
            "{:>5}  {:>10.4}  {:>10.4}  {:>9}  {:>9}  {:>8.2}  {:>8.2}\n",
            r.epoch,
            or_nan(r.train_loss),
            or_nan(r.val_loss),
            show(max),
            show(mean),
            or_nan(r.train_seconds),
            or_nan(r.le_seconds)
        ));
    }
    out
}

/// `plots/loss.{svg,png}` (train and validation loss per epoch) and
/// `plots/spectra.{svg,png}` (mean exponent vs index, one line per epoch coloured by epoch).
pub fn write_plots(run: &RunDir, records: &[EpochRecord]) -> CliResult<Vec<PathBuf>> {
    let dir = run.root.join("plots");
    let curve = |f: fn(&EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
        records
            .iter()
            .map(|r| (r.epoch as f64, f(r).unwrap_or(f64::NAN)))
            .collect()
    };
    let losses = LineChart::new("loss per epoch", "epoch", "loss")
        .with_series("train", curve(|r| r.train_loss))
        .with_series("validation", curve(|r| r.val_loss))
        .with_markers(true);
    let mut spectra = ColourChart::new(
        "Lyapunov spectrum per epoch",
        "exponent index",
        "exponent (nats/step)",
        "epoch",
    )
    .with_lines(true);
    for record in records {
        let path = run.spectrum(record.epoch);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let report =
            SpectrumReport::from_json(&text).map_err(|e| CliError::input_at(path.display(), e))?;
        let points = report
            .exponents
            .mean
            .iter()
            .enumerate()
            .map(|(i, &m)| ((i + 1) as f64, m))
            .collect();
        spectra = spectra.with_group(points, record.epoch as f64);
    }
    let mut written = Vec::new();
    for ext in ["svg", "png"] {
        written.push(save(&losses, &dir.join(format!("loss.{ext}")))?);
        written.push(save(&spectra, &dir.join(format!("spectra.{ext}")))?);
    }
    Ok(written)
}

fn save<F: Figure>(figure: &F, path: &Path) -> CliResult<PathBuf> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| CliError::input_at(parent.display(), e))?;
    }
    figure.save(path).map_err(CliError::internal)?;
    Ok(path.to_path_buf())
}
