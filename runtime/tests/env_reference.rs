//! Conformance of the classic-control environments with Gymnasium 1.4, single environments.
//!
//! Replays every single-step case of `shared/conformance/envs/*.json` (tolerances from that
//! directory's README), checks reset draws against the documented initial-state distributions,
//! and checks properties of a step from arbitrary states. The reference directory is
//! `$RLC_CONFORMANCE_DIR` if set, otherwise the first `shared/conformance` found beside an
//! ancestor of this crate. The vectorised wrapper is tested in `env_vec.rs`.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rand::SeedableRng;
use rlc_runtime::ActionSpace;
use rlc_runtime::envs::{self, Action, EnvRng};
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
