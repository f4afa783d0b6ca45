//! One setting trained on several seeds, summarised: the per-step mean and bootstrapped 95%
//! interval of the evaluation and episode returns across seeds, and the final return as mean,
//! median and interquartile mean with stratified-bootstrap intervals (`stats`, after rliable).
//! Written as `aggregate.json` and drawn as `aggregate.svg` (`aggregate_curve`).

use crate::error::RunError;
use crate::stats::{BOOTSTRAP_REPS, BOOTSTRAP_SEED, ci95, iqm, mean, median};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// One seed's learning curve, read back from its `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedCurve {
    /// The seed.
    pub seed: u64,
    /// `(step, eval_return, episode_return)` per logging interval; at the last step the
    /// evaluation is the final one (the latest evaluation at that point), with a point of its
    /// own if no interval ended there.
    pub points: Vec<(u64, Option<f64>, Option<f64>)>,
    /// The final evaluation's return.
    pub final_return: f64,
}

/// A statistic's value and 95% interval across seeds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The statistic of the scores.
    pub value: f64,
    /// Lower end of the percentile-bootstrap 95% interval.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

impl Estimate {
    /// `stat` of `scores` with its bootstrapped interval (scores non-empty).
    pub fn of(scores: &[f64], stat: fn(&[f64]) -> f64) -> Estimate {
        let (lo, hi) = ci95(scores, stat);
        Estimate {
            value: stat(scores),
            lo,
            hi,
        }
    }

    fn to_json(self) -> Value {
        json!({ "value": self.value, "ci95": [self.lo, self.hi] })
    }
}

/// The final return across seeds, as rliable reports it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FinalSummary {
    /// Seeds that finished.
    pub n: usize,
    /// Mean.
    pub mean: Estimate,
    /// Median.
    pub median: Estimate,
    /// Interquartile mean.
    pub iqm: Estimate,
}

impl FinalSummary {
    /// Summarises per-seed final returns (non-empty).
    pub fn of(scores: &[f64]) -> FinalSummary {
        FinalSummary {
            n: scores.len(),
            mean: Estimate::of(scores, mean),
            median: Estimate::of(scores, median),
            iqm: Estimate::of(scores, iqm),
        }
    }
}

/// A logged step's value across the seeds that had one there: their mean with its interval,
/// and how many seeds that was (`None`: no seed had a value).
pub type Band = Option<(Estimate, usize)>;

/// Everything `aggregate.json` holds.
#[derive(Clone, Debug)]
pub struct Aggregate {
    /// The seeds that finished, with their curves.
    pub seeds: Vec<SeedCurve>,
    /// Seeds that failed, with why.
    pub failed: Vec<(u64, String)>,
    /// The final return across the finished seeds (`None` if none finished).
    pub final_return: Option<FinalSummary>,
    /// Per logged step: the evaluation and episode returns' means and intervals across the
    /// seeds that had a value there.
    pub curve: Vec<(u64, Band, Band)>,
}

/// Reads one seed's `metrics.jsonl`.
pub fn read_curve(path: &Path, seed: u64) -> Result<SeedCurve, RunError> {
    let bad = |what: String| RunError::Io(format!("metrics `{}`: {what}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let mut points: Vec<(u64, Option<f64>, Option<f64>)> = Vec::new();
    let mut final_return = None;
    for (i, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line).map_err(|e| bad(format!("line {}: {e}", i + 1)))?;
        let field = |name: &str| -> Result<Option<f64>, RunError> {
            match v.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(x) => x
                    .as_f64()
                    .map(Some)
                    .ok_or_else(|| bad(format!("line {}: `{name}` is {x}, not a number", i + 1))),
            }
        };
        let step = v
            .get("step")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad(format!("line {}: no `step`", i + 1)))?;
        if v.get("final") == Some(&Value::Bool(true)) {
            final_return = field("eval_return")?;
            // The final evaluation is the latest one at the last step (a point of its own when
            // the last logging interval ended before it).
            match points.last_mut() {
                Some(last) if last.0 == step => last.1 = final_return,
                _ => points.push((step, final_return, None)),
            }
        } else {
            points.push((step, field("eval_return")?, field("episode_return")?));
        }
    }
    let final_return = final_return.ok_or_else(|| bad("no final evaluation (`\"final\": true`)".into()))?;
    Ok(SeedCurve {
        seed,
        points,
        final_return,
    })
}

impl Aggregate {
    /// Aggregates the finished seeds' curves; `failed` lists the others.
    pub fn new(seeds: Vec<SeedCurve>, failed: Vec<(u64, String)>) -> Aggregate {
        let finals: Vec<f64> = seeds.iter().map(|s| s.final_return).collect();
        let mut at: BTreeMap<u64, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
        for s in &seeds {
            for (step, ev, ep) in &s.points {
                let slot = at.entry(*step).or_default();
                slot.0.extend(ev);
                slot.1.extend(ep);
            }
        }
        let band = |xs: &[f64]| (!xs.is_empty()).then(|| (Estimate::of(xs, mean), xs.len()));
        Aggregate {
            final_return: (!finals.is_empty()).then(|| FinalSummary::of(&finals)),
            curve: at.iter().map(|(s, (ev, ep))| (*s, band(ev), band(ep))).collect(),
            seeds,
            failed,
        }
    }

    /// The aggregate as JSON (`algorithm`, `env`, `steps` describe the runs).
    pub fn to_json(&self, algorithm: &str, env: &str, settings: &[String]) -> Value {
        let band = |b: &Band| match b {
            Some((e, n)) => json!({ "mean": e.value, "ci95": [e.lo, e.hi], "seeds": n }),
            None => Value::Null,
        };
        let fin = self.final_return.map(|f| {
            json!({
                "seeds": f.n,
                "mean": f.mean.to_json(),
                "median": f.median.to_json(),
                "iqm": f.iqm.to_json(),
            })
        });
        json!({
            "algorithm": algorithm,
            "env": env,
            "set": settings,
            "seeds": self.seeds.iter().map(|s| s.seed).collect::<Vec<_>>(),
            "failed": self.failed.iter().map(|(s, why)| json!({ "seed": s, "error": why })).collect::<Vec<_>>(),
            "final_return_per_seed": self.seeds.iter().map(|s| json!({ "seed": s.seed, "eval_return": s.final_return })).collect::<Vec<_>>(),
            "final_return": fin,
            "bootstrap": {
                "method": "percentile, stratified by task (one task here)",
                "confidence": 0.95,
                "resamples": BOOTSTRAP_REPS,
                "seed": BOOTSTRAP_SEED,
            },
            "curve": self.curve.iter().map(|(step, ev, ep)| json!({
                "step": step,
                "eval_return": band(ev),
                "episode_return": band(ep),
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(seed: u64, evals: &[Option<f64>], fin: f64) -> SeedCurve {
        SeedCurve {
            seed,
            points: evals
                .iter()
                .enumerate()
                .map(|(i, e)| (1000 * (i as u64 + 1), *e, Some(1.0)))
                .collect(),
            final_return: fin,
        }
    }

    #[test]
    fn steps_are_aligned_across_seeds_and_missing_values_skipped() {
        let a = Aggregate::new(
            vec![
                curve(1, &[None, Some(10.0)], 100.0),
                curve(2, &[Some(4.0), Some(20.0)], 200.0),
                curve(3, &[None, Some(30.0)], 600.0),
            ],
            vec![(4, "exit 3".into())],
        );
        assert_eq!(a.curve.len(), 2);
        let (step, ev, _) = &a.curve[0];
        assert_eq!((*step, ev.map(|(e, n)| (e.value, n))), (1000, Some((4.0, 1))));
        let (e, n) = a.curve[1].1.unwrap();
        assert_eq!((e.value, n), (20.0, 3));
        assert!(e.lo >= 10.0 && e.hi <= 30.0 && e.lo < e.hi);
        let f = a.final_return.unwrap();
        assert_eq!((f.n, f.mean.value, f.median.value), (3, 300.0, 200.0));
        // Three seeds: the IQM trims nothing (scipy's trim_mean), so it is the mean.
        assert_eq!(f.iqm.value, 300.0);
        let j = a.to_json("dqn", "CartPole-v1", &[]);
        assert_eq!(j["failed"][0]["seed"], 4);
        assert_eq!(j["final_return"]["median"]["value"], 200.0);
        assert_eq!(j["curve"][0]["eval_return"]["seeds"], 1);
    }

    #[test]
    fn the_final_evaluation_replaces_the_last_logged_one() {
        let dir = std::env::temp_dir().join(format!("rlc-aggregate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("metrics.jsonl");
        std::fs::write(
            &p,
            "{\"step\":1000,\"eval_return\":null,\"episode_return\":9.5}\n\
             {\"step\":2000,\"eval_return\":50.0,\"episode_return\":null}\n\
             {\"step\":2000,\"eval_return\":70.0,\"episode_return\":null,\"final\":true}\n",
        )
        .unwrap();
        let c = read_curve(&p, 7).unwrap();
        assert_eq!(c.points, vec![(1000, None, Some(9.5)), (2000, Some(70.0), None)]);
        assert_eq!(c.final_return, 70.0);
        std::fs::write(
            &p,
            "{\"step\":1000,\"eval_return\":5.0,\"episode_return\":9.5}\n\
             {\"step\":1500,\"eval_return\":70.0,\"episode_return\":null,\"final\":true}\n",
        )
        .unwrap();
        let c = read_curve(&p, 7).unwrap();
        assert_eq!(
            c.points,
            vec![(1000, Some(5.0), Some(9.5)), (1500, Some(70.0), None)]
        );
        std::fs::write(&p, "{\"step\":1000,\"eval_return\":\"NaN\"}\n").unwrap();
        let e = read_curve(&p, 7).unwrap_err().to_string();
        assert!(e.contains("not a number"), "{e}");
        std::fs::write(&p, "{\"step\":1000,\"eval_return\":1.0}\n").unwrap();
        let e = read_curve(&p, 7).unwrap_err().to_string();
        assert!(e.contains("no final evaluation"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
