//! Step `pair-products`: two large independent matrix products run side by side, one per
//! core. A product may move up past kernels it does not depend on (and that do not touch its
//! output) to join an earlier one; backward passes are full of such pairs (`dW = x^T g` and
//! `dx = g W^T`), and one product alone rarely fills every core.

use super::types::{Kernel, View};

/// Products at least this large are worth a core each when two are independent.
const PAIR_FLOPS: usize = 1 << 21;

fn matmul_flops(a: &View, b: &View) -> usize {
    2 * a.shape[0] * a.shape[1] * b.shape[1]
}

/// Runs two independent products side by side: a product may move up past kernels it does
/// not depend on (and that do not touch its output) to join an earlier one. Backward passes
/// are full of such pairs (`dW = x^T g` and `dx = g W^T`).
pub(super) fn pair_matmuls(kernels: Vec<Kernel>) -> Vec<Kernel> {
    let big = |k: &Kernel| matches!(k, Kernel::MatMul { a, b, .. } if matmul_flops(a, b) >= PAIR_FLOPS);
    let mut ks: Vec<Option<Kernel>> = kernels.into_iter().map(Some).collect();
    for i in 0..ks.len() {
        if !ks[i].as_ref().is_some_and(big) {
            continue;
        }
        // Look ahead for an independent large product within a short window.
        let first_out = ks[i].as_ref().map(|k| k.writes()).unwrap_or_default();
        let mut between_writes: Vec<usize> = Vec::new();
        let mut between_reads: Vec<usize> = Vec::new();
        for j in i + 1..(i + 12).min(ks.len()) {
            let Some(kj) = ks[j].as_ref() else { continue };
            let reads: Vec<usize> = kj.reads().iter().map(|v| v.buf).collect();
            let writes = kj.writes();
            if big(kj) {
                let independent = reads
                    .iter()
                    .all(|b| !first_out.contains(b) && !between_writes.contains(b))
                    && writes.iter().all(|b| {
                        !first_out.contains(b) && !between_reads.contains(b) && !between_writes.contains(b)
                    });
                if independent {
                    let second = ks[j].take().expect("present");
                    let first = ks[i].take().expect("present");
                    if let (Kernel::MatMul { a, b, c }, Kernel::MatMul { a: a2, b: b2, c: c2 }) =
                        (first, second)
                    {
                        ks[i] = Some(Kernel::MatMulPair {
                            first: [a, b, c],
                            second: [a2, b2, c2],
                        });
                    }
                    break;
                }
            }
            between_writes.extend(writes);
            between_reads.extend(reads);
        }
    }
    ks.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::super::assert_plan;
    use crate::ir::{Graph, TensorType};

    #[test]
    fn independent_large_products_run_as_a_pair() {
        let mut g = Graph::new();
        let a = g.input("a", TensorType::f32(vec![128, 128]));
        let b = g.input("b", TensorType::f32(vec![128, 128]));
        let ab = g.matmul(a, b).unwrap();
        let ba = g.matmul(b, a).unwrap();
        g.output("ab", ab);
        g.output("ba", ba);
        assert_plan(&g, "\
buffers:
  b0 f32x16384 input 0
  b1 f32x16384 input 1
  b2 f32x16384 arena @0
  b3 f32x16384 arena @65536
  b4 f32x16384 output 0
  b5 f32x16384 output 1
kernels:
  0: matmul-pair b2@0[128, 128]/[128, 1] <- b0@0[128, 128]/[128, 1] @ b1@0[128, 128]/[128, 1] | b3@0[128, 128]/[128, 1] <- b1@0[128, 128]/[128, 1] @ b0@0[128, 128]/[128, 1]
  1: map b4@0[128, 128]/[128, 1] <- {%0: f32 = b2@0[128, 128]/[128, 1]}
  2: map b5@0[128, 128]/[128, 1] <- {%0: f32 = b3@0[128, 128]/[128, 1]}
arena: 131072 bytes
");
    }

    #[test]
    fn a_product_of_a_product_waits_for_it() {
        let mut g = Graph::new();
        let a = g.input("a", TensorType::f32(vec![128, 128]));
        let ab = g.matmul(a, a).unwrap();
        let aab = g.matmul(ab, a).unwrap();
        g.output("aab", aab);
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x16384 input 0
  b1 f32x16384 arena @0
  b2 f32x16384 arena @65536
  b3 f32x16384 output 0
kernels:
  0: matmul b1@0[128, 128]/[128, 1] <- b0@0[128, 128]/[128, 1] @ b0@0[128, 128]/[128, 1]
  1: matmul b2@0[128, 128]/[128, 1] <- b1@0[128, 128]/[128, 1] @ b0@0[128, 128]/[128, 1]
  2: map b3@0[128, 128]/[128, 1] <- {%0: f32 = b2@0[128, 128]/[128, 1]}
arena: 131072 bytes
",
        );
    }

    #[test]
    fn small_products_stay_apart() {
        let mut g = Graph::new();
        let a = g.input("a", TensorType::f32(vec![8, 8]));
        let b = g.input("b", TensorType::f32(vec![8, 8]));
        let ab = g.matmul(a, b).unwrap();
        let ba = g.matmul(b, a).unwrap();
        g.output("ab", ab);
        g.output("ba", ba);
        assert_plan(
            &g,
            "\
buffers:
  b0 f32x64 input 0
  b1 f32x64 input 1
  b2 f32x64 arena @0
  b3 f32x64 arena @256
  b4 f32x64 output 0
  b5 f32x64 output 1
kernels:
  0: matmul b2@0[8, 8]/[8, 1] <- b0@0[8, 8]/[8, 1] @ b1@0[8, 8]/[8, 1]
  1: matmul b3@0[8, 8]/[8, 1] <- b1@0[8, 8]/[8, 1] @ b0@0[8, 8]/[8, 1]
  2: map b4@0[8, 8]/[8, 1] <- {%0: f32 = b2@0[8, 8]/[8, 1]}
  3: map b5@0[8, 8]/[8, 1] <- {%0: f32 = b3@0[8, 8]/[8, 1]}
arena: 512 bytes
",
        );
    }
}
