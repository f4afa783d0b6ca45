//! The memory-safety invariant of every plan, checked before any code is generated.
//!
//! Generated code (JIT and OpenCL) indexes buffers only through the plan's views and loops:
//! a fused loop runs over its output view's shape and reads each load view at the loop index;
//! products read `[m, k] x [k, n]` views into `[m, n]`; gathers and scatters read indices from
//! data but clamp them into the axis (`helpers::take`, `helpers::scatter_add`, the OpenCL
//! renderer), after lowering proved them in range or made the run stop on them
//! (`lower::bounds`); random numbers and routines write whole contiguous views. So every
//! access is in bounds if (1) every arena buffer lies inside the arena, (2) every view's
//! extreme elements lie inside its buffer, (3) every load of a loop has the loop's shape and
//! every product's shapes agree, and (4) a gather's axis is not empty. [`check`] verifies
//! these for every kernel, scan bodies included; a plan that fails is an internal error and
//! never runs. Input and output lengths are checked by each backend's `call`.

use super::types::{Kernel, Plan, PlanError, Storage, View};

/// Verifies the invariant above for `plan`.
pub fn check(plan: &Plan) -> Result<(), PlanError> {
    for (i, b) in plan.buffers.iter().enumerate() {
        if matches!(b.storage, Storage::Arena | Storage::Const) {
            let end = b.len.checked_mul(4).and_then(|n| n.checked_add(b.offset));
            if end.is_none_or(|e| e > plan.arena_bytes) || b.offset % 4 != 0 {
                return Err(PlanError(format!(
                    "buffer {i} ({} elements at byte {}) leaves the arena of {} bytes",
                    b.len, b.offset, plan.arena_bytes
                )));
            }
        }
    }
    plan.kernels.iter().try_for_each(|k| kernel(plan, k))
}

fn kernel(plan: &Plan, k: &Kernel) -> Result<(), PlanError> {
    let fits = |v: &View| view(plan, v);
    let same = |v: &View, shape: &[usize], what: &str| {
        if v.shape == shape {
            Ok(())
        } else {
            Err(PlanError(format!(
                "{what}: a load of shape {:?} in a loop over {shape:?}",
                v.shape
            )))
        }
    };
    match k {
        Kernel::Map { out, expr } => {
            fits(out)?;
            expr.loads()
                .try_for_each(|v| fits(v).and_then(|_| same(v, &out.shape, "map")))
        }
        Kernel::Reduce {
            acc, acc_whole, expr, ..
        } => {
            fits(acc)?;
            fits(acc_whole)?;
            expr.loads()
                .try_for_each(|v| fits(v).and_then(|_| same(v, &acc.shape, "reduce")))
        }
        Kernel::MatMul { a, b, c } => product(plan, [a, b, c]),
        Kernel::MatMulPair { first, second } => {
            product(plan, [&first[0], &first[1], &first[2]])?;
            product(plan, [&second[0], &second[1], &second[2]])
        }
        Kernel::Take { x, idx, out, axis }
        | Kernel::ScatterAdd {
            idx,
            upd: x,
            out,
            axis,
        } => {
            fits(x)?;
            fits(idx)?;
            fits(out)?;
            let (src, dst) = match k {
                Kernel::Take { .. } => (x, out),
                _ => (out, x),
            };
            if src.shape.get(*axis).is_none_or(|n| *n == 0) || dst.numel() != x_rows(src, *axis) * idx.numel()
            {
                return Err(PlanError(format!(
                    "gather along axis {axis} of {:?} with {} indices into {:?}",
                    src.shape,
                    idx.numel(),
                    dst.shape
                )));
            }
            Ok(())
        }
        Kernel::Random { key, out, .. } => {
            fits(key)?;
            fits(out)
        }
        Kernel::Routine { args, out, .. } => {
            args.iter().try_for_each(fits)?;
            fits(out)
        }
        Kernel::Scan(s) => {
            s.inits.iter().try_for_each(fits)?;
            s.new_carries.iter().try_for_each(fits)?;
            for (c, h) in s.carries.iter().zip(&s.hist) {
                let need = plan.buffers[*c].len.saturating_mul(s.length);
                if let Some(h) = h
                    && plan.buffers[*h].len < need
                {
                    return Err(PlanError(format!(
                        "a scan history of {} elements for {need}",
                        plan.buffers[*h].len
                    )));
                }
            }
            s.body.iter().try_for_each(|k| kernel(plan, k))
        }
    }
}

/// Elements of `v` outside `axis` (the rows a gather repeats over).
fn x_rows(v: &View, axis: usize) -> usize {
    v.numel() / v.shape[axis].max(1)
}

/// `c[m, n] = a[m, k] @ b[k, n]`: shapes agree and every view fits.
fn product(plan: &Plan, [a, b, c]: [&View; 3]) -> Result<(), PlanError> {
    view(plan, a)?;
    view(plan, b)?;
    view(plan, c)?;
    let ok = a.shape.len() == 2
        && b.shape.len() == 2
        && c.shape.len() == 2
        && a.shape[1] == b.shape[0]
        && c.shape == [a.shape[0], b.shape[1]];
    if ok {
        Ok(())
    } else {
        Err(PlanError(format!(
            "a product of {:?} and {:?} into {:?}",
            a.shape, b.shape, c.shape
        )))
    }
}

/// The lowest and highest element a view touches lie inside its buffer.
fn view(plan: &Plan, v: &View) -> Result<(), PlanError> {
    let Some(buf) = plan.buffers.get(v.buf) else {
        return Err(PlanError(format!(
            "a view of buffer {}, which does not exist",
            v.buf
        )));
    };
    if v.shape.len() != v.strides.len() {
        return Err(PlanError(format!(
            "a view with {} axes and {} strides",
            v.shape.len(),
            v.strides.len()
        )));
    }
    if v.shape.contains(&0) {
        return Ok(());
    }
    let (mut lo, mut hi) = (v.offset as i128, v.offset as i128);
    for (n, s) in v.shape.iter().zip(&v.strides) {
        let span = (*n as i128 - 1) * *s as i128;
        if span < 0 {
            lo += span;
        } else {
            hi += span;
        }
    }
    if lo < 0 || hi >= buf.len as i128 {
        return Err(PlanError(format!(
            "a view {:?} (strides {:?}, offset {}) reaches elements {lo}..={hi} of a buffer of {}",
            v.shape, v.strides, v.offset, buf.len
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::plan;
    use super::check;
    use crate::backend::kernel::{Kernel, Plan};
    use crate::ir::{BinaryOp, DType, Graph, TensorType};

    /// `y = (x @ x) + x` and `x.take(i)` for x `[4, 4]`: a product, a fused map, a gather.
    fn sample() -> Plan {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![4, 4]));
        let i = g.input("i", TensorType::new(DType::I32, vec![3]));
        let m = g.matmul(x, x).unwrap();
        let y = g.binary(BinaryOp::Add, m, x).unwrap();
        let t = g.take(x, i, 0).unwrap();
        g.output("y", y);
        g.output("t", t);
        plan(&g).expect("plans and passes the check")
    }

    fn corrupt(f: impl Fn(&mut Plan)) -> String {
        let mut p = sample();
        f(&mut p);
        check(&p).expect_err("the corruption is caught").0
    }

    #[test]
    fn views_outside_their_buffers_are_caught() {
        let e = corrupt(|p| {
            for k in &mut p.kernels {
                if let Kernel::Map { out, .. } = k {
                    out.offset += 1;
                }
            }
        });
        assert!(e.contains("reaches elements"), "{e}");
        // A negative stride walking below the start.
        let e = corrupt(|p| {
            if let Some(Kernel::Map { out, .. }) =
                p.kernels.iter_mut().find(|k| matches!(k, Kernel::Map { .. }))
            {
                out.strides[0] = -4;
            }
        });
        assert!(e.contains("reaches elements -12"), "{e}");
    }

    #[test]
    fn misshapen_loads_products_gathers_and_arenas_are_caught() {
        let e = corrupt(|p| {
            for k in &mut p.kernels {
                if let Kernel::MatMul { b, .. } = k {
                    b.shape = vec![2, 4];
                    b.strides = vec![4, 1];
                }
            }
        });
        assert!(e.contains("a product of"), "{e}");
        let e = corrupt(|p| {
            for k in &mut p.kernels {
                if let Kernel::Take { idx, .. } = k {
                    idx.shape = vec![2];
                }
            }
        });
        assert!(e.contains("gather along axis 0"), "{e}");
        let e = corrupt(|p| p.arena_bytes = 4);
        assert!(e.contains("leaves the arena"), "{e}");
        let e = corrupt(|p| {
            for k in &mut p.kernels {
                if let Kernel::Map { expr, .. } = k
                    && let Some((crate::backend::kernel::ENode::Load(v), _)) = expr.nodes.first_mut()
                {
                    v.shape = vec![4, 1];
                    v.strides = vec![4, 1];
                }
            }
        });
        assert!(e.contains("a load of shape [4, 1] in a loop over [4, 4]"), "{e}");
    }
}
