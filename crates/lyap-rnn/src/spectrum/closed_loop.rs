//! [`super::compute_spectrum`] of a network run on its own output (`closed_loop`,
//! docs/DESIGN.md section 2.2): each input sequence primes the state open loop, then the
//! [`ClosedLoop`] system runs from that state with fresh tangent vectors.

use super::checks::{check_memory, convert_inputs};
use super::{
    engine_config, run_and_report, ComputeError, InputBatch, Method, SpectrumOptions,
    SpectrumResult, Trajectories, GENERATED_STEPS,
};
use crate::report::ModelInfo;
use crate::stack::{ClosedLoop, Readout, RecurrentStack};
use lyap_core::{autonomous_inputs, Real, TangentSystem, WarmupStyle};
use rayon::prelude::*;

/// The closed-loop spectrum of `stack` through `readout`, primed by `inputs`, `k` exponents.
pub(super) fn run<T: Real>(
    stack: RecurrentStack<T>,
    readout: &Readout,
    inputs: &InputBatch<'_>,
    options: &SpectrumOptions,
    method: Method,
    model: ModelInfo,
    k: usize,
) -> Result<SpectrumResult, ComputeError> {
    if options.paper_compat || method.warmup_style == WarmupStyle::Paper {
        return Err(ComputeError::PaperCompatConflict(
            "--paper-compat measures a driven network; it does not apply to --closed-loop",
        ));
    }
    if let InputBatch::Generated { .. } = inputs {
        return Err(ComputeError::ClosedLoopGenerated);
    }
    let input_size = stack.weights().input_size;
    let converted = convert_inputs::<T>(inputs, input_size)?;
    let parameters = stack.weights().parameter_count() + (readout.weight.len() as u128);
    let starts = prime(&stack, &converted, input_size);
    let closed = ClosedLoop::new(stack, readout)?;
    let starts: Vec<&[T]> = starts.iter().map(Vec::as_slice).collect();
    let sequences = autonomous_inputs::<T>(starts.len());
    let steps = options.steps.unwrap_or(GENERATED_STEPS);
    let config = engine_config(options, method, k, steps);
    check_memory::<T>(
        closed.state_dim(),
        parameters,
        &config,
        options,
        starts.len(),
    )?;
    let trajectories = Trajectories {
        starts: Some(&starts),
        inputs,
        sequences: &sequences,
    };
    run_and_report(&closed, &trajectories, &config, options, method, model)
}

/// The state reached by driving `stack` open loop from the zero state through each sequence
/// (row-major, `input_size` values per step; all of its steps).
fn prime<T: Real, S: AsRef<[T]> + Sync>(
    stack: &RecurrentStack<T>,
    sequences: &[S],
    input_size: usize,
) -> Vec<Vec<T>> {
    sequences
        .par_iter()
        .map(|sequence| {
            let mut workspace = stack.workspace(1);
            for x in sequence.as_ref().chunks_exact(input_size.max(1)) {
                stack.step(&mut workspace, x);
            }
            stack.state(&workspace).to_vec()
        })
        .collect()
}
