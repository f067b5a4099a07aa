//! The figures of a `lorenz63` run (docs/DESIGN.md section 6): the closed-loop attractor of the
//! trained network against Lorenz-63's (x-z projection), and the closed-loop exponents with
//! their `block_sem` error bars against the true ones, with the open-loop (driven) largest
//! exponent beside them.

use lyap_plot::{ErrorBarChart, ErrorPoint, LineChart, SeriesStyle};
use lyap_train::closed_loop::attractor::Attractors;
use lyap_train::closed_loop::comparison::Lorenz63Comparison;

use super::FigureSink;
use crate::Result;

/// File stem of the attractor figure.
pub const ATTRACTOR_FIGURE: &str = "lorenz63_attractor";
/// File stem of the spectra figure.
pub const SPECTRA_FIGURE: &str = "lorenz63_spectra";

/// Half the horizontal distance between the closed-loop and the true exponent of one index,
/// so that neither hides the other.
const OFFSET: f64 = 0.08;

/// Saves both figures of a `lorenz63` run into `sink`.
pub fn lorenz63_figures(
    sink: &mut FigureSink<'_>,
    comparison: &Lorenz63Comparison,
    attractors: &Attractors,
) -> Result<()> {
    let time = attractors.truth.len() / 3;
    sink.save(
        ATTRACTOR_FIGURE,
        &format!(
            "The trained network on its own output (closed loop from the zero state, after a \
             transient) against Lorenz-63 (RK4 from a point on its attractor), {:.0} time units \
             each, x-z projection in Lorenz coordinates",
            time as f64 * attractors.dt
        ),
        &attractor_chart(attractors),
    )?;
    sink.save(
        SPECTRA_FIGURE,
        "Closed-loop exponents (± block_sem) against Lorenz-63's, and the largest exponent of \
         the same network driven by the true signal (open loop), per time unit",
        &spectra_chart(comparison),
    )?;
    Ok(())
}

/// The two attractors in the x-z plane, Lorenz-63 first so that the network is drawn on top.
pub fn attractor_chart(attractors: &Attractors) -> LineChart {
    let style = SeriesStyle::default().with_width(1).with_opacity(0.75);
    LineChart::new("Closed-loop attractor (x-z projection)", "x", "z")
        .with_styled_series("Lorenz-63 (RK4)", Attractors::x_z(&attractors.truth), style)
        .with_styled_series(
            "trained network, closed loop",
            Attractors::x_z(&attractors.network),
            style,
        )
}

/// The closed-loop exponents with `block_sem` bars, the true exponents and the open-loop
/// largest exponent, by exponent index.
pub fn spectra_chart(comparison: &Lorenz63Comparison) -> ErrorBarChart {
    let exponents: Vec<_> = comparison
        .rows
        .iter()
        .filter(|r| r.quantity.starts_with("lambda_"))
        .enumerate()
        .map(|(i, r)| ((i + 1) as f64, r))
        .collect();
    let closed = exponents
        .iter()
        .filter_map(|&(i, r)| {
            let y = r.closed_loop?;
            let sem = r.block_sem.unwrap_or(f64::NAN);
            Some(point(i - OFFSET, y, sem))
        })
        .collect();
    let truth = exponents
        .iter()
        .map(|&(i, r)| point(i + OFFSET, r.truth, 0.0))
        .collect();
    let open = comparison
        .open_loop
        .lambda_1
        .map(|y| point(1.0, y, comparison.open_loop.sem.unwrap_or(f64::NAN)));
    ErrorBarChart::new(
        "Lyapunov exponents: closed loop against Lorenz-63",
        "exponent index",
        "exponent (per time unit)",
    )
    .with_series("closed loop (± block sem)", closed, false)
    .with_series("Lorenz-63 (Sprott 2003)", truth, false)
    .with_series(
        "open loop, driven (largest, ± sem)",
        open.into_iter().collect(),
        false,
    )
    .with_reference_y(0.0)
    .with_integer_x(true)
}

/// A point at `(x, y)` with a bar of `± err` (none when `err` is not finite).
fn point(x: f64, y: f64, err: f64) -> ErrorPoint {
    ErrorPoint {
        x,
        y,
        lower: y - err,
        upper: y + err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lyap_train::closed_loop::comparison::{comparison_rows, ClosedLoopSettings, OpenLoop};

    fn comparison() -> Lorenz63Comparison {
        let mut rows = comparison_rows(None);
        rows[0].closed_loop = Some(0.9);
        rows[0].block_sem = Some(0.01);
        rows[2].closed_loop = Some(-14.0);
        Lorenz63Comparison {
            checkpoint: "checkpoints/best.safetensors".into(),
            epoch: Some(3),
            dt: 0.01,
            reference: "ref".into(),
            rows,
            closed_loop: ClosedLoopSettings {
                file: "closed_loop.json".into(),
                start: "zero state".into(),
                k: 3,
                warmup: 2000,
                steps: 100_000,
                error: None,
            },
            open_loop: OpenLoop {
                inputs: "spectrum_inputs.npy".into(),
                batch: 10,
                warmup: 0,
                steps: 100,
                lambda_1: Some(-21.0),
                sem: None,
                error: None,
            },
            seconds: 0.0,
        }
    }

    #[test]
    fn spectra_chart_places_closed_loop_true_and_open_loop_values() {
        let chart = spectra_chart(&comparison());
        assert_eq!(chart.series.len(), 3);
        let closed = &chart.series[0].points;
        // lambda_2 has no closed-loop value here: left out, not drawn at 0
        assert_eq!(closed.len(), 2);
        assert_eq!((closed[0].x, closed[0].y), (1.0 - OFFSET, 0.9));
        assert!((closed[0].upper - 0.91).abs() < 1e-12);
        assert_eq!(closed[1].x, 3.0 - OFFSET);
        let truth: Vec<f64> = chart.series[1].points.iter().map(|p| p.y).collect();
        assert_eq!(truth, [0.9056, 0.0, -14.5723]);
        let open = &chart.series[2].points;
        assert_eq!((open[0].x, open[0].y), (1.0, -21.0));
        assert!(open[0].upper.is_nan());
    }

    #[test]
    fn attractor_chart_draws_the_x_z_projection_of_both() {
        let attractors = Attractors {
            network: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            truth: vec![-1.0, 0.0, 20.0],
            dt: 0.01,
        };
        let chart = attractor_chart(&attractors);
        assert_eq!(chart.series[0].points, [(-1.0, 20.0)]);
        assert_eq!(chart.series[1].points, [(1.0, 3.0), (4.0, 6.0)]);
    }
}
