//! The figures of a sweep analysis and of a single run, drawn with `lyap-plot`.
//!
//! Sweep ([`sweep_figures`], one builder per figure in `sweep.rs`): the spectrum at every
//! measured epoch of the best trial (lowest final loss), running estimates (paper
//! Fig. 2, when trace files exist), convergence of the spectrum over epochs (Fig. 3, each
//! trial faint and the mean over trials heavy and labelled), the spectra of all trials
//! coloured by final loss and the max / mean exponent against the final loss (Fig. 4), loss
//! curves of all trials, correlations with bootstrap intervals and the early-readout scores
//! over epochs.
//! Run ([`run_figures`], `run.rs`): loss curves, the spectrum of every epoch, max / mean
//! exponent over epochs, the final spectrum with standard errors, running estimates; for a
//! `lorenz63` run also ([`lorenz63_figures`], `lorenz63.rs`) the closed-loop attractor against
//! Lorenz-63's and the closed-loop exponents against the true ones.
//!
//! Each builder turns typed analysis data into one chart; a [`FigureSink`] saves every chart
//! in the requested formats and lists the written files with their captions.
//!
//! Trace files: `trace*.csv` in a run directory or its `spectra/` folder, in the format of
//! `lyap spectrum --trace` (header `sequence,step,exponent_1,..`; the `sequence` column is
//! optional): the running estimate averaged over sequences is drawn for at most
//! [`MAX_TRACE_CURVES`] exponents spread over the spectrum (`trace.rs`).
//!
//! What the analysis figures show (features, correlations, early readout, convergence) is in
//! `docs/DESIGN.md` section 5 ("Sweeps and analysis"); the file names and the trace CSV in
//! section 6.

mod lorenz63;
mod run;
mod sweep;
mod trace;

use std::path::{Path, PathBuf};

use lyap_plot::{save_figure, Figure, DEFAULT_SIZE};

use crate::Result;

pub use lorenz63::{lorenz63_figures, ATTRACTOR_FIGURE, SPECTRA_FIGURE};
pub use run::run_figures;
pub use sweep::sweep_figures;
pub use trace::{read_trace, Trace, MAX_TRACE_CURVES};

/// A written figure: its caption and files (one per format, SVG first when written).
#[derive(Clone, Debug, PartialEq)]
pub struct FigureFile {
    pub caption: String,
    pub files: Vec<PathBuf>,
}

/// Saves charts as `DIR/STEM.EXT` for every extension in its formats and collects the
/// written [`FigureFile`]s in the order saved.
#[derive(Debug)]
pub struct FigureSink<'a> {
    dir: &'a Path,
    formats: &'a [&'a str],
    written: Vec<FigureFile>,
}

impl<'a> FigureSink<'a> {
    /// A sink writing into `dir` in `formats` (extensions such as `svg`, `png`).
    pub fn new(dir: &'a Path, formats: &'a [&'a str]) -> Self {
        Self {
            dir,
            formats,
            written: vec![],
        }
    }

    /// Saves `figure` as `STEM.EXT` in every format and records it with `caption`.
    pub fn save(&mut self, stem: &str, caption: &str, figure: &impl Figure) -> Result<()> {
        let mut files = vec![];
        for ext in self.formats {
            let path = self.dir.join(format!("{stem}.{ext}"));
            save_figure(figure, &path, DEFAULT_SIZE)?;
            files.push(path);
        }
        self.written.push(FigureFile {
            caption: caption.to_string(),
            files,
        });
        Ok(())
    }

    /// The figures saved so far, in order.
    pub fn finish(self) -> Vec<FigureFile> {
        self.written
    }
}

/// An epoch number as an x coordinate.
fn ep(e: usize) -> f64 {
    e as f64
}

/// Points `(i, lambda_i)` with 1-based exponent index.
fn indexed(spectrum: &[f64]) -> Vec<(f64, f64)> {
    spectrum
        .iter()
        .enumerate()
        .map(|(i, &v)| ((i + 1) as f64, v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lyap_plot::LineChart;

    #[test]
    fn sink_saves_every_format_and_lists_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let formats = ["svg", "png"];
        let mut sink = FigureSink::new(dir.path(), &formats);
        let chart = LineChart::new("t", "x", "y").with_series("s", vec![(0.0, 1.0), (1.0, 2.0)]);
        sink.save("first", "First figure", &chart).unwrap();
        sink.save("second", "Second figure", &chart).unwrap();
        let written = sink.finish();
        assert_eq!(written.len(), 2);
        assert_eq!(written[0].caption, "First figure");
        assert_eq!(
            written[1].files,
            vec![dir.path().join("second.svg"), dir.path().join("second.png")]
        );
        for file in written.iter().flat_map(|f| &f.files) {
            assert!(std::fs::metadata(file).unwrap().len() > 0, "{file:?}");
        }
    }
}
