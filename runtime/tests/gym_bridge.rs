//! The Gymnasium bridge (`--features python`): a `gym:` vector environment gives exactly the
//! numbers of the Python environment — observations, rewards, termination vs truncation, the
//! true last observation of an ended episode, reset observations, episode bookkeeping — for
//! continuous and discrete (offset) actions, in sync and async mode; seeds come from the run's
//! seed; spaces rlc cannot map, missing packages and exceptions are errors that say so.
//!
//! Needs Gymnasium in the active virtual environment (`VIRTUAL_ENV`; `.ci/run` makes one).
//! The environments are `tests/data/gym/rlc_test_envs.py`: `Line` moves x by 0.1·a, rewards
//! -|x|, terminates at |x| ≥ 1, and has a 20-step limit; its observation is (x, t).
#![cfg(feature = "python")]

use std::path::Path;

use rlc_runtime::ActionSpace;
use rlc_runtime::envs::{self, EnvError, VecEnv, Vectorization};

fn setup() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/gym");
    envs::gym::add_python_path(&dir).expect("Gymnasium must be installed in VIRTUAL_ENV for these tests");
}

const LINE: &str = "gym:rlc_test_envs:Line-v0";

/// Pushes every copy by `dir` (±1) until it terminates, checking each step against the dynamics.
fn check_line_episode(
    venv: &mut VecEnv,
    dir: f64,
    step: &mut dyn FnMut(&mut VecEnv) -> Result<(), EnvError>,
) {
    let n = venv.num_envs();
    let start: Vec<f32> = venv.obs().chunks(2).map(|o| o[0]).collect();
    for (i, o) in venv.obs().chunks(2).enumerate() {
        assert!(
            o[0].abs() <= 0.5 && o[1] == 0.0,
            "copy {i}: reset observation {o:?}"
        );
    }
    let mut x: Vec<f64> = start.iter().map(|&v| f64::from(v)).collect();
    let mut done = vec![false; n];
    for t in 1..=20 {
        step(venv).unwrap();
        let b = venv.last_batch();
        for i in 0..n {
            if done[i] {
                continue;
            }
            x[i] += 0.1 * dir;
            let term = x[i].abs() >= 1.0;
            assert_eq!(
                b.final_obs[2 * i],
                x[i] as f32,
                "copy {i} step {t}: last observation"
            );
            assert_eq!(b.final_obs[2 * i + 1], t as f32, "copy {i} step {t}");
            assert_eq!(b.reward[i], (-x[i].abs()) as f32, "copy {i} step {t}: reward");
            assert_eq!(b.terminated[i], term, "copy {i} step {t}: terminated");
            assert!(
                !b.truncated[i],
                "copy {i} step {t}: a terminal step is not truncated"
            );
            if term {
                done[i] = true;
                // The next episode's first observation, at once (same-step autoreset).
                assert_eq!(b.obs[2 * i + 1], 0.0, "copy {i}: reset observation after the end");
                assert!(b.obs[2 * i].abs() <= 0.5);
                let ep = b
                    .finished
                    .iter()
                    .find(|f| f.copy == i)
                    .expect("the episode is reported");
                assert_eq!(ep.length, t);
                let expect: f64 = (1..=t)
                    .map(|k| -(f64::from(start[i]) + 0.1 * dir * k as f64).abs())
                    .sum();
                assert!(
                    (ep.episode_return - expect).abs() < 1e-5,
                    "{} vs {expect}",
                    ep.episode_return
                );
            } else {
                assert_eq!(&b.obs[2 * i..2 * i + 2], &b.final_obs[2 * i..2 * i + 2]);
            }
        }
        if done.iter().all(|&d| d) {
            return;
        }
    }
    panic!("copies {done:?} never terminated");
}

#[test]
fn continuous_steps_match_the_python_environment() {
    setup();
    let mut venv = VecEnv::new(LINE, 3, 7).unwrap();
    assert_eq!(venv.spec().obs_dim, 2);
    assert_eq!(venv.spec().max_episode_steps, 20);
    assert!(
        matches!(&venv.spec().action, ActionSpace::Continuous { dim: 1, low, high } if low == &[-1.0] && high == &[1.0])
    );
    check_line_episode(&mut venv, 1.0, &mut |v| {
        v.step_continuous(&[1.0, 1.0, 1.0]).map(drop)
    });
}

#[test]
fn discrete_actions_are_offset_by_the_space_start() {
    setup();
    let mut venv = VecEnv::new("gym:rlc_test_envs:LineDiscrete-v0", 2, 3).unwrap();
    assert_eq!(venv.spec().action, ActionSpace::Discrete { n: 3 });
    // rlc's action 0 is Gymnasium's -1 (the space starts at -1).
    check_line_episode(&mut venv, -1.0, &mut |v| v.step_discrete(&[0, 0]).map(drop));
    let err = venv.step_discrete(&[3, 0]).unwrap_err();
    assert!(
        matches!(err, EnvError::ActionOutOfRange { action: 3, n: 3, .. }),
        "{err}"
    );
}

#[test]
fn the_time_limit_truncates_without_terminating() {
    setup();
    let mut venv = VecEnv::new(LINE, 2, 1).unwrap();
    let first = venv.obs().to_vec();
    for t in 1..=20 {
        let b = venv.step_continuous(&[0.0, 0.0]).unwrap();
        assert!(!b.terminated.iter().any(|&d| d));
        assert_eq!(b.truncated.iter().all(|&d| d), t == 20, "step {t}");
    }
    let b = venv.last_batch();
    assert_eq!(b.finished.len(), 2);
    assert_eq!(b.final_obs[1], 20.0);
    assert_eq!(b.final_obs[0], first[0], "x never moved");
    assert_eq!(b.obs[1], 0.0, "reset at once");
}

#[test]
fn seeds_come_from_the_run_seed() {
    setup();
    let a = VecEnv::new(LINE, 4, 11).unwrap().obs().to_vec();
    let b = VecEnv::new(LINE, 4, 11).unwrap().obs().to_vec();
    let c = VecEnv::new(LINE, 4, 12).unwrap().obs().to_vec();
    assert_eq!(a, b, "same seed, same episodes");
    assert_ne!(a, c, "another seed, other episodes");
    let xs: Vec<f32> = a.chunks(2).map(|o| o[0]).collect();
    assert!(
        xs.windows(2).all(|w| w[0] != w[1]),
        "each copy its own stream: {xs:?}"
    );
}

#[test]
fn async_mode_gives_the_same_numbers_as_sync() {
    setup();
    let mut sync = VecEnv::with_vectorization(LINE, 2, 5, Vectorization::Sync).unwrap();
    let mut asyn = VecEnv::with_vectorization(LINE, 2, 5, Vectorization::Async).unwrap();
    assert_eq!(sync.obs(), asyn.obs());
    for k in 0..30 {
        let a = [((k % 5) as f32 - 2.0) / 2.0, 0.7];
        let s = sync.step_continuous(&a).unwrap().clone();
        let b = asyn.step_continuous(&a).unwrap();
        assert_eq!(&s, b, "step {k}");
    }
}

#[test]
fn bad_actions_are_refused_before_python_sees_them() {
    setup();
    let mut venv = VecEnv::new(LINE, 2, 1).unwrap();
    assert!(matches!(
        venv.step_continuous(&[0.0, f32::NAN]),
        Err(EnvError::NonFiniteAction { copy: 1, .. })
    ));
    assert!(matches!(
        venv.step_continuous(&[0.0]),
        Err(EnvError::WrongLength { .. })
    ));
    assert!(matches!(
        venv.step_discrete(&[0, 0]),
        Err(EnvError::WrongActionKind { .. })
    ));
}

fn python_error(id: &str) -> String {
    setup();
    match envs::spec(id) {
        Err(EnvError::Python(m)) => m,
        other => panic!("{id}: expected a Python error, got {other:?}"),
    }
}

#[test]
fn spaces_rlc_cannot_map_are_named() {
    let m = python_error("gym:rlc_test_envs:DictAction-v0");
    assert!(m.contains("Dict(") && m.contains("`Discrete` or a `Box`"), "{m}");
    let m = python_error("gym:FrozenLake-v1");
    assert!(
        m.contains("Discrete(16)") && m.contains("FlattenObservation"),
        "{m}"
    );
    let m = python_error("gym:rlc_test_envs:LineNoLimit-v0");
    assert!(m.contains("no time limit"), "{m}");
}

#[test]
fn missing_packages_and_unknown_ids_say_what_to_do() {
    let m = python_error("gym:rlc_test_envs:NeedsExtra-v0");
    assert!(
        m.contains("not installed") && m.contains("pip install \"rlc-test[extra]\""),
        "{m}"
    );
    let m = python_error("gym:HalfCheetah-v9");
    assert!(m.contains("VersionNotFound") && m.contains("`v5`"), "{m}");
    let m = python_error("gym:no_such_module_here:Env-v0");
    assert!(m.contains("No module named 'no_such_module_here'"), "{m}");
}

#[test]
fn exceptions_and_non_finite_observations_stop_the_step() {
    setup();
    let mut venv = VecEnv::new("gym:rlc_test_envs:Crashes-v0", 1, 1).unwrap();
    venv.step_continuous(&[0.0]).unwrap();
    venv.step_continuous(&[0.0]).unwrap();
    let err = venv.step_continuous(&[0.0]).unwrap_err().to_string();
    assert!(
        err.contains("RuntimeError: the simulator lost its contact solver"),
        "{err}"
    );
    assert!(
        err.contains("rlc_test_envs.py:") && err.contains("in step"),
        "{err}"
    );

    let mut venv = VecEnv::new("gym:rlc_test_envs:NaNObservation-v0", 2, 1).unwrap();
    venv.step_continuous(&[0.0, 0.0]).unwrap();
    venv.step_continuous(&[0.0, 0.0]).unwrap();
    let err = venv.step_continuous(&[0.0, 0.0]).unwrap_err().to_string();
    assert!(err.contains("NaN (copy 0, component 0)"), "{err}");
}

#[test]
fn a_mujoco_environment_has_its_spaces() {
    setup();
    let spec = envs::spec("gym:HalfCheetah-v5").unwrap();
    assert_eq!(spec.obs_dim, 17);
    assert_eq!(spec.max_episode_steps, 1000);
    assert!(
        matches!(&spec.action, ActionSpace::Continuous { dim: 6, low, .. } if low.iter().all(|&l| l == -1.0))
    );
}
