//! Conformance of the vectorised environment wrapper with Gymnasium 1.4's semantics: time
//! limit, auto-reset, `final_obs` and determinism against a hand-driven replica; stepping
//! without allocating; and errors instead of panics for bad ids, actions and buffers.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rand::{RngExt, SeedableRng};
use rlc_runtime::ActionSpace;
use rlc_runtime::envs::{self, Action, Env, EnvError, EnvRng, StepBatch, VecEnv, copy_rng};

// ---------------------------------------------------------------------------------------------
// Vectorised environment
// ---------------------------------------------------------------------------------------------

/// Deterministic pseudo-random actions for a whole batch; continuous ones reach 1.5x the bounds
/// so clipping is exercised.
fn random_actions(id: &str, n: usize, rng: &mut EnvRng) -> (Vec<i32>, Vec<f32>) {
    match envs::spec(id).unwrap().action {
        ActionSpace::Discrete { n: k } => (
            (0..n).map(|_| rng.random_range(0..k as i32)).collect(),
            Vec::new(),
        ),
        ActionSpace::Continuous { dim, low, high } => {
            let acts = (0..n * dim)
                .map(|j| 1.5 * rng.random_range(low[j % dim]..high[j % dim]))
                .collect();
            (Vec::new(), acts)
        }
    }
}

fn step_vec<'a>(venv: &'a mut VecEnv, acts: &(Vec<i32>, Vec<f32>)) -> &'a StepBatch {
    if venv.spec().action.is_discrete() {
        venv.step_discrete(&acts.0).unwrap()
    } else {
        venv.step_continuous(&acts.1).unwrap()
    }
}

/// Drives a `VecEnv` and, in lock-step, one hand-managed env per copy (same seeding, own time
/// limit) and checks that every field of every batch agrees with the replica.
fn check_against_replica(id: &str, n: usize, seed: u64, steps: usize) -> usize {
    let mut venv = VecEnv::new(id, n, seed).unwrap();
    let spec = venv.spec().clone();
    let d = spec.obs_dim;
    let mut replicas: Vec<(Box<dyn Env>, EnvRng, usize, f64)> = (0..n)
        .map(|i| (envs::make(id).unwrap(), copy_rng(seed, i), 0, 0.0))
        .collect();
    let mut obs = vec![0.0f32; n * d];
    for (i, (env, rng, _, _)) in replicas.iter_mut().enumerate() {
        env.reset(rng, &mut obs[i * d..(i + 1) * d]).unwrap();
    }
    assert_eq!(venv.obs(), &obs[..], "{id}: initial observations");

    let mut action_rng = EnvRng::seed_from_u64(seed ^ 0xACE);
    let mut episodes = 0;
    for t in 0..steps {
        let acts = random_actions(id, n, &mut action_rng);
        let batch = step_vec(&mut venv, &acts).clone();
        let mut finished = Vec::new();
        for (i, (env, rng, len, ret)) in replicas.iter_mut().enumerate() {
            let action = if spec.action.is_discrete() {
                Action::Discrete(i64::from(acts.0[i]))
            } else {
                let dim = spec.action.flat_dim();
                Action::Continuous(&acts.1[i * dim..(i + 1) * dim])
            };
            let chunk = &mut obs[i * d..(i + 1) * d];
            let r = env.step(action, chunk).unwrap();
            *len += 1;
            *ret += r.reward;
            let truncated = !r.terminated && *len == spec.max_episode_steps;
            assert_eq!(batch.reward[i], r.reward as f32, "{id} t={t} copy {i}");
            assert_eq!(batch.terminated[i], r.terminated, "{id} t={t} copy {i}");
            assert_eq!(batch.truncated[i], truncated, "{id} t={t} copy {i}");
            assert_eq!(&batch.final_obs[i * d..(i + 1) * d], &chunk[..], "{id} t={t}");
            if r.terminated || truncated {
                finished.push((i, *ret, *len));
                assert!(*len <= spec.max_episode_steps);
                env.reset(rng, chunk).unwrap();
                (*len, *ret) = (0, 0.0);
            }
        }
        assert_eq!(batch.obs, obs, "{id} t={t}: observations after auto-reset");
        let got: Vec<_> = batch
            .finished
            .iter()
            .map(|f| (f.copy, f.episode_return, f.length))
            .collect();
        assert_eq!(got, finished, "{id} t={t}: finished episodes");
        episodes += finished.len();
    }
    episodes
}

#[test]
fn conformance_vec_env_matches_replica_for_every_env() {
    for &id in envs::known_ids() {
        let steps = 2 * envs::spec(id).unwrap().max_episode_steps + 50;
        let episodes = check_against_replica(id, 3, 11, steps);
        assert!(
            episodes >= 3,
            "{id}: only {episodes} episodes finished in {steps} steps"
        );
    }
}

#[test]
fn conformance_vec_env_truncates_at_time_limit_and_keeps_final_obs() {
    // Pendulum never terminates, so every episode ends by the 200-step limit.
    let mut venv = VecEnv::new("Pendulum-v1", 4, 3).unwrap();
    let zeros = vec![0.0f32; 4];
    for t in 1..200 {
        let b = venv.step_continuous(&zeros).unwrap();
        assert!(b.finished.is_empty(), "t={t}");
        assert!(b.truncated.iter().chain(&b.terminated).all(|&x| !x), "t={t}");
        assert_eq!(b.final_obs, b.obs, "t={t}");
    }
    let b = venv.step_continuous(&zeros).unwrap();
    assert!(b.truncated.iter().all(|&x| x));
    assert!(b.terminated.iter().all(|&x| !x));
    assert_eq!(b.finished.len(), 4);
    for (i, f) in b.finished.iter().enumerate() {
        assert_eq!((f.copy, f.length), (i, 200));
        assert!(f.episode_return < 0.0);
        // The auto-reset observation differs from the last one and has a reset-range velocity.
        let (now, last) = (&b.obs[i * 3..i * 3 + 3], &b.final_obs[i * 3..i * 3 + 3]);
        assert_ne!(now, last);
        assert!(now[2].abs() <= 1.0);
    }
    // The counters restarted: the next truncation comes exactly 200 steps later.
    for t in 1..=200 {
        let b = venv.step_continuous(&zeros).unwrap();
        assert_eq!(b.truncated.iter().all(|&x| x), t == 200, "t={t}");
    }
    // `reset` restarts the episodes too.
    venv.step_continuous(&zeros).unwrap();
    venv.reset().unwrap();
    for t in 1..=200 {
        let b = venv.step_continuous(&zeros).unwrap();
        assert_eq!(b.finished.len() == 4, t == 200, "t={t}");
    }
}

#[test]
fn conformance_vec_env_mountain_car_idle_truncates_not_terminates() {
    // Without pushing, the car cannot climb out of the valley: every episode is cut at 200.
    let mut venv = VecEnv::new("MountainCar-v0", 2, 5).unwrap();
    for t in 1..=400 {
        let b = venv.step_discrete(&[1, 1]).unwrap();
        assert!(b.terminated.iter().all(|&x| !x));
        assert_eq!(b.truncated, vec![t % 200 == 0; 2], "t={t}");
        if t % 200 == 0 {
            assert!(
                b.finished
                    .iter()
                    .all(|f| f.length == 200 && f.episode_return == -200.0)
            );
        }
    }
}

#[test]
fn conformance_vec_env_cartpole_terminates_before_limit() {
    // Always pushing right topples the pole within a few dozen steps.
    let mut venv = VecEnv::new("CartPole-v1", 2, 1).unwrap();
    let mut ended = 0;
    for _ in 0..100 {
        let b = venv.step_discrete(&[1, 1]).unwrap();
        assert!(b.truncated.iter().all(|&x| !x));
        for f in &b.finished {
            assert!(b.terminated[f.copy]);
            // Reward 1 per step, the terminating step included.
            assert_eq!(f.episode_return, f.length as f64);
            assert_ne!(b.final_obs[f.copy * 4..][..4], b.obs[f.copy * 4..][..4]);
            ended += 1;
        }
    }
    assert!(ended >= 4, "only {ended} episodes ended");
}

#[test]
fn conformance_vec_env_deterministic_per_seed() {
    for &id in envs::known_ids() {
        let run = |seed: u64| {
            let mut venv = VecEnv::new(id, 3, seed).unwrap();
            let mut action_rng = EnvRng::seed_from_u64(99);
            let mut trace = venv.obs().to_vec();
            for _ in 0..300 {
                let acts = random_actions(id, 3, &mut action_rng);
                let b = step_vec(&mut venv, &acts);
                trace.extend_from_slice(&b.obs);
                trace.extend_from_slice(&b.final_obs);
                trace.extend_from_slice(&b.reward);
            }
            trace
        };
        let a = run(42);
        assert_eq!(a, run(42), "{id}: same seed must give the same trace");
        let b = run(43);
        assert_ne!(a, b, "{id}: different seeds must differ");
        // Copies of one VecEnv draw from different streams.
        let venv = VecEnv::new(id, 2, 42).unwrap();
        let d = venv.spec().obs_dim;
        assert_ne!(venv.obs()[..d], venv.obs()[d..], "{id}: copies start identically");
    }
}

/// Counts this thread's heap allocations, so a test can assert that stepping allocates nothing
/// (tests run on parallel threads, hence per-thread counts).
struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_allocation() {
    // `try_with`: the slot may already be gone while a thread shuts down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
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

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

#[test]
fn conformance_vec_env_step_does_not_allocate() {
    for &id in envs::known_ids() {
        let n = 8;
        let mut venv = VecEnv::new(id, n, 2).unwrap();
        let mut action_rng = EnvRng::seed_from_u64(2);
        // Precompute the actions so that only `step_*` runs inside the measured window.
        let limit = venv.spec().max_episode_steps;
        let plan: Vec<_> = (0..limit + 10)
            .map(|_| random_actions(id, n, &mut action_rng))
            .collect();
        let mut ended = 0;
        let before = ALLOCATIONS.with(Cell::get);
        for acts in &plan {
            ended += step_vec(&mut venv, acts).finished.len();
        }
        let allocations = ALLOCATIONS.with(Cell::get) - before;
        assert_eq!(allocations, 0, "{id}: stepping allocated {allocations} times");
        assert!(ended >= n, "{id}: the window must include auto-resets");
    }
}

// ---------------------------------------------------------------------------------------------
// Errors instead of panics
// ---------------------------------------------------------------------------------------------

#[test]
fn conformance_unknown_id_lists_known_ids() {
    let msg = |r: Result<(), EnvError>| r.unwrap_err().to_string();
    let m = msg(envs::make("CartPole-v0").map(drop));
    assert!(
        m.starts_with("unknown environment `CartPole-v0`; did you mean `CartPole-v1`?"),
        "{m}"
    );
    for &id in envs::known_ids() {
        assert!(m.contains(id), "{m}");
    }
    let m = msg(envs::spec("pendulum").map(drop));
    assert!(m.contains("did you mean `Pendulum-v1`?"), "{m}");
    let m = msg(envs::spec("MountainCarContinous-v0").map(drop));
    assert!(m.contains("did you mean `MountainCarContinuous-v0`?"), "{m}");
    let m = msg(envs::spec("mountaincar-v0").map(drop));
    assert!(m.contains("did you mean `MountainCar-v0`?"), "{m}");
    let m = msg(envs::make("HalfCheetah-v4").map(drop));
    assert!(!m.contains("did you mean"), "{m}");
    assert!(m.contains("known: CartPole-v1, Pendulum-v1"), "{m}");
    let m = msg(VecEnv::new("Acrobat-v1", 2, 0).map(drop));
    assert!(m.contains("did you mean `Acrobot-v1`?"), "{m}");
    let err: Box<dyn std::error::Error> = Box::new(envs::make("x").err().unwrap());
    assert!(err.to_string().contains("unknown environment `x`"));
}

#[test]
fn conformance_bad_actions_and_buffers_are_errors() {
    for &id in envs::known_ids() {
        let mut env = envs::make(id).unwrap();
        let spec = env.spec().clone();
        let mut obs = vec![0.0f32; spec.obs_dim];
        env.reset(&mut EnvRng::seed_from_u64(0), &mut obs).unwrap();
        let before = (env.state(), obs);
        let mut bad: Vec<(Action<'_>, usize)> = Vec::new();
        match spec.action {
            ActionSpace::Discrete { n } => {
                bad.push((Action::Continuous(&[0.0]), spec.obs_dim));
                for a in [-1, n as i64, i64::MAX, i64::MIN] {
                    bad.push((Action::Discrete(a), spec.obs_dim));
                }
                bad.push((Action::Discrete(0), spec.obs_dim + 1));
                bad.push((Action::Discrete(0), 0));
            }
            ActionSpace::Continuous { .. } => {
                bad.push((Action::Discrete(0), spec.obs_dim));
                bad.push((Action::Continuous(&[]), spec.obs_dim));
                bad.push((Action::Continuous(&[0.0, 0.0]), spec.obs_dim));
                bad.push((Action::Continuous(&[0.0]), spec.obs_dim - 1));
            }
        }
        for (action, obs_len) in bad {
            let mut o = vec![7.0f32; obs_len];
            let err = env.step(action, &mut o).expect_err("bad step must be an error");
            assert!(err.to_string().contains(id), "{err}");
            assert_eq!(env.state(), before.0, "{id}: failed step changed the state");
            assert!(
                o.iter().all(|&x| x == 7.0),
                "{id}: failed step wrote an observation"
            );
        }
        assert!(env.set_state(&[0.0; 7]).is_err());
        assert!(env.reset(&mut EnvRng::seed_from_u64(0), &mut []).is_err());
        assert!(env.observe(&mut [0.0; 9]).is_err());
        assert_eq!(env.state(), before.0);
    }
    let e = envs::make("CartPole-v1")
        .unwrap()
        .step(Action::Continuous(&[1.0]), &mut [0.0; 4])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "CartPole-v1 takes discrete actions, but a continuous action was given"
    );
    let e = envs::make("Acrobot-v1")
        .unwrap()
        .step(Action::Discrete(3), &mut [0.0; 6])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Acrobot-v1: discrete action 3 is out of range (valid actions are 0..3)"
    );

    // The vectorised wrapper validates the whole batch before moving any copy.
    let mut venv = VecEnv::new("CartPole-v1", 3, 0).unwrap();
    let start = venv.obs().to_vec();
    assert!(venv.step_continuous(&[0.0; 3]).is_err());
    assert!(venv.step_discrete(&[0, 1]).is_err());
    assert!(venv.step_discrete(&[0, 1, 2]).is_err());
    assert!(venv.step_discrete(&[-1, 0, 0]).is_err());
    assert_eq!(venv.obs(), &start[..]);
    let mut venv = VecEnv::new("Pendulum-v1", 2, 0).unwrap();
    assert!(venv.step_discrete(&[0, 0]).is_err());
    assert!(venv.step_continuous(&[0.0; 3]).is_err());
    assert!(VecEnv::new("Pendulum-v1", 0, 0).is_err());
}

#[test]
fn conformance_non_finite_actions_do_not_panic() {
    // Gymnasium lets NaN flow through the dynamics; so do we, without panicking.
    for id in ["Pendulum-v1", "MountainCarContinuous-v0"] {
        let mut env = envs::make(id).unwrap();
        let mut obs = vec![0.0f32; env.spec().obs_dim];
        env.reset(&mut EnvRng::seed_from_u64(0), &mut obs).unwrap();
        for a in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            env.step(Action::Continuous(&[a]), &mut obs).unwrap();
        }
    }
    let mut env = envs::make("Acrobot-v1").unwrap();
    env.set_state(&[f64::INFINITY, 1e300, f64::NAN, 0.0]).unwrap();
    env.step(Action::Discrete(1), &mut [0.0; 6]).unwrap();
}

#[test]
fn conformance_vec_env_rejects_non_finite_continuous_actions() {
    // The single environment follows Gymnasium (NaN flows through); the vectorised one the
    // trainer drives refuses it, like an out-of-range discrete action, and changes nothing.
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut venv = VecEnv::new("Pendulum-v1", 3, 0).unwrap();
        let before = venv.reset().unwrap().to_vec();
        let err = venv.step_continuous(&[0.0, 0.5, bad]).unwrap_err();
        // (NaN != NaN, so compare the fields, the value by its bits.)
        match &err {
            EnvError::NonFiniteAction { env, copy, value } => {
                assert_eq!(
                    (env.as_str(), *copy, value.to_bits()),
                    ("Pendulum-v1", 2, bad.to_bits())
                )
            }
            other => panic!("expected NonFiniteAction, got {other:?}"),
        }
        assert!(err.to_string().contains("not a finite number"), "{err}");
        // Nothing moved: the next good step starts from the same observations.
        let ok = venv.step_continuous(&[0.0, 0.0, 0.0]).unwrap().obs.to_vec();
        let mut fresh = VecEnv::new("Pendulum-v1", 3, 0).unwrap();
        assert_eq!(fresh.reset().unwrap().to_vec(), before);
        assert_eq!(fresh.step_continuous(&[0.0, 0.0, 0.0]).unwrap().obs.to_vec(), ok);
    }
}
