//! The floating-point types the engine runs in: `f32` and `f64`.

use faer::traits::RealField;
use num_traits::Float;

/// A real scalar usable by the engine and the cells: `f32` or `f64`.
///
/// Exponent accumulators are always `f64` whatever `Self` is, so that summing
/// thousands of `log|R_ii|` terms does not lose precision in `f32` runs.
pub trait Real:
    RealField
    + Float
    + num_traits::NumAssign
    + std::iter::Sum
    + Copy
    + Send
    + Sync
    + Default
    + std::fmt::Debug
    + 'static
{
    /// Name used in reports (`"f32"` / `"f64"`).
    const NAME: &'static str;
    fn of_f64(value: f64) -> Self;
    fn as_f64(self) -> f64;
    /// `values` as `&[Self]` without a copy when `Self` is `f32`, else `None`.
    fn from_f32_slice(values: &[f32]) -> Option<&[Self]>;
    /// `values` as `&[Self]` without a copy when `Self` is `f64`, else `None`.
    fn from_f64_slice(values: &[f64]) -> Option<&[Self]>;
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    #[inline]
    fn of_f64(value: f64) -> Self {
        value as f32
    }
    #[inline]
    fn as_f64(self) -> f64 {
        self as f64
    }
    fn from_f32_slice(values: &[f32]) -> Option<&[Self]> {
        Some(values)
    }
    fn from_f64_slice(_: &[f64]) -> Option<&[Self]> {
        None
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    #[inline]
    fn of_f64(value: f64) -> Self {
        value
    }
    #[inline]
    fn as_f64(self) -> f64 {
        self
    }
    fn from_f32_slice(_: &[f32]) -> Option<&[Self]> {
        None
    }
    fn from_f64_slice(values: &[f64]) -> Option<&[Self]> {
        Some(values)
    }
}

/// The floating-point precision a computation runs in: [`f32`] or [`f64`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    F32,
    #[default]
    F64,
}

impl Precision {
    /// `"f32"` or `"f64"` (the [`Real::NAME`] of the type).
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => f32::NAME,
            Precision::F64 => f64::NAME,
        }
    }

    /// Bytes of one value.
    pub fn size_of(self) -> usize {
        match self {
            Precision::F32 => std::mem::size_of::<f32>(),
            Precision::F64 => std::mem::size_of::<f64>(),
        }
    }
}
