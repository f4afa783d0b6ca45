//! Tracing a single expression into a graph (library functions on literal tensors, the
//! REPL's `:eval`, conformance tests of the trace operators).

use super::program::{LowerOptions, Lowerer};
use super::tracer::{Lowered, R, Tracer};
use super::value::Value;
use crate::check::{ModuleId, Modules};
use crate::diag::{Code, Diagnostic};
use crate::env_spec::EnvSpec;
use crate::ir::{Graph, StateTable};
use crate::signature::{OutputRole, Signature};
use crate::syntax::ast::Expr;

/// What an expression evaluated to.
#[derive(Clone, Debug)]
pub struct Traced {
    /// The graph; each tensor result is an output (`value`, or `0`, `1`, .. for tuples and
    /// field names for records).
    pub graph: Graph,
    /// What each input and output of the graph carries.
    pub signature: Signature,
    /// State the graph reads (the algorithm's, when one is given).
    pub states: StateTable,
    /// A compile-time result (no tensors), shown as text.
    pub constant: Option<String>,
    /// Run-time index checks: check `k` failing assigns `k` to the
    /// [`super::INDEX_FAULT_STATE`] state in `states` (see `super::bounds`).
    pub index_checks: Vec<super::IndexCheck>,
}

/// Traces `expr` in the scope of `module` (and of algorithm `alg`, whose lowered state
/// `states` the expression may read through its nets).
pub fn trace_expression(
    mods: &Modules,
    module: ModuleId,
    alg: Option<(usize, StateTable)>,
    env: EnvSpec,
    overrides: Vec<(String, Value, crate::diag::Span)>,
    expr: &Expr,
) -> Result<Traced, Vec<Diagnostic>> {
    let mut lw = match alg {
        Some((a, states)) => {
            let mut lw = Lowerer::new(
                mods,
                module,
                a,
                env,
                LowerOptions {
                    overrides,
                    ..LowerOptions::default()
                },
            )?;
            lw.states = states;
            lw
        }
        None => Lowerer::for_module(mods, module, env),
    };
    let mut t = Tracer::new(&mut lw);
    let v = t.eval(expr).map_err(|d| vec![d])?;
    let constant = v.is_constant().then(|| v.to_string());
    let r: R<()> = (|| {
        let mut outs: Vec<(String, Value)> = Vec::new();
        match v {
            Value::Tuple(items) => {
                outs.extend(items.into_iter().enumerate().map(|(i, v)| (i.to_string(), v)))
            }
            Value::Record(fields) => outs.extend(fields),
            other => outs.push(("value".into(), other)),
        }
        for (name, v) in outs {
            match v {
                Value::Tensor(tv) => {
                    let n = t.node(&tv);
                    t.output(OutputRole::Value { name }, n);
                }
                Value::Dist(_) => {
                    return Err(
                        Diagnostic::new(Code::TypeMismatch, "the expression is a distribution")
                            .at(expr.span, "a distribution")
                            .hint("evaluate `d.sample()`, `d.mean` or `d.log_prob(x)` instead"),
                    );
                }
                _ => {}
            }
        }
        Ok(())
    })();
    r.map_err(|d| vec![d])?;
    let Lowered { graph, signature } = t.finish().map_err(|d| vec![d])?;
    Ok(Traced {
        graph,
        signature,
        states: lw.states,
        constant,
        index_checks: lw.index_checks,
    })
}
