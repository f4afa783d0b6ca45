//! N-step windows: turns a stream of vector steps into replay items that each hold a step
//! and the N - 1 steps after it (Acme's `NStepTransitionAdder`, without the discounting: the
//! program computes the N-step return from the stored rewards itself).
//!
//! Each environment copy keeps its own window of the last steps. An item starting at step t
//! holds, per field: the value at t ([`Part::First`]: `s`, `a`, policy outputs), the value at
//! the window's last step ([`Part::Last`]: `s2`, the observation after it), or one value per
//! step of the window ([`Part::Series`]: rewards and flags, time axis last, zero after the
//! episode's end). A window is complete after N steps, or earlier when its episode ends: then
//! every step still buffered starts a shorter window, so each step is the start of exactly one
//! item. Whether an item bootstraps (truncation) or not (termination) is the program's reading
//! of the stored flags; the windows themselves only stop at episode ends.

use super::DataError;
use crate::error::RunError;
use crate::snapshot::{Resumable, SnapshotReader, SnapshotWriter};

/// How an item's field is made from the steps of its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The value at the window's first step (`width` floats).
    First,
    /// The value at the window's last step (`width` floats).
    Last,
    /// One float per step, N in all, zero past the window's last step.
    Series,
}

/// Per-environment windows of the last steps, and the items completed by the latest step.
pub struct NStepAdder {
    n: usize,
    parts: Vec<(Part, usize)>,
    /// Per env: a ring of N steps, each the per-step values of every field.
    slots: Vec<Vec<Vec<Vec<f32>>>>,
    /// Per env: the ring position of the oldest buffered step, and how many are buffered.
    head: Vec<usize>,
    len: Vec<usize>,
    /// Items completed by the last [`NStepAdder::add`], field by field, back to back.
    out: Vec<Vec<f32>>,
    ready: usize,
}

impl NStepAdder {
    /// Windows of `n` steps over `envs` environment copies; `parts` gives, per stored field,
    /// how it is made and its per-step width (1 for [`Part::Series`]).
    pub fn new(n: usize, envs: usize, parts: Vec<(Part, usize)>) -> Result<NStepAdder, DataError> {
        if n == 0 {
            return Err(DataError::ZeroCapacity { what: "nstep" });
        }
        if envs == 0 {
            return Err(DataError::ZeroCapacity { what: "envs" });
        }
        if parts.is_empty() {
            return Err(DataError::NoFields);
        }
        if let Some((_, w)) = parts.iter().find(|(p, w)| *p == Part::Series && *w != 1) {
            return Err(DataError::LengthMismatch {
                what: "per-step width of a series field",
                expected: 1,
                got: *w,
            });
        }
        let step: Vec<Vec<f32>> = parts.iter().map(|(_, w)| vec![0.0; *w]).collect();
        // At most every buffered step of every env completes in one call.
        let out = parts
            .iter()
            .map(|(p, w)| Vec::with_capacity(envs * n * if *p == Part::Series { n } else { *w }))
            .collect();
        Ok(NStepAdder {
            n,
            slots: vec![vec![step; n]; envs],
            head: vec![0; envs],
            len: vec![0; envs],
            parts,
            out,
            ready: 0,
        })
    }

    /// The number of float values of one item of field `f`.
    pub fn item_numel(&self, f: usize) -> usize {
        match self.parts[f] {
            (Part::Series, _) => self.n,
            (_, w) => w,
        }
    }

    /// Adds one vector step: `values[f]` holds field `f` for every env (env-major);
    /// `terminated[e]` / `truncated[e]` say whether env `e`'s episode ended at this step
    /// (either one closes its windows). Returns how many items it completed;
    /// [`NStepAdder::items`] holds them until the next call.
    pub fn add(
        &mut self,
        values: &[&[f32]],
        terminated: &[bool],
        truncated: &[bool],
    ) -> Result<usize, DataError> {
        let envs = self.len.len();
        if values.len() != self.parts.len() {
            return Err(DataError::FieldCount {
                expected: self.parts.len(),
                got: values.len(),
            });
        }
        for flags in [terminated, truncated] {
            if flags.len() != envs {
                return Err(DataError::LengthMismatch {
                    what: "episode-end flags",
                    expected: envs,
                    got: flags.len(),
                });
            }
        }
        for (f, (v, (_, w))) in values.iter().zip(&self.parts).enumerate() {
            if v.len() != envs * w {
                return Err(DataError::FieldLength {
                    field: format!("#{f}"),
                    expected: envs * w,
                    got: v.len(),
                });
            }
        }
        for o in &mut self.out {
            o.clear();
        }
        self.ready = 0;
        for e in 0..envs {
            let at = (self.head[e] + self.len[e]) % self.n;
            for (f, (_, w)) in self.parts.iter().enumerate() {
                self.slots[e][at][f].copy_from_slice(&values[f][e * w..(e + 1) * w]);
            }
            self.len[e] += 1;
            if terminated[e] || truncated[e] {
                // The episode is over: every buffered step starts its (shorter) window.
                for start in 0..self.len[e] {
                    self.emit(e, start);
                }
                self.head[e] = 0;
                self.len[e] = 0;
            } else if self.len[e] == self.n {
                self.emit(e, 0);
                self.head[e] = (self.head[e] + 1) % self.n;
                self.len[e] -= 1;
            }
        }
        Ok(self.ready)
    }

    /// The items completed by the last [`NStepAdder::add`]: one slice per field, items back
    /// to back ([`NStepAdder::item_numel`] floats each).
    pub fn items(&self) -> impl Iterator<Item = &[f32]> {
        self.out.iter().map(|o| o.as_slice())
    }

    /// Appends the item whose window runs from buffered step `start` to the last buffered one.
    fn emit(&mut self, e: usize, start: usize) {
        let steps = self.len[e] - start;
        let slot = |k: usize| (self.head[e] + start + k) % self.n;
        for (f, (part, _)) in self.parts.iter().enumerate() {
            let out = &mut self.out[f];
            match part {
                Part::First => out.extend_from_slice(&self.slots[e][slot(0)][f]),
                Part::Last => out.extend_from_slice(&self.slots[e][slot(steps - 1)][f]),
                Part::Series => {
                    out.extend((0..steps).map(|k| self.slots[e][slot(k)][f][0]));
                    out.extend(std::iter::repeat_n(0.0, self.n - steps));
                }
            }
        }
        self.ready += 1;
    }
}

impl Resumable for NStepAdder {
    fn save(&self, prefix: &str, w: &mut SnapshotWriter) {
        w.usizes(&format!("{prefix}/head"), &self.head);
        w.usizes(&format!("{prefix}/len"), &self.len);
        // Every slot of every env, field by field (unused slots too: fixed size, simple).
        for f in 0..self.parts.len() {
            let v: Vec<f32> = self
                .slots
                .iter()
                .flat_map(|env| env.iter().flat_map(move |step| step[f].iter().copied()))
                .collect();
            w.f32s(&format!("{prefix}/field{f}"), &v);
        }
    }

    fn restore(&mut self, prefix: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        let envs = self.len.len();
        let head = r.usizes_of_len(&format!("{prefix}/head"), envs)?;
        let len = r.usizes_of_len(&format!("{prefix}/len"), envs)?;
        if head.iter().chain(&len).any(|x| *x >= self.n) {
            return Err(r.error(format!(
                "`{prefix}` has a window position past its {} steps",
                self.n
            )));
        }
        for (f, (_, width)) in self.parts.iter().enumerate() {
            let v = r.f32s_of_len(&format!("{prefix}/field{f}"), envs * self.n * width)?;
            for (k, chunk) in v.chunks_exact(*width).enumerate() {
                self.slots[k / self.n][k % self.n][f].copy_from_slice(chunk);
            }
        }
        self.head = head;
        self.len = len;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields: s (First, width 2), r (Series), mask (Series), s2 (Last, width 1).
    fn adder(n: usize, envs: usize) -> NStepAdder {
        NStepAdder::new(
            n,
            envs,
            vec![
                (Part::First, 2),
                (Part::Series, 1),
                (Part::Series, 1),
                (Part::Last, 1),
            ],
        )
        .unwrap()
    }

    fn items(a: &NStepAdder) -> Vec<Vec<f32>> {
        a.items().map(|s| s.to_vec()).collect()
    }

    #[test]
    fn full_windows_then_an_episode_end_flushes_shorter_ones() {
        let mut a = adder(3, 1);
        // Step t: s = [t, -t], r = 10 + t, mask 1, s2 = t + 1.
        let step = |a: &mut NStepAdder, t: f32, end: bool| {
            a.add(&[&[t, -t], &[10.0 + t], &[1.0], &[t + 1.0]], &[end], &[false])
                .unwrap()
        };
        assert_eq!(step(&mut a, 0.0, false), 0);
        assert_eq!(step(&mut a, 1.0, false), 0);
        // The third step completes the window starting at step 0.
        assert_eq!(step(&mut a, 2.0, false), 1);
        assert_eq!(
            items(&a),
            vec![
                vec![0.0, -0.0],
                vec![10.0, 11.0, 12.0],
                vec![1.0, 1.0, 1.0],
                vec![3.0]
            ]
        );
        assert_eq!(step(&mut a, 3.0, false), 1);
        assert_eq!(items(&a)[1], vec![11.0, 12.0, 13.0]);
        assert_eq!(items(&a)[3], vec![4.0]);
        // Step 4 ends the episode: windows from steps 2 (2,3,4), 3 (3,4) and 4 (4) complete,
        // zero-padded, all ending at s2 = 5.
        assert_eq!(step(&mut a, 4.0, true), 3);
        assert_eq!(
            items(&a),
            vec![
                vec![2.0, -2.0, 3.0, -3.0, 4.0, -4.0],
                vec![12.0, 13.0, 14.0, 13.0, 14.0, 0.0, 14.0, 0.0, 0.0],
                vec![1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0],
                vec![5.0, 5.0, 5.0],
            ]
        );
        // The next episode starts with an empty window.
        assert_eq!(step(&mut a, 20.0, false), 0);
        assert_eq!(step(&mut a, 21.0, true), 2);
        assert_eq!(items(&a)[1], vec![30.0, 31.0, 0.0, 31.0, 0.0, 0.0]);
        assert_eq!(items(&a)[0], vec![20.0, -20.0, 21.0, -21.0]);
    }

    #[test]
    fn environments_keep_separate_windows() {
        let mut a = adder(2, 2);
        // Env 0 rewards 1, 2, 3...; env 1 rewards 100, 200...; env 1 is truncated at its first
        // step (a time limit closes windows as a termination does).
        let r = |a: &mut NStepAdder, r0: f32, r1: f32, ends: [bool; 2]| {
            a.add(
                &[&[r0, 0.0, r1, 0.0], &[r0, r1], &[1.0, 1.0], &[r0, r1]],
                &[false, false],
                &ends,
            )
            .unwrap()
        };
        assert_eq!(r(&mut a, 1.0, 100.0, [false, true]), 1);
        assert_eq!(items(&a)[1], vec![100.0, 0.0]);
        assert_eq!(items(&a)[2], vec![1.0, 0.0]);
        assert_eq!(r(&mut a, 2.0, 200.0, [false, false]), 1);
        // Env 0's first window (1, 2); env 1's window holds only 200 so far.
        assert_eq!(items(&a)[1], vec![1.0, 2.0]);
        assert_eq!(items(&a)[3], vec![2.0]);
        assert_eq!(r(&mut a, 3.0, 300.0, [false, false]), 2);
        assert_eq!(items(&a)[1], vec![2.0, 3.0, 200.0, 300.0]);
        assert_eq!(items(&a)[0], vec![2.0, 0.0, 200.0, 0.0]);
    }

    #[test]
    fn one_step_windows_are_plain_transitions() {
        let mut a = adder(1, 1);
        assert_eq!(
            a.add(&[&[1.0, 2.0], &[5.0], &[1.0], &[3.0]], &[false], &[false])
                .unwrap(),
            1
        );
        assert_eq!(items(&a), vec![vec![1.0, 2.0], vec![5.0], vec![1.0], vec![3.0]]);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(NStepAdder::new(0, 1, vec![(Part::First, 1)]).is_err());
        assert!(NStepAdder::new(2, 1, vec![(Part::Series, 3)]).is_err());
        let mut a = adder(2, 1);
        assert!(matches!(
            a.add(&[&[1.0], &[1.0], &[1.0], &[1.0]], &[false], &[false]),
            Err(DataError::FieldLength { .. })
        ));
        assert!(matches!(
            a.add(&[&[1.0, 2.0]], &[false], &[false]),
            Err(DataError::FieldCount { .. })
        ));
        assert!(
            a.add(&[&[1.0, 2.0], &[1.0], &[1.0], &[1.0]], &[false], &[])
                .is_err()
        );
    }
}
