//! Running a closure compiled for the CPU's widest vectors.

/// Runs `body` compiled for AVX-512 and FMA when the CPU has them, and as it is otherwise.
///
/// The crates are built for the baseline x86-64 target, whose vectors hold 4 `f32`; elementwise
/// loops (the cells' gates, their slopes and backward steps, the Householder leaves of the QR)
/// vectorise to 16 `f32` (8 `f64`) per instruction in an AVX-512 function. Everything `body` runs must be
/// inlined into it (`#[inline(always)]` down to the activations) to be compiled that way.
#[inline(always)]
pub fn with_wide_simd<R>(body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,fma")]
        fn wide<R>(body: impl FnOnce() -> R) -> R {
            body()
        }
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has every feature `wide` is compiled for.
            return unsafe { wide(body) };
        }
    }
    body()
}
