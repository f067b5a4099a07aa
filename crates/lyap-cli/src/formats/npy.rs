//! Reading NumPy `.npy` arrays (float32/float64 inputs, integer tokens) with `npyz`.

use crate::formats::FormatError;
use npyz::{DType, NpyFile, Order, TypeChar};
use std::path::Path;

/// The values of an `.npy` array in C (row-major) order.
#[derive(Clone, Debug, PartialEq)]
pub enum NpyValues {
    /// float32 / float64, widened to `f64` (exactly).
    Float(Vec<f64>),
    /// int8..int64, uint8..uint64 (uint64 values above `i64::MAX` saturate).
    Int(Vec<i64>),
}

/// An `.npy` array: its shape and values.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub values: NpyValues,
}

/// Reads `path`; any dtype other than float32/float64 and 8- to 64-bit integers is an error.
pub fn read_npy(path: &Path) -> Result<NpyArray, FormatError> {
    let path_buf = || path.to_path_buf();
    let bytes = std::fs::read(path).map_err(|source| FormatError::Read {
        path: path_buf(),
        source,
    })?;
    let file = NpyFile::new(&bytes[..]).map_err(|source| FormatError::NpyHeader {
        path: path_buf(),
        source,
    })?;
    let shape: Vec<usize> = file.shape().iter().map(|&d| d as usize).collect();
    let order = file.order();
    let dtype = file.dtype();
    let unsupported = || FormatError::NpyDtype {
        path: path_buf(),
        descr: dtype.descr(),
    };
    let type_str = match &dtype {
        DType::Plain(ts) => ts.clone(),
        _ => return Err(unsupported()),
    };
    let corrupt = |source| FormatError::NpyData {
        path: path_buf(),
        source,
    };
    let values = match (type_str.type_char(), type_str.size_field()) {
        (TypeChar::Float, 4) => NpyValues::Float(widen(file.into_vec::<f32>().map_err(corrupt)?)),
        (TypeChar::Float, 8) => NpyValues::Float(file.into_vec::<f64>().map_err(corrupt)?),
        (TypeChar::Int, 1) => NpyValues::Int(widen(file.into_vec::<i8>().map_err(corrupt)?)),
        (TypeChar::Int, 2) => NpyValues::Int(widen(file.into_vec::<i16>().map_err(corrupt)?)),
        (TypeChar::Int, 4) => NpyValues::Int(widen(file.into_vec::<i32>().map_err(corrupt)?)),
        (TypeChar::Int, 8) => NpyValues::Int(file.into_vec::<i64>().map_err(corrupt)?),
        (TypeChar::Uint, 1) => NpyValues::Int(widen(file.into_vec::<u8>().map_err(corrupt)?)),
        (TypeChar::Uint, 2) => NpyValues::Int(widen(file.into_vec::<u16>().map_err(corrupt)?)),
        (TypeChar::Uint, 4) => NpyValues::Int(widen(file.into_vec::<u32>().map_err(corrupt)?)),
        (TypeChar::Uint, 8) => {
            let raw = file.into_vec::<u64>().map_err(corrupt)?;
            NpyValues::Int(
                raw.into_iter()
                    .map(|v| i64::try_from(v).unwrap_or(i64::MAX))
                    .collect(),
            )
        }
        _ => return Err(unsupported()),
    };
    let values = match (order, values) {
        (Order::C, v) => v,
        (Order::Fortran, NpyValues::Float(v)) => NpyValues::Float(fortran_to_c(&v, &shape)),
        (Order::Fortran, NpyValues::Int(v)) => NpyValues::Int(fortran_to_c(&v, &shape)),
    };
    Ok(NpyArray { shape, values })
}

fn widen<A: Copy, B: From<A>>(values: Vec<A>) -> Vec<B> {
    values.into_iter().map(B::from).collect()
}

/// Reorders column-major (Fortran) values of an array of `shape` into row-major order.
fn fortran_to_c<V: Copy>(values: &[V], shape: &[usize]) -> Vec<V> {
    let mut out = Vec::with_capacity(values.len());
    let mut index = vec![0usize; shape.len()];
    for _ in 0..values.len() {
        // Fortran offset of the current C-order multi-index.
        let mut offset = 0;
        let mut stride = 1;
        for (i, &dim) in index.iter().zip(shape) {
            offset += i * stride;
            stride *= dim;
        }
        out.push(values[offset]);
        // Advance the multi-index in C order (last axis fastest).
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            if index[axis] < shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_order_is_transposed() {
        // 2 x 3 array [[1,2,3],[4,5,6]] stored column-major.
        let fortran = [1, 4, 2, 5, 3, 6];
        assert_eq!(fortran_to_c(&fortran, &[2, 3]), vec![1, 2, 3, 4, 5, 6]);
        let cube: Vec<usize> = (0..24).collect();
        let c = fortran_to_c(&cube, &[2, 3, 4]);
        // C element (i, j, k) = Fortran offset i + 2 j + 6 k.
        assert_eq!(c[4 + 1], 2 + 6); // (0, 1, 1)
        assert_eq!(c[12 + 4 + 3], 1 + 2 + 18); // (1, 1, 3)
    }
}
