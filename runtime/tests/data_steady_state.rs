//! The data buffers' steady state: pushing and sampling never allocate once warmed up, and
//! their errors read well.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{push_item, rng, rollout_fields, transition_fields};
use rand_chacha::ChaCha8Rng;
use rlc_runtime::data::{
    DataError, PrioritizedConfig, PrioritizedReplay, ReplayBuffer, RolloutStorage, SequenceReplay,
};

// ---------------------------------------------------------------------------------------------
// Counting allocator (per thread, so tests running in parallel do not disturb each other)
// ---------------------------------------------------------------------------------------------

struct CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_allocation() {
    // `try_with`: the slot may already be gone while a thread shuts down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards every call unchanged to the system allocator.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

// ---------------------------------------------------------------------------------------------
// Allocation-free steady state and errors
// ---------------------------------------------------------------------------------------------

#[test]
fn steady_state_push_and_sample_do_not_allocate() {
    let mut r = rng(0);

    // Uniform replay: push one and push many, sample, sample_indices + gather.
    let mut replay = ReplayBuffer::new(&transition_fields(), 256).unwrap();
    let mut out = vec![Vec::new(); 3];
    let mut idx = vec![0usize; 32];
    let (obs, act, rew) = ([1.0f32; 12], [0.0f32; 4], [0.5f32; 4]);
    for i in 0..300 {
        push_item(&mut replay, i);
    }
    replay.sample(&mut r, 32, &mut out).unwrap();

    // Prioritized replay.
    let mut per = PrioritizedReplay::new(&transition_fields(), 256, PrioritizedConfig::default()).unwrap();
    per.push_many(4, &[&obs, &act, &rew]).unwrap();
    let mut per_out = vec![Vec::new(); 3];
    let (mut per_idx, mut weights, td) = (vec![0usize; 32], vec![0f32; 32], vec![0.3f32; 32]);
    per.sample(&mut r, 32, &mut per_out, &mut per_idx, &mut weights)
        .unwrap();

    // Rollout and sequence replay.
    let mut rollout = RolloutStorage::new(&rollout_fields(), 8, 4).unwrap();
    let mut seq = SequenceReplay::new(&rollout_fields(), 64, 8).unwrap();
    let mut order = Vec::new();
    let mut mb_out = vec![Vec::new(); 2];
    let mut seq_out = vec![Vec::new(); 2];
    let step_obs = [2.0f32; 16];
    let step_rew = [1.0f32; 4];
    let mut rollout_cycle = |rollout: &mut RolloutStorage, seq: &mut SequenceReplay, r: &mut ChaCha8Rng| {
        rollout.clear();
        while !rollout.is_full() {
            rollout.push_step(&[&step_obs, &step_rew]).unwrap();
        }
        rollout.minibatch_indices(r, 8, &mut order).unwrap();
        for mb in order.chunks(8) {
            rollout.gather_flat(mb, &mut mb_out).unwrap();
        }
        seq.push_rollout(rollout).unwrap();
        seq.sample(r, 16, &mut seq_out).unwrap();
    };
    rollout_cycle(&mut rollout, &mut seq, &mut r);

    let before = allocations();
    for i in 0..1000 {
        push_item(&mut replay, i);
        replay.push_many(4, &[&obs, &act, &rew]).unwrap();
        replay.sample(&mut r, 32, &mut out).unwrap();
        replay.sample_indices(&mut r, &mut idx).unwrap();
        replay.gather(&idx, &mut out).unwrap();

        per.push_many(4, &[&obs, &act, &rew]).unwrap();
        per.sample(&mut r, 32, &mut per_out, &mut per_idx, &mut weights)
            .unwrap();
        per.update_priorities(&per_idx, &td).unwrap();

        if i % 10 == 0 {
            rollout_cycle(&mut rollout, &mut seq, &mut r);
        }
    }
    let allocated = allocations() - before;
    assert_eq!(
        allocated, 0,
        "steady-state pushing and sampling allocated {allocated} times"
    );
}

#[test]
fn errors_have_readable_messages() {
    let errors = [
        DataError::ZeroCapacity {
            what: "replay capacity",
        },
        DataError::NoFields,
        DataError::DuplicateField("obs".into()),
        DataError::FieldLength {
            field: "obs".into(),
            expected: 3,
            got: 2,
        },
        DataError::Empty,
        DataError::ZeroBatch,
        DataError::InvalidPriority {
            position: 4,
            value: f32::NAN,
        },
        DataError::RolloutNotFull { len: 1, steps: 3 },
    ];
    for e in &errors {
        let boxed: Box<dyn std::error::Error> = Box::new(e.clone());
        assert!(!boxed.to_string().is_empty());
    }
    assert_eq!(errors[3].to_string(), "field `obs`: expected 3 values, got 2");
    assert_eq!(errors[4].to_string(), "cannot sample from an empty buffer");
}
