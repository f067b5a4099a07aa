//! The figures of a sweep analysis, one builder per figure (module documentation of
//! [`super`]); [`sweep_figures`] saves them all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use lyap_plot::{
    ColourChart, ColourGroup, ErrorBarChart, ErrorPoint, LineChart, RGBColor, SeriesStyle,
};

use super::run::spectrum_per_epoch_chart;
use super::trace::trace_chart;
use super::{ep, indexed, FigureFile, FigureSink};
use crate::analysis::{ConvergenceRow, CorrelationRow, ReadoutRow, SweepAnalysis};
use crate::features::Feature;
use crate::trials::{EpochData, RunData, SweepData};
use crate::Result;

/// Fig. 3: each trial's curve, thin and faint in its palette colour.
const TRIAL_STYLE: SeriesStyle = SeriesStyle {
    colour: None,
    opacity: 0.45,
    width: 1,
};

/// Fig. 3: the mean over trials, heavy and black (no palette colour is black), labelled.
const MEAN_STYLE: SeriesStyle = SeriesStyle {
    colour: Some(RGBColor(0, 0, 0)),
    opacity: 1.0,
    width: 4,
};

/// Legend label of the mean over trials in Fig. 3.
const MEAN_LABEL: &str = "mean over trials";

/// Every figure of a sweep analysis into `dir`, in each of `formats`.
pub fn sweep_figures(
    analysis: &SweepAnalysis,
    dir: &Path,
    formats: &[&str],
) -> Result<Vec<FigureFile>> {
    let mut sink = FigureSink::new(dir, formats);
    let trials = &analysis.data.completed;
    if let Some(best) = best_trial(trials) {
        let measured: Vec<(&EpochData, &[f64])> = best
            .epochs
            .iter()
            .filter_map(|e| e.spectrum.as_deref().map(|s| (e, s)))
            .collect();
        if !measured.is_empty() {
            sink.save(
                "spectra_per_epoch_best_trial",
                &format!(
                    "The spectrum at every measured epoch of the best trial ({}), coloured by epoch",
                    best.name
                ),
                &spectrum_per_epoch_chart(&measured),
            )?;
        }
    }
    if let Some(chart) = best_running_estimate_chart(trials)? {
        sink.save(
            "fig2_running_estimate",
            "Running estimate of the exponents over QR steps (best trial)",
            &chart,
        )?;
    }
    sink.save(
        "fig3_convergence_msd",
        "Mean squared difference to each trial's final spectrum",
        &convergence_msd_chart(&analysis.convergence),
    )?;
    sink.save(
        "fig3_convergence_md",
        "Mean difference to each trial's final spectrum",
        &convergence_md_chart(&analysis.convergence),
    )?;
    sink.save(
        "fig4_spectra_by_final_loss",
        "Last-epoch spectra of all trials, coloured by final (best-epoch) validation loss",
        &spectra_by_loss_chart(trials),
    )?;
    for feature in [Feature::Max, Feature::Mean] {
        sink.save(
            &format!("fig4_{}_exponent_vs_final_loss", feature.name()),
            &format!(
                "{} exponent at the last epoch against final validation loss",
                feature.name()
            ),
            &feature_vs_loss_chart(&analysis.data, feature),
        )?;
    }
    sink.save(
        "loss_curves",
        "Validation loss per epoch of all trials, coloured by final loss",
        &loss_curves_chart(trials),
    )?;
    sink.save(
        "correlations_spearman",
        "Spearman correlation of each spectrum feature with the final loss, per epoch",
        &correlation_chart(&analysis.correlations),
    )?;
    sink.save(
        "early_readout_spearman",
        "Spearman correlation of each early predictor (leave-one-trial-out) with the final loss",
        &readout_spearman_chart(&analysis.readout),
    )?;
    sink.save(
        "early_readout_top20",
        "Fraction of the true best 20% of trials found in each predictor's best 20%",
        &readout_top_chart(&analysis.readout),
    )?;
    Ok(sink.finish())
}

/// The trial with the lowest final loss.
fn best_trial(trials: &[RunData]) -> Option<&RunData> {
    trials
        .iter()
        .filter(|t| t.best_val_loss().is_finite())
        .min_by(|a, b| a.best_val_loss().total_cmp(&b.best_val_loss()))
}

/// Fig. 2: the running estimate of the trial with the lowest final loss, if it has a trace.
fn best_running_estimate_chart(trials: &[RunData]) -> Result<Option<LineChart>> {
    match best_trial(trials) {
        Some(t) => trace_chart(&t.dir, &t.name),
        None => Ok(None),
    }
}

/// Fig. 3, log scale: mean squared difference of each epoch's spectrum to the final one.
fn convergence_msd_chart(rows: &[ConvergenceRow]) -> LineChart {
    let chart = LineChart::new(
        "Convergence of the spectrum",
        "epoch",
        "mean squared difference to final spectrum",
    )
    .with_log_y(true);
    with_convergence_series(chart, rows, |r| r.mean_squared_difference)
}

/// Fig. 3, linear scale: mean (signed) difference of each epoch's spectrum to the final one.
fn convergence_md_chart(rows: &[ConvergenceRow]) -> LineChart {
    let chart = LineChart::new(
        "Convergence of the spectrum",
        "epoch",
        "mean difference to final spectrum",
    );
    with_convergence_series(chart, rows, |r| r.mean_difference)
}

/// Adds one faint series per trial, then the mean over trials (row `trial` None) on top,
/// heavy, black and labelled [`MEAN_LABEL`]; `value` picks the plotted column.
fn with_convergence_series(
    chart: LineChart,
    rows: &[ConvergenceRow],
    value: fn(&ConvergenceRow) -> f64,
) -> LineChart {
    let mut per_trial: BTreeMap<Option<usize>, Vec<(f64, f64)>> = BTreeMap::new();
    for r in rows {
        per_trial
            .entry(r.trial)
            .or_default()
            .push((ep(r.epoch), value(r)));
    }
    let mean = per_trial.remove(&None);
    let mut chart = chart.with_integer_x(true);
    for points in per_trial.into_values() {
        chart = chart.with_styled_series("", points, TRIAL_STYLE);
    }
    if let Some(points) = mean {
        chart = chart.with_styled_series(MEAN_LABEL, points, MEAN_STYLE);
    }
    chart
}

/// Fig. 4: the last-epoch spectrum of every trial, coloured by its final loss.
fn spectra_by_loss_chart(trials: &[RunData]) -> ColourChart {
    let mut chart = ColourChart::new(
        "Final spectra of all trials",
        "exponent index",
        "exponent (per step)",
        "best val loss",
    )
    .with_lines(true)
    .with_integer_x(true);
    for t in trials {
        if let Some((_, spectrum)) = t.final_spectrum() {
            chart = chart.with_group(indexed(spectrum), t.best_val_loss());
        }
    }
    chart
}

/// The first sampled hyperparameter other than `seed` that some trial has as a number: the
/// colour of [`feature_vs_loss_chart`]'s points.
fn colour_param(data: &SweepData) -> Option<&String> {
    data.param_names.iter().find(|p| {
        data.completed
            .iter()
            .any(|t| t.params.get(*p).and_then(|v| v.as_f64()).is_some())
            && p.as_str() != "seed"
    })
}

/// Fig. 4: `feature` of each trial's last-epoch spectrum against its final loss, coloured by
/// [`colour_param`] (the trial index when there is none).
fn feature_vs_loss_chart(data: &SweepData, feature: Feature) -> ColourChart {
    let param = colour_param(data);
    let colour_label = param.cloned().unwrap_or_else(|| "trial index".into());
    let mut chart = ColourChart::new(
        &format!("{} exponent (final epoch) vs final loss", feature.name()),
        &format!("{} exponent", feature.name()),
        "best val loss",
        &colour_label,
    );
    for t in &data.completed {
        let Some((_, spectrum)) = t.final_spectrum() else {
            continue;
        };
        let value = param
            .and_then(|p| t.params.get(p).and_then(|v| v.as_f64()))
            .unwrap_or(t.index.unwrap_or(0) as f64);
        chart.groups.push(ColourGroup {
            points: vec![(feature.compute(spectrum), t.best_val_loss())],
            value,
        });
    }
    chart
}

/// Validation loss per epoch of every trial (log scale), coloured by its final loss.
fn loss_curves_chart(trials: &[RunData]) -> ColourChart {
    let mut chart = ColourChart::new(
        "Validation loss of all trials",
        "epoch",
        "validation loss",
        "best val loss",
    )
    .with_lines(true)
    .with_log_y(true)
    .with_integer_x(true);
    for t in trials {
        chart = chart.with_group(
            t.epochs.iter().map(|e| (ep(e.epoch), e.val_loss)).collect(),
            t.best_val_loss(),
        );
    }
    chart
}

/// Spearman correlation of every feature with the final loss per epoch, with its bootstrap
/// interval.
fn correlation_chart(rows: &[CorrelationRow]) -> ErrorBarChart {
    let mut chart = ErrorBarChart::new(
        "Spearman correlation with final loss",
        "epoch",
        "Spearman rho (95% bootstrap CI)",
    )
    .with_reference_y(0.0)
    .with_integer_x(true);
    for feature in Feature::ALL {
        let points = rows
            .iter()
            .filter(|r| r.feature == feature)
            .map(|r| ErrorPoint {
                x: ep(r.epoch),
                y: r.estimate.spearman.estimate,
                lower: r.estimate.spearman.lower,
                upper: r.estimate.spearman.upper,
            })
            .collect();
        chart = chart.with_series(feature.name(), points, true);
    }
    chart
}

/// Early readout: each predictor's held-out Spearman correlation with the final loss.
fn readout_spearman_chart(rows: &[ReadoutRow]) -> LineChart {
    let chart = LineChart::new(
        "Early readout: rank agreement",
        "epoch",
        "Spearman with final loss (held out)",
    );
    with_predictor_series(chart, rows, |r| r.spearman)
}

/// Early readout: the fraction of the true best 20% in each predictor's best 20%, and the
/// fraction a random ranking finds (`chance`, from the `val_loss` rows).
fn readout_top_chart(rows: &[ReadoutRow]) -> LineChart {
    let chart = LineChart::new(
        "Early readout: best 20% found",
        "epoch",
        "fraction of true best 20% found",
    );
    let chance = rows
        .iter()
        .filter(|r| r.predictor == "val_loss")
        .map(|r| (ep(r.epoch), r.chance))
        .collect();
    with_predictor_series(chart, rows, |r| r.top_fraction).with_series("chance", chance)
}

/// Adds one series per predictor (in name order) of `value` over epochs, with markers.
fn with_predictor_series(
    chart: LineChart,
    rows: &[ReadoutRow],
    value: fn(&ReadoutRow) -> f64,
) -> LineChart {
    let predictors: BTreeSet<&str> = rows.iter().map(|r| r.predictor.as_str()).collect();
    let mut chart = chart.with_markers(true).with_integer_x(true);
    for predictor in predictors {
        let points = rows
            .iter()
            .filter(|r| r.predictor == predictor)
            .map(|r| (ep(r.epoch), value(r)))
            .collect();
        chart = chart.with_series(predictor, points);
    }
    chart
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(trial: Option<usize>, epoch: usize, msd: f64) -> ConvergenceRow {
        ConvergenceRow {
            trial,
            epoch,
            mean_squared_difference: msd,
            mean_difference: -msd,
            n_trials: 2,
        }
    }

    #[test]
    fn convergence_mean_is_last_heavy_and_labelled() {
        let rows = [
            row(None, 0, 1.5),
            row(None, 1, 0.0),
            row(Some(0), 0, 1.0),
            row(Some(0), 1, 0.0),
            row(Some(1), 0, 2.0),
            row(Some(1), 1, 0.0),
        ];
        let chart = convergence_msd_chart(&rows);
        assert!(chart.log_y && chart.integer_x);
        let names: Vec<&str> = chart.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["", "", MEAN_LABEL]);
        let mean = &chart.series[2];
        assert_eq!(mean.points, vec![(0.0, 1.5), (1.0, 0.0)]);
        assert_eq!(mean.style, MEAN_STYLE);
        assert!(chart.series[..2]
            .iter()
            .all(|s| s.style.width < mean.style.width && s.style.colour.is_none()));
        let md = convergence_md_chart(&rows);
        assert_eq!(md.series[0].points, vec![(0.0, -1.0), (1.0, -0.0)]);
        assert!(!md.log_y);
    }
}
