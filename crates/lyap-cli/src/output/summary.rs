//! The short human summary printed on stdout after a spectrum computation.

use lyap_rnn::report::SpectrumReport;
use std::fmt::Write;

/// Number of leading exponents listed individually.
const TOP: usize = 5;

/// The summary of `report`: network, state used and its dimension, settings, the top
/// exponents with their std, the largest standard error over time (`block_sem`), whether a
/// run until converged converged, the summary features (with the Kaplan-Yorke dimension) and
/// the time taken. `source` says where the network came from and `inputs` where the input
/// sequences did; for a built-in system (`model.system`) the first lines are the system
/// ([`system_description`]) and `inputs` says where the trajectories started.
pub fn render(report: &SpectrumReport, source: &str, inputs: &str) -> String {
    let (m, c, s) = (&report.model, &report.config, &report.summary);
    let unit = c.unit();
    let mut out = String::new();
    if let Some(system) = system_description(report) {
        let _ = writeln!(out, "system    {system}, k = {}", c.k);
        let _ = writeln!(
            out,
            "start     {inputs}: {} steps after a warm-up of {}, QR every {}, {}",
            c.steps, c.warmup, c.qr_every, c.precision
        );
    } else {
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
    }
    let _ = writeln!(out, "exponents ({unit}, mean +- std over the batch)");
    let e = &report.exponents;
    for (i, (mean, std)) in e.mean.iter().zip(&e.std).enumerate().take(TOP) {
        let _ = writeln!(out, "  {:>4}  {mean:>12.6}  +- {std:.6}", i + 1);
    }
    if e.mean.len() > TOP {
        let _ = writeln!(out, "  ... {} more", e.mean.len() - TOP);
    }
    if let Some(line) = block_sem_line(report) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(convergence) = &c.convergence {
        let (verdict, relation) = if convergence.converged {
            ("yes", "below")
        } else {
            ("no", "not yet below")
        };
        let _ = writeln!(
            out,
            "converged {verdict}: every block_sem {relation} {} after {} steps (limit {})",
            convergence.until_converged, c.steps, convergence.max_steps
        );
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

/// `block_sem largest X (exponent i), the standard error of the mean over time`, or `None`
/// for a report without `block_sem`.
fn block_sem_line(report: &SpectrumReport) -> Option<String> {
    let errors = &report.exponents.block_sem;
    if errors.is_empty() {
        return None;
    }
    let largest = errors
        .iter()
        .enumerate()
        .filter(|(_, e)| e.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1));
    let undefined = errors.iter().filter(|e| !e.is_finite()).count();
    let mut line = match largest {
        Some((i, e)) => format!(
            "block_sem largest {e:.6} (exponent {}), the standard error of the mean over time",
            i + 1
        ),
        None => "block_sem undefined (fewer than two blocks of QR steps)".to_string(),
    };
    if undefined > 0 && largest.is_some() {
        line.push_str(&format!("; undefined for {undefined} exponent(s)"));
    }
    Some(line)
}

/// `lorenz63 (dimension 3), dt 0.01` (a flow) or `henon (dimension 2), a map` for the report
/// of a built-in system; `None` for a network.
pub fn system_description(report: &SpectrumReport) -> Option<String> {
    let name = report.model.system.as_deref()?;
    let step = match report.config.dt {
        Some(dt) => format!("dt {dt}"),
        None => "a map".to_string(),
    };
    Some(format!(
        "{name} (dimension {}), {step}",
        report.model.state_dim
    ))
}
