//! Loops: `for` (unrolled at compile time) and `scan` (a `Scan` node with its own body graph).

use super::tracer::{Level, R, Tracer, err};
use super::value::{Tv, Value};
use crate::diag::{Code, Diagnostic, Span};
use crate::ir::{DType, Graph, Scan, TensorType, broadcast_shapes};
use crate::syntax::ast::Loop;
use std::collections::HashMap;

/// The most iterations a `for` loop unrolls: every iteration is a copy of the body in the graph,
/// so a count such as a replay capacity passed by mistake would otherwise take hours to compile.
const MAX_UNROLL: usize = 4096;

impl Tracer<'_, '_> {
    /// `for x in LIST with c = init { body }`: unrolled at compile time; without `with`, the
    /// list of the body's values.
    pub(crate) fn for_loop(&mut self, l: &Loop, whole: Span) -> R<Value> {
        // A count is checked before its items are made: `for i in 2^62` must be this error,
        // not an attempt to build a list of 2^62 numbers.
        let (items, count) = match self.eval(&l.over)? {
            Value::List(xs) | Value::Tuple(xs) => {
                let n = xs.len();
                (Some(xs), n)
            }
            Value::Int(n) if n >= 0 => (None, usize::try_from(n).unwrap_or(usize::MAX)),
            other => {
                return Err(err(
                    Code::NotConstant,
                    "`for` iterates over a compile-time list or count",
                    l.over.span,
                    format!("this is {}", other.describe()),
                )
                .hint("use `scan` to loop over a tensor axis"));
            }
        };
        if count > MAX_UNROLL {
            return Err(err(
                Code::BadArgument,
                format!("`for` would unroll {count} iterations; at most {MAX_UNROLL} are allowed"),
                l.over.span,
                "iterates this many times",
            )
            .hint("use `scan` to loop many times (it compiles to one loop, not copies of the body)"));
        }
        let items = items.unwrap_or_else(|| (0..count as i64).map(Value::Int).collect());
        if l.carries.is_empty() {
            // `for x in xs { f(x) }`: the list of the body's values (a list of tensors stays a
            // list, however alike their shapes: per-layer quantities of different sizes).
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                self.locals.push(HashMap::new());
                self.bind(&l.var.name, item);
                let r = self.eval(&l.body);
                self.locals.pop();
                out.push(r?);
            }
            return Ok(Value::List(out));
        }
        let mut carries = Vec::new();
        for (_, init) in &l.carries {
            carries.push(self.eval(init)?);
        }
        for item in items {
            self.locals.push(HashMap::new());
            self.bind(&l.var.name, item);
            for ((n, _), v) in l.carries.iter().zip(&carries) {
                self.bind(&n.name, v.clone());
            }
            let r = self.eval(&l.body);
            self.locals.pop();
            carries = unpack_carries(r?, l.carries.len(), l.body.span)?;
        }
        let _ = whole;
        Ok(if carries.len() == 1 {
            carries.pop().expect("one")
        } else {
            Value::Tuple(carries)
        })
    }

    /// `scan [reverse] t in LEN with c = init { body }`: a `Scan` node whose result is the
    /// stack of carries after every step.
    pub(crate) fn scan(&mut self, l: &Loop, whole: Span) -> R<Value> {
        let len = match self.eval(&l.over)? {
            Value::Int(n) if n >= 0 => n as usize,
            other => {
                return Err(err(
                    Code::NotConstant,
                    "`scan` needs a compile-time length",
                    l.over.span,
                    format!("this is {}", other.describe()),
                )
                .hint("write e.g. `scan t in len(r) with ...`"));
            }
        };
        let mut inits = Vec::new();
        for (_, init) in &l.carries {
            let v = self.eval(init)?;
            let t = self.tensor_of(v, init.span, None)?;
            inits.push(t);
        }
        let mut tys: Vec<TensorType> = inits.iter().map(|t| t.ty.clone()).collect();
        // Trace the body; if it returns a larger carry than the initial value (e.g. `acc = 0`
        // for a [N] carry), retrace with the larger type.
        for attempt in 0..2 {
            let (body, consts, outs) = self.trace_scan_body(l, &tys, len)?;
            let out_tys: Vec<TensorType> = outs.iter().map(|o| body.ty(*o).clone()).collect();
            if out_tys == tys {
                return self.finish_scan(body, consts, &inits, len, l.reverse, whole);
            }
            let mut grown = Vec::new();
            for (i, (ot, it)) in out_tys.iter().zip(&tys).enumerate() {
                let fits = ot.dtype == it.dtype
                    && broadcast_shapes(&it.shape, &ot.shape).as_deref() == Some(ot.shape.as_slice());
                if !fits || (attempt == 1 && ot != it) {
                    let (name, init) = &l.carries[i];
                    let start = &inits[i].ty;
                    let msg = if attempt == 0 {
                        format!(
                            "the scan body returns {ot} for `{}`, which starts as {it}",
                            name.name
                        )
                    } else {
                        // The first step widened the carry (broadcast) and the next changed it
                        // again: no one type to compile the loop with.
                        format!(
                            "the type of the scan carry `{}` changes from step to step: {start}, then {it}, then {ot}",
                            name.name
                        )
                    };
                    return Err(Diagnostic::new(Code::ShapeMismatch, msg)
                        .at(l.body.span, format!("returns {ot}"))
                        .also(init.span, format!("starts as {start}"))
                        .hint("a carry must keep its type from step to step"));
                }
                grown.push(ot.clone());
            }
            tys = grown;
        }
        unreachable!("the loop returns")
    }

    #[allow(clippy::type_complexity)]
    fn trace_scan_body(
        &mut self,
        l: &Loop,
        tys: &[TensorType],
        len: usize,
    ) -> R<(Graph, Vec<crate::ir::NodeId>, Vec<crate::ir::NodeId>)> {
        self.levels.push(Level {
            graph: Graph::new(),
            consts: Vec::new(),
            import_map: HashMap::new(),
            counter: None,
        });
        let lvl = self.level();
        let tnode = self.g().input("t", TensorType::scalar(DType::I32));
        self.levels[lvl].counter = Some((tnode, (0, len as i64 - 1)));
        let mut frame = HashMap::new();
        frame.insert(
            l.var.name.clone(),
            Value::Tensor(Tv {
                node: tnode,
                level: lvl,
                ty: TensorType::scalar(DType::I32),
            }),
        );
        for ((n, _), ty) in l.carries.iter().zip(tys) {
            let c = self.g().input(n.name.clone(), ty.clone());
            frame.insert(
                n.name.clone(),
                Value::Tensor(Tv {
                    node: c,
                    level: lvl,
                    ty: ty.clone(),
                }),
            );
        }
        self.locals.push(frame);
        let r = self.eval(&l.body);
        self.locals.pop();
        let result = r
            .and_then(|v| unpack_carries(v, l.carries.len(), l.body.span))
            .and_then(|vals| {
                let mut outs = Vec::new();
                for (v, (_, init)) in vals.into_iter().zip(&l.carries) {
                    let t = self
                        .tensor_of(v, l.body.span, None)
                        .map_err(|d| d.also(init.span, "carried value"))?;
                    outs.push(t.node);
                }
                Ok(outs)
            });
        let level = self.levels.pop().expect("pushed above");
        let outs = result?;
        let mut body = level.graph;
        for (i, o) in outs.iter().enumerate() {
            body.output(format!("c{i}"), *o);
        }
        Ok((body, level.consts, outs))
    }

    fn finish_scan(
        &mut self,
        body: Graph,
        consts: Vec<crate::ir::NodeId>,
        inits: &[Tv],
        len: usize,
        reverse: bool,
        whole: Span,
    ) -> R<Value> {
        let mut operands = Vec::new();
        for (i, init) in inits.iter().enumerate() {
            let init = self.here(init);
            let want = body.ty(body.inputs[1 + i]).shape.clone();
            operands.push(self.gb(whole).broadcast_to(&init, &want)?.node);
        }
        operands.extend(consts);
        let k = inits.len();
        let scan = Scan {
            body,
            length: len,
            reverse,
            n_carry: k,
            stacked: vec![true; k],
        };
        let outs = self.gb(whole).scan(scan, &operands)?;
        let mut vals: Vec<Value> = outs.into_iter().map(Value::Tensor).collect();
        Ok(if vals.len() == 1 {
            vals.pop().expect("one")
        } else {
            Value::Tuple(vals)
        })
    }
}

fn unpack_carries(v: Value, n: usize, span: Span) -> R<Vec<Value>> {
    if n == 1 {
        return Ok(vec![v]);
    }
    match v {
        Value::Tuple(items) if items.len() == n => Ok(items),
        other => Err(err(
            Code::TypeMismatch,
            format!("the loop body must return a tuple of {n} values, one per carry"),
            span,
            format!("this is {}", other.describe()),
        )),
    }
}
