//! The sweep specification (TOML) and deterministic per-trial sampling.
//!
//! ```toml
//! trials = 8          # random draws per grid point (default 1)
//! seed = 1            # sampling seed (default 0)
//!
//! [train]             # fixed `lyap train` flags by long name (without dashes)
//! task = "synthetic-text"
//! epochs = 3
//! bias = true         # booleans become bare flags (`--bias`); false leaves the flag out
//!
//! [sample.lr]         # one table per sampled flag
//! dist = "loguniform" # uniform | loguniform | int | choice | grid
//! low = 1e-4
//! high = 1e-1
//!
//! [sample.arch]
//! dist = "grid"
//! values = ["lstm", "gru"]
//! ```
//!
//! Distributions: `uniform` draws `low + (high - low) u`; `loguniform` draws
//! `exp(ln low + (ln high - ln low) u)` (needs `0 < low`); `int` draws an integer uniformly
//! from `low..=high` (both ends included); `choice` draws one of `values` uniformly; `grid`
//! enumerates `values`. `u` is uniform on `[0, 1)`.
//!
//! **Trials.** With grid parameters of `G_1, .., G_m` values the grid has
//! `G = G_1 * .. * G_m` points (`G = 1` without grid parameters) and the sweep has
//! `trials * G` trials: every grid point is combined with `trials` random draws of the other
//! parameters. Trial `i` takes grid point `i mod G` (mixed radix over the grid parameters in
//! name order, the last name varying fastest) and draws its random parameters, in name
//! order, from a ChaCha8 generator seeded with `seed` on stream `i`. A trial's values thus
//! depend only on `(seed, i)`: any shard or restarted sweep samples identical values.
//!
//! **Seeds.** When neither `[train]` nor `[sample]` sets `seed`, trial `i` trains with
//! `--seed (seed + i)`, so trials differ in their initial weights too.

use std::collections::BTreeMap;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{ExperimentError, Result};

/// The `lyap train` flags a sweep may set (long names).
pub const TRAIN_FLAGS: &[&str] = &[
    "task",
    "data",
    "arch",
    "hidden",
    "layers",
    "dropout",
    "lr",
    "init-scale",
    "bias",
    "epochs",
    "batch-size",
    "seq-len",
    "seed",
    "clip",
    "max-chars",
    "le-every",
    "le-batch",
    "le-steps",
    "le-warmup",
    "le-state",
    "le-trace",
    "precision",
];

/// Flags the sweep sets itself.
const RESERVED_FLAGS: &[&str] = &["out", "resume"];

/// The value of one flag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlagValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl FlagValue {
    /// The value as a number (booleans and text: None).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Int(i) => Some(*i as f64),
            Self::Float(x) => Some(*x),
            Self::Bool(_) | Self::Text(_) => None,
        }
    }

    fn from_toml(value: &toml::Value, what: &str) -> Result<Self> {
        match value {
            toml::Value::Boolean(b) => Ok(Self::Bool(*b)),
            toml::Value::Integer(i) => Ok(Self::Int(*i)),
            toml::Value::Float(x) => Ok(Self::Float(*x)),
            toml::Value::String(s) => Ok(Self::Text(s.clone())),
            other => Err(spec_error(format!(
                "{what}: expected a string, number or boolean, got {}",
                other.type_str()
            ))),
        }
    }
}

impl std::fmt::Display for FlagValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Text(s) => write!(f, "{s}"),
        }
    }
}

/// How one flag is sampled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase")]
pub enum Distribution {
    Uniform { low: f64, high: f64 },
    LogUniform { low: f64, high: f64 },
    Int { low: i64, high: i64 },
    Choice { values: Vec<FlagValue> },
    Grid { values: Vec<FlagValue> },
}

/// A validated sweep specification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepSpec {
    /// Random draws per grid point.
    pub trials: usize,
    pub seed: u64,
    /// Fixed flags.
    pub train: BTreeMap<String, FlagValue>,
    /// Sampled flags.
    pub sample: BTreeMap<String, Distribution>,
}

/// One trial: its sampled values and the `lyap train` arguments (without `--out`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    pub index: usize,
    /// `trial_NNNN`, also the trial's directory name under `DIR/trials/`.
    pub name: String,
    /// The values that vary between trials (sampled flags and a derived seed).
    pub params: BTreeMap<String, FlagValue>,
    pub args: Vec<String>,
}

fn spec_error(message: String) -> ExperimentError {
    ExperimentError::Spec(message)
}

/// Checks a flag name and returns it in its canonical (dashed) form; `_` is accepted for `-`.
fn canonical_flag(name: &str, table: &str) -> Result<String> {
    let canonical = name.replace('_', "-");
    if RESERVED_FLAGS.contains(&canonical.as_str()) {
        return Err(spec_error(format!(
            "{table}.{name}: set by the sweep itself, remove it"
        )));
    }
    if !TRAIN_FLAGS.contains(&canonical.as_str()) {
        return Err(spec_error(format!(
            "{table}.{name}: unknown train flag (known: {})",
            TRAIN_FLAGS.join(", ")
        )));
    }
    Ok(canonical)
}

fn number(table: &toml::Table, key: &str, what: &str) -> Result<f64> {
    match table.get(key) {
        Some(toml::Value::Float(x)) => Ok(*x),
        Some(toml::Value::Integer(i)) => Ok(*i as f64),
        Some(other) => Err(spec_error(format!(
            "{what}.{key}: expected a number, got {}",
            other.type_str()
        ))),
        None => Err(spec_error(format!("{what}: missing `{key}`"))),
    }
}

fn integer(table: &toml::Table, key: &str, what: &str) -> Result<i64> {
    match table.get(key) {
        Some(toml::Value::Integer(i)) => Ok(*i),
        Some(other) => Err(spec_error(format!(
            "{what}.{key}: expected an integer, got {}",
            other.type_str()
        ))),
        None => Err(spec_error(format!("{what}: missing `{key}`"))),
    }
}

fn values(table: &toml::Table, what: &str) -> Result<Vec<FlagValue>> {
    let list = match table.get("values") {
        Some(toml::Value::Array(list)) => list,
        Some(other) => {
            return Err(spec_error(format!(
                "{what}.values: expected an array, got {}",
                other.type_str()
            )))
        }
        None => return Err(spec_error(format!("{what}: missing `values`"))),
    };
    if list.is_empty() {
        return Err(spec_error(format!("{what}.values: empty")));
    }
    list.iter()
        .map(|v| FlagValue::from_toml(v, &format!("{what}.values")))
        .collect()
}

fn check_keys(table: &toml::Table, allowed: &[&str], what: &str) -> Result<()> {
    match table.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(spec_error(format!(
            "{what}: unknown key `{key}` (expected {})",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

impl Distribution {
    fn from_table(table: &toml::Table, what: &str) -> Result<Self> {
        let dist = match table.get("dist") {
            Some(toml::Value::String(s)) => s.as_str(),
            Some(_) => return Err(spec_error(format!("{what}.dist: expected a string"))),
            None => return Err(spec_error(format!("{what}: missing `dist`"))),
        };
        let ranged = ["dist", "low", "high"];
        let listed = ["dist", "values"];
        let dist = match dist {
            "uniform" | "loguniform" => {
                check_keys(table, &ranged, what)?;
                let (low, high) = (number(table, "low", what)?, number(table, "high", what)?);
                if !(low.is_finite() && high.is_finite()) || low >= high {
                    return Err(spec_error(format!(
                        "{what}: needs finite low < high (got low = {low}, high = {high})"
                    )));
                }
                if dist == "uniform" {
                    Self::Uniform { low, high }
                } else if low <= 0.0 {
                    return Err(spec_error(format!(
                        "{what}: loguniform needs low > 0 (got low = {low})"
                    )));
                } else {
                    Self::LogUniform { low, high }
                }
            }
            "int" => {
                check_keys(table, &ranged, what)?;
                let (low, high) = (integer(table, "low", what)?, integer(table, "high", what)?);
                if low >= high {
                    return Err(spec_error(format!(
                        "{what}: needs low < high (got low = {low}, high = {high})"
                    )));
                }
                Self::Int { low, high }
            }
            "choice" => {
                check_keys(table, &listed, what)?;
                Self::Choice {
                    values: values(table, what)?,
                }
            }
            "grid" => {
                check_keys(table, &listed, what)?;
                Self::Grid {
                    values: values(table, what)?,
                }
            }
            other => {
                return Err(spec_error(format!(
                "{what}.dist: unknown distribution `{other}` (expected uniform, loguniform, int, choice or grid)"
            )))
            }
        };
        Ok(dist)
    }

    /// One draw (grid parameters are not drawn; see [`SweepSpec::trial`]).
    fn draw(&self, rng: &mut ChaCha8Rng) -> Option<FlagValue> {
        match self {
            Self::Uniform { low, high } => {
                Some(FlagValue::Float(low + (high - low) * rng.random::<f64>()))
            }
            Self::LogUniform { low, high } => {
                let (a, b) = (low.ln(), high.ln());
                Some(FlagValue::Float((a + (b - a) * rng.random::<f64>()).exp()))
            }
            Self::Int { low, high } => Some(FlagValue::Int(rng.random_range(*low..=*high))),
            Self::Choice { values } => Some(values[rng.random_range(0..values.len())].clone()),
            Self::Grid { .. } => None,
        }
    }
}

impl SweepSpec {
    /// Parses and validates a TOML specification; errors are one line naming the setting.
    pub fn parse(text: &str) -> Result<Self> {
        let table: toml::Table = toml::from_str(text).map_err(ExperimentError::Toml)?;
        check_keys(&table, &["trials", "seed", "train", "sample"], "sweep spec")?;
        let trials = match table.get("trials") {
            None => 1,
            Some(toml::Value::Integer(n)) if *n >= 1 => *n as usize,
            Some(other) => {
                return Err(spec_error(format!(
                    "trials: expected a positive integer, got {other}"
                )))
            }
        };
        let seed = match table.get("seed") {
            None => 0,
            Some(toml::Value::Integer(s)) if *s >= 0 => *s as u64,
            Some(other) => {
                return Err(spec_error(format!(
                    "seed: expected a non-negative integer, got {other}"
                )))
            }
        };
        let mut train = BTreeMap::new();
        for (name, value) in sub_tables(&table, "train")? {
            let flag = canonical_flag(name, "train")?;
            let value = FlagValue::from_toml(value, &format!("train.{name}"))?;
            if flag == "bias" && !matches!(value, FlagValue::Bool(_)) {
                return Err(spec_error(format!("train.{name}: expected true or false")));
            }
            train.insert(flag, value);
        }
        let mut sample = BTreeMap::new();
        for (name, value) in sub_tables(&table, "sample")? {
            let what = format!("sample.{name}");
            let flag = canonical_flag(name, "sample")?;
            if train.contains_key(&flag) {
                return Err(spec_error(format!(
                    "{what}: also set in [train]; set it in one place"
                )));
            }
            let toml::Value::Table(dist_table) = value else {
                return Err(spec_error(format!("{what}: expected a table")));
            };
            sample.insert(flag, Distribution::from_table(dist_table, &what)?);
        }
        Ok(Self {
            trials,
            seed,
            train,
            sample,
        })
    }

    /// Reads and parses a specification file; errors name the file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::io(path, e))?;
        Self::parse(&text).map_err(|e| ExperimentError::SpecFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// The grid parameters in name order with their values.
    fn grid(&self) -> Vec<(&String, &Vec<FlagValue>)> {
        self.sample
            .iter()
            .filter_map(|(name, dist)| match dist {
                Distribution::Grid { values } => Some((name, values)),
                _ => None,
            })
            .collect()
    }

    /// Number of grid points `G` (1 without grid parameters).
    pub fn grid_size(&self) -> usize {
        self.grid().iter().map(|(_, v)| v.len()).product()
    }

    /// Total number of trials, `trials * G`.
    pub fn trial_count(&self) -> usize {
        self.trials * self.grid_size()
    }

    /// Trial `index` (see the module documentation for how values are chosen).
    pub fn trial(&self, index: usize) -> Trial {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index as u64);
        let mut params = BTreeMap::new();
        // Grid point: mixed radix, last grid parameter fastest.
        let mut rest = index % self.grid_size();
        for (name, values) in self.grid().into_iter().rev() {
            params.insert(name.clone(), values[rest % values.len()].clone());
            rest /= values.len();
        }
        for (name, dist) in &self.sample {
            if let Some(value) = dist.draw(&mut rng) {
                params.insert(name.clone(), value);
            }
        }
        if !self.train.contains_key("seed") && !params.contains_key("seed") {
            let seed = self.seed.wrapping_add(index as u64);
            params.insert("seed".into(), FlagValue::Int(seed as i64));
        }
        let mut flags: BTreeMap<&String, &FlagValue> = self.train.iter().collect();
        flags.extend(params.iter());
        let mut args = vec![];
        for (name, value) in flags {
            match value {
                FlagValue::Bool(true) => args.push(format!("--{name}")),
                FlagValue::Bool(false) => {}
                other => {
                    args.push(format!("--{name}"));
                    args.push(other.to_string());
                }
            }
        }
        Trial {
            index,
            name: trial_name(index),
            params,
            args,
        }
    }

    /// Every trial in index order.
    pub fn trials(&self) -> Vec<Trial> {
        (0..self.trial_count()).map(|i| self.trial(i)).collect()
    }
}

/// `trial_NNNN` (at least four digits).
pub fn trial_name(index: usize) -> String {
    format!("trial_{index:04}")
}

fn sub_tables<'t>(table: &'t toml::Table, key: &str) -> Result<Vec<(&'t String, &'t toml::Value)>> {
    match table.get(key) {
        None => Ok(vec![]),
        Some(toml::Value::Table(t)) => Ok(t.iter().collect()),
        Some(_) => Err(spec_error(format!("[{key}]: expected a table"))),
    }
}

/// `text` with every run of whitespace (newlines included) as one space.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
