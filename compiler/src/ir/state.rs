//! State that lives across calls: parameters, optimiser moments, target copies, counters.

use super::types::TensorType;

/// Index of a state variable in a [`StateTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateId(pub u32);

/// What a state variable is for.
#[derive(Clone, Debug, PartialEq)]
pub enum StateKind {
    /// A parameter created by a layer of a net.
    Param {
        /// The owning net.
        net: String,
    },
    /// A learnable tensor declared with `learnable`.
    Learnable,
    /// Program state declared with `state`: changed by `set` statements, never by gradients.
    Program,
    /// A target copy of a parameter.
    Target {
        /// The target's name.
        target: String,
        /// The parameter it follows.
        of: StateId,
    },
    /// State of an update rule (`rule` in stdlib/optim.rl): per parameter (Adam's moments,
    /// a momentum buffer) or, with `of` empty, shared by the parameters of one `update`
    /// (Adam's step count).
    Rule {
        /// The rule's name (`adam`).
        rule: String,
        /// The parameter it belongs to; `None` for state shared by the update.
        of: Option<StateId>,
        /// The state's name in the rule (`m`, `v`, `t`).
        slot: String,
    },
    /// A step counter.
    Counter,
    /// The number of the first run-time index check that failed, 0 while none has
    /// (`crate::lower::bounds`): read by the runtime after calls (a checkpoint holds its 0).
    IndexFault,
}

/// How a state variable is initialised before the first call.
#[derive(Clone, Debug, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// Every element set to one value.
    Fill(f64),
    /// Independent uniform draws from `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Explicit values (row-major).
    Values(Vec<f64>),
    /// A copy of another state's initial value (target networks start equal to their net).
    CopyOf(StateId),
}

/// One state variable.
#[derive(Clone, Debug, PartialEq)]
pub struct StateVar {
    /// Stable, human-readable name such as `actor/l0/w` or `adam/actor/l0/w/m`.
    pub name: String,
    /// Type.
    pub ty: TensorType,
    /// Role.
    pub kind: StateKind,
    /// Initial value.
    pub init: Init,
}

/// All state of a program, shared by its entry points.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateTable {
    vars: Vec<StateVar>,
}

impl StateTable {
    /// An empty table.
    pub fn new() -> StateTable {
        StateTable::default()
    }

    /// Adds a variable; names must be unique.
    pub fn add(&mut self, var: StateVar) -> StateId {
        debug_assert!(self.find(&var.name).is_none(), "duplicate state {}", var.name);
        self.vars.push(var);
        StateId(self.vars.len() as u32 - 1)
    }

    /// The variable with this id.
    pub fn get(&self, id: StateId) -> &StateVar {
        &self.vars[id.0 as usize]
    }

    /// The id of the variable with this name.
    pub fn find(&self, name: &str) -> Option<StateId> {
        self.vars
            .iter()
            .position(|v| v.name == name)
            .map(|i| StateId(i as u32))
    }

    /// All variables with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (StateId, &StateVar)> {
        self.vars.iter().enumerate().map(|(i, v)| (StateId(i as u32), v))
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// Parameters (and learnables) owned by `net`, in creation order.
    pub fn params_of(&self, net: &str) -> Vec<StateId> {
        self.iter()
            .filter(|(_, v)| match &v.kind {
                StateKind::Param { net: n } => n == net,
                StateKind::Learnable => v.name == net,
                _ => false,
            })
            .map(|(id, _)| id)
            .collect()
    }
}
