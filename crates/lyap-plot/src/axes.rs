//! Shared axis handling: data ranges, log-scaled y, segments, fonts and the chart frame.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::output::DrawResult;

/// Ten distinguishable series colours (matplotlib's "tab10").
pub(crate) const SERIES_COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub(crate) const TITLE_FONT_SIZE: u32 = 26;
pub(crate) const AXIS_DESC_FONT_SIZE: u32 = 20;
pub(crate) const TICK_FONT_SIZE: u32 = 15;
pub(crate) const LEGEND_FONT_SIZE: u32 = 15;

pub(crate) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Maps a data y value to plot coordinates: `log10(y)` on a log axis (None for `y <= 0`),
/// identity otherwise; None for non-finite values.
pub(crate) fn plot_y(y: f64, log_y: bool) -> Option<f64> {
    if !y.is_finite() {
        None
    } else if log_y {
        (y > 0.0).then(|| y.log10())
    } else {
        Some(y)
    }
}

/// Splits a polyline into runs of plottable points (breaking at non-finite or, on a log
/// axis, non-positive values), already mapped to plot coordinates.
pub(crate) fn segments(points: &[(f64, f64)], log_y: bool) -> Vec<Vec<(f64, f64)>> {
    let mut runs = vec![];
    let mut current = vec![];
    for &(x, y) in points {
        match plot_y(y, log_y).filter(|_| x.is_finite()) {
            Some(py) => current.push((x, py)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// The x of every point with finite coordinates: also those whose `y` a log axis cannot
/// show (they are marked on its bottom edge by [`draw_below_log_axis`]).
pub(crate) fn finite_xs(points: &[(f64, f64)]) -> impl Iterator<Item = f64> + '_ {
    points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|p| p.0)
}

/// `[lo, hi]` covering every finite value with 5% padding; a unit interval around a single
/// value; `[0, 1]` when there is no finite value.
pub(crate) fn padded_range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return (0.0, 1.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let half = 0.5 * lo.abs().clamp(1e-12, 1.0);
        return (lo - half, hi + half);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

/// A compact tick label: plain decimals for moderate magnitudes, scientific otherwise;
/// values within 1e-9 of zero (floating-point noise of tick positions) print as `0`.
pub(crate) fn format_tick(v: f64) -> String {
    let a = v.abs();
    if a < 1e-9 {
        "0".to_string()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".to_string()
        } else {
            s.to_string()
        }
    }
}

/// `v` rounded to `digits` significant digits (log-axis tick labels such as 3.16, not 3.1623).
pub(crate) fn round_significant(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(digits - 1 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

/// Axis labels and scaling of one chart frame.
pub(crate) struct Frame<'s> {
    pub title: &'s str,
    pub x_label: &'s str,
    pub y_label: &'s str,
    pub x_range: (f64, f64),
    /// In plot coordinates (log10 units when `log_y`).
    pub y_range: (f64, f64),
    pub log_y: bool,
    /// The x values are integers (epochs, exponent indices, steps): ticks only at integers.
    pub integer_x: bool,
}

/// Most tick labels on an axis (plotters' default).
const MAX_TICKS: usize = 10;

/// The number of x tick labels to request so that plotters' key points (steps of
/// 1, 2 or 5 times a power of ten, at most the requested count) fall on integers only:
/// the number of integers in `[lo, hi]`, at most [`MAX_TICKS`]. With as many points as
/// integers, any step below 1 would need more points than that (one between each pair of
/// integers), so the chosen step is a whole number. None (the default) when the range holds
/// no integer.
pub(crate) fn integer_tick_count((lo, hi): (f64, f64)) -> Option<usize> {
    if !(lo.is_finite() && hi.is_finite()) || hi < lo {
        return None;
    }
    let count = hi.floor() - lo.ceil() + 1.0;
    (count >= 1.0).then(|| (count as usize).min(MAX_TICKS))
}

/// Builds a Cartesian chart with title, described axes and a light grid on `area`.
pub(crate) fn build_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    frame: &Frame<'_>,
) -> DrawResult<DB, Chart<'a, DB>> {
    let mut chart = ChartBuilder::on(area)
        .caption(frame.title, ("sans-serif", TITLE_FONT_SIZE))
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(84)
        .build_cartesian_2d(
            frame.x_range.0..frame.x_range.1,
            frame.y_range.0..frame.y_range.1,
        )?;
    let log_y = frame.log_y;
    let y_formatter = move |v: &f64| {
        if log_y {
            format_tick(round_significant(10f64.powf(*v), 3))
        } else {
            format_tick(*v)
        }
    };
    let x_formatter = |v: &f64| format_tick(*v);
    let mut mesh = chart.configure_mesh();
    if frame.integer_x {
        if let Some(count) = integer_tick_count(frame.x_range) {
            mesh.x_labels(count);
        }
    }
    mesh.x_desc(frame.x_label)
        .y_desc(frame.y_label)
        .axis_desc_style(("sans-serif", AXIS_DESC_FONT_SIZE))
        .label_style(("sans-serif", TICK_FONT_SIZE))
        .x_label_formatter(&x_formatter)
        .y_label_formatter(&y_formatter)
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()?;
    Ok(chart)
}

/// Draws the legend box (upper right) for every series that was given a label.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", LEGEND_FONT_SIZE))
        .draw()
}

/// Legend label of the markers that stand for values off a log axis.
pub(crate) const BELOW_LOG_AXIS_LABEL: &str = "≤ 0 (below the log axis)";

/// On a log axis, the points whose `y` is finite but not positive (for example a difference
/// that reaches exactly 0 at the last epoch) cannot be placed; each is drawn as a
/// downward-pointing triangle in `colour` on the bottom edge `y_floor` of the plot instead of
/// being dropped. The first triangle drawn on the chart (`*labelled` false) gets the legend
/// entry [`BELOW_LOG_AXIS_LABEL`] (a grey triangle) and sets `*labelled`. Returns whether
/// any was drawn.
pub(crate) fn draw_below_log_axis<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    points: &[(f64, f64)],
    y_floor: f64,
    colour: RGBColor,
    labelled: &mut bool,
) -> DrawResult<DB, bool> {
    let xs: Vec<f64> = points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite() && *y <= 0.0)
        .map(|p| p.0)
        .collect();
    if xs.is_empty() {
        return Ok(false);
    }
    let style = ShapeStyle::from(colour).filled();
    let drawn =
        chart
            .draw_series(xs.iter().map(|&x| {
                EmptyElement::at((x, y_floor)) + Polygon::new(TRIANGLE.to_vec(), style)
            }))?;
    if !*labelled {
        *labelled = true;
        let grey = ShapeStyle::from(BLACK.mix(0.6)).filled();
        drawn.label(BELOW_LOG_AXIS_LABEL).legend(move |(x, y)| {
            EmptyElement::at((x + 10, y + 5)) + Polygon::new(TRIANGLE.to_vec(), grey)
        });
    }
    Ok(true)
}

/// A downward-pointing triangle, in pixels relative to its tip.
const TRIANGLE: [(i32, i32); 3] = [(-6, -10), (6, -10), (0, 0)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_break_at_invalid_points_and_log_maps() {
        let pts = [(0.0, 1.0), (1.0, 10.0), (2.0, -1.0), (3.0, 100.0)];
        let runs = segments(&pts, true);
        assert_eq!(runs, vec![vec![(0.0, 0.0), (1.0, 1.0)], vec![(3.0, 2.0)]]);
        assert_eq!(segments(&pts, false).len(), 1);
        assert_eq!(segments(&[(0.0, f64::NAN)], false).len(), 0);
    }

    #[test]
    fn ranges_and_ticks() {
        assert_eq!(padded_range([]), (0.0, 1.0));
        let (lo, hi) = padded_range([2.0, 2.0]);
        assert!(lo < 2.0 && hi > 2.0);
        let (lo, hi) = padded_range([0.0, 10.0, f64::NAN]);
        assert!((lo + 0.5).abs() < 1e-12 && (hi - 10.5).abs() < 1e-12);
        assert_eq!(format_tick(0.25), "0.25");
        assert_eq!(format_tick(2.0), "2");
        assert_eq!(format_tick(1e-5), "1.0e-5");
        assert_eq!(format_tick(-5.6e-17), "0");
        assert_eq!(format_tick(round_significant(3.16227, 3)), "3.16");
    }

    #[test]
    fn integer_ticks_count_the_integers_in_range() {
        assert_eq!(integer_tick_count((-0.15, 3.15)), Some(4));
        assert_eq!(integer_tick_count((2.5, 3.5)), Some(1));
        assert_eq!(integer_tick_count((0.2, 0.8)), None);
        assert_eq!(integer_tick_count((-5.0, 200.0)), Some(MAX_TICKS));
        assert_eq!(integer_tick_count((0.0, f64::NAN)), None);
    }
}
