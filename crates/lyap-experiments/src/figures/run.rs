//! The figures of one run, one builder per figure (module documentation of [`super`]);
//! [`run_figures`] saves them all.

use std::path::Path;

use lyap_plot::{ColourChart, ErrorBarChart, ErrorPoint, LineChart};

use super::trace::trace_chart;
use super::{ep, indexed, FigureFile, FigureSink};
use crate::features::Feature;
use crate::trials::{EpochData, RunData};
use crate::Result;

/// The figures of one run into `dir`, in each of `formats`.
pub fn run_figures(run: &RunData, dir: &Path, formats: &[&str]) -> Result<Vec<FigureFile>> {
    let mut sink = FigureSink::new(dir, formats);
    sink.save(
        "loss_curves",
        "Training and validation loss per epoch",
        &loss_chart(run),
    )?;
    let measured: Vec<(&EpochData, &[f64])> = run
        .epochs
        .iter()
        .filter_map(|e| e.spectrum.as_deref().map(|s| (e, s)))
        .collect();
    if let Some(&(last, spectrum)) = measured.last() {
        sink.save(
            "spectrum_per_epoch",
            "The spectrum at every measured epoch, coloured by epoch",
            &spectrum_per_epoch_chart(&measured),
        )?;
        sink.save(
            "max_mean_exponent",
            "Largest and mean exponent per epoch",
            &max_mean_chart(&measured),
        )?;
        sink.save(
            "final_spectrum",
            "The last measured spectrum with standard errors over sequences",
            &final_spectrum_chart(last, spectrum),
        )?;
    }
    if let Some(chart) = trace_chart(&run.dir, &run.name)? {
        sink.save(
            "running_estimate",
            "Running estimate of the exponents over QR steps",
            &chart,
        )?;
    }
    Ok(sink.finish())
}

/// Training and validation loss per epoch.
fn loss_chart(run: &RunData) -> LineChart {
    let series =
        |loss: fn(&EpochData) -> f64| run.epochs.iter().map(|e| (ep(e.epoch), loss(e))).collect();
    LineChart::new(&format!("Loss curves ({})", run.name), "epoch", "loss")
        .with_series("train loss", series(|e| e.train_loss))
        .with_series("validation loss", series(|e| e.val_loss))
        .with_markers(true)
        .with_integer_x(true)
}

/// The spectrum of every measured epoch, coloured by epoch.
pub(super) fn spectrum_per_epoch_chart(measured: &[(&EpochData, &[f64])]) -> ColourChart {
    let mut chart = ColourChart::new(
        "Spectrum per epoch",
        "exponent index",
        "exponent (per step)",
        "epoch",
    )
    .with_lines(true)
    .with_integer_x(true);
    for (e, s) in measured {
        chart = chart.with_group(indexed(s), ep(e.epoch));
    }
    chart
}

/// The largest and the mean exponent of every measured epoch.
fn max_mean_chart(measured: &[(&EpochData, &[f64])]) -> LineChart {
    let series = |f: Feature| {
        measured
            .iter()
            .map(|(e, s)| (ep(e.epoch), f.compute(s)))
            .collect()
    };
    LineChart::new(
        "Largest and mean exponent over training",
        "epoch",
        "exponent (per step)",
    )
    .with_series("max exponent", series(Feature::Max))
    .with_series("mean exponent", series(Feature::Mean))
    .with_markers(true)
    .with_integer_x(true)
}

/// `spectrum` (of epoch `e`) with bars of one standard error over sequences (none where the
/// epoch has no standard errors).
fn final_spectrum_chart(e: &EpochData, spectrum: &[f64]) -> ErrorBarChart {
    let sem = e.spectrum_sem.as_deref().unwrap_or_default();
    let points = spectrum
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
    ErrorBarChart::new(
        &format!("Spectrum at epoch {}", e.epoch),
        "exponent index",
        "exponent (per step)",
    )
    .with_series("mean ± sem", points, false)
    .with_reference_y(0.0)
    .with_integer_x(true)
}
