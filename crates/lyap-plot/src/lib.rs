//! A small, generic charting layer over `plotters` used by the `lyap` CLI and reports.
//!
//! Three chart kinds, each saved to SVG or PNG chosen by the file extension:
//! - [`LineChart`]: several named series of `(x, y)` points, optionally with a log-scaled y axis
//!   and per-series colour, opacity and width ([`SeriesStyle`]);
//! - [`ErrorBarChart`]: named series of points with lower/upper error bounds;
//! - [`ColourChart`]: groups of points (optionally joined by lines) coloured by a value on a
//!   continuous colour scale, with a colour bar.
//!
//! Axes: non-finite points break a line rather than fail; on a log y axis a non-positive value
//! is marked by a triangle on the bottom edge (with a legend entry), not dropped; with
//! `with_integer_x(true)` (epochs, exponent indices) x ticks fall on integers only. A drawing
//! failure is [`PlotError::Draw`] with plotters' error as its source.
//!
//! Text is drawn with the embedded DejaVu Sans font (registered once with plotters), so PNG
//! output never depends on fonts installed on the machine. Files are written atomically:
//! rendered to a temporary file in the destination directory, then renamed over the target.

mod axes;
mod colour;
mod errorbar;
mod line;
mod output;

pub use colour::{colour_for, ColourChart, ColourGroup};
pub use errorbar::{ErrorBarChart, ErrorBarSeries, ErrorPoint};
pub use line::{LineChart, Series, SeriesStyle};
pub use output::{save_figure, write_atomic, DrawResult, Figure, ImageFormat};
/// Colours for [`SeriesStyle`] (plotters' RGB colour type).
pub use plotters::style::RGBColor;

/// Errors of the charting layer.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{path}: unsupported figure extension (use .svg or .png)")]
    UnsupportedFormat { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Plotters failed to draw or present a figure (its backend's error is the source).
    #[error("drawing {title:?} failed: {source}")]
    Draw {
        title: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Default figure size in pixels (width, height).
pub const DEFAULT_SIZE: (u32, u32) = (960, 640);
