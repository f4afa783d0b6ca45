//! Every primitive's gradient against central finite differences in f64.

use super::grad;
use crate::interp::{Tensor, eval};
use crate::ir::{BinaryOp, DType, Graph, NodeId, ReduceOp, Scan, TensorType, UnaryOp, verify};
use rand::{RngExt, SeedableRng};

/// Largest error allowed: |analytic - numeric| / max(1, |analytic|, |numeric|).
const TOL: f64 = 1e-6;

pub(crate) type Build = dyn Fn(&mut Graph, &[NodeId]) -> NodeId;

/// The inputs of a gradient check.
pub(crate) struct Case {
    /// Shapes of the f32 inputs.
    pub(crate) shapes: Vec<Vec<usize>>,
    /// Inputs are drawn uniformly from this range (away from kinks and poles).
    pub(crate) range: (f64, f64),
}

/// Builds `f(inputs)`, reduces it to a scalar with fixed random weights, differentiates, and
/// compares every gradient element with a central difference.
pub(crate) fn check(name: &str, case: Case, build: &Build) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let mut g = Graph::new();
    let xs: Vec<NodeId> = case
        .shapes
        .iter()
        .enumerate()
        .map(|(i, s)| g.input(format!("x{i}"), TensorType::f32(s.clone())))
        .collect();
    let y = build(&mut g, &xs);
    let yt = g.ty(y).clone();
    let w: Vec<f64> = (0..yt.numel()).map(|_| rng.random_range(-1.0..1.0)).collect();
    let wn = g.constant(w, yt.clone()).unwrap();
    let prod = g.binary(BinaryOp::Mul, y, wn).unwrap();
    let loss = g.sum_all(prod).unwrap();
    g.output("loss", loss);
    let grads = grad(&mut g, loss, &xs).unwrap();
    for (i, gr) in grads.iter().enumerate() {
        match gr {
            Some(n) => g.output(format!("g{i}"), *n),
            None => {
                let z = g.zeros(TensorType::f32(case.shapes[i].clone()));
                g.output(format!("g{i}"), z)
            }
        }
    }
    verify(&g).unwrap_or_else(|e| panic!("{name}: {e}"));
    let inputs: Vec<Tensor<f64>> = case
        .shapes
        .iter()
        .map(|s| {
            let n = s.iter().product();
            Tensor::f(
                s.clone(),
                (0..n)
                    .map(|_| rng.random_range(case.range.0..case.range.1))
                    .collect(),
            )
        })
        .collect();
    let res = eval(&g, &inputs, &[]).unwrap();
    let f = |inp: &[Tensor<f64>]| eval(&g, inp, &[]).unwrap().outputs[0].get(0);
    let eps = 1e-6;
    let mut worst: f64 = 0.0;
    for i in 0..inputs.len() {
        let analytic = res.outputs[1 + i].to_f64();
        for j in 0..inputs[i].len() {
            let mut plus = inputs.clone();
            let mut minus = inputs.clone();
            if let crate::interp::Buf::F(v) = &mut plus[i].buf {
                v[j] += eps;
            }
            if let crate::interp::Buf::F(v) = &mut minus[i].buf {
                v[j] -= eps;
            }
            let numeric = (f(&plus) - f(&minus)) / (2.0 * eps);
            let err = (analytic[j] - numeric).abs() / 1f64.max(analytic[j].abs()).max(numeric.abs());
            worst = worst.max(err);
            assert!(
                err < TOL,
                "{name}: d/dx{i}[{j}] analytic {} numeric {numeric} (error {err:e})",
                analytic[j]
            );
        }
    }
    eprintln!("{name}: worst relative error {worst:e}");
}

fn c(shapes: &[&[usize]], range: (f64, f64)) -> Case {
    Case {
        shapes: shapes.iter().map(|s| s.to_vec()).collect(),
        range,
    }
}

#[test]
fn unary_ops() {
    for (op, range) in [
        (UnaryOp::Exp, (-2.0, 2.0)),
        (UnaryOp::Log, (0.2, 3.0)),
        (UnaryOp::Tanh, (-2.0, 2.0)),
        (UnaryOp::Sqrt, (0.2, 3.0)),
        (UnaryOp::Sin, (-3.0, 3.0)),
        (UnaryOp::Cos, (-3.0, 3.0)),
        (UnaryOp::Recip, (0.3, 3.0)),
    ] {
        check(op.name(), c(&[&[3, 4]], range), &move |g, x| {
            g.unary(op, x[0]).unwrap()
        });
    }
    // The composites of ir::compose differentiate through their primitives.
    check("neg", c(&[&[3, 4]], (-2.0, 2.0)), &|g, x| g.neg(x[0]).unwrap());
    check("abs", c(&[&[3, 4]], (0.1, 2.0)), &|g, x| g.abs(x[0]).unwrap());
    // abs on negative inputs too
    check("abs-neg", c(&[&[5]], (-2.0, -0.1)), &|g, x| g.abs(x[0]).unwrap());
}

#[test]
fn binary_ops() {
    for (op, range) in [
        (BinaryOp::Add, (-2.0, 2.0)),
        (BinaryOp::Mul, (-2.0, 2.0)),
        (BinaryOp::Div, (0.5, 2.0)),
        (BinaryOp::Pow, (0.5, 2.0)),
        (BinaryOp::Max, (-2.0, 2.0)),
    ] {
        check(op.name(), c(&[&[2, 3], &[2, 3]], range), &move |g, x| {
            g.binary(op, x[0], x[1]).unwrap()
        });
    }
    check("sub", c(&[&[2, 3], &[2, 3]], (-2.0, 2.0)), &|g, x| {
        g.sub(x[0], x[1]).unwrap()
    });
    check("min", c(&[&[2, 3], &[2, 3]], (-2.0, 2.0)), &|g, x| {
        g.min(x[0], x[1]).unwrap()
    });
    // rem away from its jumps: a in (0.1, 0.9) * 3 + ..., b in (1.1, 1.9)
    check("rem", c(&[&[4], &[4]], (1.1, 1.9)), &|g, x| {
        let three = g.fill(3.0, TensorType::f32(vec![4]));
        let a = g.binary(BinaryOp::Mul, x[0], three).unwrap();
        g.binary(BinaryOp::Rem, a, x[1]).unwrap()
    });
}

#[test]
fn select_and_broadcasting() {
    check("select", c(&[&[6], &[6], &[6]], (-1.0, 1.0)), &|g, x| {
        let z = g.fill(0.0, TensorType::f32(vec![6]));
        let cond = g.gt(x[0], z).unwrap();
        g.select(cond, x[1], x[2]).unwrap()
    });
    check("broadcast", c(&[&[3, 1], &[4]], (-1.0, 1.0)), &|g, x| {
        g.binary_bcast(BinaryOp::Mul, x[0], x[1]).unwrap()
    });
}

#[test]
fn reductions() {
    check("sum", c(&[&[3, 4, 2]], (-1.0, 1.0)), &|g, x| {
        g.sum(x[0], &[0, 2]).unwrap()
    });
    check("max", c(&[&[3, 4]], (-1.0, 1.0)), &|g, x| {
        g.reduce(ReduceOp::Max, x[0], &[1]).unwrap()
    });
    check("min", c(&[&[3, 4]], (-1.0, 1.0)), &|g, x| {
        g.reduce(ReduceOp::Min, x[0], &[0]).unwrap()
    });
}

#[test]
fn matmul_and_layout() {
    check("matmul", c(&[&[3, 4], &[4, 5]], (-1.0, 1.0)), &|g, x| {
        g.matmul(x[0], x[1]).unwrap()
    });
    check("reshape", c(&[&[3, 4]], (-1.0, 1.0)), &|g, x| {
        g.reshape(x[0], &[2, 6]).unwrap()
    });
    check("transpose", c(&[&[2, 3, 4]], (-1.0, 1.0)), &|g, x| {
        g.transpose(x[0], &[2, 0, 1]).unwrap()
    });
    check("concat", c(&[&[2, 3], &[2, 1]], (-1.0, 1.0)), &|g, x| {
        g.concat(&[x[0], x[1]], 1).unwrap()
    });
    check("slice", c(&[&[5, 2]], (-1.0, 1.0)), &|g, x| {
        g.slice(x[0], 0, 1, 3).unwrap()
    });
}

#[test]
fn gather_and_scatter() {
    check("take", c(&[&[4, 3]], (-1.0, 1.0)), &|g, x| {
        let idx = g
            .constant(vec![2.0, 0.0, 2.0], TensorType::new(DType::I32, vec![3]))
            .unwrap();
        g.take(x[0], idx, 0).unwrap()
    });
    check("scatter_add", c(&[&[4, 2], &[3, 2]], (-1.0, 1.0)), &|g, x| {
        let idx = g
            .constant(vec![1.0, 3.0, 1.0], TensorType::new(DType::I32, vec![3]))
            .unwrap();
        g.scatter_add(x[0], idx, x[1], 0).unwrap()
    });
}

/// `c_t = tanh(w * c_{t-1} + x[t])` stacked, plus a second carry summing squares.
fn rnn_scan(
    g: &mut Graph,
    x: NodeId,
    w: NodeId,
    h0: NodeId,
    reverse: bool,
    stacked: Vec<bool>,
) -> Vec<NodeId> {
    let t_len = g.ty(x).shape[0];
    let n = g.ty(h0).shape.clone();
    let mut body = Graph::new();
    let t = body.input("t", TensorType::scalar(DType::I32));
    let h = body.input("h", TensorType::f32(n.clone()));
    let s = body.input("s", TensorType::f32(vec![]));
    let xb = body.input("x", g.ty(x).clone());
    let wb = body.input("w", g.ty(w).clone());
    let xt = body.take(xb, t, 0).unwrap();
    let wh = body.binary(BinaryOp::Mul, wb, h).unwrap();
    let pre = body.binary(BinaryOp::Add, wh, xt).unwrap();
    let nh = body.unary(UnaryOp::Tanh, pre).unwrap();
    let sq = body.binary(BinaryOp::Mul, nh, nh).unwrap();
    let ssq = body.sum_all(sq).unwrap();
    let ns = body.binary(BinaryOp::Add, s, ssq).unwrap();
    body.output("h", nh);
    body.output("s", ns);
    let s0 = g.scalar(0.0);
    g.scan(
        Scan {
            body,
            length: t_len,
            reverse,
            n_carry: 2,
            stacked,
        },
        &[h0, s0, x, w],
    )
    .unwrap()
}

#[test]
fn scans() {
    for reverse in [false, true] {
        for stacked in [
            vec![true, true],
            vec![false, true],
            vec![true, false],
            vec![false, false],
        ] {
            let name = format!("scan reverse={reverse} stacked={stacked:?}");
            let st = stacked.clone();
            check(&name, c(&[&[5, 3], &[3], &[3]], (-1.0, 1.0)), &move |g, x| {
                let outs = rnn_scan(g, x[0], x[1], x[2], reverse, st.clone());
                // Use both outputs.
                let a = g.sum_all(outs[0]).unwrap();
                let b = g.sum_all(outs[1]).unwrap();
                g.binary(BinaryOp::Add, a, b).unwrap()
            });
        }
    }
    check(
        "scan length 1",
        c(&[&[1, 2], &[2], &[2]], (-1.0, 1.0)),
        &|g, x| rnn_scan(g, x[0], x[1], x[2], false, vec![true, true])[0],
    );
}

#[test]
fn second_order() {
    // d/dx of sum(d/dx sum(tanh(x)^3 * w)) exercises gradients of gradient graphs.
    check("grad of grad", c(&[&[4], &[4]], (-1.0, 1.0)), &|g, x| {
        let th = g.unary(UnaryOp::Tanh, x[0]).unwrap();
        let t2 = g.binary(BinaryOp::Mul, th, th).unwrap();
        let t3 = g.binary(BinaryOp::Mul, t2, th).unwrap();
        let tw = g.binary(BinaryOp::Mul, t3, x[1]).unwrap();
        let l = g.sum_all(tw).unwrap();
        grad(g, l, &[x[0]]).unwrap()[0].unwrap()
    });
    check(
        "grad of scan grad",
        c(&[&[4, 2], &[2], &[2]], (-1.0, 1.0)),
        &|g, x| {
            let outs = rnn_scan(g, x[0], x[1], x[2], true, vec![true, false]);
            let l = g.sum_all(outs[0]).unwrap();
            grad(g, l, &[x[1]]).unwrap()[0].unwrap()
        },
    );
}

#[test]
fn stop_grad_and_unrelated_inputs() {
    let mut g = Graph::new();
    let x = g.input("x", TensorType::f32(vec![2]));
    let y = g.input("y", TensorType::f32(vec![2]));
    let s = g.stop_grad(x).unwrap();
    let p = g.binary(BinaryOp::Mul, s, x).unwrap();
    let l = g.sum_all(p).unwrap();
    let gr = grad(&mut g, l, &[x, y]).unwrap();
    assert!(gr[0].is_some());
    assert!(gr[1].is_none(), "y does not reach the loss");
    g.output("g", gr[0].unwrap());
    let r = eval::<f64>(
        &g,
        &[
            Tensor::from_f64(vec![2], &[3., 4.]),
            Tensor::from_f64(vec![2], &[0., 0.]),
        ],
        &[],
    )
    .unwrap();
    // d/dx (stop(x) * x) = stop(x) = x
    assert_eq!(r.outputs[0].to_f64(), vec![3., 4.]);
}

/// The rule `gradient_reach` reports is the one `grad` follows: floors, casts, gather indices
/// and `stop` block gradients, and an input gets a gradient exactly when it is reached.
#[test]
fn gradient_reach_is_autodiffs_rule() {
    let mut g = Graph::new();
    let table = g.input("table", TensorType::f32(vec![4]));
    let index = g.input("index", TensorType::f32(vec![3]));
    let floored = g.input("floored", TensorType::f32(vec![3]));
    let cast = g.input("cast", TensorType::f32(vec![3]));
    let stopped = g.input("stopped", TensorType::f32(vec![3]));
    let direct = g.input("direct", TensorType::f32(vec![3]));
    let i = g.cast(index, DType::I32).unwrap();
    let taken = g.take(table, i, 0).unwrap();
    let f = g.unary(UnaryOp::Floor, floored).unwrap();
    let ci = g.cast(cast, DType::I32).unwrap();
    let cf = g.cast(ci, DType::F32).unwrap();
    let s = g.stop_grad(stopped).unwrap();
    let sd = g.binary(BinaryOp::Mul, s, direct).unwrap();
    let mut total = g.binary(BinaryOp::Add, taken, f).unwrap();
    for x in [cf, sd] {
        total = g.binary(BinaryOp::Add, total, x).unwrap();
    }
    let loss = g.sum_all(total).unwrap();
    let reach = super::gradient_reach(&g, &[loss]);
    let wrt = [table, index, floored, cast, stopped, direct];
    let reached: Vec<bool> = wrt.iter().map(|w| reach[w.index()]).collect();
    assert_eq!(reached, [true, false, false, false, false, true]);
    // Take passes gradients to its table, not its index.
    assert_eq!(super::gradient_operands(&g, taken), vec![0]);
    let grads = grad(&mut g, loss, &wrt).unwrap();
    let got: Vec<bool> = grads.iter().map(Option::is_some).collect();
    assert_eq!(
        got, reached,
        "grad differentiates exactly what gradient_reach reports"
    );
}

#[test]
fn values_gathered_by_argsort_get_the_gradient_of_their_position() {
    // sorted(x) = x.take(argsort(x)): the indices carry no gradient, the gather does.
    check(
        "sorted",
        Case {
            shapes: vec![vec![6]],
            range: (-2.0, 2.0),
        },
        &|g, x| {
            let order = g
                .routine(
                    crate::ir::Routine::Argsort(crate::ir::Argsort {
                        axis: 0,
                        descending: true,
                    }),
                    &[x[0]],
                )
                .unwrap();
            g.take(x[0], order, 0).unwrap()
        },
    );
}
