//! The one place that knows how the spectrum JSON writes non-finite numbers (docs/DESIGN.md
//! section 6): JSON has no infinity or NaN, so they are written as `null`; on reading, `null`
//! becomes `-inf` where only a diverged exponent can produce it (means, per-sequence exponents,
//! the summary's max / mean / min / sum) and `NaN` where it means "undefined" (std, sem,
//! variance, Kaplan-Yorke dimension).
//!
//! [`SummaryJson`] gives [`lyap_core::SpectrumSummary`] this JSON form; it is used by the
//! spectrum report's `"summary"` and by every line of a run's `metrics.jsonl`
//! ([`OptionalSummaryJson`]), so both write the seven features identically.

use lyap_core::SpectrumSummary;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The JSON form of [`SpectrumSummary`]: `{"max", "mean", "min", "variance", "sum",
/// "n_positive", "kaplan_yorke_dimension"}` with non-finite values as `null`. Use as
/// `#[serde(with = "SummaryJson")]` on a `SpectrumSummary` field.
#[derive(Serialize, Deserialize)]
#[serde(remote = "SpectrumSummary")]
pub struct SummaryJson {
    #[serde(with = "null_neg_inf")]
    pub max: f64,
    #[serde(with = "null_neg_inf")]
    pub mean: f64,
    #[serde(with = "null_neg_inf")]
    pub min: f64,
    #[serde(with = "null_nan")]
    pub variance: f64,
    #[serde(with = "null_neg_inf")]
    pub sum: f64,
    pub n_positive: usize,
    #[serde(with = "null_nan")]
    pub kaplan_yorke_dimension: f64,
}

/// [`SummaryJson`] for an `Option<SpectrumSummary>` field (`None` is `null`). Use as
/// `#[serde(with = "OptionalSummaryJson")]`.
pub struct OptionalSummaryJson;

/// A borrowed summary serialised through [`SummaryJson`].
struct Borrowed<'a>(&'a SpectrumSummary);

impl Serialize for Borrowed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SummaryJson::serialize(self.0, s)
    }
}

/// An owned summary deserialised through [`SummaryJson`].
struct Owned(SpectrumSummary);

impl<'de> Deserialize<'de> for Owned {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SummaryJson::deserialize(d).map(Owned)
    }
}

impl OptionalSummaryJson {
    pub fn serialize<S: Serializer>(
        value: &Option<SpectrumSummary>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        value.as_ref().map(Borrowed).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SpectrumSummary>, D::Error> {
        Option::<Owned>::deserialize(d).map(|o| o.map(|Owned(s)| s))
    }
}

/// Values that JSON writes with non-finite `f64`s replaced by `null`.
pub(crate) trait Nullable: Sized {
    type Repr: Serialize + DeserializeOwned;
    fn to_repr(&self) -> Self::Repr;
    fn from_repr(repr: Self::Repr, null: f64) -> Self;
}

impl Nullable for f64 {
    type Repr = Option<f64>;
    fn to_repr(&self) -> Option<f64> {
        self.is_finite().then_some(*self)
    }
    fn from_repr(repr: Option<f64>, null: f64) -> Self {
        repr.unwrap_or(null)
    }
}

impl<V: Nullable> Nullable for Vec<V> {
    type Repr = Vec<V::Repr>;
    fn to_repr(&self) -> Self::Repr {
        self.iter().map(Nullable::to_repr).collect()
    }
    fn from_repr(repr: Self::Repr, null: f64) -> Self {
        repr.into_iter().map(|r| V::from_repr(r, null)).collect()
    }
}

fn serialize_nullable<V: Nullable, S: Serializer>(value: &V, s: S) -> Result<S::Ok, S::Error> {
    value.to_repr().serialize(s)
}

fn deserialize_nullable<'de, V: Nullable, D: Deserializer<'de>>(
    d: D,
    null: f64,
) -> Result<V, D::Error> {
    V::Repr::deserialize(d).map(|r| V::from_repr(r, null))
}

/// Non-finite written as `null`, `null` read as `-inf`.
pub(crate) mod null_neg_inf {
    use super::*;
    pub(crate) fn serialize<V: Nullable, S: Serializer>(v: &V, s: S) -> Result<S::Ok, S::Error> {
        serialize_nullable(v, s)
    }
    pub(crate) fn deserialize<'de, V: Nullable, D: Deserializer<'de>>(d: D) -> Result<V, D::Error> {
        deserialize_nullable(d, f64::NEG_INFINITY)
    }
}

/// Non-finite written as `null`, `null` read as `NaN`.
pub(crate) mod null_nan {
    use super::*;
    pub(crate) fn serialize<V: Nullable, S: Serializer>(v: &V, s: S) -> Result<S::Ok, S::Error> {
        serialize_nullable(v, s)
    }
    pub(crate) fn deserialize<'de, V: Nullable, D: Deserializer<'de>>(d: D) -> Result<V, D::Error> {
        deserialize_nullable(d, f64::NAN)
    }
}
