//! Statistics across seeds, as rliable recommends (Agarwal et al., 2021, "Deep Reinforcement
//! Learning at the Edge of the Statistical Precipice"): the mean, the median and the
//! interquartile mean (IQM) of per-seed scores, each with a percentile-bootstrap 95% interval
//! whose resamples are stratified by task (runs are resampled within each task).
//!
//! Bootstrap draws come from a fixed seed, so the same scores always give the same interval.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Resamples per bootstrap interval (rliable uses 50,000 for its figures; 10,000 moves the
/// interval's ends by well under 1% of the scores' spread and keeps large sweeps fast).
pub const BOOTSTRAP_REPS: usize = 10_000;

/// Seed of every bootstrap: the interval is a function of the scores alone.
pub const BOOTSTRAP_SEED: u64 = 0x5EED_B007;

/// The arithmetic mean (NaN for no values).
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The `q`-quantile (0 ≤ q ≤ 1) with linear interpolation between order statistics, as
/// `numpy.percentile(xs, 100 q)` computes it (NaN for no values).
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let s = sorted(xs);
    let h = (s.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(s.len() - 1);
    s[lo] + (h - lo as f64) * (s[hi] - s[lo])
}

/// The median.
pub fn median(xs: &[f64]) -> f64 {
    quantile(xs, 0.5)
}

/// The interquartile mean: the mean of the values left after cutting `floor(n / 4)` from each
/// end, as rliable computes it (`scipy.stats.trim_mean(xs, 0.25)`). Below 4 values nothing is
/// cut, so the IQM of 3 seeds is their mean.
pub fn iqm(xs: &[f64]) -> f64 {
    let s = sorted(xs);
    let cut = s.len() / 4;
    mean(&s[cut..s.len() - cut])
}

/// The percentile-bootstrap interval (`1 - alpha` coverage) of `stat` over the scores of
/// several tasks (`strata[task]` holds that task's per-run scores, all non-empty): each of
/// `reps` resamples draws every task's runs with replacement within that task (the stratified
/// bootstrap), and `stat` sees all resampled scores together.
pub fn bootstrap_ci(
    strata: &[Vec<f64>],
    stat: fn(&[f64]) -> f64,
    alpha: f64,
    reps: usize,
    seed: u64,
) -> (f64, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let total: usize = strata.iter().map(Vec::len).sum();
    let mut sample = Vec::with_capacity(total);
    let mut stats = Vec::with_capacity(reps);
    for _ in 0..reps {
        sample.clear();
        for runs in strata {
            sample.extend((0..runs.len()).map(|_| runs[rng.random_range(0..runs.len())]));
        }
        stats.push(stat(&sample));
    }
    (quantile(&stats, alpha / 2.0), quantile(&stats, 1.0 - alpha / 2.0))
}

/// The 95% interval of `stat` over one task's per-seed scores, from the fixed bootstrap.
pub fn ci95(scores: &[f64], stat: fn(&[f64]) -> f64) -> (f64, f64) {
    bootstrap_ci(&[scores.to_vec()], stat, 0.05, BOOTSTRAP_REPS, BOOTSTRAP_SEED)
}

fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn mean_median_quantiles_match_numpy() {
        // numpy: x.mean(), np.median(x), np.percentile(x, [2.5, 25, 97.5]) -> 4.333..., 3.5,
        // [1.125, 2.25, 8.75] (sorted 1 2 3 4 7 9; the 2.5th percentile is at 0.125 of 1 -> 2).
        let x = [3.0, 9.0, 1.0, 4.0, 2.0, 7.0];
        assert!(close(mean(&x), 4.333333333333333, 1e-12));
        assert!(close(median(&x), 3.5, 1e-12));
        assert!(close(quantile(&x, 0.025), 1.125, 1e-12));
        assert!(close(quantile(&x, 0.25), 2.25, 1e-12));
        assert!(close(quantile(&x, 0.975), 8.75, 1e-12));
        assert_eq!(quantile(&[5.0], 0.3), 5.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn iqm_trims_a_quarter_from_each_end_like_scipy() {
        // scipy.stats.trim_mean(x, 0.25): n = 8 cuts 2 from each end -> mean(3, 4, 5, 6) = 4.5;
        // n = 7 cuts 1 (-50 and 100) -> mean(1, 2, 3, 4, 5) = 3.0; n = 3 cuts nothing -> the mean.
        assert_eq!(iqm(&[8.0, 1.0, 7.0, 2.0, 6.0, 3.0, 5.0, 4.0]), 4.5);
        assert!(close(iqm(&[1.0, 2.0, 3.0, 4.0, 5.0, 100.0, -50.0]), 3.0, 1e-12));
        assert_eq!(iqm(&[500.0, 10.0, 480.0]), mean(&[500.0, 10.0, 480.0]));
        // A single bad seed among 8 does not move the IQM.
        assert_eq!(
            iqm(&[500.0; 7].iter().copied().chain([0.0]).collect::<Vec<_>>()),
            500.0
        );
    }

    #[test]
    fn bootstrap_of_two_values_has_their_extremes_as_its_interval() {
        // Resampling [0, 1] gives means 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4: the 2.5th
        // and 97.5th percentiles of 10,000 such means are 0 and 1.
        assert_eq!(ci95(&[0.0, 1.0], mean), (0.0, 1.0));
        // Identical scores: no spread.
        assert_eq!(ci95(&[475.0, 475.0, 475.0], iqm), (475.0, 475.0));
    }

    #[test]
    fn bootstrap_interval_of_the_mean_matches_numpy() {
        // numpy, 1,000,000 resamples: x = i^2 / 8 for i in 1..=8 (mean 3.1875);
        // rng = np.random.default_rng(0); idx = rng.integers(0, 8, (1_000_000, 8));
        // np.percentile(x[idx].mean(1), [2.5, 97.5]) -> [1.453125, 5.09375]; the first 10,000
        // of those resamples give [1.453125, 5.0625]: 10,000 draws are good to about 0.05 here.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0].map(|v: f64| v * v / 8.0);
        let (lo, hi) = ci95(&x, mean);
        assert!(
            close(lo, 1.453125, 0.1) && close(hi, 5.09375, 0.1),
            "({lo}, {hi})"
        );
        // The same scores give the same interval (fixed seed).
        assert_eq!(ci95(&x, mean), (lo, hi));
        assert!(lo <= mean(&x) && mean(&x) <= hi);
    }

    #[test]
    fn stratified_bootstrap_resamples_within_each_task() {
        // Two tasks whose runs agree within the task: every resample keeps one run of each
        // task's value per run, so the mean never moves from (0 + 0 + 10 + 10) / 4.
        let strata = vec![vec![0.0, 0.0], vec![10.0, 10.0]];
        assert_eq!(bootstrap_ci(&strata, mean, 0.05, 1000, 7), (5.0, 5.0));
    }
}
