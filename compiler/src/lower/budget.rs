//! The memory budget: no tensor, replay buffer or vector of environments of a program may be
//! larger than it, so sizes are refused at compile time with a located error instead of
//! wrapping, aborting on "memory allocation failed" or hanging the machine.
//!
//! The budget is the machine's physical memory (`MemTotal` in `/proc/meminfo`), or 16 GiB
//! where that cannot be read, and `RLC_MEMORY_BUDGET` overrides it: a number of bytes with an
//! optional binary suffix `K`, `M`, `G` or `T` (`RLC_MEMORY_BUDGET=512M`).

use super::builder::{R, err};
use crate::diag::{Code, Span};
use crate::ir::TensorType;

/// The environment variable overriding the budget.
pub const ENV_VAR: &str = "RLC_MEMORY_BUDGET";

/// The budget where the machine's memory cannot be read (16 GiB).
pub const DEFAULT_BYTES: u64 = 16 << 30;

/// The budget in bytes: `RLC_MEMORY_BUDGET` if set, else the machine's memory. An unreadable
/// value is an error (the CLI reports it with exit status 2), never a silent default.
pub fn memory_budget() -> Result<u64, String> {
    match std::env::var(ENV_VAR) {
        Ok(v) => parse_bytes(&v)
            .ok_or_else(|| format!("{ENV_VAR}={v:?} is not a size in bytes (examples: 1000000, 512M, 8G)")),
        Err(std::env::VarError::NotPresent) => Ok(machine_memory().unwrap_or(DEFAULT_BYTES)),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{ENV_VAR} is not valid text")),
    }
}

/// Parses `123`, `512K`, `64M`, `8G` or `1T` (binary multiples); zero is refused.
fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, shift) = match s.char_indices().last()? {
        (i, 'K' | 'k') => (&s[..i], 10),
        (i, 'M' | 'm') => (&s[..i], 20),
        (i, 'G' | 'g') => (&s[..i], 30),
        (i, 'T' | 't') => (&s[..i], 40),
        _ => (s, 0),
    };
    let n: u64 = digits.parse().ok()?;
    let bytes = n.checked_mul(1u64 << shift)?;
    (bytes > 0).then_some(bytes)
}

/// Physical memory from `/proc/meminfo` (Linux); `None` elsewhere.
fn machine_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// A byte count for people: `3.7 GiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Checks that `bytes` (`None`: more than 2^64) of `what` fit in `budget`; the error is
/// located at `span` and names `what` and its size.
pub(crate) fn check_bytes(what: &str, bytes: Option<u64>, budget: u64, span: Span) -> R<()> {
    match bytes {
        Some(b) if b <= budget => Ok(()),
        _ => {
            let size = bytes.map_or("more than 2^64 bytes".to_string(), human);
            Err(err(
                Code::TooLarge,
                format!(
                    "{what} needs {size}, more than the memory budget of {}",
                    human(budget)
                ),
                span,
                "too large",
            )
            .hint(format!(
                "make it smaller, or raise the budget with {ENV_VAR} (bytes, or with a K/M/G/T suffix)"
            )))
        }
    }
}

/// Checks one tensor type against the budget.
pub(crate) fn check_tensor(ty: &TensorType, budget: u64, span: Span) -> R<()> {
    check_bytes(&format!("tensor {ty}"), ty.checked_bytes(), budget, span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_bytes("1000"), Some(1000));
        assert_eq!(parse_bytes("512M"), Some(512 << 20));
        assert_eq!(parse_bytes("8g"), Some(8 << 30));
        assert_eq!(parse_bytes("0"), None);
        assert_eq!(parse_bytes("abc"), None);
        assert_eq!(parse_bytes(""), None);
        assert_eq!(
            parse_bytes("99999999999T"),
            None,
            "overflow is refused, not wrapped"
        );
    }

    #[test]
    fn huge_shapes_are_refused_not_wrapped() {
        let m = i64::MAX as usize;
        let t = TensorType::f32(vec![m, m]);
        assert_eq!(t.checked_numel(), None);
        assert_eq!(t.numel(), usize::MAX, "saturates instead of wrapping to 1");
        let span = Span::new(crate::diag::FileId(0), 0, 1);
        let e = check_tensor(&t, 1 << 30, span).unwrap_err();
        assert_eq!(e.code, Code::TooLarge);
        assert!(check_tensor(&TensorType::f32(vec![16, 16]), 1 << 30, span).is_ok());
        let e = check_tensor(&TensorType::f32(vec![1 << 20, 1 << 10]), 1 << 30, span).unwrap_err();
        assert!(e.message.contains("4.0 GiB"), "{}", e.message);
    }
}
