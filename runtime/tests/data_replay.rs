//! Behaviour of the replay buffers in `rlc_runtime::data`: uniform replay's ring order,
//! sampling distribution and determinism, and prioritized replay's priorities, weights and
//! beta schedule.

mod common;

use common::{push_item, rng, transition_fields};
use proptest::prelude::*;
use rlc_runtime::data::{DataError, Field, PrioritizedConfig, PrioritizedReplay, ReplayBuffer};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

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
