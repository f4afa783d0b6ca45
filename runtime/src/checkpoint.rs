//! Checkpoints in safetensors format: every state variable (parameters, optimiser moments,
//! target copies, counters) under its stable name, plus JSON metadata under the key `rlc`.
//! Loadable from Python: `safetensors.torch.load_file(path)`.

use crate::error::RunError;
use crate::snapshot::SnapshotWriter;
use rlc_compiler::backend::{Backend, HostData};
use rlc_compiler::ir::{DType, StateTable};
use safetensors::tensor::Dtype;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// What a checkpoint records besides the tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Hash of the program's sources, environment and overrides (hex).
    pub program_hash: String,
    /// Algorithm name.
    pub algorithm: String,
    /// Environment id.
    pub env: String,
    /// Environment steps when written.
    pub step: u64,
    /// The run's seed.
    pub seed: u64,
}

/// Writes all state to `path` atomically and durably (see [`write_durably`]): a reader, or a
/// run killed at any moment, sees the previous checkpoint or the new one, never a mix.
pub fn save(path: &Path, states: &StateTable, backend: &dyn Backend, meta: &Meta) -> Result<(), RunError> {
    let mut w = SnapshotWriter::new();
    put_states(&mut w, path, states, backend)?;
    write(path, &w, meta, HashMap::new())
}

/// Adds every state variable, read from the backend, to `w` under its own name. Refuses a
/// non-finite one: a checkpoint of NaNs would overwrite the last good one (which is kept).
pub fn put_states(
    w: &mut SnapshotWriter,
    path: &Path,
    states: &StateTable,
    backend: &dyn Backend,
) -> Result<(), RunError> {
    for (id, v) in states.iter() {
        let host = backend.read_state(id)?;
        if let HostData::F32(x) = &host
            && let Some(i) = x.iter().position(|f| !f.is_finite())
        {
            let kept = if path.exists() {
                " (the previous one is kept)"
            } else {
                ""
            };
            return Err(RunError::NonFinite {
                message: format!(
                    "state `{}` holds {} (element {i}); the checkpoint `{}` was not written{kept}",
                    v.name,
                    x[i],
                    path.display(),
                ),
                source: None,
            });
        }
        let (dtype, bytes) = match host {
            HostData::F32(x) => (Dtype::F32, x.iter().flat_map(|f| f.to_le_bytes()).collect()),
            HostData::I32(x) => (Dtype::I32, x.iter().flat_map(|f| f.to_le_bytes()).collect()),
        };
        w.tensor(&v.name, dtype, v.ty.shape.clone(), bytes);
    }
    Ok(())
}

/// Writes the tensors of `w` with `meta` (under `rlc`) and `extra` metadata to `path`,
/// atomically and durably.
pub fn write(
    path: &Path,
    w: &SnapshotWriter,
    meta: &Meta,
    mut extra: HashMap<String, String>,
) -> Result<(), RunError> {
    let io = |e: String| RunError::Io(format!("cannot write checkpoint `{}`: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io(e.to_string()))?;
    }
    let json = serde_json::to_string(meta).map_err(|e| io(e.to_string()))?;
    extra.insert("rlc".to_string(), json);
    let bytes = w.to_bytes(extra).map_err(io)?;
    write_durably(path, &bytes).map_err(|e| io(e.to_string()))
}

/// The temporary file a checkpoint is written to before it is renamed into place.
pub fn temp_path(path: &Path) -> std::path::PathBuf {
    path.with_extension("safetensors.tmp")
}

/// Writes `bytes` to a temporary file in `path`'s directory, flushes it to disk (fsync),
/// renames it over `path` and flushes the directory, so the rename itself survives a crash.
/// On an error the temporary file is removed.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = temp_path(path);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return written;
    }
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => std::fs::File::open(".")?.sync_all(),
    }
}

/// Removes the temporary file a run killed while writing `path` left behind (it is never a
/// checkpoint: a complete one was renamed into place).
pub fn remove_stale_temp(path: &Path) -> Result<(), RunError> {
    let tmp = temp_path(path);
    match std::fs::remove_file(&tmp) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RunError::Io(format!(
            "cannot remove the stale temporary checkpoint `{}`: {e}",
            tmp.display()
        ))),
    }
}

/// Reads a checkpoint into the backend's state, checking every name, shape and type.
pub fn load(path: &Path, states: &StateTable, backend: &mut dyn Backend) -> Result<Meta, RunError> {
    let bad = |e: String| RunError::Io(format!("cannot load checkpoint `{}`: {e}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
    let meta: Meta = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get("rlc"))
        .ok_or_else(|| bad("no `rlc` metadata: not written by rlc".into()))
        .and_then(|s| serde_json::from_str(s).map_err(|e| bad(format!("bad metadata: {e}"))))?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(format!("corrupt file ({e})")))?;
    // Check everything before changing any state.
    let mut values = Vec::new();
    for (id, v) in states.iter() {
        let t = st
            .tensor(&v.name)
            .map_err(|_| bad(format!("missing tensor `{}`", v.name)))?;
        if t.shape() != v.ty.shape.as_slice() {
            return Err(bad(format!(
                "`{}` has shape {:?}, the program needs {:?}",
                v.name,
                t.shape(),
                v.ty.shape
            )));
        }
        let d = t.data();
        let host = match (t.dtype(), v.ty.dtype) {
            (Dtype::F32, DType::F32) => HostData::F32(
                d.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            (Dtype::I32, DType::I32) => HostData::I32(
                d.chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            (have, _) => {
                return Err(bad(format!(
                    "`{}` is stored as {have:?}, the program needs {}",
                    v.name, v.ty.dtype
                )));
            }
        };
        // rlc never writes a non-finite value (see `save`), so one here means damage.
        if let HostData::F32(x) = &host
            && let Some(i) = x.iter().position(|f| !f.is_finite())
        {
            return Err(bad(format!("`{}` holds {} (element {i}): corrupt", v.name, x[i])));
        }
        values.push((id, host));
    }
    for (id, h) in values {
        backend.write_state(id, &h)?;
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("rlc-ckpt-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn durable_writes_replace_the_file_and_leave_no_temporary() {
        let d = dir("durable");
        let p = d.join("checkpoint.safetensors");
        write_durably(&p, b"first").unwrap();
        write_durably(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        assert!(!temp_path(&p).exists());
        // A failed write (no such directory) leaves nothing behind either.
        let missing = d.join("no/such/dir/checkpoint.safetensors");
        assert!(write_durably(&missing, b"x").is_err());
        assert!(!temp_path(&missing).exists());
    }

    #[test]
    fn a_stale_temporary_is_removed_and_a_missing_one_is_fine() {
        let d = dir("stale");
        let p = d.join("checkpoint.safetensors");
        remove_stale_temp(&p).expect("nothing to remove");
        std::fs::write(temp_path(&p), vec![0u8; 4096]).unwrap();
        remove_stale_temp(&p).expect("removed");
        assert!(!temp_path(&p).exists());
    }
}
