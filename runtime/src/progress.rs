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
    },
    /// One plain line per logging interval.
    Lines,
    /// Nothing but the final line.
    Quiet,
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.1}"))
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
        if let Progress::Bar {
            bar,
            last_return,
            last_eval,
        } = self
        {
            *last_return = Some(ret);
            bar.set_message(format!("return {} eval {}", fmt(*last_return), fmt(*last_eval)));
        }
    }

    /// Called after an evaluation.
    pub fn eval(&mut self, ret: f64) {
        if let Progress::Bar {
            bar,
            last_return,
            last_eval,
        } = self
        {
            *last_eval = Some(ret);
            bar.set_message(format!("return {} eval {}", fmt(*last_return), fmt(*last_eval)));
        }
    }

    /// Called for each metrics record.
    pub fn log(&mut self, r: &Record) {
        if let Progress::Lines = self {
            println!(
                "step={} episodes={} episode_return={} eval_return={} steps_per_s={:.0}",
                r.step,
                r.episodes,
                fmt(r.episode_return),
                fmt(r.eval_return),
                r.steps_per_s
            );
        }
    }

    /// Clears the bar at the end.
    pub fn finish(&mut self) {
        if let Progress::Bar { bar, .. } = self {
            bar.finish_and_clear();
        }
    }
}
