//! The short human summary printed on stdout after a spectrum computation.

use lyap_rnn::report::SpectrumReport;
use std::fmt::Write;

/// Number of leading exponents listed individually.
const TOP: usize = 5;

/// The summary of `report`: network, state used and its dimension, settings, the top
/// exponents with their std, the summary features and the time taken. `source` says where
/// the network came from and `inputs` where the input sequences did.
pub fn render(report: &SpectrumReport, source: &str, inputs: &str) -> String {
    let (m, c, s) = (&report.model, &report.config, &report.summary);
    let unit = c.log_base.unit();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "network   {} x {} layer(s), hidden {}, input {}: {source}",
        m.arch, m.layers, m.hidden_size, m.input_size
    );
    let _ = writeln!(
        out,
        "state     {} (dimension {}), k = {}{}",
        m.state,
        m.state_dim,
        c.k,
        if c.paper_compat {
            ", paper-compatible (J^T, log 2)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "inputs    {inputs}: batch {}, {} steps after a warm-up of {}, QR every {}, {}",
        c.batch, c.steps, c.warmup, c.qr_every, c.precision
    );
    let _ = writeln!(out, "exponents ({unit}, mean +- std over the batch)");
    let e = &report.exponents;
    for (i, (mean, std)) in e.mean.iter().zip(&e.std).enumerate().take(TOP) {
        let _ = writeln!(out, "  {:>4}  {mean:>12.6}  +- {std:.6}", i + 1);
    }
    if e.mean.len() > TOP {
        let _ = writeln!(out, "  ... {} more", e.mean.len() - TOP);
    }
    let _ = writeln!(
        out,
        "summary   max {:.6}, mean {:.6}, sum {:.6}, positive {}, Kaplan-Yorke dimension {:.4}",
        s.max, s.mean, s.sum, s.n_positive, s.kaplan_yorke_dimension
    );
    if let Some(max) = report.checks.as_ref().and_then(|c| c.max_by_perturbation) {
        let _ = writeln!(
            out,
            "check     largest exponent by two nearby trajectories {:.6} (minus lambda_1: {:.3e})",
            max.estimate, max.difference
        );
    }
    for warning in &report.warnings {
        let _ = writeln!(out, "warning   {warning}");
    }
    let _ = writeln!(out, "time      {:.3} s", report.timing.seconds);
    out
}
