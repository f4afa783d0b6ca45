//! Temporally correlated exploration noise added to a continuous policy's actions
//! (`act POLICY into D noise ou(theta = .., sigma = ..)`): one Ornstein-Uhlenbeck process per
//! environment copy and action dimension, as in DDPG (Lillicrap et al., 2015).
//!
//! Independent noise at every step averages out within a few steps, so it cannot push a car up
//! MountainCar's hill; an OU process keeps its sign for about `1 / theta` steps.

use super::keys;
use crate::error::RunError;
use crate::snapshot::{Resumable, SnapshotReader, SnapshotWriter};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rlc_compiler::lower::{Noise, Schedule};

/// The process a schedule asks for, for `dim` action dimensions, drawn from the run's seed;
/// `None` without noise or with `sigma = 0` (which adds nothing, so nothing is drawn).
pub fn for_schedule(schedule: &Schedule, dim: usize, seed: u64) -> Option<OrnsteinUhlenbeck> {
    match schedule.noise? {
        Noise::OrnsteinUhlenbeck { theta, sigma } if sigma > 0.0 => Some(OrnsteinUhlenbeck::new(
            theta,
            sigma,
            schedule.envs,
            dim,
            keys::derive(seed, keys::Purpose::Noise),
        )),
        Noise::OrnsteinUhlenbeck { .. } => None,
    }
}

/// `x <- x - theta x + sigma N(0, 1)` per step, in units of the action bound, started at 0
/// and reset to 0 when a copy's episode ends.
pub struct OrnsteinUhlenbeck {
    theta: f64,
    sigma: f64,
    dim: usize,
    x: Vec<f64>,
    rng: ChaCha8Rng,
}

impl OrnsteinUhlenbeck {
    /// A process for `copies` environment copies of `dim` action dimensions, its normal draws
    /// from `seed`. `theta` in (0, 1] and `sigma >= 0` (the compiler checks both).
    pub fn new(theta: f64, sigma: f64, copies: usize, dim: usize, seed: u64) -> OrnsteinUhlenbeck {
        OrnsteinUhlenbeck {
            theta,
            sigma,
            dim,
            x: vec![0.0; copies * dim],
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Advances every copy's process one step and returns the values, `[copies * dim]`.
    pub fn advance(&mut self) -> &[f64] {
        for x in &mut self.x {
            let n = normal(&mut self.rng);
            *x += -self.theta * *x + self.sigma * n;
        }
        &self.x
    }

    /// Restarts copy `copy`'s process at 0 (its episode ended; the next step starts a new one).
    pub fn reset(&mut self, copy: usize) {
        self.x[copy * self.dim..(copy + 1) * self.dim].fill(0.0);
    }

    /// Advances the processes and adds them to `actions` (`[copies * dim]`), scaled per
    /// dimension by half the box's width (the bound of a symmetric box), then clips to the box.
    pub fn perturb(&mut self, actions: &mut [f32], low: &[f32], high: &[f32]) {
        let dim = self.dim;
        let x = self.advance();
        for (i, (a, n)) in actions.iter_mut().zip(x).enumerate() {
            let (lo, hi) = (low[i % dim], high[i % dim]);
            let scale = 0.5 * (f64::from(hi) - f64::from(lo));
            *a = ((f64::from(*a) + scale * n) as f32).clamp(lo, hi);
        }
    }
}

impl Resumable for OrnsteinUhlenbeck {
    fn save(&self, prefix: &str, w: &mut SnapshotWriter) {
        w.f64s(&format!("{prefix}/x"), &self.x);
        w.rng(&format!("{prefix}/rng"), &self.rng);
    }

    fn restore(&mut self, prefix: &str, r: &SnapshotReader<'_>) -> Result<(), RunError> {
        self.x = r.f64s_of_len(&format!("{prefix}/x"), self.x.len())?;
        self.rng = r.rng(&format!("{prefix}/rng"))?;
        Ok(())
    }
}

/// A standard normal draw (Box-Muller; `1 - u` keeps the logarithm's argument in (0, 1]).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random();
    let v: f64 = rng.random();
    (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lag-`k` autocorrelation of a long single-copy path: theory says `(1 - theta)^k`.
    #[test]
    fn autocorrelation_and_variance_follow_theory() {
        let (theta, sigma) = (0.15, 0.5);
        let mut p = OrnsteinUhlenbeck::new(theta, sigma, 1, 1, 7);
        // Burn in past the start at 0, then record.
        for _ in 0..1000 {
            p.advance();
        }
        let xs: Vec<f64> = (0..400_000).map(|_| p.advance()[0]).collect();
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        // Stationary variance of x' = (1 - theta) x + sigma e: sigma^2 / (1 - (1 - theta)^2).
        let want_var = sigma * sigma / (1.0 - (1.0 - theta) * (1.0 - theta));
        assert!(
            (var / want_var - 1.0).abs() < 0.05,
            "variance {var}, theory {want_var}"
        );
        assert!(mean.abs() < 0.05, "mean {mean}");
        for k in [1usize, 5, 10] {
            let c = xs
                .iter()
                .zip(&xs[k..])
                .map(|(a, b)| (a - mean) * (b - mean))
                .sum::<f64>()
                / (n - k as f64)
                / var;
            let want = (1.0 - theta).powi(k as i32);
            assert!((c - want).abs() < 0.03, "lag {k}: {c}, theory {want}");
        }
    }

    #[test]
    fn reset_restarts_only_that_copy() {
        let mut p = OrnsteinUhlenbeck::new(0.15, 0.5, 2, 2, 3);
        for _ in 0..10 {
            p.advance();
        }
        assert!(p.x.iter().all(|x| *x != 0.0));
        p.reset(1);
        assert_eq!(&p.x[2..], &[0.0, 0.0]);
        assert!(p.x[..2].iter().all(|x| *x != 0.0));
        // After a reset the next value is a single step from 0: sigma times one normal draw.
        let mut q = OrnsteinUhlenbeck::new(0.15, 0.5, 1, 1, 3);
        q.reset(0);
        let x1 = q.advance()[0];
        let mut r = ChaCha8Rng::seed_from_u64(3);
        assert_eq!(x1, 0.5 * normal(&mut r));
    }

    #[test]
    fn same_seed_same_noise_other_seed_other_noise() {
        let path = |seed| {
            let mut p = OrnsteinUhlenbeck::new(0.15, 0.5, 2, 1, seed);
            (0..50).map(|_| p.advance().to_vec()).collect::<Vec<_>>()
        };
        assert_eq!(path(1), path(1));
        assert_ne!(path(1), path(2));
    }

    #[test]
    fn perturb_scales_by_the_bound_and_clips_to_the_box() {
        let mut p = OrnsteinUhlenbeck::new(1.0, 10.0, 1, 2, 5);
        let mut q = OrnsteinUhlenbeck::new(1.0, 10.0, 1, 2, 5);
        let mut a = [0.0f32, 0.0];
        p.perturb(&mut a, &[-2.0, 0.0], &[2.0, 1.0]);
        let x = q.advance();
        // theta = 1: each value is one fresh draw times sigma, so most fall outside the box.
        assert_eq!(a[0], ((2.0 * x[0]) as f32).clamp(-2.0, 2.0));
        assert_eq!(a[1], ((0.5 * x[1]) as f32).clamp(0.0, 1.0));
        let mut small = OrnsteinUhlenbeck::new(0.5, 0.01, 1, 1, 5);
        let mut b = [0.3f32];
        small.perturb(&mut b, &[-1.0], &[1.0]);
        assert!((b[0] - 0.3).abs() < 0.1 && b[0] != 0.3);
    }
}
