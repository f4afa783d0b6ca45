//! The program's logged metrics (`log NAME = ...`): which outputs of the acting, derive and
//! training entries carry them, and their values added to the logging interval.
//!
//! A metric is averaged over the calls of the entry that computes it (the value of one
//! training call is the mean over its minibatch or gradient step, as for losses). A NaN or
//! infinite metric stops the run like a non-finite loss: it is a value the program computes,
//! and a silent `NaN` in a curve would hide the fault that made it.

use super::interval::Means;
use rlc_compiler::lower::{Compiled, EntryKind};
use rlc_compiler::signature::Signature;

/// Where each metric is read.
pub(super) struct Logged {
    /// Every metric, in order: the acting policy's, then each derive's, then the losses'.
    pub(super) names: Vec<String>,
    /// (index among the acting entry's outputs after the action, metric index).
    act: Vec<(usize, usize)>,
    /// (training output index, metric index).
    train: Vec<(usize, usize)>,
}

impl Logged {
    /// The metrics of `program`'s acting (`act`) and training (`train`) entries and its
    /// derive entries.
    pub(super) fn plan(program: &Compiled, act: &Signature, train: &Signature) -> Logged {
        let mut names = Vec::new();
        let mut index = |name: &str| {
            names.push(name.to_string());
            names.len() - 1
        };
        let act = act.metrics().map(|(n, i)| (i - 1, index(n))).collect();
        for e in &program.entries {
            if let EntryKind::Derive { .. } = e.kind {
                for (n, _) in e.signature.metrics() {
                    index(n);
                }
            }
        }
        let train = train.metrics().map(|(n, i)| (i, index(n))).collect();
        Logged { names, act, train }
    }

    /// The index of a derive entry's metric.
    pub(super) fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Adds the acting call's metrics (read from its extra outputs).
    pub(super) fn add_act(&self, extras: &[Vec<f32>], into: &mut Means) -> Result<(), String> {
        for (o, k) in &self.act {
            self.add(*k, extras[*o][0], into)?;
        }
        Ok(())
    }

    /// The first of the training call's metrics that is NaN or infinite, described.
    pub(super) fn non_finite_train(&self, outputs: &[Vec<f32>]) -> Option<String> {
        self.train.iter().find_map(|(o, k)| {
            let v = outputs[*o][0];
            (!v.is_finite()).then(|| format!("metric `{}` is {v}", self.names[*k]))
        })
    }

    /// Adds the training call's metrics (read from its outputs, checked by
    /// [`Logged::non_finite_train`]).
    pub(super) fn add_train(&self, outputs: &[Vec<f32>], into: &mut Means) {
        for (o, k) in &self.train {
            into.add(*k, outputs[*o][0]);
        }
    }

    /// Adds one value of metric `k`, refusing NaN and infinity (described for the fault).
    pub(super) fn add(&self, k: usize, v: f32, into: &mut Means) -> Result<(), String> {
        if !v.is_finite() {
            return Err(format!("metric `{}` is {v}", self.names[k]));
        }
        into.add(k, v);
        Ok(())
    }
}
