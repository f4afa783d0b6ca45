//! TensorBoard event files: each metrics record's scalars (returns, steps per second, losses,
//! logged metrics) as one `Event`, under the same names as metrics.jsonl.
//!
//! The format is TensorFlow's: a file named `events.out.tfevents.*` of TFRecords, each
//!
//! ```text
//! u64 length (little-endian) | u32 masked crc32c(length) | data | u32 masked crc32c(data)
//! ```
//!
//! whose data is a protobuf `Event` (tensorflow/core/util/event.proto): the first holds
//! `file_version = "brain.Event:2"`, the others a `Summary` of `simple_value` scalars. No
//! maintained Rust crate writes it (tensorboard-rs's last release was in 2022, on protobuf 2
//! and an image stack), so the three messages are declared here with `prost`, field numbers
//! as in TensorFlow's .proto files.

use crate::error::RunError;
use crate::metrics::Record;
use prost::Message;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// `tensorflow.Event`, with the two parts of its `what` oneof rlc writes.
#[derive(Clone, PartialEq, Message)]
pub struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step (environment steps).
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event carries.
    #[prost(oneof = "What", tags = "3, 5")]
    pub what: Option<What>,
}

/// `Event.what`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum What {
    /// The first event of a file: `brain.Event:2`.
    #[prost(string, tag = "3")]
    FileVersion(String),
    /// Scalars.
    #[prost(message, tag = "5")]
    Summary(Summary),
}

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    /// The values.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value` holding a scalar.
#[derive(Clone, PartialEq, Message)]
pub struct SummaryValue {
    /// The series' name (`eval_return`, `loss/td`, `metric/q_mean`).
    #[prost(string, tag = "1")]
    pub tag: String,
    /// The value. Optional, so that 0.0 is written: in TensorFlow it is a member of a oneof,
    /// and a reader takes a value without it for another kind of summary.
    #[prost(float, optional, tag = "2")]
    pub simple_value: Option<f32>,
}

/// The CRC-32C of `data`, masked as TFRecord stores it (a CRC of data holding CRCs is weak).
pub fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TFRecord: the framed bytes of `data`.
pub fn frame(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

/// The scalars of a record, by the names metrics.jsonl uses; values it has not got (`null`
/// there) are left out.
pub fn scalars(r: &Record) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let mut put = |tag: String, v: Option<f64>| {
        if let Some(v) = v {
            out.push((tag, v));
        }
    };
    put("episode_return".into(), r.episode_return);
    put("eval_return".into(), r.eval_return);
    put("steps_per_s".into(), Some(r.steps_per_s));
    for (name, v) in &r.losses {
        put(format!("loss/{name}"), *v);
    }
    for (name, v) in &r.metrics {
        put(format!("metric/{name}"), *v);
    }
    out
}

/// Writes a run's records to an event file in a directory.
pub struct EventWriter {
    out: BufWriter<File>,
    path: PathBuf,
    /// Unix time at the start of the run: records carry seconds since then.
    start: f64,
}

impl EventWriter {
    /// Creates `dir` if needed and a new event file in it, starting with the version event.
    pub fn create(dir: &Path) -> Result<EventWriter, RunError> {
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        // TensorBoard reads every file whose name contains `tfevents`, in name order.
        // The process id keeps two runs started in the same second apart.
        let path = dir.join(format!(
            "events.out.tfevents.{}.rlc.{}",
            start as u64,
            std::process::id()
        ));
        let err = |e: std::io::Error| {
            RunError::Io(format!(
                "cannot write TensorBoard events to `{}`: {e}",
                path.display()
            ))
        };
        std::fs::create_dir_all(dir).map_err(err)?;
        let f = File::create(&path).map_err(err)?;
        let mut w = EventWriter {
            out: BufWriter::new(f),
            path: path.clone(),
            start,
        };
        w.event(&Event {
            wall_time: start,
            step: 0,
            what: Some(What::FileVersion("brain.Event:2".into())),
        })?;
        Ok(w)
    }

    /// The event file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a record's scalars as one event at its step (flushed, like metrics.jsonl).
    pub fn write(&mut self, r: &Record) -> Result<(), RunError> {
        let value = scalars(r)
            .into_iter()
            .map(|(tag, v)| SummaryValue {
                tag,
                simple_value: Some(v as f32),
            })
            .collect();
        self.event(&Event {
            wall_time: self.start + r.wall_s,
            step: r.step as i64,
            what: Some(What::Summary(Summary { value })),
        })
    }

    fn event(&mut self, e: &Event) -> Result<(), RunError> {
        self.out
            .write_all(&frame(&e.encode_to_vec()))
            .and_then(|_| self.out.flush())
            .map_err(|e| {
                RunError::Io(format!(
                    "cannot write TensorBoard events to `{}`: {e}",
                    self.path.display()
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_and_its_mask_match_the_published_values() {
        // RFC 3720's check value for "123456789", then TensorFlow's mask of it
        // (`((crc >> 15) | (crc << 17)) + 0xa282ead8`, computed by hand).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(masked_crc(b"123456789"), 0xc78a_b0e5);
    }

    #[test]
    fn a_record_is_framed_with_its_length_and_both_checksums() {
        let data = b"an event";
        let f = frame(data);
        assert_eq!(f.len(), 8 + 4 + data.len() + 4);
        assert_eq!(u64::from_le_bytes(f[..8].try_into().unwrap()), data.len() as u64);
        assert_eq!(
            u32::from_le_bytes(f[8..12].try_into().unwrap()),
            masked_crc(&f[..8])
        );
        assert_eq!(&f[12..12 + data.len()], data);
        let tail = u32::from_le_bytes(f[12 + data.len()..].try_into().unwrap());
        assert_eq!(tail, masked_crc(data));
        // A flipped byte no longer matches its checksum.
        let mut bad = f.clone();
        bad[12] ^= 1;
        assert_ne!(masked_crc(&bad[12..12 + data.len()]), tail);
    }

    #[test]
    fn events_round_trip_and_zero_values_are_written() {
        let e = Event {
            wall_time: 1.5,
            step: 1000,
            what: Some(What::Summary(Summary {
                value: vec![SummaryValue {
                    tag: "metric/kl".into(),
                    simple_value: Some(0.0),
                }],
            })),
        };
        let bytes = e.encode_to_vec();
        // Field 2 of the value (tag byte 0x15: field 2, 32-bit) is present for 0.0.
        assert!(bytes.windows(5).any(|w| w == [0x15, 0, 0, 0, 0]), "{bytes:?}");
        assert_eq!(Event::decode(bytes.as_slice()).unwrap(), e);
    }

    #[test]
    fn scalars_use_the_metrics_names_and_skip_missing_values() {
        let r = Record {
            step: 10,
            episodes: 1,
            episode_return: None,
            eval_return: Some(5.0),
            steps_per_s: 100.0,
            wall_s: 1.0,
            updates: 2,
            losses: vec![("td".into(), Some(0.5))],
            metrics: vec![("q".into(), None), ("kl".into(), Some(0.01))],
            final_record: false,
        };
        let tags: Vec<String> = scalars(&r).into_iter().map(|(t, _)| t).collect();
        assert_eq!(tags, ["eval_return", "steps_per_s", "loss/td", "metric/kl"]);
    }
}
