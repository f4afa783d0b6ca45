//! Random graphs of primitives for differential tests of backends against the interpreter
//! (|backend - interp| <= 2e-4 * max(1, |interp|); f32).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rlc_compiler::backend::{In, Out};
use rlc_compiler::interp::{Tensor, eval};
use rlc_compiler::ir::{BinaryOp, DType, Graph, NodeId, ReduceOp, StateTable, TensorType, UnaryOp};

/// Builds a random graph of f32 values with inputs, and marks a few nodes as outputs.
pub fn random_graph(seed: u64) -> Graph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut g = Graph::new();
    let dims = [1usize, 2, 3, 7, 16, 33];
    let mut pool: Vec<NodeId> = Vec::new();
    for i in 0..rng.random_range(1..4) {
        let rank = rng.random_range(0..4);
        let shape: Vec<usize> = (0..rank).map(|_| dims[rng.random_range(0..dims.len())]).collect();
        pool.push(g.input(format!("x{i}"), TensorType::f32(shape)));
    }
    let pick = |rng: &mut ChaCha8Rng, pool: &[NodeId]| pool[rng.random_range(0..pool.len())];
    for _ in 0..rng.random_range(3..25) {
        let x = pick(&mut rng, &pool);
        let xs = g.ty(x).shape.clone();
        let node = match rng.random_range(0..12) {
            0 | 1 => {
                let safe = |g: &mut Graph, x: NodeId, add: f64| {
                    let a = g.abs(x).unwrap();
                    let c = g.fill(add, g.ty(x).clone());
                    g.binary(BinaryOp::Add, a, c).unwrap()
                };
                match rng.random_range(0..10) {
                    0 => g.neg(x).unwrap(),
                    1 => {
                        let t = g.unary(UnaryOp::Tanh, x).unwrap();
                        g.unary(UnaryOp::Exp, t).unwrap()
                    }
                    2 => g.unary(UnaryOp::Tanh, x).unwrap(),
                    3 => g.unary(UnaryOp::Sin, x).unwrap(),
                    4 => g.unary(UnaryOp::Cos, x).unwrap(),
                    5 => g.unary(UnaryOp::Floor, x).unwrap(),
                    6 => {
                        let s = safe(&mut g, x, 0.1);
                        g.unary(UnaryOp::Sqrt, s).unwrap()
                    }
                    7 => {
                        let s = safe(&mut g, x, 0.1);
                        g.unary(UnaryOp::Log, s).unwrap()
                    }
                    8 => {
                        let s = safe(&mut g, x, 0.5);
                        g.unary(UnaryOp::Recip, s).unwrap()
                    }
                    _ => g.abs(x).unwrap(),
                }
            }
            2 | 3 => {
                // A binary op with another node broadcast to this one's shape (or a constant).
                let y = pool.iter().copied().filter(|y| {
                    let ys = &g.ty(*y).shape;
                    ys.len() <= xs.len()
                        && ys
                            .iter()
                            .zip(&xs[xs.len() - ys.len()..])
                            .all(|(a, b)| a == b || *a == 1)
                });
                let cands: Vec<NodeId> = y.collect();
                let y = if cands.is_empty() {
                    g.scalar(0.75)
                } else {
                    cands[rng.random_range(0..cands.len())]
                };
                let y = g.broadcast_to(y, &xs).unwrap();
                // Subtraction and minimum are composites (ir::compose), built in their old slots.
                match rng.random_range(0..7) {
                    1 => g.sub(x, y).unwrap(),
                    4 => g.min(x, y).unwrap(),
                    k @ (5 | 6) => {
                        let a = g.abs(y).unwrap();
                        let c = g.fill(0.5, g.ty(y).clone());
                        let d = g.binary(BinaryOp::Add, a, c).unwrap();
                        let op = if k == 5 { BinaryOp::Div } else { BinaryOp::Rem };
                        g.binary(op, x, d).unwrap()
                    }
                    k => {
                        let op = match k {
                            0 => BinaryOp::Add,
                            2 => BinaryOp::Mul,
                            _ => BinaryOp::Max,
                        };
                        g.binary(op, x, y).unwrap()
                    }
                }
            }
            4 => {
                // select(x > 0, x, y)
                let z = g.fill(0.0, g.ty(x).clone());
                let c = g.gt(x, z).unwrap();
                let y = g.unary(UnaryOp::Sin, x).unwrap();
                g.select(c, x, y).unwrap()
            }
            5 if !xs.is_empty() => {
                let ax = rng.random_range(0..xs.len());
                let op = [ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min][rng.random_range(0..3)];
                g.reduce(op, x, &[ax]).unwrap()
            }
            6 if xs.len() >= 2 => {
                let mut perm: Vec<usize> = (0..xs.len()).collect();
                perm.swap(0, xs.len() - 1);
                g.transpose(x, &perm).unwrap()
            }
            7 if !xs.is_empty() => {
                let n: usize = xs.iter().product();
                g.reshape(x, &[n]).unwrap()
            }
            8 if !xs.is_empty() => {
                let ax = rng.random_range(0..xs.len());
                let s = rng.random_range(0..xs[ax]);
                let e = rng.random_range(s + 1..=xs[ax]);
                g.slice(x, ax, s, e).unwrap()
            }
            9 if !xs.is_empty() => {
                let ax = rng.random_range(0..xs.len());
                let y = g.neg(x).unwrap();
                g.concat(&[x, y], ax).unwrap()
            }
            10 => {
                // matmul with a fresh [k, n] weight, flattening leading axes.
                let k = *xs.last().unwrap_or(&1);
                let rows: usize = if xs.is_empty() {
                    1
                } else {
                    xs[..xs.len() - 1].iter().product()
                };
                let a = g.reshape(x, &[rows, k]).unwrap();
                let n = dims[rng.random_range(0..dims.len())];
                let w = g.input(format!("w{}", g.len()), TensorType::f32(vec![k, n]));
                if rng.random_range(0..2) == 0 {
                    g.matmul(a, w).unwrap()
                } else {
                    let wt = g.t(w).unwrap();
                    let wtt = g.t(wt).unwrap();
                    let at = g.t(a).unwrap();
                    let att = g.t(at).unwrap();
                    g.matmul(att, wtt).unwrap()
                }
            }
            _ => {
                // Integer round trip and an iota-based mask.
                let i = g.cast(x, DType::I32).unwrap();
                g.cast(i, DType::F32).unwrap()
            }
        };
        pool.push(node);
    }
    // Outputs: the last node and a couple of random ones.
    let last = *pool.last().expect("nonempty");
    g.output("last", last);
    for k in 0..2 {
        let n = pick(&mut rng, &pool);
        g.output(format!("o{k}"), n);
    }
    g
}

/// Runs a random graph on a backend from `make` and on the interpreter; outputs agree.
pub fn check(make: super::differential::Make, seed: u64) {
    let g = random_graph(seed);
    rlc_compiler::ir::verify(&g).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xabc);
    let inputs: Vec<Tensor<f32>> = g
        .inputs
        .iter()
        .map(|i| {
            let ty = g.ty(*i);
            Tensor::f(
                ty.shape.clone(),
                (0..ty.numel()).map(|_| rng.random_range(-2.0f32..2.0)).collect(),
            )
        })
        .collect();
    let want = eval(&g, &inputs, &[]).unwrap();
    let mut jit = make();
    jit.init_state(&StateTable::new(), 0).unwrap();
    let id = jit
        .compile("random", &g)
        .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", rlc_compiler::ir::print_graph(&g, "g")));
    let ins: Vec<In<'_>> = inputs.iter().map(|t| In::F32(t.floats())).collect();
    let mut bufs: Vec<Vec<f32>> = g
        .outputs
        .iter()
        .map(|(_, o)| vec![0.0; g.ty(*o).numel()])
        .collect();
    let mut outs: Vec<Out<'_>> = bufs.iter_mut().map(|b| Out::F32(b)).collect();
    jit.call(id, &ins, &mut outs).unwrap();
    for (k, w) in want.outputs.iter().enumerate() {
        for (i, (a, b)) in bufs[k].iter().zip(w.to_f64()).enumerate() {
            let err = (f64::from(*a) - b).abs() / 1f64.max(b.abs());
            assert!(
                err <= 2e-4,
                "seed {seed}: output {} [{i}]: backend {a} interp {b}\n{}",
                g.outputs[k].0,
                rlc_compiler::ir::print_graph(&g, "g")
            );
        }
    }
}
