//! The scalar activations of the cells and their slopes (docs/DESIGN.md section 3): `exp`, the
//! logistic sigmoid and `tanh` as branch-free kernels that vectorise when a loop over slices
//! calls them, and the RNN nonlinearity [`Activation`].
//!
//! Measurements: BENCHMARKS.md.

use lyap_core::Real;

/// `1`, as `T`.
#[inline]
pub fn one<T: Real>() -> T {
    T::of_f64(1.0)
}

/// Branch-free `exp` / `expm1` kernels for one float type, written so that loops over
/// slices calling them vectorise (libm's `exp` is a scalar call).
///
/// `x = k ln2 + r` with `|r| <= ln2 / 2` (Cody-Waite split of `ln2`), `expm1(r)` by its Taylor
/// polynomial (truncation below one ulp), then `exp(x) = 2^k (1 + expm1(r))` and
/// `expm1(x) = 2^k expm1(r) + (2^k - 1)` (no cancellation for small `x`, where `k = 0`).
///
/// `k` is rounded by adding `1.5 2^mantissa`, after which the sum's low mantissa bits hold `k`
/// as a two's-complement integer; `2^k` is built from those bits with integer vector
/// operations (no float-to-int cast, which compiles to a scalar conversion per lane).
macro_rules! exp_kernels {
    ($module:ident, $float:ty, $bits:ty, $mantissa:expr, $bias:expr,
     $max:expr, $min:expr, $ln2_hi:expr, $ln2_lo:expr, [$($inverse_factorial:expr),+]) => {
        pub(crate) mod $module {
            /// `(2^k, expm1(r))` for `x = k ln2 + r`, `x` clamped to the finite range.
            #[inline(always)]
            fn split(x: $float) -> ($float, $float) {
                const ROUNDING: $float = 1.5 * (1u64 << $mantissa) as $float;
                let x = x.clamp($min, $max);
                let shifted = x * std::f64::consts::LOG2_E as $float + ROUNDING;
                let k = shifted - ROUNDING;
                let r = x - k * $ln2_hi - k * $ln2_lo;
                let mut polynomial: $float = 0.0;
                for c in [$($inverse_factorial),+] {
                    polynomial = polynomial * r + c;
                }
                // (k + bias) << mantissa, with k = bits(shifted) - bits(ROUNDING) (wrapping)
                let biased_k = shifted
                    .to_bits()
                    .wrapping_sub(ROUNDING.to_bits())
                    .wrapping_add($bias);
                let scale = <$float>::from_bits(biased_k << $mantissa);
                (scale, polynomial * r)
            }

            #[inline(always)]
            pub fn exp(x: $float) -> $float {
                let (scale, expm1_r) = split(x);
                scale + scale * expm1_r
            }

            #[inline(always)]
            pub fn expm1(x: $float) -> $float {
                let (scale, expm1_r) = split(x);
                scale * expm1_r + (scale - 1.0)
            }

            /// `1 / (1 + e^-x)`.
            #[inline(always)]
            pub fn sigmoid(x: $float) -> $float {
                1.0 / (1.0 + exp(-x))
            }

            /// `tanh x = sign(x) * (-m) / (2 + m)` with `m = expm1(-2|x|)`.
            #[inline(always)]
            pub fn tanh(x: $float) -> $float {
                let m = expm1(-2.0 * x.abs());
                (-m / (2.0 + m)).copysign(x)
            }
        }
    };
}

exp_kernels!(
    kernels_f32,
    f32,
    u32,
    23,
    127,
    88.3,
    -87.3,
    0.693_359_4,
    -2.121_944_4e-4,
    [
        1.0 / 5040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0
    ]
);
exp_kernels!(
    kernels_f64,
    f64,
    u64,
    52,
    1023,
    709.0,
    -708.0,
    f64::from_bits(0x3FE6_2E42_FEE0_0000),
    f64::from_bits(0x3DEA_39EF_3579_3C76),
    [
        1.0 / 6_227_020_800.0,
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0
    ]
);

/// Applies the `f32` or `f64` kernel to `x` (`Real` is exactly these two types; the size test
/// is resolved at compile time and the conversions fold away).
macro_rules! dispatch {
    ($function:ident, $x:expr) => {
        if std::mem::size_of::<T>() == 4 {
            T::of_f64(kernels_f32::$function($x.as_f64() as f32) as f64)
        } else {
            T::of_f64(kernels_f64::$function($x.as_f64()))
        }
    };
}

/// `e^x` (vectorisable, accurate to a few ulp; arguments are clamped to the finite range).
#[inline(always)]
pub fn exp<T: Real>(x: T) -> T {
    dispatch!(exp, x)
}

/// The logistic sigmoid `s(x) = 1 / (1 + e^-x)` (vectorisable, accurate to a few ulp).
#[inline(always)]
pub fn sigmoid<T: Real>(x: T) -> T {
    dispatch!(sigmoid, x)
}

/// `tanh x` (vectorisable, accurate to a few ulp, also near 0).
#[inline(always)]
pub fn tanh<T: Real>(x: T) -> T {
    dispatch!(tanh, x)
}

/// `s'(a) = s (1 - s)`, written in terms of the output `s = s(a)`.
#[inline(always)]
pub fn sigmoid_slope<T: Real>(s: T) -> T {
    s * (one::<T>() - s)
}

/// `tanh'(a) = 1 - t^2`, written in terms of the output `t = tanh(a)`.
#[inline(always)]
pub fn tanh_slope<T: Real>(t: T) -> T {
    one::<T>() - t * t
}

/// The nonlinearity `phi` of a vanilla RNN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Tanh,
    Relu,
}

impl Activation {
    /// `phi(a)`.
    #[inline(always)]
    pub fn apply<T: Real>(self, a: T) -> T {
        match self {
            Activation::Tanh => tanh(a),
            Activation::Relu => a.max(T::zero()),
        }
    }

    /// `phi'(a)` written in terms of the output `y = phi(a)`: `1 - y^2` for tanh, `[y > 0]` for
    /// ReLU (the slope at the kink `a = 0` is taken as 0, as PyTorch does).
    #[inline(always)]
    pub fn slope_from_output<T: Real>(self, y: T) -> T {
        match self {
            Activation::Tanh => tanh_slope(y),
            Activation::Relu => {
                if y > T::zero() {
                    one()
                } else {
                    T::zero()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Largest relative error against libm over a grid of `[-range, range]`.
    fn worst<T: Real>(fast: fn(T) -> T, exact: fn(f64) -> f64, range: f64) -> f64 {
        (-20_000..=20_000)
            .map(|i| {
                let x = T::of_f64(range * i as f64 / 20_000.0);
                let want = exact(x.as_f64());
                (fast(x).as_f64() - want).abs() / want.abs().max(f64::MIN_POSITIVE)
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn fast_activations_match_libm() {
        let logistic = |x: f64| 1.0 / (1.0 + (-x).exp());
        for range in [1e-3, 1.0, 30.0] {
            assert!(
                worst::<f64>(sigmoid, logistic, range) < 1e-15,
                "sigmoid f64 {range}"
            );
            assert!(
                worst::<f64>(tanh, f64::tanh, range) < 1e-15,
                "tanh f64 {range}"
            );
            assert!(
                worst::<f32>(sigmoid, logistic, range) < 1e-6,
                "sigmoid f32 {range}"
            );
            assert!(
                worst::<f32>(tanh, f64::tanh, range) < 1e-6,
                "tanh f32 {range}"
            );
        }
        // the whole finite range: 2^k is built from the rounded sum's bits for k = -126..127
        // (f32) and -1021..1023 (f64)
        assert!(worst::<f32>(exp, f64::exp, 87.0) < 1e-6, "exp f32");
        assert!(worst::<f64>(exp, f64::exp, 705.0) < 1e-14, "exp f64");
        for x in [88.3f32, -87.3] {
            let relative = exp(x).as_f64() / (x as f64).exp() - 1.0;
            assert!(
                relative.abs() < 1e-6,
                "exp f32 at the clamp {x}: {relative}"
            );
        }
        for x in [709.0f64, -708.0] {
            let relative = exp(x) / x.exp() - 1.0;
            assert!(
                relative.abs() < 1e-14,
                "exp f64 at the clamp {x}: {relative}"
            );
        }
        assert_eq!(sigmoid(1e4f64), 1.0);
        assert!(sigmoid(-1e4f64) < 1e-300);
        assert_eq!(tanh(-1e4f32), -1.0);
        assert_eq!(tanh(0.0f64), 0.0);
    }
}
