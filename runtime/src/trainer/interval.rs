//! Statistics of one logging interval: episode returns, loss and metric sums since the last
//! metrics line, turned into a [`Record`].

use crate::metrics::Record;

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
