//! No input makes the checker panic: random bytes, truncated stdlib files, deleted lines and
//! swapped identifiers all end in located diagnostics (or a clean check), and the `rlc`
//! binary exits non-zero on them.

mod common;

use common::*;
use proptest::prelude::*;
use rlc_compiler::driver::{Driver, Request};
use std::path::PathBuf;

/// Checks `bytes` as a file in the stdlib directory's neighbourhood; returns whether it
/// checked clean. Panics (failing the test) if a diagnostic has no location.
fn check_bytes(bytes: &[u8]) -> bool {
    let dir = std::env::temp_dir().join(format!("rlc-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("case-{:x}.rl", fxhash(bytes)));
    std::fs::write(&path, bytes).expect("write case");
    let mut d = Driver::new(Some(stdlib()));
    let result = d
        .load(&path)
        .and_then(|m| d.compile(m, &Request::default(), &resolve));
    let _ = std::fs::remove_file(&path);
    match result {
        Ok(_) => true,
        Err(diags) => {
            assert!(!diags.is_empty());
            for x in &diags {
                assert!(
                    x.primary.is_some(),
                    "diagnostic without a location: {x:?}\ninput: {:?}",
                    String::from_utf8_lossy(bytes)
                );
            }
            // Rendering never fails either.
            let _ = rlc_compiler::diag::render_all(&diags, &d.mods.sources, false);
            false
        }
    }
}

fn fxhash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x100000001b3)
    })
}

fn stdlib_sources() -> Vec<String> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(stdlib())
        .expect("stdlib")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rl"))
        .collect();
    v.sort();
    v.iter()
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .collect()
}

proptest! {
    // A fixed seed: the same programs every run, so CI is reproducible (a random seed once
    // drew `hidden` and `buffer` swapped, which unrolled 100,000 layers before `for` had a cap).
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(7),
        .. ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_bytes(&bytes);
    }

    #[test]
    fn random_token_soup_never_panics(words in proptest::collection::vec(
        prop::sample::select(vec!["algorithm", "a", "{", "}", "(", ")", "net", "f", "x", ":", "obs", "=",
            "loss", "l", "b", "~", "D", ".", "sample", "mean", "+", "-", "*", "[", "]", ",", "1", "2.5",
            "scan", "reverse", "t", "in", "with", "let", "policy", "update", "by", "adam", "on", "replay",
            "capacity", "of", "schedule", "act", "into", "train", "env", "continuous", "\n", "linear", "stop", "grad"]),
        0..60)) {
        check_bytes(words.join(" ").as_bytes());
    }

    #[test]
    fn truncated_stdlib_files_never_panic(file in 0usize..64, frac in 0.0f64..1.0) {
        let srcs = stdlib_sources();
        let src = &srcs[file % srcs.len()];
        let mut cut = (src.len() as f64 * frac) as usize;
        while !src.is_char_boundary(cut) { cut -= 1; }
        check_bytes(&src.as_bytes()[..cut]);
    }

    #[test]
    fn deleted_lines_never_panic(file in 0usize..64, line in 0usize..1000, count in 1usize..4) {
        let srcs = stdlib_sources();
        let src = &srcs[file % srcs.len()];
        let lines: Vec<&str> = src.lines().collect();
        let at = line % lines.len().max(1);
        let kept: Vec<&str> = lines.iter().enumerate().filter(|(i, _)| *i < at || *i >= at + count).map(|(_, l)| *l).collect();
        check_bytes(kept.join("\n").as_bytes());
    }

    #[test]
    fn swapped_identifiers_never_panic(file in 0usize..64, a in 0usize..10_000, b in 0usize..10_000) {
        let srcs = stdlib_sources();
        let src = &srcs[file % srcs.len()];
        let ids = identifiers(src);
        prop_assume!(ids.len() >= 2);
        let (i, j) = (a % ids.len(), b % ids.len());
        prop_assume!(i != j);
        let (x, y) = if ids[i].0 < ids[j].0 { (ids[i], ids[j]) } else { (ids[j], ids[i]) };
        let swapped = format!("{}{}{}{}{}", &src[..x.0], &src[y.0..y.1], &src[x.1..y.0], &src[x.0..x.1], &src[y.1..]);
        check_bytes(swapped.as_bytes());
    }
}

#[test]
fn deep_nesting_is_a_diagnostic_not_a_crash() {
    let deep = format!("fn f(x) = {}x{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(!check_bytes(deep.as_bytes()));
}

#[test]
fn invalid_utf8_is_located() {
    assert!(!check_bytes(b"fn f(x) = x\n\xff\xfe"));
}

#[test]
fn the_binary_exits_nonzero_with_located_errors() {
    let dir = std::env::temp_dir().join(format!("rlc-fuzz-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let srcs = stdlib_sources();
    for (i, src) in srcs.iter().enumerate() {
        let path = dir.join(format!("broken{i}.rl"));
        std::fs::write(&path, &src[..src.len() * 2 / 3]).expect("write");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
            .arg("check")
            .arg(&path)
            .output()
            .expect("run rlc");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("Error:") && stderr.contains(&format!("broken{i}.rl:")),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
        .arg("check")
        .arg(dir.join("missing.rl"))
        .output()
        .expect("run");
    // A path that cannot be read is a usage error (2), not a program error.
    assert_eq!(out.status.code(), Some(2));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rlc"))
        .args(["check", "--bogus"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_huge_unrolled_loop_is_an_error_not_a_hang() {
    // `hidden` given the replay capacity: `trunk` would unroll 100,000 layers.
    let text = std::fs::read_to_string(common::stdlib().join("dqn.rl"))
        .unwrap()
        .replace("param hidden = [256, 256]", "param hidden = 100_000");
    let err = common::compile_text(&text, None).expect_err("must not compile");
    assert!(err.contains("would unroll 100000 iterations"), "{err}");
    assert!(err.contains("nets.rl"), "located in the loop: {err}");
}
