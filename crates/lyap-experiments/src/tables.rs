//! The CSV tables of an analysis: `correlations.csv`, `early_readout.csv`,
//! `convergence.csv`, `trials.csv`, `failed.csv`. Numbers are written with Rust's shortest
//! round-trip formatting (`NaN`, `inf`, `-inf` for non-finite values).

use crate::analysis::SweepAnalysis;
use crate::trials::RunData;

/// A table: header and rows of cells.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub file_name: &'static str,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// RFC 4180 CSV (cells with a comma, quote or newline are quoted).
    pub fn to_csv(&self) -> String {
        let line = |cells: &[String]| {
            cells
                .iter()
                .map(|c| {
                    if c.contains([',', '"', '\n']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut out = line(&self.header) + "\n";
        for row in &self.rows {
            out += &line(row);
            out.push('\n');
        }
        out
    }
}

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn num(x: f64) -> String {
    format!("{x}")
}

/// `epoch, feature, n, pearson, pearson_lo, pearson_hi, spearman, spearman_lo, spearman_hi`.
pub fn correlations(analysis: &SweepAnalysis) -> Table {
    let rows = analysis
        .correlations
        .iter()
        .map(|r| {
            let (p, s) = (r.estimate.pearson, r.estimate.spearman);
            vec![
                r.epoch.to_string(),
                r.feature.name().to_string(),
                r.estimate.n.to_string(),
                num(p.estimate),
                num(p.lower),
                num(p.upper),
                num(s.estimate),
                num(s.lower),
                num(s.upper),
            ]
        })
        .collect();
    Table {
        file_name: "correlations.csv",
        header: header(&[
            "epoch",
            "feature",
            "n",
            "pearson",
            "pearson_ci_low",
            "pearson_ci_high",
            "spearman",
            "spearman_ci_low",
            "spearman_ci_high",
        ]),
        rows,
    }
}

/// `epoch, predictor, n, spearman, top20_fraction, chance`.
pub fn early_readout(analysis: &SweepAnalysis) -> Table {
    let rows = analysis
        .readout
        .iter()
        .map(|r| {
            vec![
                r.epoch.to_string(),
                r.predictor.clone(),
                r.n.to_string(),
                num(r.spearman),
                num(r.top_fraction),
                num(r.chance),
            ]
        })
        .collect();
    Table {
        file_name: "early_readout.csv",
        header: header(&[
            "epoch",
            "predictor",
            "n",
            "spearman_with_final_loss",
            "top_fraction_found",
            "chance",
        ]),
        rows,
    }
}

/// `trial ("all" for the average), epoch, mean_squared_difference, mean_difference, n_trials`.
pub fn convergence(analysis: &SweepAnalysis) -> Table {
    let rows = analysis
        .convergence
        .iter()
        .map(|r| {
            vec![
                r.trial.map_or_else(|| "all".into(), |t| t.to_string()),
                r.epoch.to_string(),
                num(r.mean_squared_difference),
                num(r.mean_difference),
                r.n_trials.to_string(),
            ]
        })
        .collect();
    Table {
        file_name: "convergence.csv",
        header: header(&[
            "trial",
            "epoch",
            "mean_squared_difference",
            "mean_difference",
            "n_trials",
        ]),
        rows,
    }
}

fn param_cells(run: &RunData, names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| run.params.get(n).map(|v| v.to_string()).unwrap_or_default())
        .collect()
}

fn trial_index(run: &RunData) -> String {
    run.index.map(|i| i.to_string()).unwrap_or_default()
}

/// Completed trials: `index, name, <params>, epochs, best_epoch, best_val_loss,
/// final_val_loss`.
pub fn trials(analysis: &SweepAnalysis) -> Table {
    let names = &analysis.data.param_names;
    let rows = analysis
        .data
        .completed
        .iter()
        .map(|run| {
            let mut row = vec![trial_index(run), run.name.clone()];
            row.extend(param_cells(run, names));
            row.push(run.epochs.len().to_string());
            row.push(
                run.best_epoch()
                    .map(|e| e.epoch.to_string())
                    .unwrap_or_default(),
            );
            row.push(num(run.best_val_loss()));
            row.push(num(run.epochs.last().map_or(f64::NAN, |e| e.val_loss)));
            row
        })
        .collect();
    let mut head = header(&["index", "name"]);
    head.extend(names.iter().cloned());
    head.extend(header(&[
        "epochs",
        "best_epoch",
        "best_val_loss",
        "final_val_loss",
    ]));
    Table {
        file_name: "trials.csv",
        header: head,
        rows,
    }
}

/// Failed trials: `index, name, <params>, epochs_completed, reason`.
pub fn failed(analysis: &SweepAnalysis) -> Table {
    let names = &analysis.data.param_names;
    let rows = analysis
        .data
        .failed
        .iter()
        .map(|run| {
            let mut row = vec![trial_index(run), run.name.clone()];
            row.extend(param_cells(run, names));
            row.push(run.epochs.len().to_string());
            row.push(run.failure().unwrap_or_default().to_string());
            row
        })
        .collect();
    let mut head = header(&["index", "name"]);
    head.extend(names.iter().cloned());
    head.extend(header(&["epochs_completed", "reason"]));
    Table {
        file_name: "failed.csv",
        header: head,
        rows,
    }
}

/// All five tables.
pub fn all_tables(analysis: &SweepAnalysis) -> Vec<Table> {
    vec![
        correlations(analysis),
        early_readout(analysis),
        convergence(analysis),
        trials(analysis),
        failed(analysis),
    ]
}
