//! Storing one vectorised step: the transition's fields, through n-step windows where a
//! data source has them, into every storage the schedule names (and the backend's mirror).

use super::Store;
use super::setup::Src;
use crate::data::{NStepAdder, SequenceReplay};
use crate::error::RunError;
use rlc_compiler::backend::{Backend, ReplayId};

/// Writes one vector step into every storage the schedule names (through its n-step windows,
/// if it has them: then the items the step completed are what enters the ring).
#[allow(clippy::too_many_arguments)]
pub(super) fn store_transition(
    plan: &[Vec<Src>],
    into: &[usize],
    fields: &mut [Vec<Vec<f32>>],
    adders: &mut [Option<NStepAdder>],
    obs: &[f32],
    act: &[f32],
    batch: &crate::envs::StepBatch,
    extras: &[Vec<f32>],
    stores: &mut [Store],
    on_device: &[Option<ReplayId>],
    backend: &mut dyn Backend,
) -> Result<(), RunError> {
    let n = batch.reward.len();
    for (k, si) in into.iter().enumerate() {
        for (src, buf) in plan[k].iter().zip(fields[k].iter_mut()) {
            match src {
                Src::Obs => buf.copy_from_slice(obs),
                Src::Action => buf.copy_from_slice(act),
                Src::Reward => buf.copy_from_slice(&batch.reward),
                Src::NextObs => buf.copy_from_slice(&batch.final_obs),
                Src::Terminated => flags(buf, &batch.terminated, None),
                Src::Truncated => flags(buf, &batch.truncated, None),
                Src::End => flags(buf, &batch.terminated, Some(&batch.truncated)),
                Src::One => buf.fill(1.0),
                Src::Extra(i) => buf.copy_from_slice(&extras[*i]),
                Src::Derived => {}
            }
        }
        let f = &fields[k];
        // At most a handful of fields: a stack array avoids allocating per step.
        let mut slices: [&[f32]; 16] = [&[]; 16];
        if f.len() > slices.len() {
            return Err(RunError::Setup("at most 16 stored fields are supported".into()));
        }
        for (d, v) in slices.iter_mut().zip(f) {
            *d = v.as_slice();
        }
        let mut items = n;
        if let Some(adder) = &mut adders[*si] {
            items = adder.add(&slices[..f.len()], &batch.terminated, &batch.truncated)?;
            if items == 0 {
                continue;
            }
            for (d, v) in slices.iter_mut().zip(adder.items()) {
                *d = v;
            }
        }
        let added = stores[*si].push(items, &slices[..f.len()])?;
        if let Some(id) = on_device[*si] {
            match &stores[*si] {
                Store::Sequence { replay, .. } => push_sequences(backend, id, replay, added)?,
                _ => rlc_compiler::backend::require_replay(backend)?.replay_push(
                    id,
                    items,
                    &slices[..f.len()],
                )?,
            }
        }
    }
    Ok(())
}

/// Copies the `added` newest sequences of the host ring to the backend's ring, oldest first,
/// so both hold the same sequences in the same slots.
fn push_sequences(
    backend: &mut dyn Backend,
    id: ReplayId,
    replay: &SequenceReplay,
    added: usize,
) -> Result<(), RunError> {
    let fields = replay.fields().len();
    if fields > 16 {
        return Err(RunError::Setup("at most 16 stored fields are supported".into()));
    }
    let kept = added.min(replay.capacity());
    for age in replay.len() - kept..replay.len() {
        let slot = replay.slot(age).expect("age < len");
        let mut slices: [&[f32]; 16] = [&[]; 16];
        for (f, d) in slices.iter_mut().enumerate().take(fields) {
            *d = replay.sequence(f, slot);
        }
        rlc_compiler::backend::require_replay(backend)?.replay_push(id, 1, &slices[..fields])?;
    }
    Ok(())
}

fn flags(buf: &mut [f32], a: &[bool], b: Option<&[bool]>) {
    for (i, d) in buf.iter_mut().enumerate() {
        let v = a[i] || b.is_some_and(|b| b[i]);
        *d = if v { 1.0 } else { 0.0 };
    }
}
