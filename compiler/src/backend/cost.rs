//! Counting the work in a graph: floating-point operations and the shapes of its matrix
//! products (for benchmarks that report GFLOP/s).

use crate::ir::{Graph, Op};

/// FLOPs of one call: matrix products count `2 m k n`, everything else one per element
/// produced (reductions: one per element read). Scan bodies count once per step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Flops {
    /// All operations.
    pub total: u64,
    /// Matrix products only.
    pub matmul: u64,
}

/// Counts the FLOPs of a graph.
pub fn flops(g: &Graph) -> Flops {
    let mut f = Flops::default();
    for id in g.ids() {
        let n = g.node(id);
        match &n.op {
            Op::MatMul => {
                let a = g.ty(n.args[0]);
                let k = a.shape[1] as u64;
                let work = 2 * n.ty.numel() as u64 * k;
                f.matmul += work;
                f.total += work;
            }
            Op::Unary(_) | Op::Binary(_) | Op::Select | Op::Random { .. } => f.total += n.ty.numel() as u64,
            Op::Reduce { .. } => f.total += g.ty(n.args[0]).numel() as u64,
            Op::Routine(r) => {
                let args: Vec<_> = n.args.iter().map(|a| g.ty(*a)).collect();
                f.total += r.definition().flops(&args, &n.ty);
            }
            Op::Scan(s) => {
                let b = flops(&s.body);
                f.total += b.total * s.length as u64;
                f.matmul += b.matmul * s.length as u64;
            }
            // Data movement and views: no arithmetic.
            Op::Input { .. }
            | Op::Const { .. }
            | Op::Iota { .. }
            | Op::State(_)
            | Op::Assign(_)
            | Op::Cast
            | Op::Reshape
            | Op::Transpose { .. }
            | Op::Broadcast
            | Op::Concat { .. }
            | Op::Slice { .. }
            | Op::Take { .. }
            | Op::ScatterAdd { .. }
            | Op::Project { .. }
            | Op::StopGrad => {}
        }
    }
    f
}

/// The `(m, k, n)` shape of every matrix product, with repeats.
pub fn matmul_shapes(g: &Graph) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    for id in g.ids() {
        let n = g.node(id);
        match &n.op {
            Op::MatMul => {
                let a = g.ty(n.args[0]);
                out.push((a.shape[0], a.shape[1], n.ty.shape[1]));
            }
            Op::Scan(s) => {
                for _ in 0..s.length {
                    out.extend(matmul_shapes(&s.body));
                }
            }
            Op::Input { .. }
            | Op::Const { .. }
            | Op::Iota { .. }
            | Op::State(_)
            | Op::Assign(_)
            | Op::Random { .. }
            | Op::Unary(_)
            | Op::Binary(_)
            | Op::Select
            | Op::Cast
            | Op::Reduce { .. }
            | Op::Routine(_)
            | Op::Reshape
            | Op::Transpose { .. }
            | Op::Broadcast
            | Op::Concat { .. }
            | Op::Slice { .. }
            | Op::Take { .. }
            | Op::ScatterAdd { .. }
            | Op::Project { .. }
            | Op::StopGrad => {}
        }
    }
    out
}

/// Times the JIT's matrix-product helper on one shape; returns seconds per call (median).
pub fn time_matmul(m: usize, k: usize, n: usize) -> f64 {
    let a = vec![0.5f32; m * k];
    let b = vec![0.25f32; k * n];
    let mut c = vec![0.0f32; m * n];
    let run = |c: &mut [f32]| {
        // SAFETY: row-major buffers of the stated sizes.
        unsafe {
            super::jit::gemm_helper(m, k, n, a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
        }
    };
    for _ in 0..3 {
        run(&mut c);
    }
    let flops = (2 * m * k * n).max(1);
    let reps = (20_000_000 / flops).clamp(5, 5000);
    let mut times = Vec::new();
    for _ in 0..7 {
        let t = std::time::Instant::now();
        for _ in 0..reps {
            run(&mut c);
        }
        times.push(t.elapsed().as_secs_f64() / reps as f64);
    }
    times.sort_by(|x, y| x.total_cmp(y));
    times[times.len() / 2]
}
