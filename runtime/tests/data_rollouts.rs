//! Behaviour of the on-policy buffers in `rlc_runtime::data`: rollout storage's time-major
//! layout and minibatches, and sequence replay of whole trajectories.

mod common;

use common::{rng, rollout_fields};
use rlc_runtime::data::{DataError, RolloutStorage, SequenceReplay};

// ---------------------------------------------------------------------------------------------
// Rollout storage
// ---------------------------------------------------------------------------------------------

/// The value stored for field `f`, step `t`, env `e`, component `c`.
fn rollout_value(f: usize, t: usize, e: usize, c: usize) -> f32 {
    (f * 10_000 + t * 100 + e * 10 + c) as f32
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
