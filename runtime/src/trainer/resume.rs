//! Exact resume: at every checkpoint the trainer also writes `resume.safetensors`, its whole
//! state — the program's state (as in the checkpoint), replay and rollout contents, n-step
//! windows, environment states, every random generator's position, exploration noise, the
//! schedule's counters and the current logging interval. `rlc resume DIR` reads it back and
//! the run goes on as if it had never stopped: same checkpoints, same metrics.
//!
//! The file is self-contained (it repeats the program's state), so it and the checkpoint
//! can never disagree, whichever was written last when a run was killed.

use super::interval::Interval;
use super::{RunConfig, Store, Trainer};
use crate::checkpoint;
use crate::error::RunError;
use crate::metrics::{MetricsWriter, Record};
use crate::snapshot::{Resumable, SnapshotReader, SnapshotWriter};
use rlc_compiler::backend::require_replay;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The file beside the checkpoint that holds a run's whole state.
pub const RESUME_FILE: &str = "resume.safetensors";

/// Where the schedule is: everything the training loop keeps between steps.
pub(super) struct Position {
    /// Environment transitions so far.
    pub(super) steps: u64,
    /// Vectorised steps so far.
    pub(super) vector_steps: u64,
    /// Episodes finished so far.
    pub(super) episodes: u64,
    /// The latest evaluation's mean return.
    pub(super) last_eval: Option<f64>,
    /// Steps at which the next evaluation (and checkpoint) and metrics line are due.
    pub(super) next_eval: u64,
    pub(super) next_log: u64,
    /// Seconds spent evaluating, and seconds the run had taken before it was resumed.
    pub(super) eval_time: f64,
    pub(super) wall_before: f64,
    /// The logging interval in progress.
    pub(super) interval: Interval,
    /// Every metrics record written so far.
    pub(super) history: Vec<Record>,
    /// How many records a resumed run finds in its metrics file (set by `restore`).
    records_expected: u64,
}

impl Position {
    /// The start of a run.
    pub(super) fn start(cfg: &RunConfig, interval: Interval) -> Position {
        Position {
            steps: 0,
            vector_steps: 0,
            episodes: 0,
            last_eval: None,
            next_eval: if cfg.eval_every > 0 {
                cfg.eval_every
            } else {
                u64::MAX
            },
            next_log: cfg.log_every.max(1),
            eval_time: 0.0,
            wall_before: 0.0,
            interval,
            history: Vec::new(),
            records_expected: 0,
        }
    }
}

impl Resumable for Position {
    fn save(&self, p: &str, w: &mut SnapshotWriter) {
        w.u64s(
            &format!("{p}/counters"),
            &[
                self.steps,
                self.vector_steps,
                self.episodes,
                self.next_eval,
                self.next_log,
                self.history.len() as u64,
            ],
        );
        // NaN marks "no evaluation yet" (an evaluation's mean return is always finite).
        w.f64s(
            &format!("{p}/times"),
            &[
                self.last_eval.unwrap_or(f64::NAN),
                self.eval_time,
                self.wall_before,
            ],
        );
        self.interval.save(&format!("{p}/interval"), w);
    }

    fn restore(&mut self, p: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        let c = r.u64s(&format!("{p}/counters"))?;
        let [steps, vector_steps, episodes, next_eval, next_log, records] = c[..] else {
            return Err(r.error(format!("`{p}/counters` holds {} values, expected 6", c.len())));
        };
        let t = r.f64s_of_len(&format!("{p}/times"), 3)?;
        (self.steps, self.vector_steps, self.episodes) = (steps, vector_steps, episodes);
        (self.next_eval, self.next_log) = (next_eval, next_log);
        self.last_eval = (!t[0].is_nan()).then_some(t[0]);
        (self.eval_time, self.wall_before) = (t[1], t[2]);
        self.interval.restore(&format!("{p}/interval"), r)?;
        // Placeholder length: the records themselves are read back from the metrics file.
        self.history = Vec::with_capacity(records as usize);
        self.records_expected = records;
        Ok(())
    }
}

/// The run's settings a resume must keep: with any other, the continuation would not be the
/// run that was interrupted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResumeMeta {
    /// Format of the file (bumped when its layout changes).
    pub format: u32,
    /// The run's `--steps`, `--eval-every`, `--eval-episodes` and `--log-every`.
    pub steps: u64,
    pub eval_every: u64,
    pub eval_episodes: usize,
    pub log_every: u64,
    /// The backend that ran it (floating-point results differ between backends).
    pub backend: String,
    /// True when written at the end of the run (there is nothing left to resume).
    pub finished: bool,
}

const FORMAT: u32 = 1;

impl Trainer<'_> {
    /// Writes the whole state (see the module doc), then the checkpoint.
    pub(super) fn save_checkpoint(&self, dir: &Path, pos: &Position, finished: bool) -> Result<(), RunError> {
        let meta = checkpoint::Meta {
            program_hash: format!("{:016x}", self.cfg.program_hash),
            algorithm: self.program.name.clone(),
            env: self.program.env.id.clone(),
            step: pos.steps,
            seed: self.cfg.seed,
        };
        let path = dir.join(RESUME_FILE);
        let mut w = SnapshotWriter::new();
        checkpoint::put_states(&mut w, &path, &self.program.states, self.backend.as_ref())?;
        self.save_host_state(pos, &mut w);
        let resume = ResumeMeta {
            format: FORMAT,
            steps: self.cfg.steps,
            eval_every: self.cfg.eval_every,
            eval_episodes: self.cfg.eval_episodes,
            log_every: self.cfg.log_every,
            backend: self.backend.name().to_string(),
            finished,
        };
        let json = serde_json::to_string(&resume).map_err(|e| RunError::Io(e.to_string()))?;
        checkpoint::write(
            &path,
            &w,
            &meta,
            HashMap::from([("rlc_resume".to_string(), json)]),
        )?;
        checkpoint::save(
            &dir.join("checkpoint.safetensors"),
            &self.program.states,
            self.backend.as_ref(),
            &meta,
        )
    }

    fn save_host_state(&self, pos: &Position, w: &mut SnapshotWriter) {
        pos.save("resume/position", w);
        w.rng("resume/rng", &self.rng);
        w.u64s("resume/calls", &[self.act_calls, self.train_calls]);
        w.f32s("resume/obs", &self.obs);
        self.env.save("resume/env", w);
        if let Some(noise) = &self.noise {
            noise.save("resume/noise", w);
        }
        for (spec, store) in self.program.data.iter().zip(&self.stores) {
            store.save(&format!("resume/data/{}", spec.name), w);
        }
        for (spec, adder) in self.program.data.iter().zip(&self.adders) {
            if let Some(a) = adder {
                a.save(&format!("resume/nstep/{}", spec.name), w);
            }
        }
    }

    /// Reads the state a run wrote in `dir` (see [`Trainer::save_checkpoint`]) into this
    /// trainer, checks it belongs to this run, and reopens the metrics file at that point.
    pub(super) fn restore(&mut self, dir: &Path) -> Result<(Position, Option<MetricsWriter>), RunError> {
        let path = dir.join(RESUME_FILE);
        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| {
            RunError::Io(format!(
                "cannot resume from `{shown}`: {e} (a run writes it at its first checkpoint)"
            ))
        })?;
        let (meta, resume) = read_meta(&bytes, &shown)?;
        let bad = |what: String| RunError::Io(format!("cannot resume from `{shown}`: {what}"));
        if meta.program_hash != format!("{:016x}", self.cfg.program_hash) {
            return Err(bad(
                "it was written by another program, environment or `--set` overrides (the program hash differs)"
                    .into(),
            ));
        }
        if resume.finished {
            return Err(bad(format!(
                "the run finished at step {}: there is nothing left to resume",
                meta.step
            )));
        }
        let ours = (
            self.cfg.seed,
            self.cfg.steps,
            self.cfg.eval_every,
            self.cfg.eval_episodes,
            self.cfg.log_every,
        );
        let theirs = (
            meta.seed,
            resume.steps,
            resume.eval_every,
            resume.eval_episodes,
            resume.log_every,
        );
        if ours != theirs {
            return Err(bad(format!(
                "it was written by a run with seed {}, {} steps, evaluation every {} steps over {} \
                 episodes and metrics every {} steps; this run has {:?}",
                theirs.0, theirs.1, theirs.2, theirs.3, theirs.4, ours
            )));
        }
        checkpoint::load(&path, &self.program.states, self.backend.as_mut())?;
        let r = SnapshotReader::new(&bytes, &shown)?;
        let mut pos = Position::start(&self.cfg, Interval::new(&self.loss_outputs, &self.logged.names));
        pos.restore("resume/position", &r)?;
        if pos.steps != meta.step || pos.steps > self.cfg.steps {
            return Err(bad(format!(
                "its step counter ({}) disagrees with its metadata",
                pos.steps
            )));
        }
        self.rng = r.rng("resume/rng")?;
        let calls = r.u64s("resume/calls")?;
        let [act, train] = calls[..] else {
            return Err(bad("`resume/calls` is not two counters".into()));
        };
        (self.act_calls, self.train_calls) = (act, train);
        self.steps = pos.steps;
        self.obs = r.f32s_of_len("resume/obs", self.obs.len())?;
        self.env.restore("resume/env", &r)?;
        if let Some(noise) = &mut self.noise {
            noise.restore("resume/noise", &r)?;
        }
        for (spec, store) in self.program.data.iter().zip(&mut self.stores) {
            store.restore(&format!("resume/data/{}", spec.name), &r)?;
        }
        for (spec, adder) in self.program.data.iter().zip(&mut self.adders) {
            if let Some(a) = adder {
                a.restore(&format!("resume/nstep/{}", spec.name), &r)?;
            }
        }
        self.mirror_device_replays()?;
        let metrics = match &self.cfg.metrics {
            Some(p) => {
                let (w, history) = MetricsWriter::resume(p, pos.records_expected as usize)?;
                pos.history = history;
                Some(w)
            }
            None => None,
        };
        Ok((pos, metrics))
    }

    /// Fills the backend's replay rings (OpenCL keeps them in device memory) with the restored
    /// host rings, slot for slot, and leaves their write positions where the host's are, so
    /// the device draws the same items it would have drawn in the uninterrupted run.
    fn mirror_device_replays(&mut self) -> Result<(), RunError> {
        for (store, id) in self.stores.iter().zip(&self.on_device) {
            let Some(id) = *id else { continue };
            let backend = require_replay(self.backend.as_mut())?;
            // Slots 0..len in order; a full ring then rewrites 0..next so its write position
            // wraps round to `next`, as the host's.
            let push_slots = |backend: &mut dyn rlc_compiler::backend::DeviceReplay,
                              slots: std::ops::Range<usize>|
             -> Result<(), RunError> {
                match store {
                    Store::Replay(r) => {
                        let cols = r.columns();
                        let f: Vec<&[f32]> = (0..r.fields().len())
                            .map(|k| {
                                let n = cols.numel(k);
                                &cols.column(k)[slots.start * n..slots.end * n]
                            })
                            .collect();
                        backend.replay_push(id, slots.len(), &f)?;
                    }
                    Store::Sequence { replay, .. } => {
                        for slot in slots {
                            let f: Vec<&[f32]> = (0..replay.fields().len())
                                .map(|k| replay.sequence(k, slot))
                                .collect();
                            backend.replay_push(id, 1, &f)?;
                        }
                    }
                    _ => {}
                }
                Ok(())
            };
            let (len, next, cap) = match store {
                Store::Replay(r) => (r.len(), r.write_slot(), r.capacity()),
                Store::Sequence { replay, .. } => (replay.len(), replay.write_slot(), replay.capacity()),
                _ => continue,
            };
            push_slots(backend, 0..len)?;
            if len == cap && next > 0 {
                push_slots(backend, 0..next)?;
            }
        }
        Ok(())
    }
}

/// The checkpoint and resume metadata of a resume file.
fn read_meta(bytes: &[u8], shown: &str) -> Result<(checkpoint::Meta, ResumeMeta), RunError> {
    let bad = |what: String| RunError::Io(format!("cannot resume from `{shown}`: {what}"));
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
    let get = |key: &str| {
        header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(key))
            .cloned()
            .ok_or_else(|| bad(format!("no `{key}` metadata: not written by `rlc run`")))
    };
    let meta: checkpoint::Meta =
        serde_json::from_str(&get("rlc")?).map_err(|e| bad(format!("bad `rlc` metadata: {e}")))?;
    let resume: ResumeMeta = serde_json::from_str(&get("rlc_resume")?)
        .map_err(|e| bad(format!("bad `rlc_resume` metadata: {e}")))?;
    if resume.format != FORMAT {
        return Err(bad(format!(
            "it has format {}, this rlc reads format {FORMAT}",
            resume.format
        )));
    }
    Ok((meta, resume))
}
