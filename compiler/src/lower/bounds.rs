//! Index bounds: every tensor index is proven in range at compile time or checked at run time.
//!
//! An index that follows from the program (constants, a scan's step, `+ - * min max clip`,
//! `argmax`, `top_k`, and the discrete actions a data source holds, which the runtime only
//! stores after the environment accepted them) is proven in `0..n` by [`crate::ir::int_range`]
//! — or it can go out of range and is a located compile error. An index that depends on data
//! (an `i32(...)` of a float, an integer field a policy recorded) gets a run-time check: the
//! entry point sets the program's index-fault state to the check's number on its first bad
//! value, and the runtime stops with an error naming the expression ([`IndexCheck`]). Nothing
//! is wrapped or clamped silently; a program that wants clamping writes `clip(i, 0, n - 1)`,
//! which is then proven in range.
//!
//! Inside a scan body a data-dependent index would need the fault carried out of the loop; it
//! is refused with a hint instead (compute the index outside the loop, or clip it).

use super::builder::Builder;
use super::tracer::{R, Tracer, err};
use super::value::Tv;
use crate::diag::{Code, Span};
use crate::ir::{
    BinaryOp, DType, Init, IntRange, NodeId, ReduceOp, StateId, StateKind, StateVar, TensorType,
};

/// Name of the state an entry point sets when a run-time index check fails.
pub const INDEX_FAULT_STATE: &str = "index_fault";

/// A run-time index check: which expression it guards and the axis it indexes. Check `k`
/// (1-based, in [`crate::lower::Compiled::index_checks`]) failing sets the index-fault state to `k`.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexCheck {
    /// The index expression.
    pub span: Span,
    /// The size of the axis it indexes.
    pub size: usize,
    /// What is indexed (`axis 1 of f32[64, 4]`, `the rows of pick`), for the message.
    pub what: String,
}

impl IndexCheck {
    /// The run-time error's message.
    pub fn message(&self) -> String {
        format!(
            "an index outside {} was computed at run time (indices are neither wrapped nor clamped)",
            self.what
        )
    }
}

impl Tracer<'_, '_> {
    /// Records that the runtime guarantees every element of entry input `node` lies in
    /// `range` (the discrete actions stored in data: the environment refused any other).
    pub(crate) fn guarantee_range(&mut self, node: NodeId, range: (i64, i64)) {
        self.guaranteed.insert(node, range);
    }

    /// A stored field holding the environment's discrete actions lies in `0..n`: the runtime
    /// only stores actions the environment accepted (it refuses any other).
    pub(crate) fn guarantee_stored_action(&mut self, field: &super::schedule::FieldSpec, x: &Tv) {
        use super::schedule::FieldSource;
        use crate::env_spec::ActionSpace;
        use crate::signature::EnvField;
        if let (FieldSource::Env(EnvField::A), ActionSpace::Discrete { n }) =
            (&field.source, &self.lw.env.action)
            && x.ty.dtype == DType::I32
        {
            self.guarantee_range(x.node, (0, *n as i64 - 1));
        }
    }

    /// The range of node `id` of level `lvl` (an i32 node).
    fn range_at(&self, lvl: usize, id: NodeId) -> IntRange {
        let level = &self.levels[lvl];
        let known = |n: NodeId| -> Option<IntRange> {
            if let Some((c, (lo, hi))) = level.counter
                && c == n
            {
                return Some(IntRange::exact(lo, hi));
            }
            if lvl == 0 {
                return self.guaranteed.get(&n).map(|(lo, hi)| IntRange::exact(*lo, *hi));
            }
            // A value imported from the enclosing level has that level's range.
            let outer = level.import_map.iter().find(|(_, inner)| **inner == n)?.0;
            Some(self.range_at(lvl - 1, *outer))
        };
        crate::ir::int_range(&level.graph, id, &known).unwrap_or_else(IntRange::data)
    }

    /// The tensor as a node of the level that computes it: a scan body's import of an outer
    /// value is followed out to that value.
    pub(crate) fn defining_tensor(&self, t: &Tv) -> Tv {
        let (mut lvl, mut node) = (t.level, t.node);
        while lvl > 0 {
            match self.levels[lvl]
                .import_map
                .iter()
                .find(|(_, inner)| **inner == node)
            {
                Some((outer, _)) => {
                    (lvl, node) = (lvl - 1, *outer);
                }
                None => break,
            }
        }
        Tv {
            node,
            level: lvl,
            ty: t.ty.clone(),
        }
    }

    /// Checks an i32 index `idx` into an axis of size `n` (`what` describes it): proven in
    /// range, a located error when the program makes it leave the range, a run-time check
    /// when it depends on data at the entry's level, an error when it depends on data inside
    /// a loop.
    pub(crate) fn check_index(&mut self, idx: &Tv, n: usize, at: Span, what: &str) -> R<()> {
        let idx = &self.defining_tensor(idx);
        let r = self.range_at(idx.level, idx.node);
        if r.lo >= 0 && r.hi < n as i64 {
            return Ok(());
        }
        if !r.from_data {
            let counter = self.levels[idx.level].counter;
            let during = match counter {
                Some((_, (0, last))) => format!(" (the scan's step runs over 0..={last})"),
                _ => String::new(),
            };
            return Err(err(
                Code::IndexOutOfBounds,
                format!(
                    "this index takes values {}..={}{during}, outside {what}",
                    r.lo, r.hi
                ),
                at,
                "can go out of bounds",
            )
            .hint(format!(
                "computed indices are neither wrapped nor clamped: make the data longer, or clamp \
                 explicitly with `clip(i, 0, {})`",
                n.saturating_sub(1)
            )));
        }
        if idx.level > 0 {
            return Err(err(
                Code::IndexOutOfBounds,
                format!("this index into {what} depends on data computed inside a loop, where it cannot be checked"),
                at,
                "not provably in bounds",
            )
            .hint(format!(
                "compute the index outside the loop (it is then checked at run time), or clamp it \
                 explicitly with `clip(i, 0, {})`",
                n.saturating_sub(1)
            )));
        }
        // bad = any(idx < 0 or idx > n - 1), an i32 0 or 1, in the entry graph.
        let budget = self.lw.options.budget;
        let mut b = Builder::new(&mut self.levels[0].graph, 0, at, budget);
        let zero = b.fill(0.0, idx.ty.clone());
        let last = b.fill(n as f64 - 1.0, idx.ty.clone());
        let below = b.binary(BinaryOp::Lt, idx, &zero)?;
        let above = b.binary(BinaryOp::Lt, &last, idx)?;
        let out = b.binary(BinaryOp::Or, &below, &above)?;
        let out = b.cast(&out, DType::I32)?;
        let axes: Vec<usize> = (0..out.ty.rank()).collect();
        let bad = if axes.is_empty() {
            out
        } else {
            b.reduce(ReduceOp::Max, &out, &axes)?
        };
        self.index_faults.push((
            bad,
            IndexCheck {
                span: at,
                size: n,
                what: what.to_string(),
            },
        ));
        Ok(())
    }

    /// Emits the entry's run-time index checks: the index-fault state keeps its first nonzero
    /// value, else becomes the number of the first check (in program order) that failed.
    pub(crate) fn finish_index_checks(&mut self) -> R<()> {
        let faults = std::mem::take(&mut self.index_faults);
        let Some(span) = faults.first().map(|f| f.1.span) else {
            return Ok(());
        };
        let id = self.index_fault_state();
        let prev = self.state(id);
        let scalar = TensorType::scalar(DType::I32);
        let budget = self.lw.options.budget;
        let mut numbers = Vec::new();
        for (_, check) in &faults {
            self.lw.index_checks.push(check.clone());
            numbers.push(self.lw.index_checks.len());
        }
        let mut b = Builder::new(&mut self.levels[0].graph, 0, span, budget);
        let zero = b.fill(0.0, scalar.clone());
        let mut code = zero.clone();
        for ((bad, _), k) in faults.iter().zip(numbers).rev() {
            let failed = b.binary(BinaryOp::Lt, &zero, bad)?;
            let kv = b.fill(k as f64, scalar.clone());
            code = b.select(&failed, &kv, &code)?;
        }
        let had = b.binary(BinaryOp::Lt, &zero, &prev)?;
        let new = b.select(&had, &prev, &code)?;
        b.assign(id, &new)
    }

    /// The program's index-fault state (an i32 scalar, zero while every check passed).
    fn index_fault_state(&mut self) -> StateId {
        match self.lw.states.find(INDEX_FAULT_STATE) {
            Some(id) => id,
            None => self.lw.states.add(StateVar {
                name: INDEX_FAULT_STATE.into(),
                ty: TensorType::scalar(DType::I32),
                kind: StateKind::IndexFault,
                init: Init::Zeros,
            }),
        }
    }
}
