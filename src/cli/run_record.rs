//! `run.json`: what `rlc run` records beside its checkpoint — the program, its settings and
//! the run's options — so `rlc eval` can rebuild the program and `rlc resume` the whole run.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Name of the record `rlc run` writes beside its checkpoint.
pub const RUN_RECORD: &str = "run.json";

/// A run's record. The run options are optional only so records of older versions still
/// load for `rlc eval`; `rlc resume` needs them all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The program file (absolute).
    pub program: PathBuf,
    /// Environment id.
    pub env: String,
    /// `--set` overrides, in order.
    pub set: Vec<String>,
    /// The run's seed.
    pub seed: u64,
    /// `--steps`, `--eval-every`, `--eval-episodes`, `--log-every` as resolved.
    pub steps: Option<u64>,
    pub eval_every: Option<u64>,
    pub eval_episodes: Option<usize>,
    pub log_every: Option<u64>,
    /// The backend's name.
    pub backend: Option<String>,
    /// Metrics file and learning-curve image (absolute).
    pub metrics: Option<PathBuf>,
    pub curve: Option<PathBuf>,
    /// `--tensorboard` (absolute), if given.
    #[serde(default)]
    pub tensorboard: Option<PathBuf>,
}

impl RunRecord {
    /// Writes the record into `dir` (durably: a resumed run depends on it).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        rlc_runtime::checkpoint::write_durably(&dir.join(RUN_RECORD), format!("{text}\n").as_bytes())
    }

    /// Reads the record in `dir`.
    pub fn read(dir: &Path) -> Result<RunRecord, String> {
        let path = dir.join(RUN_RECORD);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read `{}` ({e})", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("`{}` is not a run record: {e}", path.display()))
    }
}

/// `path` made absolute against the current directory (it may not exist yet).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
