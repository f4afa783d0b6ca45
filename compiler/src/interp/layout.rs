//! Index arithmetic for row-major tensors.

/// Row-major strides of a shape.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// For each output position of a numpy broadcast from `src` to `dst`, the source position.
pub fn broadcast_map(src: &[usize], dst: &[usize]) -> Vec<usize> {
    let off = dst.len() - src.len();
    let sstr = strides(src);
    // Stride 0 for axes that are missing or of size 1 in the source.
    let eff: Vec<usize> = (0..dst.len())
        .map(|i| {
            if i < off || src[i - off] == 1 {
                0
            } else {
                sstr[i - off]
            }
        })
        .collect();
    gather_map(dst, &eff)
}

/// Source positions for walking `shape` with the given (source) strides.
pub fn gather_map(shape: &[usize], src_strides: &[usize]) -> Vec<usize> {
    let n: usize = shape.iter().product();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; shape.len()];
    let mut pos = 0usize;
    for _ in 0..n {
        out.push(pos);
        // Increment the multi-index, updating the source position incrementally.
        for ax in (0..shape.len()).rev() {
            idx[ax] += 1;
            pos += src_strides[ax];
            if idx[ax] < shape[ax] {
                break;
            }
            pos -= src_strides[ax] * shape[ax];
            idx[ax] = 0;
        }
    }
    out
}

/// For each input position, the output position after removing `axes` (a reduction).
pub fn reduce_map(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    let out_shape: Vec<usize> = shape
        .iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, d)| *d)
        .collect();
    let ostr = strides(&out_shape);
    let mut eff = Vec::with_capacity(shape.len());
    let mut k = 0;
    for i in 0..shape.len() {
        if axes.contains(&i) {
            eff.push(0);
        } else {
            eff.push(ostr[k]);
            k += 1;
        }
    }
    gather_map(shape, &eff)
}

/// Sizes before, along and after an axis.
pub fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    (outer, shape[axis], inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps() {
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(broadcast_map(&[3], &[2, 3]), vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(broadcast_map(&[2, 1], &[2, 3]), vec![0, 0, 0, 1, 1, 1]);
        // transpose of [2,3]: walk the [3,2] output with source strides (1, 3)
        assert_eq!(gather_map(&[3, 2], &[1, 3]), vec![0, 3, 1, 4, 2, 5]);
        assert_eq!(reduce_map(&[2, 3], &[1]), vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(reduce_map(&[2, 3], &[0]), vec![0, 1, 2, 0, 1, 2]);
    }
}
