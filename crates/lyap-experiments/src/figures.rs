//! The figures of a sweep analysis and of a single run, drawn with `lyap-plot`.
//!
//! Sweep: running estimates (paper Fig. 2, when trace files exist), convergence of the
//! spectrum over epochs (Fig. 3), the spectra of all trials coloured by final loss and the
//! max / mean exponent against the final loss (Fig. 4), loss curves of all trials,
//! correlations with bootstrap intervals and the early-readout scores over epochs.
//! Run: loss curves, the spectrum of every epoch, max / mean exponent over epochs, the final
//! spectrum with standard errors, running estimates.
//!
//! Trace files: `trace*.csv` in a run directory or its `spectra/` folder, in the format of
//! `lyap spectrum --trace` (header `sequence,step,exponent_1,..`; the `sequence` column is
//! optional): the running estimate averaged over sequences is drawn for at most
//! [`MAX_TRACE_CURVES`] exponents spread over the spectrum.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lyap_plot::{
    save_figure, ColourChart, ErrorBarChart, ErrorPoint, Figure, LineChart, DEFAULT_SIZE,
};

use crate::analysis::SweepAnalysis;
use crate::features::Feature;
use crate::trials::RunData;
use crate::{ExperimentError, Result};

/// Most exponents drawn in a running-estimate figure.
pub const MAX_TRACE_CURVES: usize = 10;

/// A written figure: its caption and files (one per format, SVG first when written).
#[derive(Clone, Debug, PartialEq)]
pub struct FigureFile {
    pub caption: String,
    pub files: Vec<PathBuf>,
}

/// Saves `figure` as `dir/stem.EXT` for each extension in `formats`.
fn save_formats<F: Figure>(
    figure: &F,
    dir: &Path,
    stem: &str,
    caption: &str,
    formats: &[&str],
    out: &mut Vec<FigureFile>,
) -> Result<()> {
    let mut files = vec![];
    for ext in formats {
        let path = dir.join(format!("{stem}.{ext}"));
        save_figure(figure, &path, DEFAULT_SIZE)?;
        files.push(path);
    }
    out.push(FigureFile {
        caption: caption.to_string(),
        files,
    });
    Ok(())
}

fn ep(e: usize) -> f64 {
    e as f64
}

/// Points `(i, lambda_i)` with 1-based exponent index.
fn indexed(spectrum: &[f64]) -> Vec<(f64, f64)> {
    spectrum
        .iter()
        .enumerate()
        .map(|(i, &v)| ((i + 1) as f64, v))
        .collect()
}

/// Every figure of a sweep analysis into `dir`.
pub fn sweep_figures(
    analysis: &SweepAnalysis,
    dir: &Path,
    formats: &[&str],
) -> Result<Vec<FigureFile>> {
    let mut out = vec![];
    let trials = &analysis.data.completed;
    // Fig. 2: running estimate of the best trial, if it has traces.
    let best = trials
        .iter()
        .filter(|t| t.best_val_loss().is_finite())
        .min_by(|a, b| a.best_val_loss().total_cmp(&b.best_val_loss()));
    if let Some(chart) = best.and_then(|t| trace_chart(&t.dir, &t.name).transpose()) {
        save_formats(
            &chart?,
            dir,
            "fig2_running_estimate",
            "Running estimate of the exponents over QR steps (best trial)",
            formats,
            &mut out,
        )?;
    }
    // Fig. 3: convergence.
    let mut msd = LineChart::new(
        "Convergence of the spectrum",
        "epoch",
        "mean squared difference to final spectrum",
    )
    .with_log_y(true);
    let mut md = LineChart::new(
        "Convergence of the spectrum",
        "epoch",
        "mean difference to final spectrum",
    );
    let mut per_trial: BTreeMap<Option<usize>, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for r in &analysis.convergence {
        per_trial.entry(r.trial).or_default().push((
            ep(r.epoch),
            r.mean_squared_difference,
            r.mean_difference,
        ));
    }
    for (trial, points) in &per_trial {
        let name = if trial.is_none() {
            "mean over trials"
        } else {
            ""
        };
        msd = msd.with_series(name, points.iter().map(|p| (p.0, p.1)).collect());
        md = md.with_series(name, points.iter().map(|p| (p.0, p.2)).collect());
    }
    // Series order: trials first, the mean last (drawn on top); the mean is labelled.
    save_formats(
        &msd,
        dir,
        "fig3_convergence_msd",
        "Mean squared difference to each trial's final spectrum",
        formats,
        &mut out,
    )?;
    save_formats(
        &md,
        dir,
        "fig3_convergence_md",
        "Mean difference to each trial's final spectrum",
        formats,
        &mut out,
    )?;
    // Fig. 4: spectra coloured by final loss; max / mean exponent against final loss.
    let mut spectra = ColourChart::new(
        "Final spectra of all trials",
        "exponent index",
        "exponent (per step)",
        "best val loss",
    )
    .with_lines(true);
    let mut loss_curves = ColourChart::new(
        "Validation loss of all trials",
        "epoch",
        "validation loss",
        "best val loss",
    )
    .with_lines(true)
    .with_log_y(true);
    let colour_param = analysis.data.param_names.iter().find(|p| {
        trials
            .iter()
            .any(|t| t.params.get(*p).and_then(|v| v.as_f64()).is_some())
            && p.as_str() != "seed"
    });
    let colour_label = colour_param
        .cloned()
        .unwrap_or_else(|| "trial index".into());
    let mut vs_loss: Vec<(Feature, ColourChart)> = [Feature::Max, Feature::Mean]
        .into_iter()
        .map(|f| {
            let title = format!("{} exponent (final epoch) vs final loss", f.name());
            (
                f,
                ColourChart::new(
                    &title,
                    &format!("{} exponent", f.name()),
                    "best val loss",
                    &colour_label,
                ),
            )
        })
        .collect();
    for t in trials {
        let target = t.best_val_loss();
        loss_curves = loss_curves.with_group(
            t.epochs.iter().map(|e| (ep(e.epoch), e.val_loss)).collect(),
            target,
        );
        let Some((_, spectrum)) = t.final_spectrum() else {
            continue;
        };
        spectra = spectra.with_group(indexed(spectrum), target);
        let colour = colour_param
            .and_then(|p| t.params.get(p).and_then(|v| v.as_f64()))
            .unwrap_or(t.index.unwrap_or(0) as f64);
        for (feature, chart) in &mut vs_loss {
            chart.groups.push(lyap_plot::ColourGroup {
                points: vec![(feature.compute(spectrum), target)],
                value: colour,
            });
        }
    }
    save_formats(
        &spectra,
        dir,
        "fig4_spectra_by_final_loss",
        "Last-epoch spectra of all trials, coloured by final (best-epoch) validation loss",
        formats,
        &mut out,
    )?;
    for (feature, chart) in &vs_loss {
        let stem = format!("fig4_{}_exponent_vs_final_loss", feature.name());
        save_formats(
            chart,
            dir,
            &stem,
            &format!(
                "{} exponent at the last epoch against final validation loss",
                feature.name()
            ),
            formats,
            &mut out,
        )?;
    }
    save_formats(
        &loss_curves,
        dir,
        "loss_curves",
        "Validation loss per epoch of all trials, coloured by final loss",
        formats,
        &mut out,
    )?;
    // Correlations over epochs with bootstrap intervals.
    let mut correlation_chart = ErrorBarChart::new(
        "Spearman correlation with final loss",
        "epoch",
        "Spearman rho (95% bootstrap CI)",
    )
    .with_reference_y(0.0);
    for feature in Feature::ALL {
        let points = analysis
            .correlations
            .iter()
            .filter(|r| r.feature == feature)
            .map(|r| ErrorPoint {
                x: ep(r.epoch),
                y: r.estimate.spearman.estimate,
                lower: r.estimate.spearman.lower,
                upper: r.estimate.spearman.upper,
            })
            .collect();
        correlation_chart = correlation_chart.with_series(feature.name(), points, true);
    }
    save_formats(
        &correlation_chart,
        dir,
        "correlations_spearman",
        "Spearman correlation of each spectrum feature with the final loss, per epoch",
        formats,
        &mut out,
    )?;
    // Early readout.
    let mut readout_rho = LineChart::new(
        "Early readout: rank agreement",
        "epoch",
        "Spearman with final loss (held out)",
    )
    .with_markers(true);
    let mut readout_top = LineChart::new(
        "Early readout: best 20% found",
        "epoch",
        "fraction of true best 20% found",
    )
    .with_markers(true);
    let predictors: Vec<String> = analysis
        .readout
        .iter()
        .map(|r| r.predictor.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for predictor in &predictors {
        let rows: Vec<_> = analysis
            .readout
            .iter()
            .filter(|r| &r.predictor == predictor)
            .collect();
        readout_rho = readout_rho.with_series(
            predictor,
            rows.iter().map(|r| (ep(r.epoch), r.spearman)).collect(),
        );
        readout_top = readout_top.with_series(
            predictor,
            rows.iter().map(|r| (ep(r.epoch), r.top_fraction)).collect(),
        );
    }
    let chance: Vec<(f64, f64)> = analysis
        .readout
        .iter()
        .filter(|r| r.predictor == "val_loss")
        .map(|r| (ep(r.epoch), r.chance))
        .collect();
    readout_top = readout_top.with_series("chance", chance);
    save_formats(
        &readout_rho,
        dir,
        "early_readout_spearman",
        "Spearman correlation of each early predictor (leave-one-trial-out) with the final loss",
        formats,
        &mut out,
    )?;
    save_formats(
        &readout_top,
        dir,
        "early_readout_top20",
        "Fraction of the true best 20% of trials found in each predictor's best 20%",
        formats,
        &mut out,
    )?;
    Ok(out)
}

/// The figures of one run into `dir`.
pub fn run_figures(run: &RunData, dir: &Path, formats: &[&str]) -> Result<Vec<FigureFile>> {
    let mut out = vec![];
    let losses = LineChart::new(&format!("Loss curves ({})", run.name), "epoch", "loss")
        .with_series(
            "train loss",
            run.epochs
                .iter()
                .map(|e| (ep(e.epoch), e.train_loss))
                .collect(),
        )
        .with_series(
            "validation loss",
            run.epochs
                .iter()
                .map(|e| (ep(e.epoch), e.val_loss))
                .collect(),
        )
        .with_markers(true);
    save_formats(
        &losses,
        dir,
        "loss_curves",
        "Training and validation loss per epoch",
        formats,
        &mut out,
    )?;
    let measured: Vec<_> = run
        .epochs
        .iter()
        .filter_map(|e| e.spectrum.as_ref().map(|s| (e, s)))
        .collect();
    if !measured.is_empty() {
        let mut per_epoch = ColourChart::new(
            "Spectrum per epoch",
            "exponent index",
            "exponent (per step)",
            "epoch",
        )
        .with_lines(true);
        for (e, s) in &measured {
            per_epoch = per_epoch.with_group(indexed(s), ep(e.epoch));
        }
        save_formats(
            &per_epoch,
            dir,
            "spectrum_per_epoch",
            "The spectrum at every measured epoch, coloured by epoch",
            formats,
            &mut out,
        )?;
        let feature_series = |f: Feature| {
            measured
                .iter()
                .map(|(e, s)| (ep(e.epoch), f.compute(s)))
                .collect()
        };
        let extremes = LineChart::new(
            "Largest and mean exponent over training",
            "epoch",
            "exponent (per step)",
        )
        .with_series("max exponent", feature_series(Feature::Max))
        .with_series("mean exponent", feature_series(Feature::Mean))
        .with_markers(true);
        save_formats(
            &extremes,
            dir,
            "max_mean_exponent",
            "Largest and mean exponent per epoch",
            formats,
            &mut out,
        )?;
        if let Some((e, s)) = measured.last() {
            let sem = e.spectrum_sem.clone().unwrap_or_default();
            let points = s
                .iter()
                .enumerate()
                .map(|(i, &y)| {
                    let err = sem.get(i).copied().unwrap_or(f64::NAN);
                    ErrorPoint {
                        x: (i + 1) as f64,
                        y,
                        lower: y - err,
                        upper: y + err,
                    }
                })
                .collect();
            let last = ErrorBarChart::new(
                &format!("Spectrum at epoch {}", e.epoch),
                "exponent index",
                "exponent (per step)",
            )
            .with_series("mean ± sem", points, false)
            .with_reference_y(0.0);
            save_formats(
                &last,
                dir,
                "final_spectrum",
                "The last measured spectrum with standard errors over sequences",
                formats,
                &mut out,
            )?;
        }
    }
    if let Some(chart) = trace_chart(&run.dir, &run.name)? {
        save_formats(
            &chart,
            dir,
            "running_estimate",
            "Running estimate of the exponents over QR steps",
            formats,
            &mut out,
        )?;
    }
    Ok(out)
}

/// The running-estimate chart of the newest trace file of a run, if any.
fn trace_chart(run_dir: &Path, name: &str) -> Result<Option<LineChart>> {
    let mut candidates: Vec<PathBuf> = [run_dir.to_path_buf(), run_dir.join("spectra")]
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let file = p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            file.starts_with("trace") && file.ends_with(".csv")
        })
        .collect();
    candidates.sort();
    let Some(path) = candidates.last() else {
        return Ok(None);
    };
    let Trace { columns, steps } = read_trace(path)?;
    let k = columns.len();
    let shown: Vec<usize> = if k <= MAX_TRACE_CURVES {
        (0..k).collect()
    } else {
        (0..MAX_TRACE_CURVES)
            .map(|i| i * (k - 1) / (MAX_TRACE_CURVES - 1))
            .collect()
    };
    let mut chart = LineChart::new(
        &format!("Running estimate ({name})"),
        "QR step",
        "running estimate (per step)",
    );
    for j in shown {
        chart = chart.with_series(&columns[j], steps.iter().map(|(s, v)| (*s, v[j])).collect());
    }
    Ok(Some(chart))
}

/// A trace file averaged over sequences.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Names of the exponent columns.
    pub columns: Vec<String>,
    /// Per QR step: the step and the mean running estimate of every column.
    pub steps: Vec<(f64, Vec<f64>)>,
}

/// Reads a trace CSV (see the module documentation).
pub fn read_trace(path: &Path) -> Result<Trace> {
    let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::io(path, e))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let head: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .collect();
    let step_col = head
        .iter()
        .position(|h| *h == "step")
        .ok_or_else(|| ExperimentError::format(path, "no `step` column"))?;
    let value_cols: Vec<usize> = (0..head.len())
        .filter(|&i| i != step_col && head[i] != "sequence")
        .collect();
    let mut sums: BTreeMap<u64, (Vec<f64>, usize)> = BTreeMap::new();
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let parse = |i: usize| -> Result<f64> {
            cells
                .get(i)
                .and_then(|c| c.parse::<f64>().ok())
                .ok_or_else(|| {
                    ExperimentError::format(
                        path,
                        format!("line {}: bad value in column {}", n + 2, i + 1),
                    )
                })
        };
        let step = parse(step_col)?;
        let entry = sums
            .entry(step.to_bits())
            .or_insert_with(|| (vec![0.0; value_cols.len()], 0));
        for (slot, &c) in entry.0.iter_mut().zip(&value_cols) {
            *slot += parse(c)?;
        }
        entry.1 += 1;
    }
    let mut steps: Vec<(f64, Vec<f64>)> = sums
        .into_iter()
        .map(|(bits, (sum, count))| {
            (
                f64::from_bits(bits),
                sum.iter().map(|s| s / count as f64).collect(),
            )
        })
        .collect();
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(Trace {
        columns: value_cols.iter().map(|&c| head[c].to_string()).collect(),
        steps,
    })
}
