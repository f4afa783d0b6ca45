//! Node-by-node evaluation of a graph.

use super::layout::{broadcast_map, gather_map, reduce_map, split_at_axis, strides};
use super::scalar::{
    eval_binary, eval_binary_i32, eval_compare, eval_logical, eval_unary, reduce_init, reduce_init_i32,
    reduce_step, reduce_step_i32,
};
use super::tensor::{Buf, Real, Tensor};
use crate::ir::{BinaryOp, DType, Graph, HostArg, NodeId, Op, RandomDist, StateId, TensorType, UnaryOp};
use crate::random;
use std::fmt;

/// A run-time error of the interpreter (bad inputs; graphs themselves are checked).
#[derive(Clone, Debug, PartialEq)]
pub struct InterpError(pub String);

impl fmt::Display for InterpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InterpError {}

/// The result of one call: outputs (in `graph.outputs` order) and state assignments.
#[derive(Clone, Debug)]
pub struct Evaluated<T> {
    /// Output values.
    pub outputs: Vec<Tensor<T>>,
    /// New values of assigned state variables.
    pub assigns: Vec<(StateId, Tensor<T>)>,
}

enum Val<T> {
    One(Tensor<T>),
    Many(Vec<Tensor<T>>),
}

/// Evaluates `g` with `inputs` (in `g.inputs` order) and `state` (indexed by state id).
pub fn eval<T: Real>(
    g: &Graph,
    inputs: &[Tensor<T>],
    state: &[Tensor<T>],
) -> Result<Evaluated<T>, InterpError> {
    eval_all(g, inputs, state).map(|(e, _)| e)
}

/// Where a NaN or an infinity in a graph's results comes from: the node that produced a
/// non-finite value from finite operands (an input or a state when it came in that way), found
/// by walking back from the first non-finite output or state assignment along non-finite
/// operands. Values that go bad and are then masked away (`select`) do not count. `None` when
/// every result is finite. This is what `rlc run --debug-nans` reports.
pub fn non_finite_source<T: Real>(
    g: &Graph,
    inputs: &[Tensor<T>],
    state: &[Tensor<T>],
) -> Result<Option<NodeId>, InterpError> {
    let (_, vals) = eval_all(g, inputs, state)?;
    let bad_tensor = |t: &Tensor<T>| matches!(&t.buf, Buf::F(v) if v.iter().any(|x| !x.is_finite()));
    let bad = |id: NodeId| match &vals[id.index()] {
        Some(Val::One(t)) => bad_tensor(t),
        Some(Val::Many(ts)) => ts.iter().any(bad_tensor),
        None => false,
    };
    let sinks = g.outputs.iter().map(|(_, id)| *id).chain(
        g.ids()
            .filter(|id| matches!(g.node(*id).op, Op::Assign(_)))
            .map(|id| g.args(id)[0]),
    );
    let Some(mut at) = sinks.into_iter().find(|id| bad(*id)) else {
        return Ok(None);
    };
    while let Some(next) = g.args(at).iter().copied().find(|a| bad(*a)) {
        at = next;
    }
    Ok(Some(at))
}

/// Evaluates every live node; returns the results and each node's value.
#[allow(clippy::type_complexity)]
fn eval_all<T: Real>(
    g: &Graph,
    inputs: &[Tensor<T>],
    state: &[Tensor<T>],
) -> Result<(Evaluated<T>, Vec<Option<Val<T>>>), InterpError> {
    if inputs.len() != g.inputs.len() {
        return Err(InterpError(format!(
            "expected {} inputs, got {}",
            g.inputs.len(),
            inputs.len()
        )));
    }
    for (i, (id, t)) in g.inputs.iter().zip(inputs).enumerate() {
        if &t.ty != g.ty(*id) || buf_len(&t.buf) != t.ty.numel() {
            return Err(InterpError(format!(
                "input {i} (`{}`) must be {}, got {} with {} values",
                g.input_name(*id),
                g.ty(*id),
                t.ty,
                buf_len(&t.buf)
            )));
        }
    }
    let live = g.live();
    let mut vals: Vec<Option<Val<T>>> = Vec::with_capacity(g.len());
    let mut assigns = Vec::new();
    let mut next_input = 0;
    for id in g.ids() {
        let node = g.node(id);
        if !live[id.index()] {
            vals.push(None);
            if matches!(node.op, Op::Input { .. }) {
                next_input += 1;
            }
            continue;
        }
        let arg = |k: usize| -> &Tensor<T> {
            match vals[node.args[k].index()].as_ref() {
                Some(Val::One(t)) => t,
                _ => unreachable!("operand of a live node is live and single"),
            }
        };
        let val = match &node.op {
            Op::Input { .. } => {
                let t = inputs[next_input].clone();
                next_input += 1;
                Val::One(t)
            }
            Op::State(s) => {
                let t = state
                    .get(s.0 as usize)
                    .ok_or_else(|| InterpError(format!("missing state #{}", s.0)))?;
                if t.ty != node.ty {
                    return Err(InterpError(format!(
                        "state #{} is {}, graph expects {}",
                        s.0, t.ty, node.ty
                    )));
                }
                Val::One(t.clone())
            }
            Op::Assign(s) => {
                assigns.push((*s, arg(0).clone()));
                Val::One(Tensor::b(vec![], vec![true]))
            }
            Op::Scan(scan) => {
                let args: Vec<&Tensor<T>> = (0..node.args.len()).map(arg).collect();
                Val::Many(eval_scan(scan, &args)?)
            }
            Op::Project { index } => match vals[node.args[0].index()].as_ref() {
                Some(Val::Many(v)) => Val::One(v[*index].clone()),
                _ => unreachable!("project reads a scan"),
            },
            op => {
                let args: Vec<&Tensor<T>> = (0..node.args.len()).map(arg).collect();
                Val::One(eval_op(op, &args, &node.ty)?)
            }
        };
        vals.push(Some(val));
    }
    let outputs = g
        .outputs
        .iter()
        .map(|(_, id)| match vals[id.index()].take_or_clone() {
            Some(Val::One(t)) => t,
            _ => unreachable!("outputs are live tensors"),
        })
        .collect();
    Ok((Evaluated { outputs, assigns }, vals))
}

trait TakeOrClone<T> {
    fn take_or_clone(&self) -> Option<Val<T>>;
}

impl<T: Real> TakeOrClone<T> for Option<Val<T>> {
    fn take_or_clone(&self) -> Option<Val<T>> {
        match self {
            Some(Val::One(t)) => Some(Val::One(t.clone())),
            Some(Val::Many(v)) => Some(Val::Many(v.clone())),
            None => None,
        }
    }
}

fn buf_len<T>(b: &Buf<T>) -> usize {
    match b {
        Buf::F(v) => v.len(),
        Buf::I(v) => v.len(),
        Buf::B(v) => v.len(),
    }
}

fn eval_scan<T: Real>(scan: &crate::ir::Scan, args: &[&Tensor<T>]) -> Result<Vec<Tensor<T>>, InterpError> {
    let nc = scan.n_carry;
    let mut carries: Vec<Tensor<T>> = args[..nc].iter().map(|t| (*t).clone()).collect();
    let consts: Vec<Tensor<T>> = args[nc..].iter().map(|t| (*t).clone()).collect();
    let mut stacks: Vec<Vec<Option<Tensor<T>>>> = vec![vec![None; scan.length]; nc];
    let order: Vec<usize> = if scan.reverse {
        (0..scan.length).rev().collect()
    } else {
        (0..scan.length).collect()
    };
    let mut inputs = Vec::with_capacity(1 + args.len());
    for t in order {
        inputs.clear();
        inputs.push(Tensor::i(vec![], vec![t as i32]));
        inputs.extend(carries.iter().cloned());
        inputs.extend(consts.iter().cloned());
        let out = eval(&scan.body, &inputs, &[])?;
        carries = out.outputs;
        for (i, c) in carries.iter().enumerate() {
            if scan.stacked[i] {
                stacks[i][t] = Some(c.clone());
            }
        }
    }
    Ok(carries
        .into_iter()
        .zip(stacks)
        .zip(&scan.stacked)
        .map(|((last, stack), stacked)| {
            if !stacked {
                return last;
            }
            let mut shape = vec![scan.length];
            shape.extend(&last.ty.shape);
            let parts: Vec<Tensor<T>> = stack.into_iter().map(|s| s.expect("every step ran")).collect();
            stack_tensors(&parts, last.ty.with_shape(shape))
        })
        .collect())
}

fn stack_tensors<T: Real>(parts: &[Tensor<T>], ty: TensorType) -> Tensor<T> {
    let buf = match ty.dtype {
        DType::F32 => Buf::F(parts.iter().flat_map(|p| p.floats().iter().copied()).collect()),
        DType::I32 => Buf::I(parts.iter().flat_map(|p| ints(p).iter().copied()).collect()),
        DType::Bool => Buf::B(parts.iter().flat_map(|p| bools(p).iter().copied()).collect()),
    };
    Tensor { ty, buf }
}

fn ints<T>(t: &Tensor<T>) -> &[i32] {
    match &t.buf {
        Buf::I(v) => v,
        _ => &[],
    }
}

fn bools<T>(t: &Tensor<T>) -> &[bool] {
    match &t.buf {
        Buf::B(v) => v,
        _ => &[],
    }
}

/// A buffer's elements as f64 (exact for f32, i32 and bool), for a routine's evaluation.
fn host_values<T: Real>(b: &Buf<T>) -> Vec<f64> {
    match b {
        Buf::F(v) => v.iter().map(|x| x.f64()).collect(),
        Buf::I(v) => v.iter().map(|x| f64::from(*x)).collect(),
        Buf::B(v) => v.iter().map(|x| f64::from(u8::from(*x))).collect(),
    }
}

/// Applies a position map to any buffer: `out[i] = src[map[i]]`.
fn remap<T: Copy>(b: &Buf<T>, map: &[usize]) -> Buf<T> {
    match b {
        Buf::F(v) => Buf::F(map.iter().map(|i| v[*i]).collect()),
        Buf::I(v) => Buf::I(map.iter().map(|i| v[*i]).collect()),
        Buf::B(v) => Buf::B(map.iter().map(|i| v[*i]).collect()),
    }
}

fn eval_op<T: Real>(op: &Op, a: &[&Tensor<T>], ty: &TensorType) -> Result<Tensor<T>, InterpError> {
    let out = |buf| Ok(Tensor { ty: ty.clone(), buf });
    match op {
        Op::Const { values } => {
            let n = ty.numel();
            let get = |i: usize| if values.len() == 1 { values[0] } else { values[i] };
            out(match ty.dtype {
                DType::F32 => Buf::F((0..n).map(|i| T::of(get(i))).collect()),
                DType::I32 => Buf::I((0..n).map(|i| get(i) as i32).collect()),
                DType::Bool => Buf::B((0..n).map(|i| get(i) != 0.0).collect()),
            })
        }
        Op::Iota { axis } => {
            let s = strides(&ty.shape);
            let (st, len) = (s[*axis], ty.shape[*axis]);
            out(Buf::I((0..ty.numel()).map(|i| ((i / st) % len) as i32).collect()))
        }
        Op::Random { dist, stream } => {
            let k = ints(a[0]);
            let key = random::stream_key([k[0], k[1]], *stream);
            let n = ty.numel() as u64;
            out(Buf::F(match dist {
                RandomDist::Uniform => (0..n).map(|i| T::of(random::uniform(key, i))).collect(),
                RandomDist::Normal => (0..n).map(|i| T::normal(key, i)).collect(),
            }))
        }
        Op::Unary(u) => out(unary(*u, &a[0].buf)),
        Op::Binary(b) => out(binary(*b, &a[0].buf, &a[1].buf)),
        Op::Select => {
            let c = bools(a[0]);
            out(match (&a[1].buf, &a[2].buf) {
                (Buf::F(x), Buf::F(y)) => Buf::F(
                    c.iter()
                        .zip(x.iter().zip(y))
                        .map(|(c, (x, y))| if *c { *x } else { *y })
                        .collect(),
                ),
                (Buf::I(x), Buf::I(y)) => Buf::I(
                    c.iter()
                        .zip(x.iter().zip(y))
                        .map(|(c, (x, y))| if *c { *x } else { *y })
                        .collect(),
                ),
                (Buf::B(x), Buf::B(y)) => Buf::B(
                    c.iter()
                        .zip(x.iter().zip(y))
                        .map(|(c, (x, y))| if *c { *x } else { *y })
                        .collect(),
                ),
                _ => unreachable!("select operands share a type"),
            })
        }
        Op::Cast => {
            let x = a[0];
            let n = x.len();
            out(match ty.dtype {
                DType::F32 => Buf::F((0..n).map(|i| T::of(x.get(i))).collect()),
                DType::I32 => Buf::I(match &x.buf {
                    Buf::F(v) => v.iter().map(|f| f.f64().trunc() as i32).collect(),
                    _ => (0..n).map(|i| x.get(i) as i32).collect(),
                }),
                DType::Bool => Buf::B((0..n).map(|i| x.get(i) != 0.0).collect()),
            })
        }
        Op::StopGrad => Ok(a[0].clone()),
        Op::Reduce { op, axes } => {
            let map = reduce_map(&a[0].ty.shape, axes);
            let n = ty.numel();
            out(match &a[0].buf {
                Buf::F(v) => {
                    let mut acc = vec![reduce_init::<T>(*op); n];
                    for (x, o) in v.iter().zip(&map) {
                        acc[*o] = reduce_step(*op, acc[*o], *x);
                    }
                    Buf::F(acc)
                }
                Buf::I(v) => {
                    let mut acc = vec![reduce_init_i32(*op); n];
                    for (x, o) in v.iter().zip(&map) {
                        acc[*o] = reduce_step_i32(*op, acc[*o], *x);
                    }
                    Buf::I(acc)
                }
                Buf::B(_) => unreachable!("bool reductions are rejected by the checker"),
            })
        }
        Op::MatMul => {
            let (m, k, n) = (a[0].ty.shape[0], a[0].ty.shape[1], a[1].ty.shape[1]);
            let mut c = vec![T::zero(); m * n];
            T::gemm(m, k, n, a[0].floats(), a[1].floats(), &mut c);
            out(Buf::F(c))
        }
        Op::Reshape => out(a[0].buf.clone()),
        Op::Transpose { perm } => {
            let s = strides(&a[0].ty.shape);
            let src: Vec<usize> = perm.iter().map(|p| s[*p]).collect();
            out(remap(&a[0].buf, &gather_map(&ty.shape, &src)))
        }
        Op::Broadcast => out(remap(&a[0].buf, &broadcast_map(&a[0].ty.shape, &ty.shape))),
        Op::Concat { axis } => {
            let (outer, _, inner) = split_at_axis(&ty.shape, *axis);
            let mut map_src = Vec::with_capacity(ty.numel());
            // Build (operand, position) pairs in output order, then gather per type.
            for o in 0..outer {
                for (k, t) in a.iter().enumerate() {
                    let len = t.ty.shape[*axis] * inner;
                    for j in 0..len {
                        map_src.push((k, o * len + j));
                    }
                }
            }
            out(match ty.dtype {
                DType::F32 => Buf::F(map_src.iter().map(|(k, i)| a[*k].floats()[*i]).collect()),
                DType::I32 => Buf::I(map_src.iter().map(|(k, i)| ints(a[*k])[*i]).collect()),
                DType::Bool => Buf::B(map_src.iter().map(|(k, i)| bools(a[*k])[*i]).collect()),
            })
        }
        Op::Slice { axis, start, end } => {
            let (outer, len, inner) = split_at_axis(&a[0].ty.shape, *axis);
            let mut map = Vec::with_capacity(ty.numel());
            for o in 0..outer {
                for j in *start..*end {
                    for i in 0..inner {
                        map.push((o * len + j) * inner + i);
                    }
                }
            }
            out(remap(&a[0].buf, &map))
        }
        Op::Take { axis } => {
            let (outer, len, inner) = split_at_axis(&a[0].ty.shape, *axis);
            let idx = ints(a[1]);
            let mut map = Vec::with_capacity(ty.numel());
            for o in 0..outer {
                for ix in idx {
                    // The checker refuses empty axes; `hi` cannot wrap for any axis length.
                    let hi = i32::try_from(len.saturating_sub(1)).unwrap_or(i32::MAX);
                    let j = (*ix).clamp(0, hi) as usize;
                    for i in 0..inner {
                        map.push((o * len + j) * inner + i);
                    }
                }
            }
            out(remap(&a[0].buf, &map))
        }
        Op::ScatterAdd { axis } => {
            let (outer, len, inner) = split_at_axis(&a[0].ty.shape, *axis);
            let idx = ints(a[1]);
            let mut res = a[0].clone();
            let mut u = 0;
            for o in 0..outer {
                for ix in idx {
                    // The checker refuses empty axes; `hi` cannot wrap for any axis length.
                    let hi = i32::try_from(len.saturating_sub(1)).unwrap_or(i32::MAX);
                    let j = (*ix).clamp(0, hi) as usize;
                    for i in 0..inner {
                        let p = (o * len + j) * inner + i;
                        match (&mut res.buf, &a[2].buf) {
                            (Buf::F(r), Buf::F(v)) => r[p] = r[p] + v[u],
                            (Buf::I(r), Buf::I(v)) => r[p] = r[p].wrapping_add(v[u]),
                            (Buf::B(r), Buf::B(v)) => r[p] = r[p] || v[u],
                            _ => unreachable!("scatter operands share a type"),
                        }
                        u += 1;
                    }
                }
            }
            Ok(res)
        }
        Op::Routine(r) => {
            let data: Vec<Vec<f64>> = a.iter().map(|t| host_values(&t.buf)).collect();
            let args: Vec<HostArg<'_>> = a
                .iter()
                .zip(&data)
                .map(|(t, d)| HostArg { ty: &t.ty, data: d })
                .collect();
            let v = r.definition().eval(&args, ty);
            out(match ty.dtype {
                DType::F32 => Buf::F(v.iter().map(|x| T::of(*x)).collect()),
                DType::I32 => Buf::I(v.iter().map(|x| *x as i32).collect()),
                DType::Bool => Buf::B(v.iter().map(|x| *x != 0.0).collect()),
            })
        }
        Op::Input { .. } | Op::State(_) | Op::Assign(_) | Op::Scan(_) | Op::Project { .. } => {
            unreachable!("handled by eval")
        }
    }
}

fn unary<T: Real>(op: UnaryOp, b: &Buf<T>) -> Buf<T> {
    match b {
        Buf::F(v) => Buf::F(v.iter().map(|x| eval_unary(op, *x)).collect()),
        Buf::I(_) => unreachable!("no unary primitive is defined on i32; the checker rejects it"),
        Buf::B(v) => Buf::B(v.iter().map(|x| !x).collect()),
    }
}

fn binary<T: Real>(op: BinaryOp, a: &Buf<T>, b: &Buf<T>) -> Buf<T> {
    match (a, b) {
        (Buf::F(x), Buf::F(y)) => {
            if op.is_comparison() {
                return Buf::B(x.iter().zip(y).map(|(x, y)| eval_compare(op, *x, *y)).collect());
            }
            Buf::F(x.iter().zip(y).map(|(x, y)| eval_binary(op, *x, *y)).collect())
        }
        (Buf::I(x), Buf::I(y)) => {
            if op.is_comparison() {
                return Buf::B(x.iter().zip(y).map(|(x, y)| eval_compare(op, *x, *y)).collect());
            }
            Buf::I(
                x.iter()
                    .zip(y)
                    .map(|(x, y)| eval_binary_i32(op, *x, *y))
                    .collect(),
            )
        }
        (Buf::B(x), Buf::B(y)) => Buf::B(x.iter().zip(y).map(|(x, y)| eval_logical(op, *x, *y)).collect()),
        _ => unreachable!("binary operands share a type"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Scan, TensorType};

    #[test]
    fn non_finite_source_follows_the_fault_not_masked_values() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![2]));
        // log(-1) is NaN but masked away by the select: not the fault.
        let l = g.unary(UnaryOp::Log, x).unwrap();
        let zero = g.scalar(0.0);
        let zeros = g.broadcast_to(zero, &[2]).unwrap();
        let pos = g.gt(x, zeros).unwrap();
        let masked = g.select(pos, l, zeros).unwrap();
        g.output("masked", masked);
        // (x * 1e30)^2 overflows: the square is the fault, and the `+ 1` after it only carries it.
        let big = g.scalar(1e30);
        let b = g.binary_bcast(BinaryOp::Mul, x, big).unwrap();
        let sq = g.binary(BinaryOp::Mul, b, b).unwrap();
        let one = g.scalar(1.0);
        let out = g.binary_bcast(BinaryOp::Add, sq, one).unwrap();
        g.output("out", out);
        let x_val = Tensor::<f32>::from_f64(vec![2], &[-1.0, 2.0]);
        assert_eq!(non_finite_source(&g, &[x_val], &[]).unwrap(), Some(sq));
        // All finite: no source.
        let small = Tensor::<f32>::from_f64(vec![2], &[1e-30, 2e-30]);
        assert_eq!(non_finite_source(&g, &[small], &[]).unwrap(), None);
        // A NaN coming in is reported as its input.
        let nan = Tensor::<f32>::from_f64(vec![2], &[f64::NAN, 2.0]);
        assert_eq!(non_finite_source(&g, &[nan], &[]).unwrap(), Some(x));
    }

    #[test]
    fn matmul_broadcast_reduce() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![2, 3]));
        let w = g.input("w", TensorType::f32(vec![3, 1]));
        let y = g.matmul(x, w).unwrap();
        let s = g.sum(y, &[0, 1]).unwrap();
        g.output("y", y);
        g.output("s", s);
        let r = eval::<f64>(
            &g,
            &[
                Tensor::from_f64(vec![2, 3], &[1., 2., 3., 4., 5., 6.]),
                Tensor::from_f64(vec![3, 1], &[1., 0., -1.]),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(r.outputs[0].to_f64(), vec![-2., -2.]);
        assert_eq!(r.outputs[1].to_f64(), vec![-4.]);
    }

    #[test]
    fn scan_computes_discounted_returns() {
        // g_t = r_t + 0.5 * g_{t+1}, reverse, stacked.
        let mut body = Graph::new();
        let t = body.input("t", TensorType::new(DType::I32, vec![]));
        let g = body.input("g", TensorType::f32(vec![]));
        let r = body.input("r", TensorType::f32(vec![3]));
        let rt = body.take(r, t, 0).unwrap();
        let half = body.scalar(0.5);
        let hg = body.binary(BinaryOp::Mul, half, g).unwrap();
        let ng = body.binary(BinaryOp::Add, rt, hg).unwrap();
        body.output("g", ng);
        let mut outer = Graph::new();
        let r = outer.input("r", TensorType::f32(vec![3]));
        let z = outer.scalar(0.0);
        let outs = outer
            .scan(
                Scan {
                    body,
                    length: 3,
                    reverse: true,
                    n_carry: 1,
                    stacked: vec![true],
                },
                &[z, r],
            )
            .unwrap();
        outer.output("g", outs[0]);
        crate::ir::verify(&outer).unwrap();
        let res = eval::<f64>(&outer, &[Tensor::from_f64(vec![3], &[1., 1., 1.])], &[]).unwrap();
        assert_eq!(res.outputs[0].to_f64(), vec![1.75, 1.5, 1.0]);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![2]));
        g.output("x", x);
        assert!(eval::<f32>(&g, &[Tensor::from_f64(vec![3], &[1., 2., 3.])], &[]).is_err());
        assert!(eval::<f32>(&g, &[], &[]).is_err());
    }
}
