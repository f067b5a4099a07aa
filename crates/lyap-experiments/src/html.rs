//! The HTML of `report.html` (docs/DESIGN.md section 6, "report.html"): one self-contained
//! page with the tables inline and the figures as `<img>` of the SVG files beside it
//! (relative paths), in sections with fixed `id`s (see [`SWEEP_SECTIONS`]).

use std::fmt::Write;
use std::path::Path;

use lyap_train::closed_loop::comparison::{error_text, row_label, Lorenz63Comparison};

use crate::analysis::SweepAnalysis;
use crate::cost::CostTable;
use crate::figures::{FigureFile, ATTRACTOR_FIGURE, SPECTRA_FIGURE};
use crate::tables::Table;
use crate::trials::RunData;
use crate::verdict::verdict;

/// The sections of a sweep report in order: `(id, title, figure file stems)`. Figures not
/// listed here are shown under "Other figures".
pub const SWEEP_SECTIONS: &[Section] = &[
    ("verdict", "Verdict", &[]),
    ("loss-curves", "Loss curves", &["loss_curves"]),
    (
        "spectra",
        "Spectra per epoch",
        &["spectra_per_epoch_best_trial"],
    ),
    (
        "fig2",
        "Running estimates (Fig. 2)",
        &["fig2_running_estimate"],
    ),
    (
        "fig3",
        "Convergence over training (Fig. 3)",
        &["fig3_convergence_msd", "fig3_convergence_md"],
    ),
    (
        "fig4",
        "Features against the final loss (Fig. 4)",
        &[
            "fig4_spectra_by_final_loss",
            "fig4_max_exponent_vs_final_loss",
            "fig4_mean_exponent_vs_final_loss",
        ],
    ),
    (
        "early-readout",
        "Early readout",
        &[
            "early_readout_spearman",
            "early_readout_top20",
            "correlations_spearman",
        ],
    ),
    ("cost", "Cost of the spectra (Table 1)", &[]),
    ("correlations", "Correlations with the final loss", &[]),
    ("trials", "Trials", &[]),
    ("failed", "Failed trials", &[]),
];

/// The sections of a run report (`lyap report`) in order, as [`SWEEP_SECTIONS`]; a section
/// with neither figures nor text is left out (`lorenz63` is there for a `lorenz63` run only).
pub const RUN_SECTIONS: &[Section] = &[
    ("loss-curves", "Loss curves", &["loss_curves"]),
    (
        "spectra",
        "Spectra per epoch",
        &["spectrum_per_epoch", "max_mean_exponent", "final_spectrum"],
    ),
    (
        "running-estimates",
        "Running estimates (Fig. 2)",
        &["running_estimate"],
    ),
    (
        "lorenz63",
        "Lorenz-63: the closed loop against the true system",
        &[ATTRACTOR_FIGURE, SPECTRA_FIGURE],
    ),
];

/// A report section: `(id, title, figure file stems)`.
pub type Section = (&'static str, &'static str, &'static [&'static str]);

/// HTML-escapes `&`, `<`, `>` and `"`.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A complete page with `title` as `<title>` and `<h1>`.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 2em; max-width: 1100px; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }}\n\
         th, td {{ border: 1px solid #bbb; padding: 2px 6px; text-align: right; }}\n\
         th {{ background: #eee; }}\n figure {{ margin: 1.5em 0; }} img {{ max-width: 100%; }}\n\
         pre {{ background: #f6f6f6; padding: 0.8em; overflow-x: auto; }}\n\
         </style>\n</head>\n<body>\n<h1>{t}</h1>\n{body}</body>\n</html>\n",
        t = escape(title)
    )
}

/// `table` as an HTML table (non-integer numbers to 4 decimals).
fn table_html(out: &mut String, table: &Table) {
    out.push_str("<table>\n<tr>");
    for h in &table.header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let shown = cell.parse::<f64>().map_or_else(
                |_| cell.clone(),
                |v| {
                    if v.fract() == 0.0 || !v.is_finite() {
                        cell.clone()
                    } else {
                        format!("{v:.4}")
                    }
                },
            );
            let _ = write!(out, "<td>{}</td>", escape(&shown));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// A `<figure>` referencing the figure's SVG (or first) file relative to `dir`.
fn figure_html(out: &mut String, figure: &FigureFile, dir: &Path) {
    let file = figure
        .files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "svg"))
        .or(figure.files.first());
    let Some(file) = file else { return };
    let relative = file.strip_prefix(dir).unwrap_or(file);
    let _ = writeln!(
        out,
        "<figure><img src=\"{}\" alt=\"{c}\"><figcaption>{c}</figcaption></figure>",
        escape(&relative.to_string_lossy()),
        c = escape(&figure.caption)
    );
}

/// `<figure>` elements of every figure, in order.
pub(crate) fn figures_html(out: &mut String, figures: &[FigureFile], dir: &Path) {
    for figure in figures {
        figure_html(out, figure, dir);
    }
}

/// The file stem of a figure's first file.
fn stem(figure: &FigureFile) -> String {
    figure
        .files
        .first()
        .and_then(|f| f.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The cost section's body: the medians, the share and the setting.
fn cost_html(out: &mut String, cost: Option<&CostTable>) {
    let Some(c) = cost else {
        out.push_str("<p>No trial recorded its training time.</p>\n");
        return;
    };
    let _ = writeln!(
        out,
        "<table>\n<tr><th>trials</th><th>training epoch (s, median)</th>\
         <th>one spectrum (s, median)</th><th>spectra / training time</th></tr>\n\
         <tr><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.1} %</td></tr>\n</table>\n\
         <p>Measured in these trials (wall-clock seconds in each trial's metrics.jsonl; training \
         includes validation) at this setting: {}. The share depends on the sizes: the time of \
         a training epoch grows with the data per epoch, that of a spectrum with the number of \
         sequences and steps and the cube of the state size.</p>",
        c.trials,
        c.train_epoch_seconds,
        c.spectrum_seconds,
        c.share * 100.0,
        escape(&c.setting_text())
    );
}

/// The page of a sweep analysis: summary, then [`SWEEP_SECTIONS`].
pub(crate) fn sweep_html(
    analysis: &SweepAnalysis,
    tables: &[Table],
    figures: &[FigureFile],
    cost: Option<&CostTable>,
    dir: &Path,
) -> String {
    let data = &analysis.data;
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<p>{} completed, {} failed, {} incomplete trials (incomplete trials are not analysed). \
         Target: each trial's best-epoch validation loss. Intervals: {:.0}% bootstrap percentile \
         intervals over {} resamples of trials. Early readout: leave-one-trial-out; features are \
         oriented by the sign of their correlation on the other trials.</p>",
        data.completed.len(),
        data.failed.len(),
        data.incomplete.len(),
        analysis.options.bootstrap.level * 100.0,
        analysis.options.bootstrap.resamples
    );
    let find = |name: &str| tables.iter().find(|t| t.file_name == name);
    let with_table = |body: &mut String, file: &str| {
        if let Some(table) = find(file) {
            let _ = writeln!(body, "<p>Also in <a href=\"{file}\">{file}</a>.</p>");
            table_html(body, table);
        }
    };
    sections_html(
        &mut body,
        SWEEP_SECTIONS,
        figures,
        dir,
        false,
        |id, has_figures, body| match id {
            "verdict" => {
                let _ = writeln!(
                    body,
                    "<pre>{}</pre>",
                    escape(&verdict(analysis).to_string())
                );
            }
            "fig2" if !has_figures => {
                body.push_str(
                    "<p>No trace files: train with <code>--le-trace</code> to record the \
                     running estimates.</p>\n",
                );
            }
            "fig3" => convergence_html(body, find("convergence.csv")),
            "early-readout" => with_table(body, "early_readout.csv"),
            "cost" => cost_html(body, cost),
            "correlations" => with_table(body, "correlations.csv"),
            "trials" => with_table(body, "trials.csv"),
            "failed" => with_table(body, "failed.csv"),
            _ => {}
        },
    );
    page("lyap sweep analysis", &body)
}

/// Writes `sections` in order, each with its figures (by file stem) followed by what
/// `content(id, has_figures, body)` adds, then every figure no section lists under "Other
/// figures". With `skip_empty`, a section with neither figures nor content is left out.
fn sections_html(
    body: &mut String,
    sections: &[Section],
    figures: &[FigureFile],
    dir: &Path,
    skip_empty: bool,
    mut content: impl FnMut(&str, bool, &mut String),
) {
    for (id, title, stems) in sections {
        let mut inner = String::new();
        let mut has_figures = false;
        for figure in figures.iter().filter(|f| stems.contains(&stem(f).as_str())) {
            figure_html(&mut inner, figure, dir);
            has_figures = true;
        }
        content(id, has_figures, &mut inner);
        if skip_empty && inner.is_empty() {
            continue;
        }
        let _ = writeln!(body, "<section id=\"{id}\">\n<h2>{title}</h2>");
        body.push_str(&inner);
        body.push_str("</section>\n");
    }
    let listed: Vec<&str> = sections.iter().flat_map(|s| s.2.iter().copied()).collect();
    let others: Vec<FigureFile> = figures
        .iter()
        .filter(|f| !listed.contains(&stem(f).as_str()))
        .cloned()
        .collect();
    if !others.is_empty() {
        body.push_str("<section id=\"other-figures\">\n<h2>Other figures</h2>\n");
        figures_html(body, &others, dir);
        body.push_str("</section>\n");
    }
}

/// The page of a single run: its status, then [`RUN_SECTIONS`] (the `lorenz63` section with
/// the comparison table when `lorenz63` is given).
pub(crate) fn run_html(
    run: &RunData,
    figures: &[FigureFile],
    lorenz63: Option<&Lorenz63Comparison>,
    dir: &Path,
) -> String {
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<p>Status: {}. Epochs: {}. Best validation loss: {}.</p>",
        escape(&run.status_text()),
        run.epochs.len(),
        run.best_val_loss()
    );
    sections_html(
        &mut body,
        RUN_SECTIONS,
        figures,
        dir,
        true,
        |id, _, body| {
            if let ("lorenz63", Some(comparison)) = (id, lorenz63) {
                lorenz63_html(body, comparison);
            }
        },
    );
    page(&format!("lyap run report: {}", run.name), &body)
}

/// The comparison of `lorenz63.json` as a table, with how it was measured.
fn lorenz63_html(out: &mut String, c: &Lorenz63Comparison) {
    let epoch = c.epoch.map_or(String::new(), |e| format!(" (epoch {e})"));
    let s = &c.closed_loop;
    let _ = writeln!(
        out,
        "<p>The closed loop of <code>{}</code>{epoch}: {} steps after a warm-up of {} from the \
         {}, {} exponents, per time unit (dt = {}); the spectrum is in \
         <a href=\"../{f}\">{f}</a>, this table in <a href=\"../lorenz63.json\">lorenz63.json</a>. \
         True values: {}.</p>",
        escape(&c.checkpoint),
        s.steps,
        s.warmup,
        escape(&s.start),
        s.k,
        c.dt,
        escape(&c.reference),
        f = escape(&s.file)
    );
    if let Some(error) = &s.error {
        let _ = writeln!(out, "<p>Not computed: {}.</p>", escape(error));
    }
    let text = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    let four = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
    let table = Table {
        file_name: "lorenz63.json",
        header: ["", "closed loop", "± block_sem", "true", "error"]
            .map(String::from)
            .to_vec(),
        rows: c
            .rows
            .iter()
            .map(|r| {
                vec![
                    row_label(&r.quantity).to_string(),
                    text(r.closed_loop),
                    text(r.block_sem),
                    r.truth.to_string(),
                    error_text(r),
                ]
            })
            .collect(),
    };
    table_html(out, &table);
    let o = &c.open_loop;
    let _ = match (&o.error, o.lambda_1) {
        (Some(error), _) => writeln!(out, "<p>Open loop: not computed: {}.</p>", escape(error)),
        (None, value) => writeln!(
            out,
            "<p>Open loop (the same network driven by the true signal, <code>{}</code>, {} \
             sequences of {} steps after {}): largest exponent {} ± {} per time unit.</p>",
            escape(&o.inputs),
            o.batch,
            o.steps,
            o.warmup,
            four(value),
            four(o.sem)
        ),
    };
}

/// The convergence table averaged over trials (rows `all`).
fn convergence_html(body: &mut String, table: Option<&Table>) {
    let Some(table) = table else { return };
    let averages = Table {
        rows: table
            .rows
            .iter()
            .filter(|r| r[0] == "all")
            .cloned()
            .collect(),
        ..table.clone()
    };
    body.push_str(
        "<p>Averaged over trials; per trial in <a href=\"convergence.csv\">convergence.csv</a>.</p>\n",
    );
    table_html(body, &averages);
}
