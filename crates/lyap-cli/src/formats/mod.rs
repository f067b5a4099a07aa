//! Input file formats: `.npy` arrays and safetensors models.

pub mod model;
pub mod npy;
