//! Metrics as JSON lines: one object per logging interval.

use crate::error::RunError;
use serde_json::{Map, Value, json};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// One logging interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Environment transitions so far.
    pub step: u64,
    /// Episodes finished so far.
    pub episodes: u64,
    /// Mean return of the episodes finished in this interval.
    pub episode_return: Option<f64>,
    /// Latest greedy evaluation.
    pub eval_return: Option<f64>,
    /// Transitions per second of training time in this interval (evaluation excluded).
    pub steps_per_s: f64,
    /// Seconds since the start.
    pub wall_s: f64,
    /// Training calls so far.
    pub updates: u64,
    /// Mean of each loss over the interval's training calls.
    pub losses: Vec<(String, Option<f64>)>,
    /// Mean of each logged metric (`log NAME = ...`) over the interval's calls of the entry
    /// that computes it.
    pub metrics: Vec<(String, Option<f64>)>,
    /// True for the record written after the final evaluation.
    pub final_record: bool,
}

/// Names of the fields that depend on timing (everything else is deterministic per seed).
pub const TIMING_FIELDS: [&str; 2] = ["steps_per_s", "wall_s"];

/// `null` means "no value" (no episode ended, no training call yet, no metric computed). JSON has no NaN or
/// infinity, and the trainer stops before a non-finite loss reaches a record, so one that
/// still arrives is written as the string `"NaN"`, `"inf"` or `"-inf"`: never as `null`, which
/// would read as "no update".
fn num(v: Option<f64>) -> Value {
    match v {
        Some(x) if x.is_finite() => json!(x),
        Some(x) if x.is_nan() => json!("NaN"),
        Some(x) => json!(if x > 0.0 { "inf" } else { "-inf" }),
        None => Value::Null,
    }
}

impl Record {
    /// The record as a JSON object (fields in a fixed order).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("step".into(), json!(self.step));
        m.insert("episodes".into(), json!(self.episodes));
        m.insert("episode_return".into(), num(self.episode_return));
        m.insert("eval_return".into(), num(self.eval_return));
        m.insert("steps_per_s".into(), num(Some(self.steps_per_s)));
        m.insert("wall_s".into(), num(Some(self.wall_s)));
        m.insert("updates".into(), json!(self.updates));
        for (name, v) in &self.losses {
            m.insert(format!("loss/{name}"), num(*v));
        }
        for (name, v) in &self.metrics {
            m.insert(format!("metric/{name}"), num(*v));
        }
        if self.final_record {
            m.insert("final".into(), json!(true));
        }
        Value::Object(m)
    }

    /// Reads a record back from [`Record::to_json`]'s object; `None` if it is not one.
    pub fn from_json(v: &Value) -> Option<Record> {
        let m = v.as_object()?;
        let opt = |k: &str| -> Option<Option<f64>> {
            match m.get(k)? {
                Value::Null => Some(None),
                Value::String(s) => match s.as_str() {
                    "NaN" => Some(Some(f64::NAN)),
                    "inf" => Some(Some(f64::INFINITY)),
                    "-inf" => Some(Some(f64::NEG_INFINITY)),
                    _ => None,
                },
                x => x.as_f64().map(Some),
            }
        };
        Some(Record {
            step: m.get("step")?.as_u64()?,
            episodes: m.get("episodes")?.as_u64()?,
            episode_return: opt("episode_return")?,
            eval_return: opt("eval_return")?,
            steps_per_s: opt("steps_per_s")??,
            wall_s: opt("wall_s")??,
            updates: m.get("updates")?.as_u64()?,
            losses: m
                .keys()
                .filter_map(|k| k.strip_prefix("loss/"))
                .map(|n| Some((n.to_string(), opt(&format!("loss/{n}"))?)))
                .collect::<Option<_>>()?,
            metrics: m
                .keys()
                .filter_map(|k| k.strip_prefix("metric/"))
                .map(|n| Some((n.to_string(), opt(&format!("metric/{n}"))?)))
                .collect::<Option<_>>()?,
            final_record: m.get("final").and_then(Value::as_bool).unwrap_or(false),
        })
    }
}

/// Appends records to a JSON-lines file.
pub struct MetricsWriter {
    out: BufWriter<File>,
    path: String,
}

impl MetricsWriter {
    /// Creates (truncates) the file, creating its directory.
    pub fn create(path: &Path) -> Result<MetricsWriter, RunError> {
        let err =
            |e: std::io::Error| RunError::Io(format!("cannot write metrics to `{}`: {e}", path.display()));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let f = File::create(path).map_err(err)?;
        Ok(MetricsWriter {
            out: BufWriter::new(f),
            path: path.display().to_string(),
        })
    }

    /// Continues the file of an interrupted run: keeps its first `keep` records (those written
    /// before the point the run resumes from; later ones will be written again) and returns
    /// them. Fails if the file holds fewer, or something that is not a record.
    pub fn resume(path: &Path, keep: usize) -> Result<(MetricsWriter, Vec<Record>), RunError> {
        let err = |e: String| RunError::Io(format!("cannot resume metrics `{}`: {e}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let mut history = Vec::with_capacity(keep);
        let mut bytes = 0;
        for (i, line) in text.split_inclusive('\n').take(keep).enumerate() {
            let record = serde_json::from_str(line)
                .ok()
                .as_ref()
                .and_then(Record::from_json)
                .filter(|_| line.ends_with('\n'))
                .ok_or_else(|| err(format!("line {} is not a metrics record", i + 1)))?;
            history.push(record);
            bytes += line.len();
        }
        if history.len() < keep {
            return Err(err(format!(
                "it holds {} records, but the run had written {keep} when it was checkpointed",
                history.len()
            )));
        }
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(bytes as u64).map(|_| f))
            .map_err(|e| err(e.to_string()))?;
        let mut f = f;
        std::io::Seek::seek(&mut f, std::io::SeekFrom::End(0)).map_err(|e| err(e.to_string()))?;
        Ok((
            MetricsWriter {
                out: BufWriter::new(f),
                path: path.display().to_string(),
            },
            history,
        ))
    }

    /// Writes one record (flushed, so a crash loses at most the current line).
    pub fn write(&mut self, r: &Record) -> Result<(), RunError> {
        let line = r.to_json().to_string();
        writeln!(self.out, "{line}")
            .and_then(|_| self.out.flush())
            .map_err(|e| RunError::Io(format!("cannot write metrics to `{}`: {e}", self.path)))
    }

    /// Flushes buffered output.
    pub fn flush(&mut self) -> Result<(), RunError> {
        self.out
            .flush()
            .map_err(|e| RunError::Io(format!("cannot write metrics to `{}`: {e}", self.path)))
    }
}
