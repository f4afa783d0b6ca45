//! Behaviour of the experience buffers in `rlc_runtime::data`: ring order, sampling
//! distributions and determinism, prioritized replay's priorities, weights and beta schedule,
//! rollout and sequence layouts, and that steady-state pushing and sampling never allocate.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rlc_runtime::data::{
    DataError, Field, PrioritizedConfig, PrioritizedReplay, ReplayBuffer, RolloutStorage, SequenceReplay,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// An observation of 3 values, a scalar action and a scalar reward.
fn transition_fields() -> Vec<Field> {
    vec![
        Field::new("obs", [3]),
        Field::scalar("action"),
        Field::scalar("reward"),
    ]
}

/// Pushes item `i` with obs `[i, i + 0.25, i + 0.5]`, action `i % 4`, reward `-i`, so every
/// field of a sampled item can be traced back to `i`.
fn push_item(buffer: &mut ReplayBuffer, i: usize) {
    let x = i as f32;
    buffer
        .push(&[&[x, x + 0.25, x + 0.5], &[(i % 4) as f32], &[-x]])
        .unwrap();
}

/// Checks that item `b` of a sampled batch is internally consistent and returns its id.
fn item_id(out: &[Vec<f32>], b: usize) -> usize {
    let x = out[0][3 * b];
    assert_eq!(&out[0][3 * b..3 * b + 3], &[x, x + 0.25, x + 0.5]);
    assert_eq!(out[1][b], (x as usize % 4) as f32);
    assert_eq!(out[2][b], -x);
    x as usize
}

/// Pearson's chi-square statistic of observed counts against expected probabilities.
fn chi_square(counts: &[u64], probs: &[f64]) -> f64 {
    let n: u64 = counts.iter().sum();
    counts
        .iter()
        .zip(probs)
        .map(|(&c, &p)| {
            let e = n as f64 * p;
            (c as f64 - e).powi(2) / e
        })
        .sum()
}

/// A generous acceptance bound for a chi-square statistic with `dof` degrees of freedom (mean
/// `dof`, standard deviation `sqrt(2 dof)`): about six standard deviations.
fn chi_square_bound(dof: usize) -> f64 {
    dof as f64 + 6.0 * (2.0 * dof as f64).sqrt() + 5.0
}

fn per_config(alpha: f64) -> PrioritizedConfig {
    PrioritizedConfig {
        alpha,
        beta_start: 0.4,
        beta_end: 1.0,
        beta_steps: 10,
        eps: 1e-6,
    }
}

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
// Uniform replay
// ---------------------------------------------------------------------------------------------

#[test]
fn replay_ring_overwrites_oldest_first() {
    let mut b = ReplayBuffer::new(&transition_fields(), 4).unwrap();
    assert!(b.is_empty());
    for i in 0..3 {
        push_item(&mut b, i);
    }
    assert_eq!((b.len(), b.is_full(), b.write_slot()), (3, false, 3));
    let ages: Vec<usize> = (0..3).map(|a| b.slot(a).unwrap()).collect();
    assert_eq!(ages, [0, 1, 2]);

    for i in 3..6 {
        push_item(&mut b, i);
    }
    // Items 0 and 1 were overwritten by 4 and 5, in that order.
    assert_eq!(
        (b.len(), b.capacity(), b.is_full(), b.write_slot()),
        (4, 4, true, 2)
    );
    assert_eq!(b.column(2), [-4.0, -5.0, -2.0, -3.0]);
    assert_eq!(&b.column(0)[..3], [4.0, 4.25, 4.5]);
    let by_age: Vec<f32> = (0..4).map(|a| -b.column(2)[b.slot(a).unwrap()]).collect();
    assert_eq!(by_age, [2.0, 3.0, 4.0, 5.0]);
    assert_eq!(b.slot(4), None);

    b.clear();
    assert!(b.is_empty());
    assert_eq!(b.column(0), [] as [f32; 0]);
}

#[test]
fn replay_push_many_stores_n_environments_in_order() {
    let fields = [Field::new("obs", [2]), Field::scalar("done")];
    let mut b = ReplayBuffer::new(&fields, 5).unwrap();
    // Three environments per step; 2 steps = 6 items > capacity 5.
    for step in 0..2 {
        let obs: Vec<f32> = (0..3).flat_map(|e| [step as f32, e as f32]).collect();
        let done: Vec<f32> = (0..3).map(|e| (step * 3 + e) as f32).collect();
        b.push_many(3, &[&obs, &done]).unwrap();
    }
    assert_eq!(b.len(), 5);
    let order: Vec<f32> = (0..5).map(|a| b.column(1)[b.slot(a).unwrap()]).collect();
    assert_eq!(order, [1.0, 2.0, 3.0, 4.0, 5.0]);
    let err = b.push_many(2, &[&[0.0; 4], &[0.0; 3]]).unwrap_err();
    assert_eq!(
        err,
        DataError::FieldLength {
            field: "done".into(),
            expected: 2,
            got: 3
        }
    );
    assert_eq!(b.write_slot(), 1, "a failed push writes nothing");
}

#[test]
fn replay_samples_uniformly_over_all_items() {
    let capacity = 50;
    let mut b = ReplayBuffer::new(&transition_fields(), capacity).unwrap();
    // Wrap around once so the stored items are 30..80.
    for i in 0..80 {
        push_item(&mut b, i);
    }
    let mut r = rng(7);
    let mut out = vec![Vec::new(); 3];
    let mut counts = vec![0u64; capacity];
    for _ in 0..2000 {
        b.sample(&mut r, 64, &mut out).unwrap();
        for k in 0..64 {
            let id = item_id(&out, k);
            assert!((30..80).contains(&id), "sampled overwritten item {id}");
            counts[id - 30] += 1;
        }
    }
    assert!(counts.iter().all(|&c| c > 0));
    let stat = chi_square(&counts, &vec![1.0 / capacity as f64; capacity]);
    assert!(stat < chi_square_bound(capacity - 1), "chi-square {stat}");
}

#[test]
fn replay_sampling_is_deterministic_per_seed() {
    let mut b = ReplayBuffer::new(&transition_fields(), 100).unwrap();
    for i in 0..100 {
        push_item(&mut b, i);
    }
    let draw = |seed: u64| {
        let mut r = rng(seed);
        let mut out = vec![Vec::new(); 3];
        b.sample(&mut r, 32, &mut out).unwrap();
        out
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));

    // `sample` = `sample_indices` + `gather` for the same generator state.
    let mut indices = [0usize; 32];
    b.sample_indices(&mut rng(3), &mut indices).unwrap();
    let mut gathered = vec![Vec::new(); 3];
    b.gather(&indices, &mut gathered).unwrap();
    assert_eq!(gathered, draw(3));
    for (k, &slot) in indices.iter().enumerate() {
        assert_eq!(item_id(&gathered, k), slot);
    }
}

#[test]
fn replay_reports_bad_input_without_panicking() {
    let mut b = ReplayBuffer::new(&transition_fields(), 8).unwrap();
    let mut out = vec![Vec::new(); 3];
    assert_eq!(b.sample(&mut rng(0), 4, &mut out), Err(DataError::Empty));
    push_item(&mut b, 0);
    assert_eq!(b.sample(&mut rng(0), 0, &mut out), Err(DataError::ZeroBatch));
    assert!(matches!(
        b.sample(&mut rng(0), 4, &mut out[..2]),
        Err(DataError::LengthMismatch {
            expected: 3,
            got: 2,
            ..
        })
    ));
    assert_eq!(
        b.gather(&[0, 5], &mut out),
        Err(DataError::IndexOutOfRange { index: 5, len: 1 })
    );
    assert!(matches!(
        b.push(&[&[1.0, 2.0], &[0.0], &[0.0]]),
        Err(DataError::FieldLength { .. })
    ));
    assert_eq!(b.push(&[]), Err(DataError::FieldCount { expected: 3, got: 0 }));
    assert_eq!(b.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Prioritized replay
// ---------------------------------------------------------------------------------------------

/// A prioritized buffer whose item `i` (in slot `i`) has raw priority `tds[i]`.
fn per_with(tds: &[f32], config: PrioritizedConfig) -> PrioritizedReplay {
    let mut p = PrioritizedReplay::new(&[Field::scalar("id")], tds.len(), config).unwrap();
    for i in 0..tds.len() {
        p.push(&[&[i as f32]]).unwrap();
    }
    let slots: Vec<usize> = (0..tds.len()).collect();
    p.update_priorities(&slots, tds).unwrap();
    p
}

/// Sampling frequencies of each slot over `batches` batches of `batch`.
fn per_counts(p: &mut PrioritizedReplay, seed: u64, batches: usize, batch: usize) -> Vec<u64> {
    let mut r = rng(seed);
    let mut out = vec![Vec::new()];
    let mut idx = vec![0; batch];
    let mut w = vec![0.0; batch];
    let mut counts = vec![0u64; p.len()];
    for _ in 0..batches {
        p.sample(&mut r, batch, &mut out, &mut idx, &mut w).unwrap();
        for (k, &slot) in idx.iter().enumerate() {
            assert_eq!(out[0][k], slot as f32, "out holds the item in the returned slot");
            counts[slot] += 1;
        }
    }
    counts
}

fn expected_probs(tds: &[f32], config: &PrioritizedConfig) -> Vec<f64> {
    let p: Vec<f64> = tds
        .iter()
        .map(|&t| (f64::from(t).abs() + config.eps).powf(config.alpha))
        .collect();
    let total: f64 = p.iter().sum();
    p.iter().map(|x| x / total).collect()
}

#[test]
fn per_frequencies_follow_priority_to_the_alpha() {
    let tds = [0.1f32, 0.5, 1.0, 2.0, 4.0, 8.0];
    let config = per_config(0.6);
    let mut p = per_with(&tds, config);
    let counts = per_counts(&mut p, 11, 3000, 16);
    let probs = expected_probs(&tds, &config);
    let stat = chi_square(&counts, &probs);
    assert!(
        stat < chi_square_bound(tds.len() - 1),
        "chi-square {stat}, counts {counts:?}"
    );
    for (i, &q) in probs.iter().enumerate() {
        assert!((p.priority(i).unwrap() / p.total_priority() - q).abs() < 1e-12);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn per_frequencies_converge_to_normalized_priorities(
        tds in prop::collection::vec(0.05f32..10.0, 2..12),
        alpha in 0.0f64..1.0,
        batch in 1usize..40,
        seed in any::<u64>(),
    ) {
        let config = per_config(alpha);
        let mut p = per_with(&tds, config);
        let batches = 20_000usize.div_ceil(batch);
        let counts = per_counts(&mut p, seed, batches, batch);
        let stat = chi_square(&counts, &expected_probs(&tds, &config));
        prop_assert!(stat < chi_square_bound(tds.len() - 1), "chi-square {} counts {:?}", stat, counts);
    }
}

#[test]
fn per_weights_are_normalized_by_the_global_minimum() {
    let tds = [1.0f32, 3.0, 0.5, 2.0];
    let config = PrioritizedConfig {
        alpha: 0.7,
        beta_start: 0.5,
        beta_end: 0.5,
        beta_steps: 0,
        eps: 0.01,
    };
    let mut p = per_with(&tds, config);
    let prio: Vec<f64> = tds.iter().map(|&t| (f64::from(t) + 0.01).powf(0.7)).collect();
    let min = prio[2];
    let mut r = rng(5);
    let mut out = vec![Vec::new()];
    let (mut idx, mut w) = ([0usize; 8], [0f32; 8]);
    let mut saw_min = false;
    for _ in 0..200 {
        p.sample(&mut r, 8, &mut out, &mut idx, &mut w).unwrap();
        for (&slot, &weight) in idx.iter().zip(&w) {
            assert!(weight > 0.0 && weight <= 1.0, "weight {weight}");
            // The paper's w_i = (N P(i))^-beta / max_j w_j, computed the long way.
            let n = tds.len() as f64;
            let total: f64 = prio.iter().sum();
            let expected = (n * prio[slot] / total).powf(-0.5) / (n * min / total).powf(-0.5);
            assert!(
                (f64::from(weight) - expected).abs() < 1e-6,
                "slot {slot}: {weight} vs {expected}"
            );
        }
        // The global-minimum item, when drawn, is the batch's least likely item and weighs 1.
        if let Some(k) = idx.iter().position(|&s| s == 2) {
            saw_min = true;
            assert_eq!(w[k], 1.0);
            assert_eq!(w.iter().copied().fold(0.0, f32::max), 1.0);
        }
    }
    assert!(saw_min);
}

#[test]
fn per_beta_anneals_linearly_to_beta_end() {
    let config = PrioritizedConfig {
        alpha: 0.6,
        beta_start: 0.4,
        beta_end: 1.0,
        beta_steps: 4,
        eps: 1e-6,
    };
    let mut p = per_with(&[1.0, 2.0], config);
    let mut r = rng(0);
    let mut out = vec![Vec::new()];
    let (mut idx, mut w) = ([0usize; 2], [0f32; 2]);
    let mut betas = Vec::new();
    for _ in 0..6 {
        betas.push(p.beta());
        p.sample(&mut r, 2, &mut out, &mut idx, &mut w).unwrap();
    }
    let expected = [0.4, 0.55, 0.7, 0.85, 1.0, 1.0];
    for (b, e) in betas.iter().zip(expected) {
        assert!((b - e).abs() < 1e-12, "{betas:?}");
    }
    assert_eq!(p.beta(), 1.0);
    assert_eq!(p.sample_calls(), 6);
    // With beta = 1, weights are exactly p_min / p_i.
    let ratio = (1.0f64 + 1e-6).powf(0.6) / (2.0f64 + 1e-6).powf(0.6);
    for (&slot, &weight) in idx.iter().zip(&w) {
        let expected = if slot == 0 { 1.0 } else { ratio };
        assert!((f64::from(weight) - expected).abs() < 1e-6);
    }
    // A failed call does not advance the schedule.
    assert!(p.sample(&mut r, 3, &mut out, &mut idx, &mut w).is_err());
    assert_eq!(p.sample_calls(), 6);
}

#[test]
fn per_update_priorities_changes_sampling() {
    let config = per_config(1.0);
    let mut p = per_with(&[1.0, 1.0, 1.0, 1.0], config);
    let before = per_counts(&mut p, 1, 500, 8);
    assert!(before.iter().all(|&c| c > 700), "{before:?}");
    // Slot 3 becomes 97 times as likely as each of the others.
    p.update_priorities(&[3, 0], &[97.0, 1.0]).unwrap();
    let after = per_counts(&mut p, 1, 500, 8);
    assert!(after[3] > 3800, "{after:?}");
    // Negative TD errors count by magnitude.
    p.update_priorities(&[3], &[-1.0]).unwrap();
    assert_eq!(p.priority(3), p.priority(0));
}

#[test]
fn per_new_items_get_the_maximum_priority() {
    let config = per_config(0.5);
    let mut p = PrioritizedReplay::new(&[Field::scalar("id")], 4, config).unwrap();
    p.push(&[&[0.0]]).unwrap();
    assert_eq!(p.priority(0), Some(1.0), "max priority starts at 1");
    p.update_priorities(&[0], &[8.0]).unwrap();
    assert!((p.max_priority() - (8.0 + 1e-6)).abs() < 1e-12);
    p.push_many(2, &[&[1.0, 2.0]]).unwrap();
    let expected = (8.0f64 + 1e-6).sqrt();
    assert_eq!(p.priority(1), Some(expected));
    assert_eq!(p.priority(2), Some(expected));
    assert_eq!(p.priority(3), None);
    // A lower update does not lower the maximum.
    p.update_priorities(&[0], &[0.0]).unwrap();
    assert!((p.max_priority() - (8.0 + 1e-6)).abs() < 1e-12);
    // Ring overwrite: the slot of the oldest item gets the maximum priority again.
    p.push_many(2, &[&[3.0, 4.0]]).unwrap();
    assert_eq!(p.buffer().column(0), [4.0, 1.0, 2.0, 3.0]);
    assert_eq!(p.priority(0), Some(expected));
}

#[test]
fn per_rejects_bad_priorities_and_config() {
    let mut p = per_with(&[1.0, 2.0], per_config(0.6));
    let before = (p.priority(0), p.priority(1), p.max_priority());
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let err = p.update_priorities(&[0, 1], &[3.0, bad]).unwrap_err();
        assert!(
            matches!(err, DataError::InvalidPriority { position: 1, .. }),
            "{err}"
        );
    }
    assert_eq!(
        p.update_priorities(&[0, 2], &[1.0, 1.0]),
        Err(DataError::IndexOutOfRange { index: 2, len: 2 })
    );
    assert!(matches!(
        p.update_priorities(&[0], &[1.0, 1.0]),
        Err(DataError::LengthMismatch { .. })
    ));
    assert_eq!(
        (p.priority(0), p.priority(1), p.max_priority()),
        before,
        "errors change nothing"
    );

    // A priority that overflows once raised to alpha.
    let mut steep = per_with(
        &[1.0],
        PrioritizedConfig {
            alpha: 10.0,
            ..per_config(0.6)
        },
    );
    assert!(matches!(
        steep.update_priorities(&[0], &[1e38]),
        Err(DataError::InvalidPriority { .. })
    ));

    let fields = [Field::scalar("x")];
    for config in [
        PrioritizedConfig {
            alpha: -0.1,
            ..Default::default()
        },
        PrioritizedConfig {
            alpha: f64::NAN,
            ..Default::default()
        },
        PrioritizedConfig {
            beta_start: 1.5,
            ..Default::default()
        },
        PrioritizedConfig {
            beta_end: -0.5,
            ..Default::default()
        },
        PrioritizedConfig {
            eps: f64::INFINITY,
            ..Default::default()
        },
    ] {
        assert!(matches!(
            PrioritizedReplay::new(&fields, 4, config),
            Err(DataError::InvalidParameter { .. })
        ));
    }

    // All priorities zero (eps = 0): nothing can be drawn, which is an error, not a panic.
    let zero = PrioritizedConfig {
        eps: 0.0,
        ..per_config(0.6)
    };
    let mut z = per_with(&[0.0, 0.0], zero);
    let mut out = vec![Vec::new()];
    let err = z
        .sample(&mut rng(0), 2, &mut out, &mut [0; 2], &mut [0.0; 2])
        .unwrap_err();
    assert_eq!(err, DataError::DegeneratePriorities { total: 0.0 });
    // One positive priority: only that item is drawn, and it weighs 1.
    z.update_priorities(&[1], &[2.0]).unwrap();
    let (mut idx, mut w) = ([0usize; 4], [0f32; 4]);
    z.sample(&mut rng(0), 4, &mut out, &mut idx, &mut w).unwrap();
    assert_eq!((idx, w), ([1; 4], [1.0; 4]));

    let mut empty = PrioritizedReplay::new(&fields, 4, Default::default()).unwrap();
    assert_eq!(
        empty.sample(&mut rng(0), 1, &mut out, &mut [0], &mut [0.0]),
        Err(DataError::Empty)
    );
}

#[test]
fn per_sampling_is_deterministic_per_seed() {
    let tds = [0.3f32, 1.0, 2.5, 0.7, 5.0];
    let draw = |seed: u64| {
        let mut p = per_with(&tds, per_config(0.6));
        let mut out = vec![Vec::new()];
        let (mut idx, mut w) = (vec![0; 16], vec![0.0; 16]);
        p.sample(&mut rng(seed), 16, &mut out, &mut idx, &mut w).unwrap();
        (out, idx, w)
    };
    assert_eq!(draw(9), draw(9));
    assert_ne!(draw(9).1, draw(10).1);
}

// ---------------------------------------------------------------------------------------------
// Rollout storage
// ---------------------------------------------------------------------------------------------

/// The value stored for field `f`, step `t`, env `e`, component `c`.
fn rollout_value(f: usize, t: usize, e: usize, c: usize) -> f32 {
    (f * 10_000 + t * 100 + e * 10 + c) as f32
}

fn rollout_fields() -> Vec<Field> {
    vec![Field::new("obs", [2, 2]), Field::scalar("reward")]
}

/// Pushes step `t` for all envs of `r`.
fn push_rollout_step(r: &mut RolloutStorage, t: usize) {
    let envs = r.envs();
    let obs: Vec<f32> = (0..envs)
        .flat_map(|e| (0..4).map(move |c| rollout_value(0, t, e, c)))
        .collect();
    let rew: Vec<f32> = (0..envs).map(|e| rollout_value(1, t, e, 0)).collect();
    r.push_step(&[&obs, &rew]).unwrap();
}

#[test]
fn rollout_is_time_major() {
    let (steps, envs) = (5, 3);
    let mut r = RolloutStorage::new(&rollout_fields(), steps, envs).unwrap();
    for t in 0..steps {
        assert_eq!(r.len(), t);
        push_rollout_step(&mut r, t);
    }
    assert_eq!(r.column(0).len(), steps * envs * 4);
    assert_eq!(r.column(1).len(), steps * envs);
    for t in 0..steps {
        for e in 0..envs {
            for c in 0..4 {
                assert_eq!(r.column(0)[(t * envs + e) * 4 + c], rollout_value(0, t, e, c));
            }
            assert_eq!(r.column(1)[t * envs + e], rollout_value(1, t, e, 0));
        }
    }
}

#[test]
fn rollout_full_and_clear() {
    let mut r = RolloutStorage::new(&rollout_fields(), 2, 2).unwrap();
    assert!(r.is_empty() && !r.is_full());
    push_rollout_step(&mut r, 0);
    push_rollout_step(&mut r, 1);
    assert!(r.is_full());
    let err = r.push_step(&[&[0.0; 8], &[0.0; 2]]).unwrap_err();
    assert_eq!(err, DataError::RolloutFull { steps: 2 });
    assert_eq!(r.len(), 2);

    r.clear();
    assert!(r.is_empty() && !r.is_full());
    assert!(r.column(0).is_empty());
    push_rollout_step(&mut r, 7);
    assert_eq!(r.len(), 1);
    assert_eq!(
        r.column(1),
        [rollout_value(1, 7, 0, 0), rollout_value(1, 7, 1, 0)]
    );
    r.column_mut(1)[1] = -1.0;
    assert_eq!(r.column(1)[1], -1.0);
}

#[test]
fn rollout_minibatches_are_a_permutation() {
    let (steps, envs) = (6, 4);
    let mut r = RolloutStorage::new(&rollout_fields(), steps, envs).unwrap();
    for t in 0..steps {
        push_rollout_step(&mut r, t);
    }
    let mut order = Vec::new();
    let count = r.minibatch_indices(&mut rng(2), 5, &mut order).unwrap();
    assert_eq!(count, 5, "ceil(24 / 5)");
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..steps * envs).collect::<Vec<_>>());
    assert_ne!(order, sorted, "shuffled");
    assert_eq!(order.chunks(5).count(), count);

    // Same seed, same permutation; another epoch reuses `order`.
    let mut again = Vec::new();
    r.minibatch_indices(&mut rng(2), 5, &mut again).unwrap();
    assert_eq!(order, again);

    let mut out = vec![Vec::new(); 2];
    let mut seen = vec![false; steps * envs];
    for mb in order.chunks(5) {
        r.gather_flat(mb, &mut out).unwrap();
        assert_eq!(out[0].len(), mb.len() * 4);
        for (m, &flat) in mb.iter().enumerate() {
            let (t, e) = (flat / envs, flat % envs);
            for c in 0..4 {
                assert_eq!(out[0][m * 4 + c], rollout_value(0, t, e, c));
            }
            assert_eq!(out[1][m], rollout_value(1, t, e, 0));
            seen[flat] = true;
        }
    }
    assert!(seen.iter().all(|&s| s));
}

// ---------------------------------------------------------------------------------------------
// Sequence replay
// ---------------------------------------------------------------------------------------------

/// A full rollout whose values encode `(rollout id, t, env)`.
fn tagged_rollout(id: usize, steps: usize, envs: usize) -> RolloutStorage {
    let mut r = RolloutStorage::new(&rollout_fields(), steps, envs).unwrap();
    for t in 0..steps {
        let obs: Vec<f32> = (0..envs)
            .flat_map(|e| (0..4).map(move |c| (id * 1000 + t * 10 + e) as f32 + c as f32 * 0.125))
            .collect();
        let rew: Vec<f32> = (0..envs).map(|e| -((id * 1000 + t * 10 + e) as f32)).collect();
        r.push_step(&[&obs, &rew]).unwrap();
    }
    r
}

#[test]
fn sequence_replay_samples_whole_trajectories_time_major() {
    let (steps, envs, batch) = (4, 3, 5);
    let mut s = SequenceReplay::new(&rollout_fields(), 8, steps).unwrap();
    // Rollouts 0..4 give 12 sequences; the ring keeps the last 8: rollout 1 env 1 onwards.
    for id in 0..4 {
        s.push_rollout(&tagged_rollout(id, steps, envs)).unwrap();
    }
    assert_eq!((s.len(), s.capacity(), s.length()), (8, 8, steps));
    let kept: Vec<(usize, usize)> = (1..4)
        .flat_map(|id| (0..envs).map(move |e| (id, e)))
        .skip(1)
        .collect();

    let mut out = vec![Vec::new(); 2];
    let mut drawn = std::collections::HashSet::new();
    let mut r = rng(4);
    for _ in 0..50 {
        s.sample(&mut r, batch, &mut out).unwrap();
        assert_eq!(out[0].len(), steps * batch * 4);
        assert_eq!(out[1].len(), steps * batch);
        for b in 0..batch {
            // Step 0 identifies the rollout and the env; every later step must continue it.
            let tag = -out[1][b] as usize;
            let (id, e) = (tag / 1000, tag % 10);
            assert!(kept.contains(&(id, e)), "sampled overwritten sequence {id}/{e}");
            drawn.insert((id, e));
            for t in 0..steps {
                let v = (id * 1000 + t * 10 + e) as f32;
                assert_eq!(out[1][t * batch + b], -v);
                for c in 0..4 {
                    assert_eq!(out[0][(t * batch + b) * 4 + c], v + c as f32 * 0.125);
                }
            }
        }
    }
    assert_eq!(drawn.len(), kept.len(), "every stored sequence is drawn");

    // Age order and gather: the oldest kept sequence is rollout 1, env 1.
    let mut one = vec![Vec::new(); 2];
    s.gather(&[s.slot(0).unwrap()], &mut one).unwrap();
    assert_eq!(one[1], [-1001.0, -1011.0, -1021.0, -1031.0]);

    // sample = sample_indices + gather, for the same generator state.
    let mut idx = [0usize; 5];
    s.sample_indices(&mut rng(8), &mut idx).unwrap();
    let mut gathered = vec![Vec::new(); 2];
    s.gather(&idx, &mut gathered).unwrap();
    s.sample(&mut rng(8), batch, &mut out).unwrap();
    assert_eq!(gathered, out);
}

#[test]
fn sequence_replay_errors() {
    let mut s = SequenceReplay::new(&rollout_fields(), 4, 3).unwrap();
    let mut out = vec![Vec::new(); 2];
    assert_eq!(s.sample(&mut rng(0), 2, &mut out), Err(DataError::Empty));
    assert_eq!(
        s.push_rollout(&tagged_rollout(0, 2, 2)),
        Err(DataError::SequenceLength { expected: 3, got: 2 })
    );
    let mut partial = RolloutStorage::new(&rollout_fields(), 3, 2).unwrap();
    push_rollout_step(&mut partial, 0);
    assert_eq!(
        s.push_rollout(&partial),
        Err(DataError::RolloutNotFull { len: 1, steps: 3 })
    );
    s.push_rollout(&tagged_rollout(0, 3, 2)).unwrap();
    assert_eq!(s.sample(&mut rng(0), 0, &mut out), Err(DataError::ZeroBatch));
    assert_eq!(
        s.gather(&[2], &mut out),
        Err(DataError::IndexOutOfRange { index: 2, len: 2 })
    );
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
