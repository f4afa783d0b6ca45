//! Statistics of one logging interval: episode returns, loss and metric sums since the last
//! metrics line, turned into a [`Record`].

use crate::error::RunError;
use crate::metrics::Record;
use crate::snapshot::{Resumable, SnapshotReader, SnapshotWriter};

/// Means of named series over an interval: each value added once per call that computes it.
pub(super) struct Means {
    names: Vec<String>,
    /// Per series: (sum, count) of its values in the interval.
    sums: Vec<(f64, u64)>,
}

impl Means {
    pub(super) fn new(names: impl IntoIterator<Item = String>) -> Means {
        let names: Vec<String> = names.into_iter().collect();
        Means {
            sums: vec![(0.0, 0); names.len()],
            names,
        }
    }

    /// Adds one value of series `k`.
    pub(super) fn add(&mut self, k: usize, v: f32) {
        self.sums[k].0 += f64::from(v);
        self.sums[k].1 += 1;
    }

    /// Each series' mean over the interval (`None` when nothing computed it).
    fn means(&self) -> Vec<(String, Option<f64>)> {
        self.names
            .iter()
            .zip(&self.sums)
            .map(|(n, (s, c))| (n.clone(), (*c > 0).then(|| s / *c as f64)))
            .collect()
    }

    fn reset(&mut self) {
        self.sums.fill((0.0, 0));
    }
}

/// Statistics of the current logging interval.
pub(super) struct Interval {
    /// Returns of the episodes finished in the interval.
    pub(super) returns: Vec<f64>,
    /// The training step's losses.
    pub(super) losses: Means,
    /// The program's logged metrics (acting, derive and training entries together).
    pub(super) metrics: Means,
    start_steps: u64,
    start_train_time: f64,
}

impl Interval {
    pub(super) fn new(losses: &[(String, usize)], metrics: &[String]) -> Interval {
        Interval {
            returns: Vec::new(),
            losses: Means::new(losses.iter().map(|(n, _)| n.clone())),
            metrics: Means::new(metrics.iter().cloned()),
            start_steps: 0,
            start_train_time: 0.0,
        }
    }

    pub(super) fn record(
        &self,
        step: u64,
        episodes: u64,
        eval: Option<f64>,
        wall: f64,
        eval_time: f64,
        updates: u64,
    ) -> Record {
        let train_time = (wall - eval_time) - self.start_train_time;
        Record {
            step,
            episodes,
            episode_return: (!self.returns.is_empty())
                .then(|| self.returns.iter().sum::<f64>() / self.returns.len() as f64),
            eval_return: eval,
            steps_per_s: if train_time > 0.0 {
                (step - self.start_steps) as f64 / train_time
            } else {
                0.0
            },
            wall_s: wall,
            updates,
            losses: self.losses.means(),
            metrics: self.metrics.means(),
            final_record: false,
        }
    }

    pub(super) fn reset(&mut self, steps: u64, train_time: f64) {
        self.returns.clear();
        self.losses.reset();
        self.metrics.reset();
        self.start_steps = steps;
        self.start_train_time = train_time;
    }
}

impl Means {
    /// Saves the sums and counts as `{p}/{kind}_sums` and `{p}/{kind}_counts`.
    fn save(&self, p: &str, kind: &str, w: &mut SnapshotWriter) {
        let sums: Vec<f64> = self.sums.iter().map(|l| l.0).collect();
        let counts: Vec<u64> = self.sums.iter().map(|l| l.1).collect();
        w.f64s(&format!("{p}/{kind}_sums"), &sums);
        w.u64s(&format!("{p}/{kind}_counts"), &counts);
    }

    fn restore(&mut self, p: &str, kind: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        let sums = r.f64s_of_len(&format!("{p}/{kind}_sums"), self.sums.len())?;
        let counts = r.u64s(&format!("{p}/{kind}_counts"))?;
        if counts.len() != sums.len() {
            return Err(r.error(format!("`{p}/{kind}_counts` does not match its sums")));
        }
        self.sums = sums.into_iter().zip(counts).collect();
        Ok(())
    }
}

impl Resumable for Interval {
    fn save(&self, p: &str, w: &mut SnapshotWriter) {
        w.f64s(&format!("{p}/returns"), &self.returns);
        self.losses.save(p, "loss", w);
        self.metrics.save(p, "metric", w);
        w.u64(&format!("{p}/start_steps"), self.start_steps);
        w.f64s(&format!("{p}/start_train_time"), &[self.start_train_time]);
    }

    fn restore(&mut self, p: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        self.returns = r.f64s(&format!("{p}/returns"))?;
        self.losses.restore(p, "loss", r)?;
        self.metrics.restore(p, "metric", r)?;
        self.start_steps = r.u64(&format!("{p}/start_steps"))?;
        self.start_train_time = r.f64s_of_len(&format!("{p}/start_train_time"), 1)?[0];
        Ok(())
    }
}
