//! Charts of points with error bars (for example a spectrum with its standard errors, or
//! correlations with bootstrap intervals).

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::axes::{build_chart, draw_legend, padded_range, plot_y, Frame, SERIES_COLOURS};
use crate::output::{DrawResult, Figure};

/// A point with an interval `[lower, upper]` drawn as a vertical bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorPoint {
    pub x: f64,
    pub y: f64,
    pub lower: f64,
    pub upper: f64,
}

/// A named series of error points, joined by a thin line when `connect` is set.
#[derive(Clone, Debug, Default)]
pub struct ErrorBarSeries {
    pub name: String,
    pub points: Vec<ErrorPoint>,
    pub connect: bool,
}

/// Several error-bar series on one linear-axis chart. Points whose `y` is not finite are
/// skipped; a non-finite bound draws no bar on that side.
#[derive(Clone, Debug, Default)]
pub struct ErrorBarChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<ErrorBarSeries>,
    /// A horizontal reference line (for example y = 0).
    pub reference_y: Option<f64>,
    /// The x values are integers (epochs, indices): x ticks only at integers.
    pub integer_x: bool,
}

impl ErrorBarChart {
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Self {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            ..Self::default()
        }
    }

    pub fn with_series(mut self, name: &str, points: Vec<ErrorPoint>, connect: bool) -> Self {
        self.series.push(ErrorBarSeries {
            name: name.to_string(),
            points,
            connect,
        });
        self
    }

    pub fn with_reference_y(mut self, y: f64) -> Self {
        self.reference_y = Some(y);
        self
    }

    pub fn with_integer_x(mut self, integer_x: bool) -> Self {
        self.integer_x = integer_x;
        self
    }
}

impl Figure for ErrorBarChart {
    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let valid = |p: &&ErrorPoint| p.x.is_finite() && p.y.is_finite();
        let points = || {
            self.series
                .iter()
                .flat_map(|s| s.points.iter().filter(valid))
        };
        let ys = points()
            .flat_map(|p| [p.y, p.lower, p.upper])
            .chain(self.reference_y);
        let frame = Frame {
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
            x_range: padded_range(points().map(|p| p.x)),
            y_range: padded_range(ys),
            log_y: false,
            integer_x: self.integer_x,
        };
        let mut chart = build_chart(area, &frame)?;
        if let Some(y) = self.reference_y {
            let (x0, x1) = frame.x_range;
            chart.draw_series(LineSeries::new([(x0, y), (x1, y)], BLACK.mix(0.5)))?;
        }
        // Half-width of the bar caps: 1% of the x range.
        let cap = 0.01 * (frame.x_range.1 - frame.x_range.0);
        let mut any_label = false;
        for (i, series) in self.series.iter().enumerate() {
            let colour = SERIES_COLOURS[i % SERIES_COLOURS.len()];
            let style = ShapeStyle::from(colour).stroke_width(2);
            let good: Vec<&ErrorPoint> = series.points.iter().filter(valid).collect();
            if series.connect {
                chart.draw_series(LineSeries::new(
                    good.iter().map(|p| (p.x, p.y)),
                    colour.mix(0.6),
                ))?;
            }
            for p in &good {
                let lower = plot_y(p.lower, false).unwrap_or(p.y);
                let upper = plot_y(p.upper, false).unwrap_or(p.y);
                let bar = [
                    vec![(p.x, lower), (p.x, upper)],
                    vec![(p.x - cap, lower), (p.x + cap, lower)],
                    vec![(p.x - cap, upper), (p.x + cap, upper)],
                ];
                chart.draw_series(bar.into_iter().map(|line| PathElement::new(line, style)))?;
            }
            let drawn = chart.draw_series(
                good.iter()
                    .map(|p| Circle::new((p.x, p.y), 4, style.filled())),
            )?;
            if !series.name.is_empty() {
                any_label = true;
                drawn
                    .label(series.name.as_str())
                    .legend(move |(x, y)| Circle::new((x + 10, y), 4, style.filled()));
            }
        }
        if any_label {
            draw_legend(&mut chart)?;
        }
        Ok(())
    }
}
