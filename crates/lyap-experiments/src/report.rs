//! Entry points of `lyap analyze` and `lyap report`: tables, figures and a self-contained
//! `report.html` (tables inline, figures as `<img>` of the SVG files beside it).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::analysis::{analyze, AnalysisOptions, SweepAnalysis};
use crate::figures::{run_figures, sweep_figures, FigureFile};
use crate::sweep::SweepDir;
use crate::tables::{all_tables, Table};
use crate::trials::{load_run, load_sweep};
use crate::{create_dir, write_atomic, Result};

/// Figure formats written by default: SVG (embedded in the report) and PNG.
pub const DEFAULT_FORMATS: &[&str] = &["svg", "png"];

/// What [`analyze_sweep`] produced.
#[derive(Clone, Debug)]
pub struct AnalysisOutput {
    pub analysis: SweepAnalysis,
    /// `DIR/analysis`.
    pub out_dir: PathBuf,
    pub tables: Vec<PathBuf>,
    pub figures: Vec<FigureFile>,
    pub report: PathBuf,
}

/// Analyzes the complete runs in `dir` (a sweep directory or a directory of run directories,
/// see [`crate::trials::load_sweep`]) and writes `DIR/analysis/`: the CSV tables, the figures
/// in `formats` and `report.html`.
pub fn analyze_sweep(
    dir: &Path,
    options: &AnalysisOptions,
    formats: &[&str],
) -> Result<AnalysisOutput> {
    let data = load_sweep(dir)?;
    let analysis = analyze(data, options);
    let out_dir = SweepDir::new(dir).analysis();
    create_dir(&out_dir)?;
    let tables = all_tables(&analysis);
    let mut table_files = vec![];
    for table in &tables {
        let path = out_dir.join(table.file_name);
        write_atomic(&path, table.to_csv().as_bytes())?;
        table_files.push(path);
    }
    let figures = sweep_figures(&analysis, &out_dir, formats)?;
    let report = out_dir.join("report.html");
    write_atomic(
        &report,
        sweep_html(&analysis, &tables, &figures, &out_dir).as_bytes(),
    )?;
    Ok(AnalysisOutput {
        analysis,
        out_dir,
        tables: table_files,
        figures,
        report,
    })
}

/// What [`run_report`] produced.
#[derive(Clone, Debug)]
pub struct RunReportOutput {
    pub out_dir: PathBuf,
    pub figures: Vec<FigureFile>,
    pub report: PathBuf,
}

/// A single run's figures and `report.html` in `RUN_DIR/report/`.
pub fn run_report(run_dir: &Path, formats: &[&str]) -> Result<RunReportOutput> {
    let run = load_run(run_dir)?;
    let out_dir = run_dir.join("report");
    create_dir(&out_dir)?;
    let figures = run_figures(&run, &out_dir, formats)?;
    let mut body = String::new();
    let status = run.status_text();
    let _ = writeln!(
        body,
        "<p>Status: {}. Epochs: {}. Best validation loss: {}.</p>",
        escape(&status),
        run.epochs.len(),
        run.best_val_loss()
    );
    figures_html(&mut body, &figures, &out_dir);
    let report = out_dir.join("report.html");
    write_atomic(
        &report,
        page(&format!("lyap run report: {}", run.name), &body).as_bytes(),
    )?;
    Ok(RunReportOutput {
        out_dir,
        figures,
        report,
    })
}

/// HTML-escapes `&`, `<`, `>` and `"`.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 2em; max-width: 1100px; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }}\n\
         th, td {{ border: 1px solid #bbb; padding: 2px 6px; text-align: right; }}\n\
         th {{ background: #eee; }}\n figure {{ margin: 1.5em 0; }} img {{ max-width: 100%; }}\n\
         </style>\n</head>\n<body>\n<h1>{t}</h1>\n{body}</body>\n</html>\n",
        t = escape(title)
    )
}

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

/// `<figure>` elements referencing each figure's SVG (or first) file relative to `dir`.
fn figures_html(out: &mut String, figures: &[FigureFile], dir: &Path) {
    for figure in figures {
        let file = figure
            .files
            .iter()
            .find(|f| f.extension().is_some_and(|e| e == "svg"))
            .or(figure.files.first());
        let Some(file) = file else { continue };
        let relative = file.strip_prefix(dir).unwrap_or(file);
        let _ = writeln!(
            out,
            "<figure><img src=\"{}\" alt=\"{c}\"><figcaption>{c}</figcaption></figure>",
            escape(&relative.to_string_lossy()),
            c = escape(&figure.caption)
        );
    }
}

fn sweep_html(
    analysis: &SweepAnalysis,
    tables: &[Table],
    figures: &[FigureFile],
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
    let sections = [
        ("Failed trials", "failed.csv"),
        ("Early readout", "early_readout.csv"),
        ("Correlations with the final loss", "correlations.csv"),
        ("Trials", "trials.csv"),
    ];
    body.push_str("<h2>Figures</h2>\n");
    figures_html(&mut body, figures, dir);
    for (title, file) in sections {
        if let Some(table) = find(file) {
            let _ = writeln!(
                body,
                "<h2>{title}</h2>\n<p>Also in <a href=\"{file}\">{file}</a>.</p>"
            );
            table_html(&mut body, table);
        }
    }
    if let Some(table) = find("convergence.csv") {
        let averages = Table {
            rows: table
                .rows
                .iter()
                .filter(|r| r[0] == "all")
                .cloned()
                .collect(),
            ..table.clone()
        };
        body.push_str("<h2>Convergence (averaged over trials)</h2>\n<p>Per trial in <a href=\"convergence.csv\">convergence.csv</a>.</p>\n");
        table_html(&mut body, &averages);
    }
    page("lyap sweep analysis", &body)
}
