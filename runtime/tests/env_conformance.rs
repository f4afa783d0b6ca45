//! Conformance of the classic-control environments with Gymnasium 1.4.
//!
//! Replays every single-step case of `shared/conformance/envs/*.json` (tolerances from that
//! directory's README), checks reset draws against the documented initial-state distributions,
//! and checks the vectorised wrapper (time limit, auto-reset, `final_obs`, determinism) against a
//! hand-driven replica. The reference directory is `$RLC_CONFORMANCE_DIR` if set, otherwise the
//! first `shared/conformance` found beside an ancestor of this crate.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rlc_runtime::ActionSpace;
use rlc_runtime::envs::{self, Action, Env, EnvError, EnvRng, StepBatch, VecEnv, copy_rng};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Reference files
// ---------------------------------------------------------------------------------------------

fn conformance_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RLC_CONFORMANCE_DIR") {
        return dir.into();
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|a| a.join("shared").join("conformance"))
        .find(|c| c.join("envs").is_dir())
        .unwrap_or_else(|| {
            panic!(
                "no shared/conformance directory above {}; set RLC_CONFORMANCE_DIR",
                manifest.display()
            )
        })
}

/// Wraps every JSON number (outside strings) in quotes.
///
/// serde_json's default float parser may be off by one ulp on 17-digit numbers (exact parsing
/// needs its `float_roundtrip` feature), and several cases sit *exactly* on a threshold. Quoting
/// lets us parse each number with Rust's correctly rounded `str::parse::<f64>`.
fn quote_numbers(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 4);
    let mut chars = json.chars().peekable();
    let (mut in_string, mut escaped) = (false, false);
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if c == '-' || c.is_ascii_digit() {
            out.push('"');
            out.push(c);
            while let Some(&n) = chars.peek() {
                if n.is_ascii_digit() || matches!(n, '.' | 'e' | 'E' | '+' | '-') {
                    out.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push('"');
        } else {
            out.push(c);
        }
    }
    out
}

fn num(v: &Value) -> f64 {
    let s = v.as_str().unwrap_or_else(|| panic!("expected a number, got {v}"));
    s.parse().unwrap_or_else(|e| panic!("bad number {s:?}: {e}"))
}

fn int(v: &Value) -> i64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("expected an integer, got {v}"));
    s.parse().unwrap_or_else(|e| panic!("bad integer {s:?}: {e}"))
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(num)
        .collect()
}

#[derive(Debug)]
enum RefAction {
    Discrete(i64),
    Continuous(Vec<f32>),
}

#[derive(Debug)]
struct RefCase {
    state: Vec<f64>,
    action: RefAction,
    next_state: Vec<f64>,
    next_obs: Vec<f64>,
    reward: f64,
    terminated: bool,
    tags: Vec<String>,
}

struct RefFile {
    env: String,
    max_episode_steps: usize,
    /// `(obs, state)` of the documented reset samples.
    reset_samples: Vec<(Vec<f64>, Vec<f64>)>,
    cases: Vec<RefCase>,
}

fn load(id: &str) -> RefFile {
    let path = conformance_dir().join("envs").join(format!("{id}.json"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let root: Value = serde_json::from_str(&quote_numbers(&text))
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    let cases = root["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| RefCase {
            state: nums(&c["state"]),
            action: match &c["action"] {
                Value::Array(a) => RefAction::Continuous(
                    a.iter()
                        .map(|x| {
                            let v = num(x);
                            assert_eq!(f64::from(v as f32), v, "action not f32-exact");
                            v as f32
                        })
                        .collect(),
                ),
                v => RefAction::Discrete(int(v)),
            },
            next_state: nums(&c["next_state"]),
            next_obs: nums(&c["next_obs"]),
            reward: num(&c["reward"]),
            terminated: c["terminated"].as_bool().expect("terminated"),
            tags: c["tags"]
                .as_array()
                .expect("tags")
                .iter()
                .map(|t| t.as_str().expect("tag").to_string())
                .collect(),
        })
        .collect();
    let reset_samples = root["reset"]["samples"]
        .as_array()
        .expect("reset samples")
        .iter()
        .map(|s| (nums(&s["obs"]), nums(&s["state"])))
        .collect();
    RefFile {
        env: root["env"].as_str().expect("env").to_string(),
        max_episode_steps: int(&root["max_episode_steps"]) as usize,
        reset_samples,
        cases,
    }
}

// ---------------------------------------------------------------------------------------------
// Single-step cases
// ---------------------------------------------------------------------------------------------

/// README tolerance for f64 implementations: `1e-9 * max(1, |e|)`.
fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0)
}

/// Distance in units in the last place between two finite f32 values.
fn ulps(a: f32, b: f32) -> u64 {
    // Map the sign-magnitude bit patterns onto a monotonic integer line.
    let key = |x: f32| {
        let bits = i64::from(x.to_bits() as i32);
        if bits < 0 {
            i64::from(i32::MIN) - bits
        } else {
            bits
        }
    };
    key(a).abs_diff(key(b))
}

fn run_cases(id: &str) {
    let reference = load(id);
    assert_eq!(reference.env, id);
    let mut env = envs::make(id).expect("registered");
    let obs_dim = env.spec().obs_dim;
    let mut obs = vec![0.0f32; obs_dim];

    let mut failures = Vec::new();
    let (mut max_state_err, mut max_reward_err) = (0.0f64, 0.0f64);
    let (mut bit_exact_states, mut obs_1ulp) = (0usize, 0usize);
    for (k, case) in reference.cases.iter().enumerate() {
        env.set_state(&case.state).expect("state length");
        let action = match &case.action {
            RefAction::Discrete(a) => Action::Discrete(*a),
            RefAction::Continuous(a) => Action::Continuous(a),
        };
        let result = match env.step(action, &mut obs) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("case {k} {:?}: step failed: {e}", case.tags));
                continue;
            }
        };
        let state = env.state();

        let mut problems = Vec::new();
        if state.len() != case.next_state.len() {
            problems.push(format!(
                "state length {} != {}",
                state.len(),
                case.next_state.len()
            ));
        }
        for (i, (&a, &e)) in state.iter().zip(&case.next_state).enumerate() {
            max_state_err = max_state_err.max((a - e).abs());
            if !close(a, e) {
                problems.push(format!(
                    "next_state[{i}] = {a:e}, expected {e:e} (diff {:e})",
                    a - e
                ));
            }
        }
        if state
            .iter()
            .zip(&case.next_state)
            .all(|(a, e)| a.to_bits() == e.to_bits())
        {
            bit_exact_states += 1;
        }
        for (i, (&a, &e)) in obs.iter().zip(&case.next_obs).enumerate() {
            let e32 = e as f32;
            assert_eq!(f64::from(e32), e, "reference obs not f32-exact");
            match ulps(a, e32) {
                0 => {}
                1 => obs_1ulp += 1,
                u => problems.push(format!("next_obs[{i}] = {a:e}, expected {e32:e} ({u} ulps)")),
            }
        }
        max_reward_err = max_reward_err.max((result.reward - case.reward).abs());
        if !close(result.reward, case.reward) {
            problems.push(format!(
                "reward = {:e}, expected {:e}",
                result.reward, case.reward
            ));
        }
        if result.terminated != case.terminated {
            problems.push(format!(
                "terminated = {}, expected {}",
                result.terminated, case.terminated
            ));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "case {k} {:?}: state {:?}, action {:?}:\n    {}",
                case.tags,
                case.state,
                case.action,
                problems.join("\n    ")
            ));
        }
    }

    let n = reference.cases.len();
    println!(
        "{id}: {}/{n} cases passed; max |next_state err| = {max_state_err:e}, \
         max |reward err| = {max_reward_err:e}; bit-exact next_state in {bit_exact_states}/{n}; \
         obs components 1 ulp off: {obs_1ulp}",
        n - failures.len()
    );
    assert!(n >= 200, "{id}: expected at least 200 cases, found {n}");
    assert!(
        failures.is_empty(),
        "{id}: {} of {n} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn conformance_cartpole_v1_cases() {
    run_cases("CartPole-v1");
}

#[test]
fn conformance_pendulum_v1_cases() {
    run_cases("Pendulum-v1");
}

#[test]
fn conformance_mountain_car_continuous_v0_cases() {
    run_cases("MountainCarContinuous-v0");
}

#[test]
fn conformance_mountain_car_v0_cases() {
    run_cases("MountainCar-v0");
}

#[test]
fn conformance_acrobot_v1_cases() {
    run_cases("Acrobot-v1");
}

#[test]
fn conformance_specs_match_reference_files() {
    assert_eq!(envs::known_ids().len(), 5);
    for &id in envs::known_ids() {
        let reference = load(id);
        let spec = envs::spec(id).expect("registered");
        assert_eq!(spec, *envs::make(id).expect("registered").spec());
        assert_eq!(spec.id, id);
        assert_eq!(spec.max_episode_steps, reference.max_episode_steps, "{id}");
        let (obs, state) = &reference.reset_samples[0];
        assert_eq!(spec.obs_dim, obs.len(), "{id}");
        assert_eq!(envs::make(id).unwrap().state().len(), state.len(), "{id}");
    }
    let bounds = |id| match envs::spec(id).unwrap().action {
        ActionSpace::Continuous { dim, low, high } => (dim, low, high),
        ActionSpace::Discrete { .. } => panic!("{id} should be continuous"),
    };
    assert_eq!(bounds("Pendulum-v1"), (1, vec![-2.0], vec![2.0]));
    assert_eq!(bounds("MountainCarContinuous-v0"), (1, vec![-1.0], vec![1.0]));
    for (id, n) in [("CartPole-v1", 2), ("MountainCar-v0", 3), ("Acrobot-v1", 3)] {
        assert_eq!(
            envs::spec(id).unwrap().action,
            ActionSpace::Discrete { n },
            "{id}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Reset distributions
// ---------------------------------------------------------------------------------------------

/// The documented support `[low, high]` of each state component right after reset.
fn reset_support(id: &str) -> Vec<(f64, f64)> {
    use std::f64::consts::PI;
    match id {
        "CartPole-v1" => vec![(-0.05, 0.05); 4],
        "Pendulum-v1" => vec![(-PI, PI), (-1.0, 1.0)],
        "MountainCarContinuous-v0" | "MountainCar-v0" => vec![(-0.6, -0.4), (0.0, 0.0)],
        "Acrobot-v1" => vec![(-0.1, 0.1); 4],
        _ => panic!("unknown id {id}"),
    }
}

/// The observation Gymnasium derives from a state.
fn expected_obs(id: &str, s: &[f64]) -> Vec<f32> {
    match id {
        "Pendulum-v1" => vec![s[0].cos() as f32, s[0].sin() as f32, s[1] as f32],
        "Acrobot-v1" => vec![
            s[0].cos() as f32,
            s[0].sin() as f32,
            s[1].cos() as f32,
            s[1].sin() as f32,
            s[2] as f32,
            s[3] as f32,
        ],
        _ => s.iter().map(|&x| x as f32).collect(),
    }
}

#[test]
fn conformance_reference_reset_samples_lie_in_documented_support() {
    for &id in envs::known_ids() {
        let support = reset_support(id);
        for (obs, state) in load(id).reset_samples {
            for (&x, &(lo, hi)) in state.iter().zip(&support) {
                assert!(lo <= x && x <= hi, "{id}: reference reset {state:?}");
            }
            let ours = expected_obs(id, &state);
            for (&a, &e) in ours.iter().zip(&obs) {
                // Gymnasium computes Acrobot's reset obs in float32 arithmetic: allow 1 ulp.
                assert!(ulps(a, e as f32) <= 1, "{id}: obs {ours:?} vs {obs:?}");
            }
        }
    }
}

#[test]
fn conformance_reset_samples_documented_distribution() {
    const SEEDS: u64 = 400;
    const PER_SEED: usize = 5;
    for &id in envs::known_ids() {
        let support = reset_support(id);
        let mut env = envs::make(id).unwrap();
        let mut obs = vec![0.0f32; env.spec().obs_dim];
        let mut seen = vec![Vec::new(); support.len()];
        for seed in 0..SEEDS {
            let mut rng = EnvRng::seed_from_u64(seed);
            for _ in 0..PER_SEED {
                env.reset(&mut rng, &mut obs).unwrap();
                let state = env.state();
                for (i, (&x, &(lo, hi))) in state.iter().zip(&support).enumerate() {
                    assert!(lo <= x && x <= hi, "{id} seed {seed}: state[{i}] = {x}");
                    seen[i].push(x);
                }
                if id == "Acrobot-v1" {
                    // Gymnasium casts Acrobot's initial state to float32.
                    assert!(state.iter().all(|&x| f64::from(x as f32) == x), "{state:?}");
                }
                assert_eq!(obs, expected_obs(id, &state), "{id} seed {seed}");
                let mut again = vec![0.0f32; obs.len()];
                env.observe(&mut again).unwrap();
                assert_eq!(obs, again);
            }
        }
        // Uniform draws should fill their interval and centre on its midpoint; the margins are
        // more than 10 standard deviations wide for 2000 draws.
        for (xs, &(lo, hi)) in seen.iter().zip(&support) {
            let width = hi - lo;
            let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            if width == 0.0 {
                assert!(min == lo && max == hi, "{id}: constant component varies");
                continue;
            }
            assert!(
                min < lo + 0.02 * width && max > hi - 0.02 * width,
                "{id}: {min}..{max}"
            );
            assert!((mean - (lo + hi) / 2.0).abs() < 0.05 * width, "{id}: mean {mean}");
        }
    }
}

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
    venv.reset();
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

// ---------------------------------------------------------------------------------------------
// Properties over arbitrary states
// ---------------------------------------------------------------------------------------------

/// A state anywhere in (a generous box around) the environment's reachable region.
fn state_strategy(id: &'static str) -> BoxedStrategy<Vec<f64>> {
    match id {
        "CartPole-v1" => prop::collection::vec(-3.0..3.0f64, 4).boxed(),
        "Pendulum-v1" => (-20.0..20.0f64, -8.0..8.0f64)
            .prop_map(|(a, b)| vec![a, b])
            .boxed(),
        "MountainCarContinuous-v0" | "MountainCar-v0" => (-1.2..0.6f64, -0.07..0.07f64)
            .prop_map(|(a, b)| vec![a, b])
            .boxed(),
        _ => (-3.2..3.2f64, -3.2..3.2f64, -12.6..12.6f64, -28.3..28.3f64)
            .prop_map(|(a, b, c, d)| vec![a, b, c, d])
            .boxed(),
    }
}

fn any_env_case() -> impl Strategy<Value = (&'static str, Vec<f64>, i64, f32)> {
    prop::sample::select(envs::known_ids().to_vec())
        .prop_flat_map(|id| (Just(id), state_strategy(id), 0..3i64, -3.0..3.0f32))
}

proptest! {
    #[test]
    fn conformance_prop_step_is_total_and_obs_matches_state(
        (id, state, discrete, continuous) in any_env_case()
    ) {
        let mut env = envs::make(id).unwrap();
        env.set_state(&state).unwrap();
        let action = match env.spec().action {
            ActionSpace::Discrete { n } => Action::Discrete(discrete % n as i64),
            ActionSpace::Continuous { .. } => Action::Continuous(std::slice::from_ref(&continuous)),
        };
        let mut obs = vec![0.0f32; env.spec().obs_dim];
        let r = env.step(action, &mut obs).unwrap();
        let next = env.state();
        prop_assert_eq!(&obs, &expected_obs(id, &next));
        prop_assert!(r.reward.is_finite());
        match id {
            "Pendulum-v1" => {
                prop_assert!(r.reward <= 0.0 && !r.terminated);
                prop_assert!(next[1].abs() <= 8.0);
            }
            "MountainCar-v0" | "MountainCarContinuous-v0" => {
                prop_assert!(next[1].abs() <= 0.07 + 1e-9);
                prop_assert!((-1.2 - 1e-7..=0.6 + 1e-7).contains(&next[0]));
            }
            "Acrobot-v1" => {
                use std::f64::consts::PI;
                prop_assert!(next[0].abs() <= PI && next[1].abs() <= PI);
                prop_assert!(next[2].abs() <= 4.0 * PI && next[3].abs() <= 9.0 * PI);
                prop_assert_eq!(r.reward, if r.terminated { 0.0 } else { -1.0 });
            }
            _ => prop_assert_eq!(r.reward, 1.0),
        }
    }
}
