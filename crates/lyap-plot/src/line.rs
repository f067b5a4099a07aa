//! Line charts with several named series, each optionally with its own colour, opacity and
//! line width.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::axes::{
    self, build_chart, draw_below_log_axis, draw_legend, padded_range, Frame, SERIES_COLOURS,
};
use crate::output::{DrawResult, Figure};

/// How one series is drawn. The default is the palette colour of the series' position
/// (matplotlib's "tab10", cycling), opaque, 2 pixels wide.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeriesStyle {
    /// Line (and marker) colour; None takes the palette colour of the series' position.
    pub colour: Option<RGBColor>,
    /// Opacity of the line in `[0, 1]` (markers stay opaque).
    pub opacity: f64,
    /// Line width in pixels.
    pub width: u32,
}

impl Default for SeriesStyle {
    fn default() -> Self {
        Self {
            colour: None,
            opacity: 1.0,
            width: 2,
        }
    }
}

impl SeriesStyle {
    pub fn with_colour(mut self, colour: RGBColor) -> Self {
        self.colour = Some(colour);
        self
    }

    pub fn with_opacity(mut self, opacity: f64) -> Self {
        self.opacity = opacity;
        self
    }

    pub fn with_width(mut self, width: u32) -> Self {
        self.width = width;
        self
    }
}

/// One named polyline. The name is its legend label; an empty name leaves the series out of
/// the legend.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub style: SeriesStyle,
}

/// A line chart of several series; non-finite points break the line instead of failing. On
/// a log y axis, non-positive values also break the line and are marked by a triangle on
/// the bottom edge, with a legend entry saying so.
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
    /// The x values are integers (epochs, indices): x ticks only at integers.
    pub integer_x: bool,
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

    /// Adds a series in the default style (builder style).
    pub fn with_series(self, name: &str, points: Vec<(f64, f64)>) -> Self {
        self.with_styled_series(name, points, SeriesStyle::default())
    }

    /// Adds a series drawn in `style` (builder style).
    pub fn with_styled_series(
        mut self,
        name: &str,
        points: Vec<(f64, f64)>,
        style: SeriesStyle,
    ) -> Self {
        self.series.push(Series {
            name: name.to_string(),
            points,
            style,
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

    pub fn with_integer_x(mut self, integer_x: bool) -> Self {
        self.integer_x = integer_x;
        self
    }
}

impl Figure for LineChart {
    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
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
            x_range: padded_range(self.series.iter().flat_map(|s| axes::finite_xs(&s.points))),
            y_range: padded_range(all().map(|p| p.1)),
            log_y: self.log_y,
            integer_x: self.integer_x,
        };
        let mut chart = build_chart(area, &frame)?;
        let mut any_label = false;
        let mut below_labelled = false;
        for (i, (series, series_runs)) in self.series.iter().zip(&runs).enumerate() {
            let colour = series
                .style
                .colour
                .unwrap_or(SERIES_COLOURS[i % SERIES_COLOURS.len()]);
            let style =
                ShapeStyle::from(colour.mix(series.style.opacity)).stroke_width(series.style.width);
            for (j, run) in series_runs.iter().enumerate() {
                let drawn = chart.draw_series(LineSeries::new(run.iter().copied(), style))?;
                if j == 0 && !series.name.is_empty() {
                    any_label = true;
                    drawn
                        .label(series.name.as_str())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
                }
                if self.markers {
                    chart.draw_series(
                        run.iter()
                            .map(|&p| Circle::new(p, 3, ShapeStyle::from(colour).filled())),
                    )?;
                }
            }
            if self.log_y {
                any_label |= draw_below_log_axis(
                    &mut chart,
                    &series.points,
                    frame.y_range.0,
                    colour,
                    &mut below_labelled,
                )?;
            }
        }
        if any_label {
            draw_legend(&mut chart)?;
        }
        Ok(())
    }
}
