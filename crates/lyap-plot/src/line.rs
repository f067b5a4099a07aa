//! Line charts with several named series.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::axes::{self, build_chart, draw_legend, padded_range, Frame, SERIES_COLOURS};
use crate::output::Figure;

/// One named polyline. An empty name leaves the series out of the legend.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart of several series; non-finite points (and, with `log_y`, non-positive
/// ones) break the line instead of failing.
#[derive(Clone, Debug, Default)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Logarithmic y axis (tick labels show the data values).
    pub log_y: bool,
    /// Draw a small circle at every point as well as the line.
    pub markers: bool,
}

impl LineChart {
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Self {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            ..Self::default()
        }
    }

    /// Adds a series (builder style).
    pub fn with_series(mut self, name: &str, points: Vec<(f64, f64)>) -> Self {
        self.series.push(Series {
            name: name.to_string(),
            points,
        });
        self
    }

    pub fn with_log_y(mut self, log_y: bool) -> Self {
        self.log_y = log_y;
        self
    }

    pub fn with_markers(mut self, markers: bool) -> Self {
        self.markers = markers;
        self
    }
}

impl Figure for LineChart {
    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let runs: Vec<Vec<Vec<(f64, f64)>>> = self
            .series
            .iter()
            .map(|s| axes::segments(&s.points, self.log_y))
            .collect();
        let all = || runs.iter().flatten().flatten();
        let frame = Frame {
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
            x_range: padded_range(all().map(|p| p.0)),
            y_range: padded_range(all().map(|p| p.1)),
            log_y: self.log_y,
        };
        let mut chart = build_chart(area, &frame)?;
        let mut any_label = false;
        for (i, (series, series_runs)) in self.series.iter().zip(&runs).enumerate() {
            let colour = SERIES_COLOURS[i % SERIES_COLOURS.len()];
            let style = ShapeStyle::from(colour).stroke_width(2);
            for (j, run) in series_runs.iter().enumerate() {
                let drawn = chart
                    .draw_series(LineSeries::new(run.iter().copied(), style))
                    .map_err(|e| e.to_string())?;
                if j == 0 && !series.name.is_empty() {
                    any_label = true;
                    drawn
                        .label(series.name.as_str())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
                }
                if self.markers {
                    chart
                        .draw_series(
                            run.iter()
                                .map(|&p| Circle::new(p, 3, ShapeStyle::from(colour).filled())),
                        )
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        if any_label {
            draw_legend(&mut chart)?;
        }
        Ok(())
    }
}
