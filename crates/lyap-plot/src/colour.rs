//! Charts whose points or lines are coloured by a value on a continuous colour scale
//! (viridis), with a colour bar.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::axes::{
    self, build_chart, draw_below_log_axis, draw_legend, format_tick, padded_range, Frame,
    AXIS_DESC_FONT_SIZE, TICK_FONT_SIZE,
};
use crate::output::{DrawResult, Figure};

/// Anchor colours of the viridis colour map at `t = 0, 1/8, .., 1`.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// Colour of `t` in `[0, 1]` (clamped) on the viridis scale, linearly interpolated between
/// anchors; grey for a non-finite `t`.
pub fn colour_for(t: f64) -> RGBColor {
    if !t.is_finite() {
        return RGBColor(160, 160, 160);
    }
    let x = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + f * (b as f64 - a as f64)).round() as u8;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A group of points sharing one colour value (for example one trial's spectrum).
#[derive(Clone, Debug, Default)]
pub struct ColourGroup {
    pub points: Vec<(f64, f64)>,
    /// Position on the colour scale; non-finite draws grey.
    pub value: f64,
}

/// Groups of points coloured by value, optionally joined into lines, with a colour bar
/// labelled `colour_label` spanning the finite values' range. On a log y axis, non-positive
/// values are marked by a triangle on the bottom edge, with a legend entry saying so.
#[derive(Clone, Debug, Default)]
pub struct ColourChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub colour_label: String,
    pub groups: Vec<ColourGroup>,
    /// Join each group's points with a line (spectra, curves) instead of markers only.
    pub connect: bool,
    pub log_y: bool,
    /// The x values are integers (epochs, indices): x ticks only at integers.
    pub integer_x: bool,
}

impl ColourChart {
    pub fn new(title: &str, x_label: &str, y_label: &str, colour_label: &str) -> Self {
        Self {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            colour_label: colour_label.to_string(),
            ..Self::default()
        }
    }

    pub fn with_group(mut self, points: Vec<(f64, f64)>, value: f64) -> Self {
        self.groups.push(ColourGroup { points, value });
        self
    }

    pub fn with_lines(mut self, connect: bool) -> Self {
        self.connect = connect;
        self
    }

    pub fn with_log_y(mut self, log_y: bool) -> Self {
        self.log_y = log_y;
        self
    }

    pub fn with_integer_x(mut self, integer_x: bool) -> Self {
        self.integer_x = integer_x;
        self
    }

    /// `(min, max)` of the finite colour values, widened when they coincide.
    fn value_range(&self) -> (f64, f64) {
        let (lo, hi) = self
            .groups
            .iter()
            .map(|g| g.value)
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        if lo > hi {
            (0.0, 1.0)
        } else if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
            (lo - 0.5, hi + 0.5)
        } else {
            (lo, hi)
        }
    }
}

const COLOUR_BAR_WIDTH: u32 = 140;

impl Figure for ColourChart {
    fn title(&self) -> &str {
        &self.title
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (width, _) = area.dim_in_pixel();
        let (main, bar) = area.split_horizontally(width.saturating_sub(COLOUR_BAR_WIDTH));
        let runs: Vec<Vec<Vec<(f64, f64)>>> = self
            .groups
            .iter()
            .map(|g| axes::segments(&g.points, self.log_y))
            .collect();
        let all = || runs.iter().flatten().flatten();
        let frame = Frame {
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
            x_range: padded_range(self.groups.iter().flat_map(|s| axes::finite_xs(&s.points))),
            y_range: padded_range(all().map(|p| p.1)),
            log_y: self.log_y,
            integer_x: self.integer_x,
        };
        let mut chart = build_chart(&main, &frame)?;
        let (lo, hi) = self.value_range();
        let mut below_labelled = false;
        for (group, group_runs) in self.groups.iter().zip(&runs) {
            let colour = colour_for((group.value - lo) / (hi - lo));
            for run in group_runs {
                if self.connect {
                    chart.draw_series(LineSeries::new(
                        run.iter().copied(),
                        ShapeStyle::from(colour.mix(0.85)).stroke_width(2),
                    ))?;
                }
                let radius = if self.connect { 2 } else { 5 };
                chart.draw_series(
                    run.iter()
                        .map(|&p| Circle::new(p, radius, ShapeStyle::from(colour).filled())),
                )?;
            }
            if self.log_y {
                draw_below_log_axis(
                    &mut chart,
                    &group.points,
                    frame.y_range.0,
                    colour,
                    &mut below_labelled,
                )?;
            }
        }
        if below_labelled {
            draw_legend(&mut chart)?;
        }
        draw_colour_bar(&bar, &self.colour_label, lo, hi)
    }
}

/// A vertical colour bar for values in `[lo, hi]`, with ticks and a label.
fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    lo: f64,
    hi: f64,
) -> DrawResult<DB> {
    const STRIPES: usize = 100;
    let mut chart = ChartBuilder::on(area)
        .margin_top(60)
        .margin_bottom(88)
        .margin_right(8)
        .set_label_area_size(LabelAreaPosition::Right, 100)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    let formatter = |v: &f64| format_tick(*v);
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(label)
        .axis_desc_style(("sans-serif", AXIS_DESC_FONT_SIZE))
        .label_style(("sans-serif", TICK_FONT_SIZE))
        .y_label_formatter(&formatter)
        .draw()?;
    let step = (hi - lo) / STRIPES as f64;
    chart.draw_series((0..STRIPES).map(|i| {
        let y0 = lo + i as f64 * step;
        let colour = colour_for((i as f64 + 0.5) / STRIPES as f64);
        Rectangle::new([(0.0, y0), (1.0, y0 + step)], colour.filled())
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_scale_endpoints_and_clamping() {
        assert_eq!(colour_for(0.0), RGBColor(68, 1, 84));
        assert_eq!(colour_for(1.0), RGBColor(253, 231, 37));
        assert_eq!(colour_for(2.0), colour_for(1.0));
        assert_eq!(colour_for(-1.0), colour_for(0.0));
        assert_eq!(colour_for(f64::NAN), RGBColor(160, 160, 160));
        assert_eq!(colour_for(0.5), RGBColor(33, 144, 141));
    }
}
