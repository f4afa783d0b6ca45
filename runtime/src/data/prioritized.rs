//! Proportional prioritized experience replay (Schaul et al., "Prioritized Experience Replay",
//! ICLR 2016).
//!
//! Item `i` is drawn with probability `P(i) = p_i / sum_j p_j`, where `p_i = (|δ_i| + eps)^alpha`
//! is its stored priority and `δ_i` its latest TD error. New items get the largest raw priority
//! `|δ| + eps` seen so far (1.0 before any update), so each is likely to be replayed at least once.
//! Sampling is stratified: the total is split into `batch` equal segments and one uniform draw is
//! made in each, as in the paper, OpenAI Baselines, SB3-contrib and Dopamine.
//!
//! Importance-sampling weights `w_i = (N * P(i))^(-beta)` are normalized by the largest weight
//! any stored item could get, i.e. that of the minimum priority (kept by a [`MinTree`]), not by
//! the largest in the batch; this is the paper's normalization. The `N` and the total cancel, so
//! `w_i = (p_min / p_i)^beta`, which lies in `(0, 1]` and is exactly 1 for a minimum-priority item.
//! Beta anneals linearly from `beta_start` to `beta_end` over `beta_steps` calls to `sample`.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::columns::Field;
use super::error::DataError;
use super::replay::ReplayBuffer;
use super::sum_tree::{MinTree, SumTree};
use crate::error::RunError;
use crate::snapshot::{Resumable, SnapshotReader, SnapshotWriter};

/// The hyperparameters of a [`PrioritizedReplay`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrioritizedConfig {
    /// How strongly priorities shape sampling: 0 is uniform, 1 fully proportional. `>= 0`.
    pub alpha: f64,
    /// The importance-sampling exponent used by the first call to `sample`. In `[0, 1]`.
    pub beta_start: f64,
    /// The exponent reached after `beta_steps` calls to `sample` and kept afterwards. In `[0, 1]`.
    pub beta_end: f64,
    /// The number of `sample` calls over which beta anneals; 0 means `beta_end` from the start.
    pub beta_steps: u64,
    /// Added to `|TD error|` so that no item's priority is zero. `>= 0`.
    pub eps: f64,
}

impl Default for PrioritizedConfig {
    /// The paper's proportional variant: alpha 0.6, beta 0.4 -> 1.0 (over 100 000 samples), and
    /// eps 1e-6.
    fn default() -> Self {
        PrioritizedConfig {
            alpha: 0.6,
            beta_start: 0.4,
            beta_end: 1.0,
            beta_steps: 100_000,
            eps: 1e-6,
        }
    }
}

impl PrioritizedConfig {
    fn validate(&self) -> Result<(), DataError> {
        let unit = |x: f64| (0.0..=1.0).contains(&x);
        let non_negative = |x: f64| x.is_finite() && x >= 0.0;
        check("alpha", self.alpha, non_negative, "a finite number >= 0")?;
        check("beta_start", self.beta_start, unit, "a number in [0, 1]")?;
        check("beta_end", self.beta_end, unit, "a number in [0, 1]")?;
        check("eps", self.eps, non_negative, "a finite number >= 0")
    }
}

fn check(
    name: &'static str,
    value: f64,
    ok: impl Fn(f64) -> bool,
    expected: &'static str,
) -> Result<(), DataError> {
    if ok(value) {
        Ok(())
    } else {
        Err(DataError::InvalidParameter {
            name,
            value,
            expected,
        })
    }
}

/// A replay ring whose items are drawn in proportion to their (powered) priorities.
///
/// Indices are the slots of the underlying [`ReplayBuffer`] (see [`PrioritizedReplay::buffer`]):
/// `sample` returns them, and `update_priorities` takes them back after the learner has computed
/// the new TD errors. A slot refers to whatever item currently occupies it, so updates should be
/// made before pushing enough new items to overwrite the sampled ones.
#[derive(Clone, Debug)]
pub struct PrioritizedReplay {
    buffer: ReplayBuffer,
    sums: SumTree,
    /// The minimum over the *positive* stored priorities (`+inf` for empty or zero-priority
    /// slots): zero-priority items are never drawn, so they cannot set the largest weight.
    mins: MinTree,
    config: PrioritizedConfig,
    /// The largest raw priority `|δ| + eps` seen so far (before alpha).
    max_priority: f64,
    sample_calls: u64,
}

impl PrioritizedReplay {
    /// An empty buffer of `capacity` items. Fails like [`ReplayBuffer::new`], or if a
    /// hyperparameter is out of range (see [`PrioritizedConfig`]).
    pub fn new(fields: &[Field], capacity: usize, config: PrioritizedConfig) -> Result<Self, DataError> {
        config.validate()?;
        Ok(PrioritizedReplay {
            buffer: ReplayBuffer::new(fields, capacity)?,
            sums: SumTree::new(capacity)?,
            mins: MinTree::new(capacity)?,
            config,
            max_priority: 1.0,
            sample_calls: 0,
        })
    }

    /// The underlying storage, for reading items by slot.
    pub fn buffer(&self) -> &ReplayBuffer {
        &self.buffer
    }

    /// The hyperparameters.
    pub fn config(&self) -> &PrioritizedConfig {
        &self.config
    }

    /// The fields, in the order values are pushed and sampled.
    pub fn fields(&self) -> &[Field] {
        self.buffer.fields()
    }

    /// The index of the field called `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.buffer.field_index(name)
    }

    /// The number of items the buffer can hold.
    pub fn capacity(&self) -> usize {
        self.buffer.capacity()
    }

    /// The number of items stored.
    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// True when the next push overwrites the oldest item.
    pub fn is_full(&self) -> bool {
        self.buffer.is_full()
    }

    /// Forgets every item and resets the maximum priority to 1 (the beta schedule continues).
    pub fn clear(&mut self) {
        self.buffer.clear();
        self.sums.clear();
        self.mins.clear();
        self.max_priority = 1.0;
    }

    /// The stored priority `(|δ| + eps)^alpha` of slot `slot`, or `None` if `slot >= len()`.
    pub fn priority(&self, slot: usize) -> Option<f64> {
        if slot < self.len() {
            self.sums.get(slot)
        } else {
            None
        }
    }

    /// The sum of the stored priorities.
    pub fn total_priority(&self) -> f64 {
        self.sums.total()
    }

    /// The largest raw priority `|δ| + eps` seen so far (1.0 initially); new items get this
    /// raised to alpha.
    pub fn max_priority(&self) -> f64 {
        self.max_priority
    }

    /// The number of successful `sample` calls so far.
    pub fn sample_calls(&self) -> u64 {
        self.sample_calls
    }

    /// The beta the next `sample` call uses:
    /// `beta_start + (beta_end - beta_start) * min(1, sample_calls / beta_steps)`.
    pub fn beta(&self) -> f64 {
        let c = &self.config;
        if c.beta_steps == 0 {
            return c.beta_end;
        }
        let progress = (self.sample_calls as f64 / c.beta_steps as f64).min(1.0);
        c.beta_start + (c.beta_end - c.beta_start) * progress
    }

    /// Adds one item (as [`ReplayBuffer::push`]) with the maximum priority.
    pub fn push(&mut self, values: &[&[f32]]) -> Result<(), DataError> {
        self.push_many(1, values)
    }

    /// Adds `n` items (as [`ReplayBuffer::push_many`]), each with the maximum priority.
    pub fn push_many(&mut self, n: usize, values: &[&[f32]]) -> Result<(), DataError> {
        self.buffer.push_many(n, values)?;
        let cap = self.capacity();
        let written = n.min(cap);
        let end = self.buffer.write_slot();
        let priority = self.max_priority.powf(self.config.alpha);
        for k in 0..written {
            self.set_priority(((end + cap - written) + k) % cap, priority)?;
        }
        Ok(())
    }

    /// Draws `batch` items by stratified proportional sampling and writes them into `out`
    /// (laid out as in [`ReplayBuffer::sample`]), their slots into `indices_out` and their
    /// normalized importance weights into `weights_out`; both slices must have length `batch`.
    /// Then advances the beta schedule by one call. On error nothing changes (not even `rng`).
    pub fn sample(
        &mut self,
        rng: &mut ChaCha8Rng,
        batch: usize,
        out: &mut [Vec<f32>],
        indices_out: &mut [usize],
        weights_out: &mut [f32],
    ) -> Result<(), DataError> {
        if self.is_empty() {
            return Err(DataError::Empty);
        }
        if batch == 0 {
            return Err(DataError::ZeroBatch);
        }
        if indices_out.len() != batch {
            return Err(DataError::LengthMismatch {
                what: "indices_out",
                expected: batch,
                got: indices_out.len(),
            });
        }
        if weights_out.len() != batch {
            return Err(DataError::LengthMismatch {
                what: "weights_out",
                expected: batch,
                got: weights_out.len(),
            });
        }
        let total = self.sums.total();
        if !(total > 0.0 && total.is_finite()) {
            return Err(DataError::DegeneratePriorities { total });
        }
        // Checks and sizes `out`: the last step that can fail, so an error changes nothing.
        let columns = self.buffer.columns();
        columns.prepare_out(out, batch)?;

        let beta = self.beta();
        let min = self.mins.min();
        let segment = total / batch as f64;
        for (i, (index, weight)) in indices_out.iter_mut().zip(weights_out.iter_mut()).enumerate() {
            let u: f64 = rng.random();
            // `find` only returns leaves with a positive priority, which are all `< len()`.
            let slot = self.sums.find((i as f64 + u) * segment).unwrap_or(0);
            let p = self.sums.get(slot).unwrap_or(min);
            *index = slot;
            *weight = (min / p).powf(beta) as f32;
            columns.copy_rows(slot, 1, out, i);
        }
        self.sample_calls = self.sample_calls.saturating_add(1);
        Ok(())
    }

    /// Sets the priorities of the given slots from their new TD errors: slot `indices[k]` gets
    /// `(|td[k]| + eps)^alpha` (the sign of `td` is ignored, so raw TD errors may be passed), and
    /// the maximum priority grows to the largest `|td[k]| + eps`. A slot listed twice keeps the
    /// last value. Fails (changing nothing) on a length mismatch, a slot `>= len()`, or a
    /// non-finite value.
    pub fn update_priorities(&mut self, indices: &[usize], td_abs: &[f32]) -> Result<(), DataError> {
        if td_abs.len() != indices.len() {
            return Err(DataError::LengthMismatch {
                what: "td_abs",
                expected: indices.len(),
                got: td_abs.len(),
            });
        }
        let len = self.len();
        if let Some(&index) = indices.iter().find(|&&i| i >= len) {
            return Err(DataError::IndexOutOfRange { index, len });
        }
        for (position, &value) in td_abs.iter().enumerate() {
            if !self.powered(self.raw(value)).is_finite() {
                return Err(DataError::InvalidPriority { position, value });
            }
        }
        for (&slot, &value) in indices.iter().zip(td_abs) {
            let raw = self.raw(value);
            self.max_priority = self.max_priority.max(raw);
            self.set_priority(slot, self.powered(raw))?;
        }
        Ok(())
    }

    /// `|td| + eps`; NaN or infinite for a NaN or infinite `td`.
    fn raw(&self, td: f32) -> f64 {
        f64::from(td).abs() + self.config.eps
    }

    fn powered(&self, raw: f64) -> f64 {
        raw.powf(self.config.alpha)
    }

    fn set_priority(&mut self, slot: usize, priority: f64) -> Result<(), DataError> {
        self.sums.set(slot, priority)?;
        self.mins
            .set(slot, if priority > 0.0 { priority } else { f64::INFINITY })
    }
}

impl Resumable for PrioritizedReplay {
    fn save(&self, prefix: &str, w: &mut SnapshotWriter) {
        self.buffer.save(prefix, w);
        let n = self.buffer.len();
        // The trees are functions of their leaves (every node is recomputed from its children),
        // so the leaves restore them exactly.
        let sums: Vec<f64> = (0..n).map(|i| self.sums.get(i).unwrap_or(0.0)).collect();
        let mins: Vec<f64> = (0..n)
            .map(|i| self.mins.get(i).unwrap_or(f64::INFINITY))
            .collect();
        w.f64s(&format!("{prefix}/priorities"), &sums);
        w.f64s(&format!("{prefix}/min_priorities"), &mins);
        w.f64s(&format!("{prefix}/max_priority"), &[self.max_priority]);
        w.u64(&format!("{prefix}/sample_calls"), self.sample_calls);
    }

    fn restore(&mut self, prefix: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        self.buffer.restore(prefix, r)?;
        let n = self.buffer.len();
        let sums = r.f64s_of_len(&format!("{prefix}/priorities"), n)?;
        let mins = r.f64s_of_len(&format!("{prefix}/min_priorities"), n)?;
        self.sums.clear();
        self.mins.clear();
        for (i, (s, m)) in sums.iter().zip(&mins).enumerate() {
            let bad = |e: DataError| r.error(format!("`{prefix}` priority {i}: {e}"));
            self.sums.set(i, *s).map_err(bad)?;
            self.mins.set(i, *m).map_err(bad)?;
        }
        let max = r.f64s_of_len(&format!("{prefix}/max_priority"), 1)?[0];
        if !(max.is_finite() && max > 0.0) {
            return Err(r.error(format!("`{prefix}/max_priority` is {max}")));
        }
        self.max_priority = max;
        self.sample_calls = r.u64(&format!("{prefix}/sample_calls"))?;
        Ok(())
    }
}
