//! The trainer: runs a program's schedule against vectorised environments by calling its
//! compiled entry points on a backend, evaluates the greedy policy, logs metrics and writes
//! checkpoints.

mod debug_nans;
mod derives;
mod eval;
mod faults;
mod feed;
mod index_guard;
mod interval;
pub mod keys;
mod logged;
pub mod noise;
mod resume;
mod setup;
mod store;
mod transition;

pub use crate::error::{FaultSource, RunError};
pub use eval::{EvalPolicy, Watcher, episode_returns, greedy_actions, watched_episode_returns};
pub use index_guard::IndexGuard;
pub use resume::{RESUME_FILE, ResumeMeta};
pub use store::Store;

use crate::checkpoint;
use crate::data::NStepAdder;
use crate::envs::VecEnv;
use crate::metrics::MetricsWriter;
use crate::progress::Progress;
use crate::tensorboard::EventWriter;
use feed::Feed;
use interval::Interval;
use logged::Logged;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use resume::Position;
use rlc_compiler::backend::{Backend, Draw, EntryId, In, Out, ReplayId};
use rlc_compiler::env_spec::ActionSpace;
use rlc_compiler::ir::{DType, Graph};
use rlc_compiler::lower::Compiled;
use rlc_compiler::signature::{InputRole, Signature};
use setup::{Derive, Src};
use std::path::PathBuf;
use std::time::Instant;
use transition::store_transition;

/// How a run is configured (everything `rlc run` takes besides the program).
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Environment transitions to train for.
    pub steps: u64,
    /// The run's seed: every random number derives from it.
    pub seed: u64,
    /// Transitions between evaluations (0: only at the end).
    pub eval_every: u64,
    /// Greedy episodes per evaluation (the `eval` entry point's batch size).
    pub eval_episodes: usize,
    /// Transitions between metrics lines.
    pub log_every: u64,
    /// Metrics file (JSON lines).
    pub metrics: Option<PathBuf>,
    /// Checkpoint directory.
    pub checkpoint: Option<PathBuf>,
    /// Learning-curve image (SVG).
    pub curve: Option<PathBuf>,
    /// Directory of TensorBoard event files (the metrics records' scalars).
    pub tensorboard: Option<PathBuf>,
    /// Program hash recorded in checkpoints.
    pub program_hash: u64,
    /// On a NaN or infinity, find the operation that produced it (copies the state before every
    /// training call: slow, for debugging).
    pub debug_nans: bool,
    /// How Gymnasium runs the copies of a `gym:` environment (rlc's own ignore it).
    pub vectorize: crate::envs::Vectorization,
}

/// What a finished run reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Mean return of the final greedy evaluation.
    pub eval_return: f64,
    /// Transitions trained on.
    pub steps: u64,
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// Transitions per second of training time (evaluation excluded).
    pub steps_per_s: f64,
    /// Episodes finished during training.
    pub episodes: u64,
    /// Training calls made.
    pub updates: u64,
    /// Transitions per second from the first training call to the end (evaluation
    /// excluded): the throughput once learning runs, without the warm-up.
    pub train_phase_steps_per_s: f64,
    /// Bytes moved between host and device per transition over the same span (backends
    /// with separate memory only; periodic evaluations and checkpoints included).
    pub train_phase_bytes_per_step: Option<f64>,
}

/// Runs one training job.
pub struct Trainer<'a> {
    program: &'a Compiled,
    backend: Box<dyn Backend>,
    cfg: RunConfig,
    act: EntryId,
    act_graph: &'a Graph,
    act_signature: &'a Signature,
    eval: EntryId,
    eval_signature: &'a Signature,
    train: EntryId,
    train_graph: &'a Graph,
    env: VecEnv,
    stores: Vec<Store>,
    into: Vec<usize>,
    plan: Vec<Vec<Src>>,
    feed: Feed,
    /// Per store: the backend's own replay buffer mirroring it, sampled on the device.
    on_device: Vec<Option<ReplayId>>,
    /// The draws from those buffers each training call makes.
    draws: Vec<Draw>,
    rng: ChaCha8Rng,
    /// The schedule's exploration noise, added to the acting policy's actions.
    noise: Option<noise::OrnsteinUhlenbeck>,
    // Per-step scratch, allocated once.
    obs: Vec<f32>,
    act_f32: Vec<f32>,
    act_i32: Vec<i32>,
    extras: Vec<Vec<f32>>,
    extra_ints: Vec<Vec<i32>>,
    fields: Vec<Vec<Vec<f32>>>,
    /// Per store: the n-step windows its steps pass through (`None`: one-step transitions).
    adders: Vec<Option<NStepAdder>>,
    train_out: Vec<Vec<f32>>,
    loss_outputs: Vec<(String, usize)>,
    /// The logged metrics' outputs.
    logged: Logged,
    /// Per rollout with derived fields: (store, entry, graph, output buffers).
    derives: Vec<Derive<'a>>,
    /// `(train output, feed source)` pairs carrying new priorities.
    priority_outputs: Vec<(usize, usize)>,
    // Counters.
    act_calls: u64,
    train_calls: u64,
    /// Environment steps so far (fed to entry points that read `step_count()`).
    steps: u64,
    /// The run-time index checks, read after every call when the program has any.
    index_guard: Option<IndexGuard>,
}

impl<'a> Trainer<'a> {
    /// Compiles the program's entry points on `backend`, initialises state from the seed,
    /// and allocates environments and storage.
    pub fn new(
        program: &'a Compiled,
        mut backend: Box<dyn Backend>,
        cfg: RunConfig,
    ) -> Result<Trainer<'a>, RunError> {
        let n = program.schedule.envs;
        // All copies step together: any other count would silently run a few more steps.
        if !cfg.steps.is_multiple_of(n as u64) {
            let lo = cfg.steps - cfg.steps % n as u64;
            let hi = lo + n as u64;
            let near = if lo == 0 {
                format!("--steps {hi}")
            } else {
                format!("--steps {lo} or {hi}")
            };
            return Err(RunError::Setup(format!(
                "{} steps is not a multiple of the {n} environments `{}` steps together: use {near}",
                cfg.steps, program.name
            )));
        }
        let entries = setup::compile_entries(program, backend.as_mut(), cfg.eval_episodes, cfg.seed)?;
        let env_seed = keys::derive(cfg.seed, keys::Purpose::Env);
        let env = VecEnv::with_vectorization(&program.env.id, n, env_seed, cfg.vectorize)?;
        if env.spec() != &program.env {
            return Err(eval::changed_spec(&program.env, env.spec()));
        }
        let stores = setup::stores(program, n)?;
        let into = setup::schedule_targets(program);
        setup::check_warmup(program, &into)?;
        let feed = Feed::plan(program, entries.train_graph, entries.train_signature, &stores)?;
        let on_device = setup::device_replays(program, backend.as_mut(), &feed, &stores);
        let draws = feed::device_draws(&feed, &on_device);
        if cfg.debug_nans && !draws.is_empty() {
            return Err(RunError::Setup(format!(
                "--debug-nans replays training calls on the host, but the {} backend draws this \
                 program's batches on the device: debug with --backend jit",
                backend.name()
            )));
        }
        let plan = setup::field_plan(program, &into, entries.act_signature)?;
        let (extras, extra_ints) = setup::act_extras(entries.act_graph);
        let fields = setup::field_buffers(program, &into, n);
        let adders = setup::nstep_adders(program, n)?;
        let train_out = setup::output_buffers(entries.train_graph);
        let loss_outputs = setup::loss_outputs(entries.train_signature);
        let logged = Logged::plan(program, entries.act_signature, entries.train_signature);
        let derives = setup::compile_derives(program, backend.as_mut())?;
        let priority_outputs = setup::priority_outputs(program, entries.train_signature, &feed)?;
        let o = program.env.obs_dim;
        let a = program.env.action.flat_dim();
        Ok(Trainer {
            index_guard: IndexGuard::of(program),
            program,
            backend,
            act: entries.act,
            act_graph: entries.act_graph,
            act_signature: entries.act_signature,
            eval: entries.eval,
            eval_signature: entries.eval_signature,
            train: entries.train,
            train_graph: entries.train_graph,
            env,
            stores,
            into,
            plan,
            feed,
            on_device,
            draws,
            rng: ChaCha8Rng::seed_from_u64(keys::derive(cfg.seed, keys::Purpose::Host)),
            noise: noise::for_schedule(&program.schedule, a, cfg.seed),
            obs: vec![0.0; n * o],
            act_f32: vec![0.0; n * a],
            act_i32: vec![0; n],
            extras,
            extra_ints,
            fields,
            adders,
            train_out,
            loss_outputs,
            logged,
            priority_outputs,
            derives,
            act_calls: 0,
            train_calls: 0,
            steps: 0,
            cfg,
        })
    }

    /// The backend (for reading state after a run).
    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// The storage of each data declaration, in declaration order.
    pub fn stores(&self) -> &[Store] {
        &self.stores
    }

    /// Runs the schedule for the configured number of steps.
    pub fn run(&mut self, progress: &mut Progress) -> Result<Summary, RunError> {
        let metrics = match &self.cfg.metrics {
            Some(p) => Some(MetricsWriter::create(p)?),
            None => None,
        };
        self.obs.copy_from_slice(self.env.reset()?);
        let pos = Position::start(&self.cfg, Interval::new(&self.loss_outputs, &self.logged.names));
        self.run_from(pos, metrics, progress)
    }

    /// Continues the run whose checkpoints went to the configured checkpoint directory from
    /// the state it last wrote there ([`RESUME_FILE`]): the rest of the run is the same, to the
    /// byte, as if it had not stopped (on the same backend).
    pub fn resume(&mut self, progress: &mut Progress) -> Result<Summary, RunError> {
        let dir = self
            .cfg
            .checkpoint
            .clone()
            .ok_or_else(|| RunError::Setup("resuming needs the run's checkpoint directory".into()))?;
        let (pos, metrics) = self.restore(&dir)?;
        progress.step(pos.steps);
        self.run_from(pos, metrics, progress)
    }

    fn run_from(
        &mut self,
        mut pos: Position,
        mut metrics: Option<MetricsWriter>,
        progress: &mut Progress,
    ) -> Result<Summary, RunError> {
        if let Some(dir) = &self.cfg.checkpoint {
            checkpoint::remove_stale_temp(&dir.join("checkpoint.safetensors"))?;
            checkpoint::remove_stale_temp(&dir.join(RESUME_FILE))?;
        }
        // A resumed run starts a new event file: TensorBoard reads every file in the directory.
        let mut events = match &self.cfg.tensorboard {
            Some(dir) => Some(EventWriter::create(dir)?),
            None => None,
        };
        let start = Instant::now();
        let wall_now = |pos: &Position| pos.wall_before + start.elapsed().as_secs_f64();
        let sch = self.program.schedule.clone();
        let n = sch.envs as u64;
        // (time, steps, evaluation time) when training first ran.
        let mut train_start: Option<(Instant, u64, f64)> = None;
        // Bytes moved host<->device when the first iteration that trained ended.
        let mut moved_at_start: Option<u64> = None;
        while pos.steps < self.cfg.steps {
            let random = pos.steps < sch.warmup as u64;
            self.act_step(random, &mut pos.interval)?;
            let batch = match &self.program.env.action {
                ActionSpace::Discrete { .. } => self.env.step_discrete(&self.act_i32)?,
                ActionSpace::Continuous { .. } => self.env.step_continuous(&self.act_f32)?,
            };
            if let Some(noise) = &mut self.noise {
                for (i, (t, u)) in batch.terminated.iter().zip(&batch.truncated).enumerate() {
                    if *t || *u {
                        noise.reset(i);
                    }
                }
            }
            for f in &batch.finished {
                pos.episodes += 1;
                pos.interval.returns.push(f.episode_return);
                progress.episode(f.episode_return);
            }
            // Store the transition, then move to the next observation.
            store_transition(
                &self.plan,
                &self.into,
                &mut self.fields,
                &mut self.adders,
                &self.obs,
                &self.act_f32,
                batch,
                &self.extras,
                &mut self.stores,
                &self.on_device,
                self.backend.as_mut(),
            )?;
            self.obs.copy_from_slice(&batch.obs);
            pos.steps += n;
            self.steps = pos.steps;
            pos.vector_steps += 1;
            // Train.
            if self.feed.on_policy(&self.stores) {
                if self.feed.ready(&self.stores) {
                    self.run_derives(&mut pos.interval)?;
                    self.train_on_policy(sch.train_count.max(1) * sch.epochs, &mut pos.interval)?;
                    for s in &mut self.stores {
                        if let Store::Rollout(r) = s {
                            r.clear();
                        }
                    }
                }
            } else if pos.steps > sch.train_after as u64
                && pos.vector_steps.is_multiple_of(sch.train_every as u64)
                && self.feed.ready(&self.stores)
            {
                for _ in 0..sch.train_count {
                    self.train_off_policy(&mut pos.interval)?;
                }
            }
            if train_start.is_none() && self.train_calls > 0 {
                train_start = Some((Instant::now(), pos.steps, pos.eval_time));
                moved_at_start = self.backend.transfers().map(|t| t.total());
            }
            progress.step(pos.steps);
            let evaluated = pos.steps >= pos.next_eval && pos.steps < self.cfg.steps;
            if evaluated {
                let t = Instant::now();
                let r = self.evaluate(pos.steps)?;
                pos.eval_time += t.elapsed().as_secs_f64();
                pos.last_eval = Some(r);
                progress.eval(r);
                pos.next_eval += self.cfg.eval_every;
            }
            if pos.steps >= pos.next_log {
                let wall = wall_now(&pos);
                let rec = pos.interval.record(
                    pos.steps,
                    pos.episodes,
                    pos.last_eval,
                    wall,
                    pos.eval_time,
                    self.train_calls,
                );
                if let Some(m) = &mut metrics {
                    m.write(&rec)?;
                }
                if let Some(e) = &mut events {
                    e.write(&rec)?;
                }
                progress.log(&rec);
                pos.history.push(rec);
                pos.interval.reset(pos.steps, wall - pos.eval_time);
                pos.next_log += self.cfg.log_every.max(1);
            }
            // Checkpoint at the end of the step, so a resumed run starts with the next one.
            if evaluated && let Some(dir) = &self.cfg.checkpoint {
                // The snapshot records the whole run's wall time so far.
                let before = pos.wall_before;
                pos.wall_before = wall_now(&pos);
                self.save_checkpoint(dir, &pos, false)?;
                pos.wall_before = before;
            }
        }
        // Final evaluation and outputs.
        let steps = pos.steps;
        let train_time = wall_now(&pos) - pos.eval_time;
        let train_phase_steps_per_s = match train_start {
            Some((t0, s0, e0)) => {
                let dt = t0.elapsed().as_secs_f64() - (pos.eval_time - e0);
                if dt > 0.0 { (steps - s0) as f64 / dt } else { 0.0 }
            }
            None => 0.0,
        };
        let train_phase_bytes_per_step = match (train_start, moved_at_start, self.backend.transfers()) {
            (Some((_, s0, _)), Some(b0), Some(now)) if steps > s0 => {
                Some((now.total() - b0) as f64 / (steps - s0) as f64)
            }
            _ => None,
        };
        let t = Instant::now();
        let final_eval = self.evaluate(steps)?;
        pos.eval_time += t.elapsed().as_secs_f64();
        let wall = wall_now(&pos);
        progress.eval(final_eval);
        let mut rec = pos.interval.record(
            steps,
            pos.episodes,
            Some(final_eval),
            wall,
            pos.eval_time,
            self.train_calls,
        );
        rec.final_record = true;
        // The final record reports the whole run's training throughput.
        rec.steps_per_s = if train_time > 0.0 {
            steps as f64 / train_time
        } else {
            0.0
        };
        if let Some(m) = &mut metrics {
            m.write(&rec)?;
            m.flush()?;
        }
        if let Some(e) = &mut events {
            e.write(&rec)?;
        }
        pos.history.push(rec);
        if let Some(dir) = &self.cfg.checkpoint {
            self.save_checkpoint(dir, &pos, true)?;
        }
        if let Some(p) = &self.cfg.curve {
            crate::curve::write_svg(p, &self.program.name, &self.program.env.id, &pos.history)?;
        }
        progress.finish();
        Ok(Summary {
            eval_return: final_eval,
            steps,
            wall_s: wall,
            steps_per_s: if train_time > 0.0 {
                steps as f64 / train_time
            } else {
                0.0
            },
            episodes: pos.episodes,
            updates: self.train_calls,
            train_phase_steps_per_s,
            train_phase_bytes_per_step,
        })
    }

    /// The mean return of a greedy evaluation at `steps`.
    fn evaluate(&mut self, steps: u64) -> Result<f64, RunError> {
        Ok(mean_return(episode_returns(
            self.backend.as_mut(),
            EvalPolicy {
                entry: self.eval,
                signature: self.eval_signature,
                guard: self.index_guard.as_ref(),
            },
            &self.program.env,
            self.cfg.eval_episodes,
            self.cfg.seed,
            steps,
        )?))
    }

    /// Chooses actions for the current observations (uniformly at random during warm-up).
    fn act_step(&mut self, random: bool, interval: &mut Interval) -> Result<(), RunError> {
        if random {
            match &self.program.env.action {
                ActionSpace::Discrete { n } => {
                    for (a, f) in self.act_i32.iter_mut().zip(self.act_f32.iter_mut()) {
                        *a = self.rng.random_range(0..*n as i32);
                        *f = *a as f32;
                    }
                }
                ActionSpace::Continuous { dim, low, high } => {
                    for (i, a) in self.act_f32.iter_mut().enumerate() {
                        let (lo, hi) = (low[i % dim], high[i % dim]);
                        *a = lo + (hi - lo) * self.rng.random::<f32>();
                    }
                }
            }
            return Ok(());
        }
        let key = keys::call_key(self.cfg.seed, keys::Purpose::Act, self.act_calls);
        self.act_calls += 1;
        let g = self.act_graph;
        let step = [self.steps as i32];
        let mut inputs: Vec<In<'_>> = Vec::with_capacity(3);
        for role in &self.act_signature.inputs {
            inputs.push(match role {
                InputRole::Key => In::I32(&key),
                InputRole::Step => In::I32(&step),
                InputRole::Observation => In::F32(&self.obs),
                other => {
                    return Err(RunError::Setup(format!(
                        "the acting entry point reads `{other}`, which acting cannot supply"
                    )));
                }
            });
        }
        let discrete = self.program.env.action.is_discrete();
        let mut outputs: Vec<Out<'_>> = Vec::with_capacity(g.outputs.len());
        outputs.push(if discrete {
            Out::I32(&mut self.act_i32)
        } else {
            Out::F32(&mut self.act_f32)
        });
        for ((_, id), (f, i)) in g
            .outputs
            .iter()
            .skip(1)
            .zip(self.extras.iter_mut().zip(self.extra_ints.iter_mut()))
        {
            outputs.push(if g.ty(*id).dtype == DType::I32 {
                Out::I32(i)
            } else {
                Out::F32(f)
            });
        }
        self.backend.call(self.act, &inputs, &mut outputs)?;
        self.check_indices("acting")?;
        if let Err(what) = self.logged.add_act(&self.extras, &mut interval.metrics) {
            return Err(self.non_finite(&format!("{what} in acting call {}", self.act_calls), None));
        }
        // Integer extras are stored as floats.
        for (f, i) in self.extras.iter_mut().zip(&self.extra_ints) {
            for (d, s) in f.iter_mut().zip(i) {
                *d = *s as f32;
            }
        }
        match (&self.program.env.action, &mut self.noise) {
            (ActionSpace::Discrete { .. }, _) => {
                for (f, a) in self.act_f32.iter_mut().zip(&self.act_i32) {
                    *f = *a as f32;
                }
            }
            (ActionSpace::Continuous { low, high, .. }, Some(noise)) => {
                noise.perturb(&mut self.act_f32, low, high)
            }
            (ActionSpace::Continuous { .. }, None) => {}
        }
        Ok(())
    }

    fn call_train(&mut self, interval: &mut Interval) -> Result<(), RunError> {
        let key = feed::train_key(self.cfg.seed, self.train_calls);
        self.train_calls += 1;
        let step = [self.steps as i32];
        let inputs = self.feed.inputs(&self.stores, &key, &step);
        let before = if self.cfg.debug_nans {
            Some(debug_nans::Snapshot::take(
                self.backend.as_ref(),
                &self.program.states,
                self.train_graph,
                &inputs,
            )?)
        } else {
            None
        };
        let mut outputs: Vec<Out<'_>> = self
            .train_out
            .iter_mut()
            .map(|v| Out::F32(v.as_mut_slice()))
            .collect();
        if self.draws.is_empty() {
            self.backend.call(self.train, &inputs, &mut outputs)?;
        } else {
            feed::set_draw_keys(&mut self.draws, self.cfg.seed, self.train_calls - 1);
            rlc_compiler::backend::require_replay(self.backend.as_mut())?.call_drawn(
                self.train,
                &inputs,
                &self.draws,
                &mut outputs,
            )?;
        }
        self.check_indices("training")?;
        for (oi, src) in &self.priority_outputs {
            let s = &self.feed.sources[*src];
            if let Store::Prioritized(r) = &mut self.stores[s.store] {
                r.update_priorities(&s.indices, &self.train_out[*oi])?;
            }
        }
        let bad_loss = self
            .loss_outputs
            .iter()
            .find_map(|(name, i)| {
                let v = self.train_out[*i][0];
                (!v.is_finite()).then(|| format!("loss `{name}` is {v}"))
            })
            .or_else(|| self.logged.non_finite_train(&self.train_out));
        // Debugging checks the state after every call, so the fault is caught where it starts.
        let bad = match (bad_loss, &before) {
            (Some(what), _) => Some(what),
            (None, Some(_)) => self.non_finite_state()?,
            (None, None) => None,
        };
        if let Some(what) = bad {
            let (source, replayed) = match &before {
                Some(snap) => (
                    snap.source(self.train_graph, "train", &self.program.states)?,
                    true,
                ),
                None => (None, false),
            };
            let what = if replayed && source.is_none() {
                // Say so rather than print nothing: the backends round differently.
                format!(
                    "{what} (replaying the call on the interpreter gave finite values, so no source can be named)"
                )
            } else {
                what
            };
            return Err(self.non_finite(&what, source));
        }
        for (k, (_, i)) in self.loss_outputs.iter().enumerate() {
            interval.losses.add(k, self.train_out[*i][0]);
        }
        self.logged.add_train(&self.train_out, &mut interval.metrics);
        Ok(())
    }

    fn train_off_policy(&mut self, interval: &mut Interval) -> Result<(), RunError> {
        self.feed
            .sample(&mut self.stores, &self.on_device, &mut self.rng)?;
        self.call_train(interval)
    }

    fn train_on_policy(&mut self, epochs: usize, interval: &mut Interval) -> Result<(), RunError> {
        for _ in 0..epochs {
            let batches = self.feed.shuffle(&self.stores, &mut self.rng)?;
            for k in 0..batches {
                self.feed.gather_minibatch(&self.stores, k)?;
                self.feed
                    .sample(&mut self.stores, &self.on_device, &mut self.rng)?;
                self.call_train(interval)?;
            }
        }
        Ok(())
    }
}

/// The mean of an evaluation's episode returns.
fn mean_return(returns: Vec<f64>) -> f64 {
    returns.iter().sum::<f64>() / returns.len().max(1) as f64
}
