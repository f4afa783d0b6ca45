//! Fuzzing with generated programs (`common::program_gen`): whole algorithms built from the
//! grammar, well-formed, with extreme sizes and indices, and with small mistakes.
//!
//! * `generated_programs_check_cleanly`: every program ends in `Ok` or in diagnostics that all
//!   have a location (never a panic, an internal error E0026, a hang or a memory blow-up).
//! * `generated_programs_agree_on_jit_and_interpreter`: every entry point of every well-formed
//!   program that compiles runs on the JIT and the interpreter with the same inputs and state,
//!   and they agree to |jit - interp| <= 2e-4 * max(1, |interp|) (outputs and updated state; the
//!   tolerance of `tests/jit_differential.rs`).
//!
//! CI runs a fixed number of cases from a fixed seed ([`CI_CHECK_CASES`], [`CI_DIFF_CASES`]):
//! 30 s and 63 s side by side in release mode on the project's 2-vCPU machine. Longer runs:
//!
//! ```text
//! RLC_FUZZ_SECS=1500 cargo test --release --test program_fuzz -- --nocapture   # random seed
//! RLC_FUZZ_SEED=1234 RLC_FUZZ_SECS=60 ...                                        # a given seed
//! RLC_FUZZ_CASE=0x1f2e... ...                                                    # one case
//! ```
//!
//! Each test prints its seed and case count; a failure prints the case's seed and program.
//! `RLC_FUZZ_VERBOSE=1` also shows why each rejected well-formed program was rejected.

mod common;

use common::program_gen::{Options, generate, random_builtin_program};
use rlc_compiler::diag::Code;
use rlc_compiler::driver::{Driver, Request};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Cases of the checking fuzzer in CI.
const CI_CHECK_CASES: u64 = 6000;
/// Cases of the differential fuzzer in CI.
const CI_DIFF_CASES: u64 = 3000;
/// No case may take longer than this (a generated program compiles in milliseconds).
const CASE_LIMIT: Duration = Duration::from_secs(60);
/// The process may not grow past this peak resident size (bytes): a blow-up, not a program.
const PEAK_LIMIT: u64 = 6 << 30;
/// No tensor of a program run differentially may be larger than this (elements).
const RUN_LIMIT: usize = 1 << 20;

/// How long a fuzzer runs and from which seed.
struct Plan {
    seed: u64,
    cases: Option<u64>,
    until: Option<Instant>,
    single: Option<u64>,
}

impl Plan {
    /// The CI plan (`ci_cases` from `ci_seed`) unless the environment asks for another.
    fn from_env(name: &str, ci_seed: u64, ci_cases: u64) -> Plan {
        let var = |k: &str| std::env::var(k).ok();
        let parse = |s: String| {
            let s = s.trim().to_string();
            match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            }
            .unwrap_or_else(|_| panic!("{s:?} is not a number"))
        };
        let single = var("RLC_FUZZ_CASE").map(parse);
        let secs = var("RLC_FUZZ_SECS").map(parse);
        let seed = match (var("RLC_FUZZ_SEED").map(parse), secs) {
            (Some(s), _) => s,
            (None, Some(_)) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos() as u64,
            (None, None) => ci_seed,
        };
        let plan = Plan {
            seed,
            cases: if secs.is_some() { None } else { Some(ci_cases) },
            until: secs.map(|s| Instant::now() + Duration::from_secs(s)),
            single,
        };
        match (plan.single, secs) {
            (Some(c), _) => eprintln!("{name}: case {c:#x} only"),
            (None, Some(s)) => eprintln!("{name}: seed {seed} for {s} s"),
            (None, None) => eprintln!("{name}: seed {seed}, {ci_cases} cases"),
        }
        plan
    }

    /// The seed of case `i`, or `None` when the plan is done.
    fn case(&self, i: u64) -> Option<u64> {
        if let Some(c) = self.single {
            return (i == 0).then_some(c);
        }
        if self.cases.is_some_and(|n| i >= n) || self.until.is_some_and(|t| Instant::now() >= t) {
            return None;
        }
        Some(splitmix(self.seed.wrapping_add(i)))
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

/// Runs `f` on its own thread; an error describing the case (from `what`) if it panics or
/// takes longer than [`CASE_LIMIT`] (such a thread cannot be stopped; it is left behind).
fn guarded<T: Send + 'static>(
    what: impl Fn() -> String,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    let h = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn");
    match rx.recv_timeout(CASE_LIMIT) {
        Ok(v) => {
            let _ = h.join();
            Ok(v)
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(format!("took longer than {CASE_LIMIT:?} (a hang): {}", what()))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let msg = match h.join() {
                Err(p) => p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
                Ok(()) => String::new(),
            };
            Err(format!("panicked: {msg}\n{}", what()))
        }
    }
}

/// Fails the test with every failure collected (the first few in full).
fn report(name: &str, failures: &[String]) {
    if failures.is_empty() {
        return;
    }
    let shown: Vec<&str> = failures.iter().take(5).map(String::as_str).collect();
    panic!(
        "{name}: {} failing cases; the first ones:\n\n{}",
        failures.len(),
        shown.join("\n\n")
    );
}

/// The process's peak resident size in bytes (Linux; 0 elsewhere).
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_string();
            l.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// The program of case `seed`: its options cycle through well-formed, extreme, mutated and
/// both; one case in eight is a single call of a random builtin instead.
fn case_program(seed: u64) -> (String, &'static str) {
    match seed % 8 {
        0 => (random_builtin_program(seed), "builtin call"),
        1..=3 => (
            generate(
                seed,
                Options {
                    extreme: false,
                    mutate: false,
                },
            )
            .text,
            "well-formed",
        ),
        4..=5 => (
            generate(
                seed,
                Options {
                    extreme: true,
                    mutate: false,
                },
            )
            .text,
            "extreme",
        ),
        6 => (
            generate(
                seed,
                Options {
                    extreme: false,
                    mutate: true,
                },
            )
            .text,
            "mutated",
        ),
        _ => (
            generate(
                seed,
                Options {
                    extreme: true,
                    mutate: true,
                },
            )
            .text,
            "extreme+mutated",
        ),
    }
}

/// What checking a program gave.
enum Checked {
    Ok,
    /// The codes, and the diagnostics as shown.
    Rejected(Vec<Code>, String),
}

/// Loads and compiles `text` (as a file in `stdlib/`, so imports resolve) for its default
/// environment; panics if a diagnostic has no location or is an internal error.
fn check_text(text: &str) -> Checked {
    let mut d = Driver::new(Some(common::stdlib()));
    let result = d
        .load_text("fuzz.rl", Some(&common::stdlib()), text)
        .and_then(|m| d.compile(m, &Request::default(), &common::resolve));
    match result {
        Ok(_) => Checked::Ok,
        Err(diags) => {
            assert!(!diags.is_empty(), "an error without diagnostics");
            let shown = rlc_compiler::diag::render_all(&diags, &d.mods.sources, false);
            for x in &diags {
                assert!(x.primary.is_some(), "a diagnostic without a location:\n{shown}");
                assert!(x.code != Code::Internal, "an internal compiler error:\n{shown}");
            }
            Checked::Rejected(diags.iter().map(|x| x.code).collect(), shown)
        }
    }
}

#[test]
fn generated_programs_check_cleanly() {
    let plan = Plan::from_env("check", 0x5eed_0001, CI_CHECK_CASES);
    let start = Instant::now();
    let mut counts: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
    let mut codes: std::collections::BTreeMap<String, u64> = Default::default();
    let mut failures = Vec::new();
    let mut i = 0;
    while let Some(seed) = plan.case(i) {
        i += 1;
        let (text, kind) = case_program(seed);
        let shown = text.clone();
        let what = move || format!("case {seed:#x}:\n{shown}");
        let t = text.clone();
        let r = guarded(what.clone(), move || check_text(&t));
        let peak = peak_rss();
        if peak > PEAK_LIMIT {
            failures.push(format!("peak memory {peak} bytes after {}", what()));
            break;
        }
        let e = counts.entry(kind).or_default();
        e.0 += 1;
        match r {
            Err(f) => failures.push(f),
            Ok(Checked::Ok) => e.1 += 1,
            Ok(Checked::Rejected(cs, shown)) => {
                // Why a well-formed program was refused (the generator's or the compiler's fault).
                if kind == "well-formed" && std::env::var_os("RLC_FUZZ_VERBOSE").is_some() {
                    eprintln!("case {seed:#x} rejected:\n{shown}\n{text}");
                }
                for c in cs {
                    *codes.entry(format!("{c:?}")).or_default() += 1;
                }
            }
        }
    }
    eprintln!(
        "check: {i} cases in {:.1} s; (cases, compiled) by kind: {counts:?}",
        start.elapsed().as_secs_f64()
    );
    eprintln!("check: rejections by code: {codes:?}");
    report("check", &failures);
    // The generator is not vacuous: well-formed programs compile (a generator that broke them
    // all would test only the parser's error path).
    if plan.single.is_none() {
        let (n, ok) = counts["well-formed"];
        assert!(
            ok * 100 >= n * 97,
            "only {ok} of {n} well-formed programs compiled"
        );
        // ...and the hostile kinds are hostile: most of their programs are refused.
        for kind in ["extreme", "mutated", "extreme+mutated", "builtin call"] {
            let (n, ok) = counts[kind];
            assert!(ok * 10 < n * 7, "{ok} of {n} {kind} programs compiled");
        }
    }
}

#[test]
fn generated_programs_agree_on_jit_and_interpreter() {
    let plan = Plan::from_env("differential", 0x5eed_0002, CI_DIFF_CASES);
    let start = Instant::now();
    let (mut programs, mut entries, mut skipped) = (0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    let mut i = 0;
    while let Some(seed) = plan.case(i) {
        i += 1;
        let program = generate(
            seed,
            Options {
                extreme: false,
                mutate: false,
            },
        );
        if plan.single.is_some() {
            eprintln!("{}", program.text);
        }
        let shown = program.text.clone();
        let what = move || format!("case {seed:#x}:\n{shown}");
        let text = program.text;
        let (ran, too_big) = match guarded(what, move || run_both(&text, seed)) {
            Ok(r) => r,
            Err(f) => {
                failures.push(f);
                continue;
            }
        };
        programs += u64::from(ran > 0);
        entries += ran;
        skipped += too_big;
    }
    eprintln!(
        "differential: {i} cases in {:.1} s: {programs} programs, {entries} entry points agreed, {skipped} skipped as too large",
        start.elapsed().as_secs_f64()
    );
    report("differential", &failures);
    if plan.single.is_none() {
        assert!(programs * 10 >= i * 9, "only {programs} of {i} programs ran");
    }
}

/// Compiles `text` and runs each entry point on the JIT and the interpreter (panicking on a
/// disagreement); returns (entries compared, entries too large to run).
fn run_both(text: &str, seed: u64) -> (u64, u64) {
    let Ok(compiled) = common::compile_text(text, None) else {
        return (0, 0);
    };
    let (mut ran, mut big) = (0, 0);
    for c in &compiled {
        for e in &c.entries {
            let largest = e.graph.ids().map(|id| e.graph.ty(id).numel()).max().unwrap_or(0);
            if largest > RUN_LIMIT {
                big += 1;
                continue;
            }
            common::differential::check_entry(jit, c, &e.name, &e.graph, seed);
            ran += 1;
        }
    }
    (ran, big)
}

fn jit() -> Box<dyn rlc_compiler::backend::Backend> {
    Box::new(rlc_compiler::backend::JitBackend::new())
}
