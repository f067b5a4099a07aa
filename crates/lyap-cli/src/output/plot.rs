//! The spectrum plot (`--plot`): mean exponent vs index with standard-deviation error bars,
//! SVG or PNG by extension, drawn by `lyap-plot` (embedded font, atomic write).

use crate::error::CliResult;
use crate::output::summary::system_description;
use crate::output::OutputError;
use lyap_plot::{ErrorBarChart, ErrorPoint, Figure, ImageFormat};
use lyap_rnn::report::SpectrumReport;
use std::path::Path;

/// Fails unless `path` ends in `.svg` or `.png`.
pub fn check_extension(path: &Path) -> CliResult<()> {
    ImageFormat::from_path(path).map_err(OutputError::Plot)?;
    Ok(())
}

/// The chart of `report`: point `i` at `(i, mean_i)` with a bar `mean_i +- std_i`, and with
/// `block_sem` a second series with bars `mean_i +- block_sem_i` (the standard error of the
/// mean over time); diverged (`-inf`) exponents are left out, an undefined error draws no bar.
pub fn chart(report: &SpectrumReport, block_sem: bool) -> ErrorBarChart {
    let (model, config) = (&report.model, &report.config);
    let stats = &report.exponents;
    let layers = if model.layers == 1 { "layer" } else { "layers" };
    let title = match system_description(report) {
        Some(system) => format!(
            "{system}: {} trajectories x {} steps",
            config.batch, config.steps
        ),
        None => format!(
            "{} ({} {layers}, hidden {}), state {}: {} sequences x {} steps",
            model.arch, model.layers, model.hidden_size, model.state, config.batch, config.steps
        ),
    };
    let unit = config.unit();
    let chart = ErrorBarChart::new(&title, "exponent index", &format!("exponent ({unit})"))
        .with_series(
            "mean ± std over sequences",
            bars(&stats.mean, &stats.std),
            true,
        )
        .with_reference_y(0.0);
    if !block_sem {
        return chart;
    }
    let points = bars(&stats.mean, &stats.block_sem);
    chart.with_series("mean ± block_sem (over time)", points, false)
}

/// Point `i` at `(i + 1, mean_i)` with the bar `mean_i +- error_i`.
fn bars(mean: &[f64], error: &[f64]) -> Vec<ErrorPoint> {
    mean.iter()
        .zip(error)
        .enumerate()
        .map(|(i, (&mean, &error))| ErrorPoint {
            x: (i + 1) as f64,
            y: mean,
            lower: mean - error,
            upper: mean + error,
        })
        .collect()
}

/// Draws [`chart`] (with `block_sem` error bars when asked) to `path` (`.svg` or `.png`).
pub fn write(path: &Path, report: &SpectrumReport, block_sem: bool) -> CliResult<()> {
    chart(report, block_sem)
        .save(path)
        .map_err(OutputError::Plot)?;
    Ok(())
}
