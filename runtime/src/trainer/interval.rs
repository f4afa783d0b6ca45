//! Statistics of one logging interval: episode returns and loss sums since the last
//! metrics line, turned into a [`Record`].

use crate::error::RunError;
use crate::metrics::Record;
use crate::snapshot::{Resumable, SnapshotReader, SnapshotWriter};

/// Statistics of the current logging interval.
pub(super) struct Interval {
    /// Returns of the episodes finished in the interval.
    pub(super) returns: Vec<f64>,
    /// Per loss output: (sum, count) of its values in the interval.
    pub(super) losses: Vec<(f64, u64)>,
    names: Vec<String>,
    start_steps: u64,
    start_train_time: f64,
}

impl Interval {
    pub(super) fn new(losses: &[(String, usize)]) -> Interval {
        Interval {
            returns: Vec::new(),
            losses: vec![(0.0, 0); losses.len()],
            names: losses.iter().map(|(n, _)| n.clone()).collect(),
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
            losses: self
                .names
                .iter()
                .zip(&self.losses)
                .map(|(n, (s, c))| (n.clone(), (*c > 0).then(|| s / *c as f64)))
                .collect(),
            final_record: false,
        }
    }

    pub(super) fn reset(&mut self, steps: u64, train_time: f64) {
        self.returns.clear();
        for l in &mut self.losses {
            *l = (0.0, 0);
        }
        self.start_steps = steps;
        self.start_train_time = train_time;
    }
}

impl Resumable for Interval {
    fn save(&self, p: &str, w: &mut SnapshotWriter) {
        w.f64s(&format!("{p}/returns"), &self.returns);
        let sums: Vec<f64> = self.losses.iter().map(|l| l.0).collect();
        let counts: Vec<u64> = self.losses.iter().map(|l| l.1).collect();
        w.f64s(&format!("{p}/loss_sums"), &sums);
        w.u64s(&format!("{p}/loss_counts"), &counts);
        w.u64(&format!("{p}/start_steps"), self.start_steps);
        w.f64s(&format!("{p}/start_train_time"), &[self.start_train_time]);
    }

    fn restore(&mut self, p: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        self.returns = r.f64s(&format!("{p}/returns"))?;
        let sums = r.f64s_of_len(&format!("{p}/loss_sums"), self.losses.len())?;
        let counts = r.u64s(&format!("{p}/loss_counts"))?;
        if counts.len() != sums.len() {
            return Err(r.error(format!("`{p}/loss_counts` does not match its sums")));
        }
        self.losses = sums.into_iter().zip(counts).collect();
        self.start_steps = r.u64(&format!("{p}/start_steps"))?;
        self.start_train_time = r.f64s_of_len(&format!("{p}/start_train_time"), 1)?[0];
        Ok(())
    }
}
