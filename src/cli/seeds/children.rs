//! Running single-seed runs as child processes of this binary, at most J at once.
//!
//! Processes rather than threads: each seed's run is then exactly the single-seed command
//! (same code path, same outputs, byte for byte), a seed that aborts or runs out of memory
//! takes only itself down, and the JIT's worker pools do not share one process. Compiling the
//! program again in each child costs well under a second against a training run.
//!
//! No child outlives the parent: each gets a pipe as standard input that the parent never
//! writes, and `--supervised` makes the child exit when it closes — which the kernel does
//! when the parent exits for any reason, SIGKILL included. Ctrl-C reaches the children
//! directly (they share the terminal's process group).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// One child run.
#[derive(Clone, Debug)]
pub struct Job {
    /// Its seed.
    pub seed: u64,
    /// Which sweep combination it belongs to.
    pub combination: usize,
    /// Arguments after the binary's name.
    pub args: Vec<OsString>,
    /// Its output directory.
    pub dir: PathBuf,
}

/// How a child ended.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Exit status (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Its standard output (the `final:` line).
    pub stdout: String,
    /// Its standard error (diagnostics, the error).
    pub stderr: String,
    /// Seconds it ran.
    pub wall_s: f64,
}

impl Outcome {
    /// Whether the run succeeded.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// The child's own exit status, or 3 (a run-time fault) when a signal killed it.
    pub fn exit_status(&self) -> u8 {
        match self.code {
            Some(c) => u8::try_from(c).unwrap_or(3),
            None => 3,
        }
    }

    /// The final evaluation return from its `final:` line.
    pub fn final_return(&self) -> Option<f64> {
        let line = self.stdout.lines().rev().find(|l| l.starts_with("final:"))?;
        line.split_whitespace()
            .find_map(|w| w.strip_prefix("eval_return="))?
            .parse()
            .ok()
    }

    /// Why it failed, in one line.
    pub fn failure(&self) -> String {
        let first = self
            .stderr
            .lines()
            .find(|l| l.starts_with("error") || l.contains("Error:"))
            .or_else(|| self.stderr.lines().next())
            .unwrap_or("no message");
        match self.code {
            Some(c) => format!("exit status {c}: {}", first.trim()),
            None => format!("killed by a signal: {}", first.trim()),
        }
    }
}

/// Runs `jobs` (at most `parallel` at once), calling `done` in the order they finish; returns
/// every outcome in job order. An error starting a child is its outcome (status 2).
pub fn run_all(jobs: &[Job], parallel: usize, mut done: impl FnMut(&Job, &Outcome)) -> Vec<Outcome> {
    let exe = std::env::current_exe();
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; jobs.len()];
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, jobs.len().max(1)) {
            let tx = tx.clone();
            let (next, exe) = (&next, &exe);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    let outcome = match exe {
                        Ok(exe) => run_one(exe, job),
                        Err(e) => start_failure(e),
                    };
                    if tx.send((i, outcome)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (i, o) in rx {
            done(&jobs[i], &o);
            outcomes[i] = Some(o);
        }
    });
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| start_failure(&std::io::Error::other("the run was not started"))))
        .collect()
}

fn start_failure(e: &std::io::Error) -> Outcome {
    Outcome {
        code: Some(2),
        stdout: String::new(),
        stderr: format!("error: cannot start the run: {e}"),
        wall_s: 0.0,
    }
}

fn run_one(exe: &std::path::Path, job: &Job) -> Outcome {
    let t = Instant::now();
    let child = Command::new(exe)
        .args(&job.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return start_failure(&e),
    };
    // Held open while the child runs: closing it is what tells the child to stop.
    let _stdin = child.stdin.take();
    match child.wait_with_output() {
        Ok(out) => Outcome {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            wall_s: t.elapsed().as_secs_f64(),
        },
        Err(e) => start_failure(&e),
    }
}
