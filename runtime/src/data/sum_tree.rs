//! Segment trees over priorities: [`SumTree`] (sums, prefix-sum search) and [`MinTree`]
//! (minimum), the index structures of proportional prioritized replay.
//!
//! Both are complete binary trees in one array: node 1 is the root, node `i` has children `2i`
//! and `2i + 1`, and the leaves are nodes `L..2L` for `L` = the capacity rounded up to a power of
//! two. Leaves past the capacity hold the neutral value (0 for sums, +inf for the minimum) and
//! can never be set. Values are `f64` so that sums over a million priorities keep their precision.
//!
//! An update rewrites a leaf and then *recomputes* every ancestor from its two children (rather
//! than adding a delta), so rounding errors never accumulate over millions of updates.

use super::error::DataError;

/// Rounds `capacity` up to a power of two and checks it is usable.
fn leaf_count(capacity: usize) -> Result<usize, DataError> {
    if capacity == 0 {
        return Err(DataError::ZeroCapacity {
            what: "tree capacity",
        });
    }
    let leaves = capacity
        .checked_next_power_of_two()
        .ok_or(DataError::SizeOverflow)?;
    leaves.checked_mul(2).ok_or(DataError::SizeOverflow)?;
    Ok(leaves)
}

/// A sum tree: non-negative leaf values with O(log n) update, O(1) total, and O(log n) search for
/// the leaf where a running prefix sum crosses a given value.
#[derive(Clone, Debug)]
pub struct SumTree {
    nodes: Vec<f64>,
    leaves: usize,
    capacity: usize,
}

impl SumTree {
    /// A tree of `capacity` leaves, all zero. Fails if `capacity` is zero or too large.
    pub fn new(capacity: usize) -> Result<Self, DataError> {
        let leaves = leaf_count(capacity)?;
        Ok(SumTree {
            nodes: vec![0.0; 2 * leaves],
            leaves,
            capacity,
        })
    }

    /// The number of leaves that can be set (`0..capacity`).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The value of leaf `index`, or `None` if `index >= capacity()`.
    pub fn get(&self, index: usize) -> Option<f64> {
        (index < self.capacity).then(|| self.nodes[self.leaves + index])
    }

    /// Sets leaf `index` to `value`. Fails (changing nothing) if the index is out of range or the
    /// value is negative, NaN or infinite.
    pub fn set(&mut self, index: usize, value: f64) -> Result<(), DataError> {
        if index >= self.capacity {
            return Err(DataError::IndexOutOfRange {
                index,
                len: self.capacity,
            });
        }
        if !(value.is_finite() && value >= 0.0) {
            return Err(DataError::InvalidParameter {
                name: "sum-tree leaf value",
                value,
                expected: "a finite number >= 0",
            });
        }
        let mut node = self.leaves + index;
        self.nodes[node] = value;
        while node > 1 {
            node /= 2;
            self.nodes[node] = self.nodes[2 * node] + self.nodes[2 * node + 1];
        }
        Ok(())
    }

    /// Sets every leaf to zero.
    pub fn clear(&mut self) {
        self.nodes.fill(0.0);
    }

    /// The sum of all leaves.
    pub fn total(&self) -> f64 {
        self.nodes[1]
    }

    /// The leaf `i` such that `sum(leaves[..i]) <= prefix < sum(leaves[..=i])`: the leaf a
    /// uniform draw of `prefix` in `[0, total())` selects, with probability proportional to its
    /// value. Returns `None` iff `total()` is not positive.
    ///
    /// Robust to rounding: a negative or NaN `prefix` acts as 0, one `>= total()` selects the last
    /// positive leaf, and when rounding would send the search into a zero-sum subtree it takes
    /// the other child, so the returned leaf always has a positive value (and is `< capacity()`).
    pub fn find(&self, prefix: f64) -> Option<usize> {
        // Leaves are finite and non-negative, so the total is never NaN.
        if self.total() <= 0.0 {
            return None;
        }
        // `max` maps NaN to 0.
        let mut rest = prefix.max(0.0);
        let mut node = 1;
        // Invariant: the current node's sum is positive. Going left when `rest < left` (so
        // `left > 0`) or when `right == 0` (so `left > 0`, as their sum is positive), and right
        // otherwise (`right != 0`, so `right > 0`), keeps it.
        while node < self.leaves {
            let left = self.nodes[2 * node];
            let right = self.nodes[2 * node + 1];
            if rest < left || right <= 0.0 {
                node *= 2;
            } else {
                rest -= left;
                node = 2 * node + 1;
            }
        }
        Some(node - self.leaves)
    }
}

/// A min tree: leaf values with O(log n) update and O(1) minimum. Unset leaves are `+inf`.
#[derive(Clone, Debug)]
pub struct MinTree {
    nodes: Vec<f64>,
    leaves: usize,
    capacity: usize,
}

impl MinTree {
    /// A tree of `capacity` leaves, all `+inf`. Fails if `capacity` is zero or too large.
    pub fn new(capacity: usize) -> Result<Self, DataError> {
        let leaves = leaf_count(capacity)?;
        Ok(MinTree {
            nodes: vec![f64::INFINITY; 2 * leaves],
            leaves,
            capacity,
        })
    }

    /// The number of leaves that can be set (`0..capacity`).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The value of leaf `index`, or `None` if `index >= capacity()`.
    pub fn get(&self, index: usize) -> Option<f64> {
        (index < self.capacity).then(|| self.nodes[self.leaves + index])
    }

    /// Sets leaf `index` to `value` (`+inf` marks it as empty). Fails (changing nothing) if the
    /// index is out of range or the value is NaN.
    pub fn set(&mut self, index: usize, value: f64) -> Result<(), DataError> {
        if index >= self.capacity {
            return Err(DataError::IndexOutOfRange {
                index,
                len: self.capacity,
            });
        }
        if value.is_nan() {
            return Err(DataError::InvalidParameter {
                name: "min-tree leaf value",
                value,
                expected: "a number (not NaN)",
            });
        }
        let mut node = self.leaves + index;
        self.nodes[node] = value;
        while node > 1 {
            node /= 2;
            self.nodes[node] = self.nodes[2 * node].min(self.nodes[2 * node + 1]);
        }
        Ok(())
    }

    /// Sets every leaf to `+inf`.
    pub fn clear(&mut self) {
        self.nodes.fill(f64::INFINITY);
    }

    /// The smallest leaf value (`+inf` if every leaf is empty).
    pub fn min(&self) -> f64 {
        self.nodes[1]
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn small_tree_by_hand() {
        let mut t = SumTree::new(3).unwrap();
        assert_eq!(t.capacity(), 3);
        assert_eq!(t.find(0.5), None);
        t.set(0, 1.0).unwrap();
        t.set(2, 3.0).unwrap();
        assert_eq!(t.total(), 4.0);
        assert_eq!(t.find(0.0), Some(0));
        assert_eq!(t.find(0.999), Some(0));
        // The zero leaf 1 is never selected, even exactly at its boundary.
        assert_eq!(t.find(1.0), Some(2));
        assert_eq!(t.find(3.999), Some(2));
        // Out-of-range prefixes clamp to a positive leaf.
        assert_eq!(t.find(4.0), Some(2));
        assert_eq!(t.find(1e9), Some(2));
        assert_eq!(t.find(-5.0), Some(0));
        assert_eq!(t.find(f64::NAN), Some(0));
        t.set(2, 0.0).unwrap();
        assert_eq!(t.find(3.5), Some(0));
        assert_eq!(t.get(1), Some(0.0));
        assert_eq!(t.get(3), None);
    }

    #[test]
    fn sum_tree_rejects_bad_input() {
        assert_eq!(
            SumTree::new(0).unwrap_err(),
            DataError::ZeroCapacity {
                what: "tree capacity"
            }
        );
        assert_eq!(SumTree::new(usize::MAX).unwrap_err(), DataError::SizeOverflow);
        let mut t = SumTree::new(5).unwrap();
        assert_eq!(
            t.set(5, 1.0).unwrap_err(),
            DataError::IndexOutOfRange { index: 5, len: 5 }
        );
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(t.set(0, bad), Err(DataError::InvalidParameter { .. })));
        }
        assert_eq!(t.total(), 0.0);
    }

    #[test]
    fn min_tree_by_hand() {
        let mut m = MinTree::new(5).unwrap();
        assert_eq!(m.min(), f64::INFINITY);
        m.set(4, 2.0).unwrap();
        m.set(1, 3.0).unwrap();
        assert_eq!(m.min(), 2.0);
        m.set(4, f64::INFINITY).unwrap();
        assert_eq!(m.min(), 3.0);
        assert!(m.set(0, f64::NAN).is_err());
        assert!(m.set(5, 1.0).is_err());
        m.clear();
        assert_eq!(m.min(), f64::INFINITY);
        assert_eq!(m.get(1), Some(f64::INFINITY));
    }

    /// A sequence of leaf writes; values are often exactly zero to exercise zero-priority leaves.
    fn ops() -> impl Strategy<Value = (usize, Vec<(usize, f64)>)> {
        (1usize..70).prop_flat_map(|cap| {
            let value = prop_oneof![Just(0.0), 0.0f64..10.0, 1e-6f64..1e-3];
            (Just(cap), prop::collection::vec((0..cap, value), 1..200))
        })
    }

    proptest! {
        #[test]
        fn trees_match_a_naive_array((cap, writes) in ops(), probes in prop::collection::vec(0.0f64..1.0, 20)) {
            let mut sum = SumTree::new(cap).unwrap();
            let mut min = MinTree::new(cap).unwrap();
            let mut naive = vec![0.0f64; cap];
            // Unset min-tree leaves are +inf.
            let mut naive_mins = vec![f64::INFINITY; cap];
            for (i, v) in writes {
                sum.set(i, v).unwrap();
                min.set(i, v).unwrap();
                naive[i] = v;
                naive_mins[i] = v;

                let total: f64 = naive.iter().sum();
                prop_assert!((sum.total() - total).abs() <= 1e-9 * total.max(1.0));
                let naive_min = naive_mins.iter().copied().fold(f64::INFINITY, f64::min);
                prop_assert_eq!(min.min(), naive_min);
            }
            for (i, &v) in naive.iter().enumerate() {
                prop_assert_eq!(sum.get(i), Some(v));
            }

            if sum.total() == 0.0 {
                prop_assert_eq!(sum.find(0.5), None);
                return Ok(());
            }
            // Any prefix lands on a positive leaf whose naive cumulative range contains it (up
            // to rounding).
            for u in probes {
                let prefix = u * sum.total();
                let leaf = sum.find(prefix).unwrap();
                prop_assert!(naive[leaf] > 0.0);
                let before: f64 = naive[..leaf].iter().sum();
                let tol = 1e-9 * sum.total();
                prop_assert!(before - tol <= prefix && prefix < before + naive[leaf] + tol,
                    "prefix {} -> leaf {} covering [{}, {})", prefix, leaf, before, before + naive[leaf]);
            }
            // The midpoint of every positive leaf's range selects exactly that leaf.
            let mut before = 0.0;
            for (i, &v) in naive.iter().enumerate() {
                if v > 1e-7 * sum.total() {
                    prop_assert_eq!(sum.find(before + v / 2.0), Some(i));
                }
                before += v;
            }
        }
    }
}
