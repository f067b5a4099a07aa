//! Products `C = A B` (or `C += A B`) with a fixed `A` and thin right-hand sides: the recurrent
//! products of training, `U H_(t-1)` forward and `U^T dA_t` backward, where `A` (`U`, `G n x n`,
//! or `U^T`) is the same for every time step of a batch and `B` has only the batch part's
//! `B_p` (about 50) columns.
//!
//! A general gemm re-packs `A` into its microkernel's panel layout at every call, which for
//! these thin shapes is a large part of the work. [`PackedMatrix`] packs `A` once per batch and
//! then runs an AVX-512 microkernel on it directly. On CPUs without AVX-512 it keeps
//! `A` as it is and calls faer's gemm, so results there are those of the unpacked product.
//!
//! Layout: `A` is cut into panels of `MR` rows (`MR` = 32 for `f32`, 16 for `f64`: two
//! vectors), zero-padded at the bottom; panel `p` stores its columns one after the other,
//! `panel[k MR + i] = A[p MR + i, k]`. The microkernel keeps an `MR x NR` tile of `C` (`NR` up to
//! [`NR_MAX`] columns) in 24 vector registers and, for each `k`, loads the panel's column `k`
//! (two vectors) and broadcasts `B[k, j]` into `NR` fused multiply-adds per vector. `k` runs in
//! blocks of [`KC`], so the panel's block (64 KB) stays in the L2 cache while the tile walks
//! across the columns of `B`.
//!
//! `B` is copied once per product into [`RhsPanels`]: for each tile of `NR` columns, its rows one
//! after the other (`tile[k NR + j] = B[k, first + j]`), so a step of `k` broadcasts from one
//! cache line. Broadcasting from `B` itself reads `NR` columns a column stride apart; with
//! strides of 2 or 8 KB (`B_p` columns of 512 or 2048 rows) they all fall into the same few L1
//! sets and evict each other.
//!
//! Measurements: BENCHMARKS.md.

use faer::{Accum, Mat, MatMut, MatRef};
use lyap_core::dense::gemm;
use lyap_core::Real;
use std::any::TypeId;

/// Columns of `C` per microkernel call (24 accumulators: 12 columns x 2 vectors).
const NR_MAX: usize = 12;
/// Depth of one block of `k` (see the module documentation): the panel's block of `KC`
/// columns stays in the L2 cache, and deep blocks mean few passes over `C`.
const KC: usize = 512;

/// `B` rearranged by tiles of [`NR_MAX`] columns for [`PackedMatrix::matmul`] (module
/// documentation); a caller's buffer, reused across products.
#[derive(Debug, Default)]
pub struct RhsPanels<T> {
    values: Vec<T>,
}

impl<T: Real> RhsPanels<T> {
    /// Copies `b` (`depth x columns`) tile by tile: tile `t` (width `w`, the last one may be
    /// narrower) starts at `t NR_MAX depth` and holds `B[k, t NR_MAX + j]` at `k w + j`.
    fn pack(&mut self, b: MatRef<'_, T>) {
        let (depth, columns) = (b.nrows(), b.ncols());
        self.values.clear();
        self.values.resize(depth * columns, T::zero());
        for (first, tile) in (0..columns)
            .step_by(NR_MAX)
            .zip(self.values.chunks_mut(NR_MAX * depth))
        {
            let width = NR_MAX.min(columns - first);
            for j in 0..width {
                let column = b.col(first + j);
                for (k, &value) in column.iter().enumerate() {
                    tile[k * width + j] = value;
                }
            }
        }
    }
}

/// A matrix packed for repeated products with thin right-hand sides (module documentation).
#[derive(Debug)]
pub struct PackedMatrix<T: Real> {
    rows: usize,
    cols: usize,
    storage: Storage<T>,
}

#[derive(Debug)]
enum Storage<T: Real> {
    /// Panels of `panel_rows` rows, for the AVX-512 microkernels.
    Panels { panel_rows: usize, values: Vec<T> },
    /// The matrix itself, for faer's gemm (no AVX-512, or a type without a microkernel).
    Plain(Mat<T>),
}

/// Which microkernel family runs on this CPU for `T`, and its panel height.
fn panel_rows<T: Real>() -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma") {
            if TypeId::of::<T>() == TypeId::of::<f32>() {
                return Some(32);
            }
            if TypeId::of::<T>() == TypeId::of::<f64>() {
                return Some(16);
            }
        }
    }
    None
}

impl<T: Real> Default for PackedMatrix<T> {
    fn default() -> Self {
        Self {
            rows: 0,
            cols: 0,
            storage: Storage::Plain(Mat::zeros(0, 0)),
        }
    }
}

impl<T: Real> PackedMatrix<T> {
    /// Packs `a` (any strides), reusing this matrix's buffer.
    pub fn pack(&mut self, a: MatRef<'_, T>) {
        self.pack_for(a, panel_rows::<T>());
    }

    /// [`PackedMatrix::pack`] for the microkernel of `panel_rows` (`None`: faer's gemm).
    fn pack_for(&mut self, a: MatRef<'_, T>, panel_rows: Option<usize>) {
        let (rows, cols) = (a.nrows(), a.ncols());
        self.rows = rows;
        self.cols = cols;
        let Some(panel_rows) = panel_rows else {
            match &mut self.storage {
                Storage::Plain(plain) if (plain.nrows(), plain.ncols()) == (rows, cols) => {
                    plain.copy_from(a);
                }
                storage => *storage = Storage::Plain(a.to_owned()),
            }
            return;
        };
        let panels = rows.div_ceil(panel_rows);
        let mut values =
            match std::mem::replace(&mut self.storage, Storage::Plain(Mat::zeros(0, 0))) {
                Storage::Panels { values, .. } => values,
                Storage::Plain(_) => Vec::new(),
            };
        values.clear();
        values.resize(panels * panel_rows * cols, T::zero());
        for (p, panel) in values.chunks_exact_mut(panel_rows * cols).enumerate() {
            let first = p * panel_rows;
            let height = panel_rows.min(rows - first);
            for (k, column) in panel.chunks_exact_mut(panel_rows).enumerate() {
                for (i, value) in column[..height].iter_mut().enumerate() {
                    *value = a[(first + i, k)];
                }
            }
        }
        self.storage = Storage::Panels { panel_rows, values };
    }

    /// `c = A b` (`Accum::Replace`) or `c += A b` (`Accum::Add`) for the packed `A`; `rhs` is
    /// the buffer `b` is rearranged into.
    ///
    /// # Panics
    /// If the shapes do not match, or `c` does not have unit row stride.
    pub fn matmul(
        &self,
        mut c: MatMut<'_, T>,
        accum: Accum,
        b: MatRef<'_, T>,
        rhs: &mut RhsPanels<T>,
    ) {
        assert_eq!(b.nrows(), self.cols, "b must have A's column count of rows");
        assert_eq!(
            (c.nrows(), c.ncols()),
            (self.rows, b.ncols()),
            "c must be rows(A) x cols(b)"
        );
        let (panel_rows, values) = match &self.storage {
            Storage::Plain(plain) => return gemm(c, accum, plain.as_ref(), b, T::one()),
            Storage::Panels { panel_rows, values } => (*panel_rows, values),
        };
        if c.ncols() == 0 || c.nrows() == 0 {
            return;
        }
        assert_eq!(c.row_stride(), 1, "c must have unit row stride");
        if self.cols == 0 {
            if accum == Accum::Replace {
                c.fill(T::zero());
            }
            return;
        }
        let c_stride = c.col_stride();
        assert!(c_stride >= 0, "c must have a non-negative column stride");
        rhs.pack(b);
        let operands = Operands {
            rows: self.rows,
            depth: self.cols,
            columns: b.ncols(),
            panel_rows,
            a: values.as_ptr().cast(),
            b: rhs.values.as_ptr().cast(),
            c: c.as_ptr_mut().cast(),
            c_stride: c_stride as usize,
            accumulate: accum == Accum::Add,
        };
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Panels` storage exists only when `panel_rows::<T>()` found AVX-512 and FMA
        // and `T` is `f32` (32) or `f64` (16); the pointers come from matrices whose shapes and
        // strides were checked above, and `c` is borrowed mutably.
        unsafe {
            match panel_rows {
                32 => avx512::product_f32(&operands),
                _ => avx512::product_f64(&operands),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("panels are only built on x86-64 ({:?})", operands.rows);
    }
}

/// One product's operands as raw parts (element pointers of the type the kernel is for).
#[allow(dead_code)] // read only by the x86-64 kernels
struct Operands {
    rows: usize,
    depth: usize,
    columns: usize,
    panel_rows: usize,
    a: *const u8,
    /// `B` as [`RhsPanels`].
    b: *const u8,
    c: *mut u8,
    c_stride: usize,
    accumulate: bool,
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Operands, KC, NR_MAX};
    use std::arch::x86_64::*;

    /// The blocked loop over `k` blocks, panels and column blocks, and the microkernel
    /// instances for every tile width `1..=NR_MAX`, for one element type.
    macro_rules! product {
        ($name:ident, $float:ty, $lanes:expr, $vector:ty, $mask:ty, $zero:ident,
         $broadcast:ident, $fma:ident, $add:ident, $load:ident, $masked_load:ident,
         $masked_store:ident) => {
            /// # Safety
            /// AVX-512F and FMA available; `operands` describe valid `$float` matrices: packed
            /// `A` with `panel_rows = 2 lanes`, `B` `depth x columns`, `C` `rows x columns`.
            #[target_feature(enable = "avx512f,fma")]
            pub(super) unsafe fn $name(operands: &Operands) {
                let Operands {
                    rows,
                    depth,
                    columns,
                    panel_rows,
                    ..
                } = *operands;
                let a = operands.a as *const $float;
                let b = operands.b as *const $float;
                let c = operands.c as *mut $float;
                for k_start in (0..depth).step_by(KC) {
                    let k_len = KC.min(depth - k_start);
                    let accumulate = operands.accumulate || k_start > 0;
                    for (panel, row_start) in (0..rows).step_by(panel_rows).enumerate() {
                        let height = panel_rows.min(rows - row_start);
                        let full: $mask = !0;
                        let low = if height >= $lanes {
                            full
                        } else {
                            full >> ($lanes - height)
                        };
                        let high = if height <= $lanes {
                            0
                        } else if height >= 2 * $lanes {
                            full
                        } else {
                            full >> (2 * $lanes - height)
                        };
                        let a_block = a.add((panel * depth + k_start) * panel_rows);
                        for col_start in (0..columns).step_by(NR_MAX) {
                            let width = NR_MAX.min(columns - col_start);
                            let tile = Tile {
                                a: a_block,
                                b: b.add(col_start * depth + k_start * width),
                                c: c.add(col_start * operands.c_stride + row_start),
                                c_stride: operands.c_stride,
                                depth: k_len,
                                masks: (low, high),
                                accumulate,
                            };
                            match width {
                                12 => tile.run::<12>(),
                                11 => tile.run::<11>(),
                                10 => tile.run::<10>(),
                                9 => tile.run::<9>(),
                                8 => tile.run::<8>(),
                                7 => tile.run::<7>(),
                                6 => tile.run::<6>(),
                                5 => tile.run::<5>(),
                                4 => tile.run::<4>(),
                                3 => tile.run::<3>(),
                                2 => tile.run::<2>(),
                                _ => tile.run::<1>(),
                            }
                        }
                    }
                }
            }

            impl Tile<$float, $mask> {
                /// `C_tile (+)= A_panel[k block] B[k block, NR columns]`, rows masked.
                #[target_feature(enable = "avx512f,fma")]
                unsafe fn run<const NR: usize>(&self) {
                    let mut low: [$vector; NR] = [$zero(); NR];
                    let mut high: [$vector; NR] = [$zero(); NR];
                    let mut a = self.a;
                    for k in 0..self.depth {
                        let a_low = $load(a);
                        let a_high = $load(a.add($lanes));
                        for j in 0..NR {
                            let b = $broadcast(*self.b.add(k * NR + j));
                            low[j] = $fma(a_low, b, low[j]);
                            high[j] = $fma(a_high, b, high[j]);
                        }
                        a = a.add(2 * $lanes);
                    }
                    let (mask_low, mask_high) = self.masks;
                    for j in 0..NR {
                        let c = self.c.add(j * self.c_stride);
                        let (mut sum_low, mut sum_high) = (low[j], high[j]);
                        if self.accumulate {
                            sum_low = $add(sum_low, $masked_load(mask_low, c));
                            sum_high = $add(sum_high, $masked_load(mask_high, c.add($lanes)));
                        }
                        $masked_store(c, mask_low, sum_low);
                        $masked_store(c.add($lanes), mask_high, sum_high);
                    }
                }
            }
        };
    }

    /// One microkernel call: a tile of `C` and the blocks of `A` and `B` it reads.
    struct Tile<F, M> {
        a: *const F,
        /// The tile's block of [`RhsPanels`](super::RhsPanels): `NR` values per `k`.
        b: *const F,
        c: *mut F,
        c_stride: usize,
        depth: usize,
        masks: (M, M),
        accumulate: bool,
    }

    product!(
        product_f32,
        f32,
        16,
        __m512,
        __mmask16,
        _mm512_setzero_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps,
        _mm512_loadu_ps,
        _mm512_maskz_loadu_ps,
        _mm512_mask_storeu_ps
    );
    product!(
        product_f64,
        f64,
        8,
        __m512d,
        __mmask8,
        _mm512_setzero_pd,
        _mm512_set1_pd,
        _mm512_fmadd_pd,
        _mm512_add_pd,
        _mm512_loadu_pd,
        _mm512_maskz_loadu_pd,
        _mm512_mask_storeu_pd
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random<T: Real>(rows: usize, cols: usize, seed: u64) -> Mat<T> {
        let mut state = seed;
        Mat::from_fn(rows, cols, |_, _| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            T::of_f64(((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5)
        })
    }

    /// Every shape class: full and partial panels, `k` below, at and above a block, column
    /// counts across tile widths, replace and add, and a `C` that is a column range of a wider
    /// matrix (column stride larger than its rows).
    fn check<T: Real>(tolerance: f64, kernel: Option<usize>) {
        let mut packed = PackedMatrix::<T>::default();
        let mut rhs = RhsPanels::default();
        for (rows, depth) in [
            (1, 1),
            (7, 3),
            (32, 128),
            (50, 129),
            (512, 128),
            (128, 512),
            (33, 513),
            (70, 1030),
        ] {
            let a = pseudo_random::<T>(rows, depth, (rows * 1000 + depth) as u64);
            packed.pack_for(a.as_ref(), kernel);
            for columns in [1, 2, 11, 12, 13, 25, 50] {
                let b = pseudo_random::<T>(depth, columns, columns as u64);
                let start = pseudo_random::<T>(rows, columns + 3, 99);
                for accum in [Accum::Replace, Accum::Add] {
                    let mut expected = start.clone();
                    let expected_target = expected.as_mut().subcols_mut(0, columns);
                    gemm(expected_target, accum, a.as_ref(), b.as_ref(), T::one());
                    let mut wide = start.clone();
                    let target = wide.as_mut().subcols_mut(0, columns);
                    packed.matmul(target, accum, b.as_ref(), &mut rhs);
                    let error = (&wide - &expected).norm_max().as_f64();
                    let scale = (depth as f64).sqrt();
                    assert!(
                        error <= tolerance * scale,
                        "{rows}x{depth} times {columns} columns ({accum:?}): error {error}"
                    );
                    let untouched = wide.as_ref().subcols(columns, 3);
                    assert_eq!(untouched, start.as_ref().subcols(columns, 3));
                }
            }
        }
    }

    #[test]
    fn packed_products_match_faer_f64() {
        check::<f64>(1e-14, panel_rows::<f64>());
    }

    #[test]
    fn packed_products_match_faer_f32() {
        check::<f32>(1e-5, panel_rows::<f32>());
    }

    /// The path of CPUs without AVX-512 (and repacking from panels to a plain matrix).
    #[test]
    fn plain_fallback_matches_faer() {
        check::<f64>(1e-14, None);
        check::<f32>(1e-5, None);
        let mut packed = PackedMatrix::<f64>::default();
        packed.pack(pseudo_random::<f64>(40, 30, 1).as_ref());
        let a = pseudo_random::<f64>(3, 5, 2);
        packed.pack_for(a.as_ref(), None);
        let b = pseudo_random::<f64>(5, 4, 3);
        let mut c = Mat::<f64>::zeros(3, 4);
        packed.matmul(
            c.as_mut(),
            Accum::Replace,
            b.as_ref(),
            &mut RhsPanels::default(),
        );
        assert!((&c - &a * &b).norm_max() < 1e-14);
    }

    #[test]
    fn repacking_a_new_shape_reuses_the_matrix() {
        let mut packed = PackedMatrix::<f64>::default();
        packed.pack(pseudo_random::<f64>(40, 30, 1).as_ref());
        let a = pseudo_random::<f64>(3, 5, 2);
        packed.pack(a.as_ref());
        let b = pseudo_random::<f64>(5, 4, 3);
        let mut c = Mat::<f64>::zeros(3, 4);
        packed.matmul(
            c.as_mut(),
            Accum::Replace,
            b.as_ref(),
            &mut RhsPanels::default(),
        );
        assert!((&c - &a * &b).norm_max() < 1e-15);
    }
}
