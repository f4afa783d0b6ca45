//! Progress display: a live bar on a terminal, plain periodic lines otherwise, or nothing.

use crate::metrics::Record;
use indicatif::{ProgressBar, ProgressStyle};

/// Where progress goes.
pub enum Progress {
    /// An indicatif bar (stdout is a terminal).
    Bar {
        /// The bar.
        bar: ProgressBar,
        /// Last finished episode's return.
        last_return: Option<f64>,
        /// Last evaluation.
        last_eval: Option<f64>,
        /// The last record's metrics, formatted by [`metrics_text`].
        metrics: String,
    },
    /// One plain line per logging interval.
    Lines,
    /// Nothing but the final line.
    Quiet,
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.1}"))
}

/// How many logged metrics a progress line shows (the rest are in metrics.jsonl).
const SHOWN_METRICS: usize = 4;

/// A metric in 4 significant digits: metrics span many scales (a KL of 0.0012, a Q of 251.3).
fn fmt_metric(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if (1e-3..1e5).contains(&x.abs()) {
        let decimals = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.3e}")
    }
}

/// The first few metrics of a record as ` name=value` pairs (`-` when none was computed in
/// the interval), then how many more there are.
pub fn metrics_text(r: &Record) -> String {
    let mut s = String::new();
    for (name, v) in r.metrics.iter().take(SHOWN_METRICS) {
        s += &format!(" {name}={}", v.map_or("-".into(), fmt_metric));
    }
    if r.metrics.len() > SHOWN_METRICS {
        s += &format!(" (+{} more)", r.metrics.len() - SHOWN_METRICS);
    }
    s
}

impl Progress {
    /// A bar for `total` steps.
    pub fn bar(total: u64) -> Progress {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30.cyan/blue} {pos}/{len} steps {per_sec} [{elapsed_precise}<{eta_precise}] {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress::Bar {
            bar,
            last_return: None,
            last_eval: None,
            metrics: String::new(),
        }
    }

    /// Called after every vector step with the total steps so far.
    pub fn step(&mut self, steps: u64) {
        if let Progress::Bar { bar, .. } = self {
            bar.set_position(steps);
        }
    }

    /// Called when an episode finishes.
    pub fn episode(&mut self, ret: f64) {
        if let Progress::Bar { last_return, .. } = self {
            *last_return = Some(ret);
            self.show();
        }
    }

    /// Called after an evaluation.
    pub fn eval(&mut self, ret: f64) {
        if let Progress::Bar { last_eval, .. } = self {
            *last_eval = Some(ret);
            self.show();
        }
    }

    /// The bar's message: the last return and evaluation, and the last record's metrics.
    fn show(&self) {
        if let Progress::Bar {
            bar,
            last_return,
            last_eval,
            metrics,
        } = self
        {
            bar.set_message(format!(
                "return {} eval {}{metrics}",
                fmt(*last_return),
                fmt(*last_eval)
            ));
        }
    }

    /// Called for each metrics record.
    pub fn log(&mut self, r: &Record) {
        match self {
            Progress::Lines => println!(
                "step={} episodes={} episode_return={} eval_return={} steps_per_s={:.0}{}",
                r.step,
                r.episodes,
                fmt(r.episode_return),
                fmt(r.eval_return),
                r.steps_per_s,
                metrics_text(r)
            ),
            Progress::Bar { metrics, .. } => {
                *metrics = metrics_text(r);
                self.show();
            }
            Progress::Quiet => {}
        }
    }

    /// Clears the bar at the end.
    pub fn finish(&mut self) {
        if let Progress::Bar { bar, .. } = self {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_show_four_significant_digits_and_how_many_are_left_out() {
        assert_eq!(fmt_metric(0.0012345), "0.001234");
        assert_eq!(fmt_metric(251.34), "251.3");
        assert_eq!(fmt_metric(-3.0), "-3.000");
        assert_eq!(fmt_metric(0.0), "0");
        assert_eq!(fmt_metric(2.5e-6), "2.500e-6");
        assert_eq!(fmt_metric(1.5e7), "1.500e7");
        let r = Record {
            step: 1,
            episodes: 0,
            episode_return: None,
            eval_return: None,
            steps_per_s: 0.0,
            wall_s: 0.0,
            updates: 0,
            losses: Vec::new(),
            metrics: (0..6)
                .map(|i| (format!("m{i}"), (i > 0).then_some(i as f64)))
                .collect(),
            final_record: false,
        };
        assert_eq!(metrics_text(&r), " m0=- m1=1.000 m2=2.000 m3=3.000 (+2 more)");
    }
}
