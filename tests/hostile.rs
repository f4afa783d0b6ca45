//! The hostile corpus: programs and command lines that once crashed, aborted, hung or
//! misreported. Each runs through the `rlc` binary and must end with its expected exit status
//! (1: program errors, 2: usage, paths, environment; 0: accepted) and, for a program error,
//! its error code and a source location, never a panic, abort or hang.
//!
//! `tests/hostile/*.rl` hold one case each; their header says what is expected:
//!
//! ```text
//! // what the case is
//! // expect: exit=1 code=E0028
//! // subcommand: run                   (optional: `rlc run FILE` instead of `rlc check FILE`)
//! // args: --set n_envs=100000000      (optional, after `rlc check FILE`)
//! // env: RLC_MEMORY_BUDGET=1G         (optional)
//! ```
//!
//! Programs too long to keep as files (operator chains of thousands of terms) are generated
//! below, and [`COMMANDS`] is the table of command lines (REPL sessions included).

#[path = "hostile/commands.rs"]
mod commands;
mod common;

use commands::COMMANDS;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A case's expected outcome.
#[derive(Debug)]
struct Expect {
    exit: i32,
    code: Option<String>,
}

/// What a finished run gave.
struct Ran {
    exit: Option<i32>,
    stdout: String,
    stderr: String,
}

/// No case may take longer than this: anything slower is a hang.
const HANG: Duration = Duration::from_secs(60);

/// Runs `rlc args` in the repository root with `env` set and `stdin` fed, killing it after
/// [`HANG`].
fn rlc(args: &[String], env: &[(String, String)], stdin: &str) -> Ran {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rlc"));
    cmd.args(args)
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .env_remove("RLC_MEMORY_BUDGET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn rlc");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.to_string();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let read = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = read(child.stdout.take().map(|x| Box::new(x) as _));
    let err = read(child.stderr.take().map(|x| Box::new(x) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = feeder.join();
    Ran {
        exit: status.and_then(|s| s.code()),
        stdout: out.join().expect("stdout"),
        stderr: err.join().expect("stderr"),
    }
}

/// Checks one run against its expectation; returns a description of what is wrong.
fn verdict(name: &str, ran: &Ran, want: &Expect, stdout_has: Option<&str>) -> Option<String> {
    let all = format!("{}{}", ran.stdout, ran.stderr);
    let tail: String = all.chars().take(1500).collect();
    let fail = |why: String| Some(format!("{name}: {why}\n--- output:\n{tail}"));
    let Some(exit) = ran.exit else {
        return fail("hung (killed) or died by a signal".into());
    };
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "overflowed its stack",
        "fatal runtime error",
    ] {
        if all.contains(bad) {
            return fail(format!("output contains {bad:?}"));
        }
    }
    if all.contains('\u{1b}') || all.contains('\u{7}') {
        return fail("a control character reached the terminal".into());
    }
    if exit != want.exit {
        return fail(format!("exit status {exit}, expected {}", want.exit));
    }
    if let Some(code) = &want.code {
        // Diagnostics go to stderr (the REPL prints them on stdout).
        let first = all.find("[E").map(|i| &all[i + 1..i + 6]);
        if first != Some(code.as_str()) {
            return fail(format!("first error code {first:?}, expected {code}"));
        }
        // A program error points into the source: ariadne's `╭─[ file:line:col ]`.
        if want.exit == 1 && !all.contains("╭─[") {
            return fail("no source location".into());
        }
    }
    if let Some(s) = stdout_has
        && !ran.stdout.contains(s)
    {
        return fail(format!("stdout lacks {s:?}:\n{}", ran.stdout));
    }
    None
}

/// Parses `exit=1 code=E0028`.
fn parse_expect(s: &str) -> Expect {
    let mut e = Expect { exit: -1, code: None };
    for w in s.split_whitespace() {
        if let Some(x) = w.strip_prefix("exit=") {
            e.exit = x.parse().expect("exit status");
        } else if let Some(c) = w.strip_prefix("code=") {
            e.code = Some(c.to_string());
        } else {
            panic!("bad expectation word {w:?}");
        }
    }
    assert!(e.exit >= 0, "no exit status in {s:?}");
    e
}

/// The corpus files, sorted.
fn corpus() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/hostile"))
        .expect("tests/hostile exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rl"))
        .collect();
    v.sort();
    v
}

/// Runs one corpus file as its header says.
fn run_file(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).expect("corpus file is UTF-8");
    let header = |key: &str| {
        text.lines()
            .take_while(|l| l.starts_with("//"))
            .find_map(|l| l.strip_prefix(&format!("// {key}: ")).map(str::to_string))
    };
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let Some(expect) = header("expect") else {
        return Some(format!("{name}: no `// expect:` header"));
    };
    // `check` unless the header names another subcommand (`run` for run-time faults).
    let sub = header("subcommand").unwrap_or_else(|| "check".into());
    let mut args = vec![sub, path.to_string_lossy().into_owned()];
    if let Some(a) = header("args") {
        args.extend(a.split_whitespace().map(String::from));
    }
    let env: Vec<(String, String)> = header("env")
        .into_iter()
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("env is K=V");
            (k.to_string(), v.to_string())
        })
        .collect();
    verdict(&name, &rlc(&args, &env, ""), &parse_expect(&expect), None)
}

#[test]
fn corpus_files_end_as_expected() {
    let files = corpus();
    assert!(files.len() >= 40, "the corpus shrank to {} files", files.len());
    let failures: Vec<String> = files.iter().filter_map(|p| run_file(p)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// The program every generated case starts from; `EXTRA` is added to its loss.
fn base_with(extra: &str) -> String {
    let path = common::root().join("tests/hostile/size_within_budget_ok.rl");
    let text = std::fs::read_to_string(path).expect("base case");
    let body: String = text
        .lines()
        .skip_while(|l| l.starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(body.contains("zeros([512, 512])"));
    body.replace("zeros([512, 512])", extra)
}

/// Generated programs: operator and call chains far past every depth limit, and just
/// under the expression limit (which must still compile).
fn generated() -> Vec<(&'static str, String, Expect)> {
    let chain = |n: usize, op: &str| vec!["b.r"; n].join(op);
    let fns_deep: String = (0..60)
        .map(|i| format!("fn f{i}(x) = {}f{}(x)\n", "-".repeat(200), i + 1))
        .collect::<String>()
        + "fn f60(x) = x\n";
    let params: String = (0..5000)
        .map(|i| format!("  param p{i} = p{} + 1\n", i + 1))
        .collect::<String>()
        + "  param p5000 = 1\n";
    let err = |code: &str| Expect {
        exit: 1,
        code: Some(code.into()),
    };
    vec![
        ("plus_10k", base_with(&chain(10_000, " + ")), err("E0001")),
        ("plus_5k", base_with(&chain(5_000, " + ")), err("E0001")),
        (
            "minus_10k_prefix",
            base_with(&format!("{}b.r", "-".repeat(10_000))),
            err("E0001"),
        ),
        ("pow_3k", base_with(&chain(3_000, " ^ ")), err("E0001")),
        (
            "times_10k_no_spaces",
            base_with(&chain(10_000, "*")),
            err("E0001"),
        ),
        (
            "index_chain_10k",
            base_with(&format!("b.r{}", "[...]".repeat(10_000))),
            err("E0001"),
        ),
        (
            "call_chain_10k",
            base_with(&format!("b.r{}", ".log_prob".repeat(10_000))),
            err("E0001"),
        ),
        (
            "not_chain_10k",
            base_with(&format!("f32({}true)", "!".repeat(10_000))),
            err("E0001"),
        ),
        (
            "fn_chain_past_eval_depth",
            fns_deep + &base_with("f0(b.r)"),
            err("E0016"),
        ),
        (
            "param_chain_5k",
            base_with("b.r * p0").replace("  param k = 1\n", &params),
            err("E0016"),
        ),
        (
            "plus_250_compiles",
            base_with(&chain(250, " + ")),
            Expect { exit: 0, code: None },
        ),
        (
            "minus_250_compiles",
            base_with(&format!("{}b.r", "-".repeat(250))),
            Expect { exit: 0, code: None },
        ),
    ]
}

#[test]
fn generated_chains_are_located_errors_not_stack_overflows() {
    let dir = std::env::temp_dir().join(format!("rlc-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (name, src, want) in generated() {
        let path = dir.join(format!("{name}.rl"));
        std::fs::write(&path, src).unwrap();
        let args = vec!["check".to_string(), path.to_string_lossy().into_owned()];
        failures.extend(verdict(name, &rlc(&args, &[], ""), &want, None));
        // The same file through the REPL's `:load` (which keeps going: exit 1 on errors).
        let load = format!(":load {}\n", path.display());
        let repl_want = Expect {
            exit: want.exit,
            code: want.code.clone(),
        };
        failures.extend(verdict(
            &format!("{name} (:load)"),
            &rlc(&["repl".into()], &[], &load),
            &repl_want,
            None,
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn command_lines_end_as_expected() {
    assert!(COMMANDS.len() >= 20);
    let mut failures = Vec::new();
    for c in COMMANDS {
        let args: Vec<String> = c.args.iter().map(|s| s.to_string()).collect();
        let env: Vec<(String, String)> = c
            .env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let want = Expect {
            exit: c.exit,
            code: c.code.map(String::from),
        };
        failures.extend(verdict(c.name, &rlc(&args, &env, c.stdin), &want, c.stdout_has));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn long_set_values_are_located_errors() {
    // `--set` values are parsed as expressions, with the same depth limit; an override the
    // program compiles without is a usage error (exit 2), still with its code and location.
    let plus = vec!["1"; 10_000].join("+");
    let neg = format!("{}1", "-".repeat(10_000));
    for (what, v) in [("plus", plus), ("neg", neg)] {
        let args: Vec<String> = ["check", "stdlib/reinforce.rl", "--set"]
            .iter()
            .map(|s| s.to_string())
            .chain([format!("gamma={v}")])
            .collect();
        let want = Expect {
            exit: 2,
            code: Some("E0001".into()),
        };
        let r = rlc(&args, &[], "");
        assert!(
            verdict(what, &r, &want, None).is_none(),
            "{}",
            verdict(what, &r, &want, None).unwrap()
        );
    }
}

#[test]
fn a_thousand_layer_net_compiles_and_runs_within_the_hang_guard() {
    // Compile time and memory used to grow faster than linearly with depth (1,000 layers:
    // over 2 minutes and 5.5 GB). Lowering, planning and the JIT (one function per 256
    // kernels) are linear now: about 8 s on this machine with other work running.
    let hidden = format!("hidden=[{}]", vec!["8"; 1000].join(","));
    let args: Vec<String> = [
        "run",
        "stdlib/reinforce.rl",
        "--steps",
        "8",
        "--set",
        &hidden,
        "--eval-episodes",
        "1",
        "--quiet",
        "--out",
        "/tmp/rlc-hostile-deep",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let want = Expect { exit: 0, code: None };
    let r = rlc(&args, &[], "");
    if let Some(f) = verdict("deep", &r, &want, None) {
        panic!("{f}");
    }
}
