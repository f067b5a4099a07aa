//! Entry points of `lyap analyze` and `lyap report`: tables, figures and a self-contained
//! `report.html` (tables inline, figures as `<img>` of the SVG files beside it; the page is
//! built by [`crate::html`]).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::analysis::{analyze, AnalysisOptions, SweepAnalysis};
use crate::cost::cost_table;
use crate::figures::{run_figures, sweep_figures, FigureFile};
pub use crate::html::escape;
use crate::html::{figures_html, page, sweep_html};
use crate::sweep::SweepDir;
use crate::tables::all_tables;
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
/// in `formats` and `report.html` (with the cost of the spectra, [`crate::cost`], and the
/// verdict, [`crate::verdict`]).
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
    let cost = cost_table(&analysis.data.completed)?;
    let report = out_dir.join("report.html");
    let html = sweep_html(&analysis, &tables, &figures, cost.as_ref(), &out_dir);
    write_atomic(&report, html.as_bytes())?;
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
