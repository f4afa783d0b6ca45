//! Values the tracer computes with: compile-time constants, tensors (graph nodes), and the
//! program's callable things.

use crate::check::ModuleId;
use crate::ir::{NodeId, TensorType};
use std::fmt;
use std::rc::Rc;

/// A tensor: a node in the graph at some nesting level (0 = the entry point, deeper levels
/// are scan bodies).
#[derive(Clone, Debug, PartialEq)]
pub struct Tv {
    /// The node.
    pub node: NodeId,
    /// Graph level it lives in.
    pub level: usize,
    /// Its type.
    pub ty: TensorType,
}

/// A probability distribution over the last axis of its parameters.
#[derive(Clone, Debug)]
pub enum Dist {
    /// Diagonal Gaussian.
    Normal {
        /// Mean.
        mean: Tv,
        /// Standard deviation.
        std: Tv,
    },
    /// A Gaussian squashed by tanh (SAC's policy).
    TanhNormal {
        /// Mean before the squashing.
        mean: Tv,
        /// Standard deviation before the squashing.
        std: Tv,
    },
    /// Categorical over the last axis, given unnormalised log-probabilities.
    Categorical {
        /// Logits.
        logits: Tv,
    },
}

impl Dist {
    /// The distribution's name as written in programs.
    pub fn name(&self) -> &'static str {
        match self {
            Dist::Normal { .. } => "normal",
            Dist::TanhNormal { .. } => "tanh_normal",
            Dist::Categorical { .. } => "categorical",
        }
    }
}

/// Where a function is defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FnRef {
    /// Defining module.
    pub module: ModuleId,
    /// Index of the algorithm that defines it, for algorithm-local functions.
    pub alg: Option<usize>,
    /// Index among the module's functions or the algorithm's declarations.
    pub index: usize,
}

/// A value during tracing.
#[derive(Clone, Debug)]
pub enum Value {
    /// Compile-time integer.
    Int(i64),
    /// Compile-time float.
    Float(f64),
    /// Compile-time boolean.
    Bool(bool),
    /// String (environment ids, option names).
    Str(String),
    /// Compile-time list (`[256, 256]`); becomes a tensor where one is needed.
    List(Vec<Value>),
    /// Tuple.
    Tuple(Vec<Value>),
    /// Record with named fields (data batches, policy outputs).
    Record(Vec<(String, Value)>),
    /// A tensor in the graph.
    Tensor(Tv),
    /// A distribution.
    Dist(Rc<Dist>),
    /// A function.
    Fn(FnRef),
    /// A net (parameterised function).
    Net(String),
    /// A target copy of a net.
    Target(String),
    /// A policy.
    Policy(String),
    /// A loss, which an update rule may evaluate again at other parameters (`loss(params)`).
    Loss(String),
    /// A builtin function.
    Builtin(crate::builtins::Builtin),
    /// A method bound to its receiver (`d.log_prob`).
    Method(Box<Value>, String),
    /// The environment description.
    Env,
    /// An imported module.
    Module(ModuleId),
    /// A data source.
    Data(String),
}

impl Value {
    /// What kind of value this is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Value::Int(v) => format!("the integer {v}"),
            Value::Float(v) => format!("the number {v}"),
            Value::Bool(v) => format!("the boolean {v}"),
            Value::Str(s) => format!("the string \"{s}\""),
            Value::List(v) => format!("a list of {} items", v.len()),
            Value::Tuple(v) => format!("a tuple of {} items", v.len()),
            Value::Record(f) => format!(
                "a record with fields {}",
                f.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
            ),
            Value::Tensor(t) => format!("a tensor {}", t.ty),
            Value::Dist(d) => format!("a {} distribution", d.name()),
            Value::Fn(_) => "a function".into(),
            Value::Net(n) => format!("the net `{n}`"),
            Value::Target(n) => format!("the target `{n}`"),
            Value::Policy(n) => format!("the policy `{n}`"),
            Value::Loss(n) => format!("the loss `{n}`"),
            Value::Builtin(b) => format!("the builtin `{}`", b.name()),
            Value::Method(_, m) => format!("the method `{m}`"),
            Value::Env => "the environment".into(),
            Value::Module(_) => "a module".into(),
            Value::Data(n) => format!("the data source `{n}`"),
        }
    }

    /// The value as a compile-time number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(v) => Some(*v as f64),
            Value::Float(v) => Some(*v),
            _ => None,
        }
    }

    /// True for compile-time numbers, booleans and lists of them.
    pub fn is_constant(&self) -> bool {
        match self {
            Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Str(_) => true,
            Value::List(v) | Value::Tuple(v) => v.iter().all(Value::is_constant),
            _ => false,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Str(s) => write!(f, "\"{s}\""),
            Value::List(v) => {
                f.write_str("[")?;
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str("]")
            }
            Value::Tuple(v) => {
                f.write_str("(")?;
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str(")")
            }
            other => f.write_str(&other.describe()),
        }
    }
}
