//! The spectrum plot (`--plot`): mean exponent vs index with standard-deviation error bars,
//! SVG or PNG by extension, drawn by `lyap-plot` (embedded font, atomic write).

use crate::error::CliResult;
use crate::output::OutputError;
use lyap_plot::{ErrorBarChart, ErrorPoint, Figure, ImageFormat};
use lyap_rnn::report::SpectrumReport;
use std::path::Path;

/// Fails unless `path` ends in `.svg` or `.png`.
pub fn check_extension(path: &Path) -> CliResult<()> {
    ImageFormat::from_path(path).map_err(OutputError::Plot)?;
    Ok(())
}

/// The chart of `report`: point `i` at `(i, mean_i)` with a bar `mean_i +- std_i`; diverged
/// (`-inf`) exponents are left out, undefined std draws no bar.
pub fn chart(report: &SpectrumReport) -> ErrorBarChart {
    let (model, config) = (&report.model, &report.config);
    let stats = &report.exponents;
    let points = stats
        .mean
        .iter()
        .zip(&stats.std)
        .enumerate()
        .map(|(i, (&mean, &std))| ErrorPoint {
            x: (i + 1) as f64,
            y: mean,
            lower: mean - std,
            upper: mean + std,
        })
        .collect();
    let layers = if model.layers == 1 { "layer" } else { "layers" };
    let title = format!(
        "{} ({} {layers}, hidden {}), state {}: {} sequences x {} steps",
        model.arch, model.layers, model.hidden_size, model.state, config.batch, config.steps
    );
    let unit = config.log_base.unit();
    ErrorBarChart::new(&title, "exponent index", &format!("exponent ({unit})"))
        .with_series("mean ± std over sequences", points, true)
        .with_reference_y(0.0)
}

/// Draws [`chart`] to `path` (`.svg` or `.png`).
pub fn write(path: &Path, report: &SpectrumReport) -> CliResult<()> {
    chart(report).save(path).map_err(OutputError::Plot)?;
    Ok(())
}
