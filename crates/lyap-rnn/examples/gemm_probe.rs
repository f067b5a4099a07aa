use faer::{Accum, Mat, Par};
use std::time::Instant;
fn main() {
    let u = Mat::<f32>::from_fn(2048, 512, |i, j| ((i * 7 + j) % 13) as f32 * 0.01);
    let h = Mat::<f32>::from_fn(512, 100, |i, j| ((i + j) % 5) as f32 * 0.1);
    let mut out = Mat::<f32>::zeros(2048, 100);
    let mut hh = Mat::<f32>::zeros(512, 100);
    for par in [Par::Seq, Par::rayon(0)] {
        let start = Instant::now();
        for _ in 0..100 {
            faer::linalg::matmul::matmul(
                out.as_mut(),
                Accum::Replace,
                u.as_ref(),
                h.as_ref(),
                1.0,
                par,
            );
        }
        println!(
            "{par:?}: {:.2} ms per gemm",
            start.elapsed().as_secs_f64() * 10.0
        );
        let start = Instant::now();
        for _ in 0..100 {
            faer::linalg::matmul::matmul(
                hh.as_mut(),
                Accum::Replace,
                u.transpose(),
                out.as_ref(),
                1.0,
                par,
            );
        }
        println!(
            "{par:?} transposed: {:.2} ms per gemm",
            start.elapsed().as_secs_f64() * 10.0
        );
    }
}
