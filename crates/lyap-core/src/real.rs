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
}
