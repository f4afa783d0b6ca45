//! Greedy evaluation on separate environment copies: one episode per copy, all copies
//! stepped together, returns averaged.

use super::keys;
use crate::envs::VecEnv;
use crate::error::RunError;
use rlc_compiler::backend::{Backend, EntryId, In, Out};
use rlc_compiler::env_spec::{ActionSpace, EnvSpec};
use rlc_compiler::signature::{InputRole, Signature};

/// The compiled greedy policy an evaluation calls.
#[derive(Clone, Copy)]
pub struct EvalPolicy<'a> {
    /// The `eval` entry point.
    pub entry: EntryId,
    /// Its signature.
    pub signature: &'a Signature,
    /// The program's run-time index checks, read after every call (when it has any).
    pub guard: Option<&'a super::index_guard::IndexGuard>,
}

/// Sees an evaluation's observations as `(copy, observation)`: each copy's first observation,
/// then after every step the observation it reached (the terminal one on the step that ends its
/// episode) until its episode has ended.
pub type Watcher<'w> = &'w mut dyn FnMut(usize, &[f32]);

/// The return of each of `episodes` episodes of the `eval` entry point (one per copy). The
/// copies are seeded from the run's seed and `step`, so an evaluation is reproducible.
pub fn episode_returns(
    backend: &mut dyn Backend,
    policy: EvalPolicy<'_>,
    env: &EnvSpec,
    episodes: usize,
    seed: u64,
    step: u64,
) -> Result<Vec<f64>, RunError> {
    watched_episode_returns(backend, policy, env, episodes, seed, step, None)
}

/// [`episode_returns`], showing every observation to `watch` (for `rlc eval --video`); the
/// episodes and returns are the same as without it.
pub fn watched_episode_returns(
    backend: &mut dyn Backend,
    policy: EvalPolicy<'_>,
    env: &EnvSpec,
    episodes: usize,
    seed: u64,
    step: u64,
    mut watch: Option<Watcher<'_>>,
) -> Result<Vec<f64>, RunError> {
    let mut venv = VecEnv::new(
        &env.id,
        episodes,
        keys::mix(keys::derive(seed, keys::Purpose::EvalEnv) ^ step),
    )?;
    if venv.spec() != env {
        return Err(changed_spec(env, venv.spec()));
    }
    let mut obs = venv.reset()?.to_vec();
    let d = env.obs_dim;
    if let Some(w) = watch.as_mut() {
        for (copy, o) in obs.chunks_exact(d).enumerate() {
            w(copy, o);
        }
    }
    let discrete = env.action.is_discrete();
    let mut act_f = vec![0.0f32; episodes * env.action.flat_dim()];
    let mut act_i = vec![0i32; episodes];
    let mut done = vec![false; episodes];
    let mut returns = vec![0.0f64; episodes];
    // Every episode ends by the time limit; the bound only guards against a broken env.
    for calls in 0..=env.max_episode_steps as u64 + 1 {
        if done.iter().all(|d| *d) {
            break;
        }
        let key = keys::call_key(seed ^ step, keys::Purpose::Eval, calls);
        greedy_actions(
            backend, policy, &obs, &key, step, discrete, &mut act_f, &mut act_i,
        )?;
        let batch = match &env.action {
            ActionSpace::Discrete { .. } => venv.step_discrete(&act_i)?,
            ActionSpace::Continuous { .. } => venv.step_continuous(&act_f)?,
        };
        if let Some(w) = watch.as_mut() {
            // Before `done` is updated: the step that ends an episode shows its last state.
            for (copy, o) in batch.final_obs.chunks_exact(d).enumerate() {
                if !done[copy] {
                    w(copy, o);
                }
            }
        }
        for f in &batch.finished {
            if !done[f.copy] {
                done[f.copy] = true;
                returns[f.copy] = f.episode_return;
            }
        }
        obs.copy_from_slice(&batch.obs);
    }
    if !done.iter().all(|d| *d) {
        return Err(RunError::Setup(format!(
            "evaluation episodes of {} did not end within the time limit",
            env.id
        )));
    }
    Ok(returns)
}

/// One call of the greedy policy on a batch of observations (`obs`, rows of the eval entry
/// point's batch): writes the actions into `act_f` (continuous, row-major) or `act_i`
/// (discrete) and checks the program's run-time index checks.
///
/// # Errors
/// A backend failure, an index check that failed, or an eval entry point that reads an
/// input other than the observation, the key and the step.
#[allow(clippy::too_many_arguments)]
pub fn greedy_actions(
    backend: &mut dyn Backend,
    policy: EvalPolicy<'_>,
    obs: &[f32],
    key: &[i32],
    step: u64,
    discrete: bool,
    act_f: &mut [f32],
    act_i: &mut [i32],
) -> Result<(), RunError> {
    let EvalPolicy {
        entry,
        signature,
        guard,
    } = policy;
    let step_in = [step as i32];
    let inputs = signature
        .inputs
        .iter()
        .map(|role| match role {
            InputRole::Key => Ok(In::I32(key)),
            InputRole::Step => Ok(In::I32(&step_in)),
            InputRole::Observation => Ok(In::F32(obs)),
            other => Err(RunError::Setup(format!(
                "the eval entry point reads `{other}`, which evaluation cannot supply"
            ))),
        })
        .collect::<Result<Vec<In<'_>>, RunError>>()?;
    let mut out = [if discrete {
        Out::I32(act_i)
    } else {
        Out::F32(act_f)
    }];
    backend.call(entry, &inputs, &mut out)?;
    if let Some(g) = guard {
        g.check(backend, || format!("evaluation at step {step}"))?;
    }
    Ok(())
}

/// The error for an environment whose spec changed since the program was compiled (a `gym:`
/// environment re-registered with other spaces or another time limit): acting on it would
/// feed the compiled shapes and bounds wrong data.
pub(crate) fn changed_spec(compiled: &EnvSpec, now: &EnvSpec) -> RunError {
    RunError::Setup(format!(
        "the environment `{}` is no longer the one the program was compiled for: {now:?} now, \
         {compiled:?} then; compile the program again",
        compiled.id
    ))
}
