//! Statistics of one logging interval: episode returns and loss sums since the last
//! metrics line, turned into a [`Record`].

use crate::metrics::Record;

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
