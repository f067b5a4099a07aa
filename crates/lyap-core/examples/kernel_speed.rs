//! Times the per-step kernels of the QR method on one thread: `J Q` (matmul) and the
//! orthonormalisation (Householder QR + forming Q), for `n x n` blocks.
//! usage: cargo run --release -p lyap-core --example kernel_speed -- 512

use faer::{Accum, Mat};
use lyap_core::dense::gemm;
use lyap_core::qr::QrKernel;
use lyap_core::Real;
use std::time::Instant;

fn time<F: FnMut()>(reps: usize, mut f: F) -> f64 {
    f();
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[reps / 2]
}

fn run<T: Real>(n: usize, k: usize) {
    let mut seed = 12345u64;
    let j = Mat::<T>::from_fn(n, n, |_, _| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        T::of_f64((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
    });
    let mut q = Mat::<T>::from_fn(n, k, |r, c| T::of_f64(if r == c { 1.0 } else { 0.0 }));
    let mut y = Mat::<T>::zeros(n, k);
    let mut kernel = match std::env::var("LYAP_QR_BLOCK")
        .ok()
        .and_then(|b| b.parse().ok())
    {
        Some(blocksize) => QrKernel::<T>::with_blocksize(n, k, blocksize),
        None => QrKernel::<T>::new(n, k),
    };
    let mut acc = vec![0.0; k];
    let multiply = |y: &mut Mat<T>, q: &Mat<T>| {
        gemm(y.as_mut(), Accum::Replace, j.as_ref(), q.as_ref(), T::one())
    };
    let matmul_ms = time(20, || multiply(&mut y, &q));
    let qr_ms = time(20, || {
        y.copy_from(&j.as_ref().subcols(0, k));
        kernel.orthonormalize(y.as_mut(), q.as_mut(), &mut acc);
    });
    let factor_ms = time(20, || {
        y.copy_from(&j.as_ref().subcols(0, k));
        kernel.factor_in_place(y.as_mut(), &mut acc);
    });
    println!("  factorisation alone {factor_ms:.2} ms");
    if k == n {
        time_right_application(&j, &mut kernel, &mut q, &mut y, &multiply);
    }
    println!(
        "{} n={n} k={k}: J Q {matmul_ms:.2} ms, QR+Q {qr_ms:.2} ms",
        T::NAME
    );
}

/// `J Q` as the previous step's reflectors applied from the right (square case only) against
/// forming `Q` and multiplying.
fn time_right_application<T: Real>(
    j: &Mat<T>,
    kernel: &mut QrKernel<T>,
    q: &mut Mat<T>,
    y: &mut Mat<T>,
    multiply: &dyn Fn(&mut Mat<T>, &Mat<T>),
) {
    let n = j.nrows();
    let mut acc = vec![0.0; n];
    let mut basis = j.clone();
    kernel.factor_in_place(basis.as_mut(), &mut acc);
    let mut target = Mat::<T>::zeros(n, n);
    let right_ms = time(20, || {
        target.copy_from(j);
        kernel.apply_q_on_the_right(basis.as_ref(), target.as_mut());
    });
    let form_ms = time(20, || {
        kernel.form_q(basis.as_ref(), q.as_mut());
        multiply(y, q);
    });
    println!(
        "  J Q via reflectors from the right {right_ms:.2} ms; forming Q then J Q {form_ms:.2} ms"
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(512);
    let k: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(n);
    run::<f32>(n, k);
    run::<f64>(n, k);
}
