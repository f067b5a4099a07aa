//! Entry points of `lyap analyze` and `lyap report`: tables, figures and a self-contained
//! `report.html` (tables inline, figures as `<img>` of the SVG files beside it; the page is
//! built by [`crate::html`]).

use std::path::{Path, PathBuf};

use crate::analysis::{analyze, AnalysisOptions, SweepAnalysis};
use crate::cost::cost_table;
use lyap_train::closed_loop::attractor::Attractors;
use lyap_train::closed_loop::{evaluate_run, ClosedLoopEvaluation, ForecastCheckpoint};
use lyap_train::run_dir::RunDir;
use lyap_train::TrainError;

use crate::figures::{lorenz63_figures, run_figures, sweep_figures, FigureFile, FigureSink};
pub use crate::html::escape;
use crate::html::{run_html, sweep_html};
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

/// A single run's figures and `report.html` in `RUN_DIR/report/`; for a `lorenz63` run with a
/// best checkpoint also the closed loop against Lorenz-63 ([`lorenz63_evaluation`]).
pub fn run_report(run_dir: &Path, formats: &[&str]) -> Result<RunReportOutput> {
    let run = load_run(run_dir)?;
    let out_dir = run_dir.join("report");
    create_dir(&out_dir)?;
    let mut figures = run_figures(&run, &out_dir, formats)?;
    let lorenz63 = lorenz63_evaluation(&RunDir::new(run_dir))?;
    if let Some((evaluation, attractors)) = &lorenz63 {
        let mut sink = FigureSink::new(&out_dir, formats);
        lorenz63_figures(&mut sink, &evaluation.comparison, attractors)?;
        figures.extend(sink.finish());
    }
    let comparison = lorenz63.as_ref().map(|(e, _)| &e.comparison);
    let report = out_dir.join("report.html");
    write_atomic(
        &report,
        run_html(&run, &figures, comparison, &out_dir).as_bytes(),
    )?;
    Ok(RunReportOutput {
        out_dir,
        figures,
        report,
    })
}

/// For a `lorenz63` run with a best checkpoint: its closed-loop evaluation (`lorenz63.json` and
/// `closed_loop.json`, computed and written by [`evaluate_run`] when absent or made for
/// another checkpoint epoch) and the attractors of its figure; `None` for other runs.
pub fn lorenz63_evaluation(dir: &RunDir) -> Result<Option<(ClosedLoopEvaluation, Attractors)>> {
    if !dir.is_lorenz63() || !dir.best_checkpoint().is_file() {
        return Ok(None);
    }
    let checkpoint = ForecastCheckpoint::read(&dir.best_checkpoint()).map_err(TrainError::from)?;
    let evaluation = match dir.read_closed_loop_evaluation()? {
        Some(e) if e.comparison.epoch == checkpoint.epoch => e,
        _ => evaluate_run(dir, &dir.read_config()?)?,
    };
    let attractors = Attractors::of(&checkpoint).map_err(TrainError::from)?;
    Ok(Some((evaluation, attractors)))
}
