//! Rendering tests: SVG output carries the labels, PNG output is a real PNG file.

use lyap_plot::{
    ColourChart, ErrorBarChart, ErrorPoint, Figure, LineChart, PlotError, RGBColor, SeriesStyle,
};

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

fn line_chart() -> LineChart {
    LineChart::new("Loss curves", "epoch", "validation loss")
        .with_series("train loss", vec![(0.0, 3.0), (1.0, 2.0), (2.0, 1.5)])
        .with_series("val loss", vec![(0.0, 3.2), (1.0, f64::NAN), (2.0, 1.7)])
        .with_log_y(true)
        .with_markers(true)
}

fn error_chart() -> ErrorBarChart {
    let points = (0..5)
        .map(|i| ErrorPoint {
            x: i as f64,
            y: 0.5 - i as f64 * 0.3,
            lower: 0.4 - i as f64 * 0.3,
            upper: 0.6 - i as f64 * 0.3,
        })
        .collect();
    ErrorBarChart::new("Lyapunov spectrum", "exponent index", "exponent (1/step)")
        .with_series("mean ± sem", points, true)
        .with_reference_y(0.0)
}

fn colour_chart() -> ColourChart {
    ColourChart::new(
        "Spectra by final loss",
        "index",
        "exponent",
        "final val loss",
    )
    .with_group(vec![(1.0, 0.1), (2.0, -0.5), (3.0, -1.0)], 1.2)
    .with_group(vec![(1.0, 0.0), (2.0, -0.7), (3.0, f64::NEG_INFINITY)], 2.5)
    .with_lines(true)
}

fn svg_text(figure: &impl Figure, dir: &std::path::Path, name: &str) -> String {
    let path = dir.join(name);
    figure.save(&path).expect("render svg");
    std::fs::read_to_string(&path).expect("read svg")
}

#[test]
fn svg_contains_title_axis_labels_and_legend() {
    let dir = tempfile::tempdir().unwrap();
    let svg = svg_text(&line_chart(), dir.path(), "line.svg");
    for text in [
        "Loss curves",
        "epoch",
        "validation loss",
        "train loss",
        "val loss",
    ] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    let svg = svg_text(&error_chart(), dir.path(), "err.svg");
    for text in ["Lyapunov spectrum", "exponent index", "mean ± sem"] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    let svg = svg_text(&colour_chart(), dir.path(), "colour.svg");
    for text in ["Spectra by final loss", "final val loss", "exponent"] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    // no temporary files left behind
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 3);
}

#[test]
fn png_has_signature_for_every_chart_kind() {
    let dir = tempfile::tempdir().unwrap();
    type Save<'a> = &'a dyn Fn(&std::path::Path) -> Result<(), PlotError>;
    let charts: [(&str, Save); 3] = [
        ("line.png", &|p| line_chart().save(p)),
        ("err.png", &|p| error_chart().save(p)),
        ("colour.PNG", &|p| colour_chart().save(p)),
    ];
    for (name, save) in charts {
        let path = dir.path().join(name);
        save(&path).expect("render png");
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 1000, "{name} too small");
        assert_eq!(bytes[..8], PNG_SIGNATURE, "{name}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn unknown_extension_and_empty_chart() {
    let dir = tempfile::tempdir().unwrap();
    let err = line_chart().save(&dir.path().join("x.pdf")).unwrap_err();
    assert!(err.to_string().contains("unsupported"), "{err}");
    // A chart with no data still renders (empty axes) instead of failing.
    let empty = LineChart::new("Empty", "x", "y");
    assert!(svg_text(&empty, dir.path(), "empty.svg").contains("Empty"));
}

/// Trials in the default style, thin and faint, and a heavy black mean labelled in the legend;
/// the last points are 0 on a log axis.
fn styled_chart() -> LineChart {
    let faint = SeriesStyle::default().with_width(1).with_opacity(0.5);
    LineChart::new("Convergence", "epoch", "mean squared difference")
        .with_styled_series("", vec![(0.0, 1.0), (1.0, 0.1), (2.0, 0.0)], faint)
        .with_styled_series("", vec![(0.0, 2.0), (1.0, 0.3), (2.0, 0.0)], faint)
        .with_styled_series(
            "mean over trials",
            vec![(0.0, 1.5), (1.0, 0.2), (2.0, 0.0)],
            SeriesStyle::default()
                .with_colour(RGBColor(0, 0, 0))
                .with_width(7),
        )
        .with_log_y(true)
        .with_integer_x(true)
}

#[test]
fn styled_series_render_with_their_width_and_legend() {
    let dir = tempfile::tempdir().unwrap();
    let svg = svg_text(&styled_chart(), dir.path(), "styled.svg");
    assert!(
        svg.contains("stroke-width=\"7\""),
        "no 7-pixel line in the SVG"
    );
    assert!(
        svg.contains("stroke-width=\"1\""),
        "no 1-pixel line in the SVG"
    );
    assert!(
        svg.contains("mean over trials"),
        "the mean is not in the legend"
    );
    // The zeros at the last epoch are not silently dropped from the log axis.
    assert!(svg.contains("below the log axis"), "zeros not marked");
    let path = dir.path().join("styled.png");
    styled_chart().save(&path).expect("render png");
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 1000, "PNG too small");
    assert_eq!(bytes[..8], PNG_SIGNATURE);
}

#[test]
fn integer_x_axis_has_no_fractional_ticks() {
    let dir = tempfile::tempdir().unwrap();
    let chart = |integer_x| {
        LineChart::new("Epochs", "epoch", "loss")
            .with_series("loss", vec![(1.0, 30.0), (2.0, 20.0), (3.0, 10.0)])
            .with_integer_x(integer_x)
    };
    // Without the option, plotters puts ticks at 1.2, 1.4, ...; with it, only at integers.
    // (plotters writes each label as a line of its own inside `<text>`.)
    let plain = svg_text(&chart(false), dir.path(), "plain.svg");
    assert!(
        plain.contains("\n1.2\n"),
        "expected fractional ticks by default"
    );
    let svg = svg_text(&chart(true), dir.path(), "integer.svg");
    for tick in ["\n1\n", "\n2\n", "\n3\n"] {
        assert!(svg.contains(tick), "missing tick {tick}");
    }
    for fraction in ["\n1.2\n", "\n1.5\n", "\n2.5\n", "\n1.1\n"] {
        assert!(!svg.contains(fraction), "fractional tick {fraction}");
    }
}

#[test]
fn drawing_failure_keeps_its_source_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // The PNG backend writes on present: into a missing directory, that fails.
    let err = line_chart()
        .save(&dir.path().join("missing").join("x.png"))
        .unwrap_err();
    assert!(matches!(err, PlotError::Draw { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("drawing \"Loss curves\" failed"),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
    assert!(std::error::Error::source(&err).is_some(), "source lost");
}
