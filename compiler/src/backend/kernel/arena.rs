//! Step `arena`: one arena per entry point, allocated once, holds every temporary and
//! constant. Constants are placed first and never reused; temporaries get offsets by
//! liveness (first to last top-level kernel touching them) with first-fit reuse of freed
//! space, so a call allocates nothing and the arena stays as small as the widest point of
//! the entry. Scan bodies' buffers live for the whole scan (they count as touched by the
//! scan kernel).

use super::types::{Plan, Storage};

/// Alignment of every arena buffer, in bytes (a cache line, and enough for any SIMD load).
const ALIGN: usize = 64;

fn round(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// Assigns arena offsets: constants first (permanent), then temporaries by liveness, with
/// first-fit reuse of freed space. Scan bodies keep their buffers for the whole scan.
pub(super) fn allocate(plan: &mut Plan) {
    let mut offset = 0;
    for b in &mut plan.buffers {
        if b.storage == Storage::Const {
            b.offset = offset;
            offset += round(b.len * 4);
        }
    }
    // Liveness in units of top-level kernel index.
    let n = plan.buffers.len();
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    for (i, k) in plan.kernels.iter().enumerate() {
        let mut touched: Vec<usize> = k.writes();
        touched.extend(k.reads().into_iter().map(|v| v.buf));
        for b in touched {
            first[b] = first[b].min(i);
            last[b] = last[b].max(i);
        }
    }
    let mut order: Vec<usize> = (0..n)
        .filter(|b| plan.buffers[*b].storage == Storage::Arena && first[*b] != usize::MAX)
        .collect();
    order.sort_by_key(|b| (first[*b], *b));
    // Active allocations: (end kernel, offset, size).
    let mut active: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut free: Vec<(usize, usize)> = Vec::new();
    let mut top = offset;
    for b in order {
        let start = first[b];
        // Release buffers whose last use is before this one's first.
        active.retain(|(end, off, size, _)| {
            if *end < start {
                free.push((*off, *size));
                false
            } else {
                true
            }
        });
        merge_free(&mut free);
        let size = round(plan.buffers[b].len.max(1) * 4);
        let slot = free.iter().position(|(_, s)| *s >= size);
        let off = match slot {
            Some(i) => {
                let (o, s) = free[i];
                if s == size {
                    free.remove(i);
                } else {
                    free[i] = (o + size, s - size);
                }
                o
            }
            None => {
                let o = top;
                top += size;
                o
            }
        };
        plan.buffers[b].offset = off;
        active.push((last[b], off, size, b));
    }
    plan.arena_bytes = top.max(ALIGN);
}

fn merge_free(free: &mut Vec<(usize, usize)>) {
    free.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(free.len());
    for (o, s) in free.drain(..) {
        if let Some(last) = out.last_mut()
            && last.0 + last.1 == o
        {
            last.1 += s;
            continue;
        }
        out.push((o, s));
    }
    *free = out;
}

#[cfg(test)]
mod tests {
    use super::super::assert_plan;
    use super::merge_free;
    use crate::ir::{BinaryOp, Graph, TensorType};

    #[test]
    fn a_dead_temporary_gives_its_space_to_a_later_one() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![16, 16]));
        let m1 = g.matmul(x, x).unwrap();
        let m2 = g.matmul(m1, x).unwrap();
        let m3 = g.matmul(m2, x).unwrap();
        g.output("m3", m3);
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x256 input 0
  b1 f32x256 arena @0
  b2 f32x256 arena @1024
  b3 f32x256 arena @0
  b4 f32x256 output 0
kernels:
  0: matmul b1@0[16, 16]/[16, 1] <- b0@0[16, 16]/[16, 1] @ b0@0[16, 16]/[16, 1]
  1: matmul b2@0[16, 16]/[16, 1] <- b1@0[16, 16]/[16, 1] @ b0@0[16, 16]/[16, 1]
  2: matmul b3@0[16, 16]/[16, 1] <- b2@0[16, 16]/[16, 1] @ b0@0[16, 16]/[16, 1]
  3: map b4@0[16, 16]/[16, 1] <- {%0: f32 = b3@0[16, 16]/[16, 1]}
arena: 2048 bytes
",
        );
    }

    #[test]
    fn constants_come_first_and_stay() {
        let mut g = Graph::new();
        let x = g.input("x", TensorType::f32(vec![3]));
        let c = g.constant(vec![1.0, 2.0, 3.0], TensorType::f32(vec![3])).unwrap();
        let y = g.binary(BinaryOp::Add, x, c).unwrap();
        let m = g.reshape(y, &[1, 3]).unwrap();
        let cc = g.reshape(c, &[3, 1]).unwrap();
        let z = g.matmul(m, cc).unwrap();
        g.output("z", z);
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x3 input 0
  b1 f32x3 const @0 = [1.0, 2.0, 3.0]
  b2 f32x3 arena @64
  b3 f32x1 arena @128
  b4 f32x1 output 0
kernels:
  0: map b2@0[3]/[1] <- {%0: f32 = b0@0[3]/[1]; %1: f32 = b1@0[3]/[1]; %2: f32 = add %0 %1}
  1: matmul b3@0[1, 1]/[1, 1] <- b2@0[1, 3]/[3, 1] @ b1@0[3, 1]/[1, 1]
  2: map b4@0[1, 1]/[1, 1] <- {%0: f32 = b3@0[1, 1]/[1, 1]}
arena: 192 bytes
",
        );
    }

    #[test]
    fn adjacent_free_ranges_merge() {
        let mut free = vec![(128, 64), (0, 64), (64, 64), (256, 64)];
        merge_free(&mut free);
        assert_eq!(free, vec![(0, 192), (256, 64)]);
    }
}
