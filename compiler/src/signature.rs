//! The typed interface between compiled entry points and the runtime that calls them.
//!
//! Lowering records, for every input and output of an entry point, what it carries
//! ([`InputRole`], [`OutputRole`]); the runtime (trainer, evaluation, REPL, bench) feeds and
//! reads entries by these roles and never parses graph names. The names in the IR dumps
//! (`key`, `D.s`, `loss/critic_loss`) are made from the roles here, in one place, for display.

use std::fmt;

/// A field of an environment transition that a data declaration can store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnvField {
    /// The observation before the step.
    S,
    /// The action taken.
    A,
    /// The reward.
    R,
    /// The observation after the step (the true final observation when an episode ends).
    S2,
    /// 1 when the episode terminated (not when it was truncated): the bootstrap mask.
    Done,
    /// 1 when the episode reached a terminal state.
    Terminated,
    /// 1 when the episode was cut by the time limit.
    Truncated,
    /// 1 when the episode ended either way.
    End,
    /// N-step replay only: 1 for each step of the window inside the episode, 0 for the
    /// zero padding after its end.
    Mask,
}

impl EnvField {
    /// Every field, in the order the language documents them.
    pub const ALL: [EnvField; 9] = [
        EnvField::S,
        EnvField::A,
        EnvField::R,
        EnvField::S2,
        EnvField::Done,
        EnvField::Terminated,
        EnvField::Truncated,
        EnvField::End,
        EnvField::Mask,
    ];

    /// The name programs use (`s`, `a`, `r`, `s2`, `done`, ...).
    pub fn name(self) -> &'static str {
        match self {
            EnvField::S => "s",
            EnvField::A => "a",
            EnvField::R => "r",
            EnvField::S2 => "s2",
            EnvField::Done => "done",
            EnvField::Terminated => "terminated",
            EnvField::Truncated => "truncated",
            EnvField::End => "end",
            EnvField::Mask => "mask",
        }
    }

    /// Whether an n-step item holds this field once per step of its window (`[N]`, zero
    /// after the episode's end) rather than once (`s`, `a`: the first step; `s2`: the last).
    pub fn per_step(self) -> bool {
        !matches!(self, EnvField::S | EnvField::A | EnvField::S2)
    }

    /// The field a program names, if it is one.
    pub fn from_name(name: &str) -> Option<EnvField> {
        EnvField::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What an entry point's input receives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InputRole {
    /// The batch of observations acted on (`act_*`, `eval`).
    Observation,
    /// The call's Philox key, `i32[2]`.
    Key,
    /// The number of environment steps taken so far, an `i32` scalar.
    Step,
    /// A field of a batch read from a data source (`train`, `derive_*`).
    Field {
        /// The data source.
        data: String,
        /// The field.
        field: String,
    },
    /// The importance-sampling weights of a prioritized replay's batch.
    Weights {
        /// The data source.
        data: String,
    },
    /// An argument of a net (`net_*` entries, for inspection).
    Argument {
        /// The parameter's name.
        name: String,
    },
}

impl fmt::Display for InputRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputRole::Observation => f.write_str("obs"),
            InputRole::Key => f.write_str("key"),
            InputRole::Step => f.write_str("step"),
            InputRole::Field { data, field } => write!(f, "{data}.{field}"),
            InputRole::Weights { data } => write!(f, "{data}.weight"),
            InputRole::Argument { name } => f.write_str(name),
        }
    }
}

/// What an entry point's output carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OutputRole {
    /// The actions chosen for the batch of observations.
    Action,
    /// An extra field of a policy's record (e.g. `mu`), stored with the transition.
    Extra {
        /// The field.
        field: String,
    },
    /// The value of a loss at this training step (logged as `loss/<name>`).
    Loss {
        /// The loss.
        name: String,
    },
    /// New priorities for the items of a prioritized replay's batch.
    Priority {
        /// The data source.
        data: String,
    },
    /// A field derived over a whole rollout (`derive_*` entries).
    Derived {
        /// The field.
        field: String,
    },
    /// A value logged by `log NAME = ...` (a scalar f32, logged as `metric/<name>`).
    Metric {
        /// The logged name.
        name: String,
    },
    /// A named part of a net's result (`net_*` entries: `out`, or a distribution's
    /// parameters).
    Value {
        /// The part.
        name: String,
    },
}

impl fmt::Display for OutputRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputRole::Action => f.write_str("action"),
            OutputRole::Extra { field } => f.write_str(field),
            OutputRole::Loss { name } => write!(f, "loss/{name}"),
            OutputRole::Priority { data } => write!(f, "priority/{data}"),
            OutputRole::Derived { field } => f.write_str(field),
            OutputRole::Value { name } => f.write_str(name),
            OutputRole::Metric { name } => write!(f, "metric/{name}"),
        }
    }
}

use crate::ir::Graph;

/// The roles of an entry point's inputs and outputs, in graph order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signature {
    /// Per graph input.
    pub inputs: Vec<InputRole>,
    /// Per graph output.
    pub outputs: Vec<OutputRole>,
}

impl Signature {
    /// Position of the input with this role.
    pub fn input(&self, role: &InputRole) -> Option<usize> {
        self.inputs.iter().position(|r| r == role)
    }

    /// Position of the output with this role.
    pub fn output(&self, role: &OutputRole) -> Option<usize> {
        self.outputs.iter().position(|r| r == role)
    }

    /// Checks that the signature has one role per input and output of `g`, each naming it as
    /// [`InputRole`]'s and [`OutputRole`]'s `Display` do (an internal invariant of lowering).
    pub fn check(&self, g: &Graph) -> Result<(), String> {
        if self.inputs.len() != g.inputs.len() || self.outputs.len() != g.outputs.len() {
            return Err(format!(
                "{} input and {} output roles for {} inputs and {} outputs",
                self.inputs.len(),
                self.outputs.len(),
                g.inputs.len(),
                g.outputs.len()
            ));
        }
        for (role, id) in self.inputs.iter().zip(&g.inputs) {
            if role.to_string() != g.input_name(*id) {
                return Err(format!("input `{}` has role `{role}`", g.input_name(*id)));
            }
        }
        for (role, (name, _)) in self.outputs.iter().zip(&g.outputs) {
            if role.to_string() != *name {
                return Err(format!("output `{name}` has role `{role}`"));
            }
        }
        Ok(())
    }

    /// The metrics an entry logs: (name, output position).
    pub fn metrics(&self) -> impl Iterator<Item = (&str, usize)> {
        self.outputs.iter().enumerate().filter_map(|(i, r)| match r {
            OutputRole::Metric { name } => Some((name.as_str(), i)),
            _ => None,
        })
    }

    /// The losses an entry reports: (name, output position).
    pub fn losses(&self) -> impl Iterator<Item = (&str, usize)> {
        self.outputs.iter().enumerate().filter_map(|(i, r)| match r {
            OutputRole::Loss { name } => Some((name.as_str(), i)),
            _ => None,
        })
    }
}
