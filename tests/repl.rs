//! `rlc repl` driven by scripts on stdin: snapshotted sessions covering every command (and
//! its errors) on DDPG, SAC and ACER; `:eval` of every trace operator against the rlax
//! conformance vectors; and random input that must never crash it.

mod common;

use common::traces::{call, conformance_dir, expected, file};
use proptest::prelude::*;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `rlc repl ARGS` in `cwd` with `script` on stdin; returns (exit code, stdout, stderr).
fn repl_in(cwd: &Path, args: &[&str], script: &str) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rlc"))
        .arg("repl")
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rlc repl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write script");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn repl(args: &[&str], script: &str) -> (Option<i32>, String, String) {
    repl_in(&common::root(), args, script)
}

/// Replaces what changes from run to run (timings) and what is too long to snapshot
/// (generated machine code) with placeholders.
fn normalise(out: &str) -> String {
    let mut lines = Vec::new();
    let mut in_function = false;
    for l in out.lines() {
        if in_function {
            if l == "}" {
                in_function = false;
            }
            continue;
        }
        if l.starts_with("function ") {
            in_function = true;
            lines.push("<cranelift function>".to_string());
            continue;
        }
        if l.contains("µs per call") && !l.starts_with(' ') {
            let head = l.split(':').next().unwrap_or_default();
            lines.push(format!("{head}: <timing>"));
            continue;
        }
        lines.push(l.to_string());
    }
    let mut s = lines.join("\n");
    s.push('\n');
    // Builds with and without `--features opencl` list different backends.
    s.replace(", opencl", "")
}

/// The commands every snapshotted session runs, with the program's own names filled in.
fn session_script(entry: &str, loss: &str, net_call: &str, param: &str) -> String {
    format!(
        ":help
:help show
:entries
:params
:rule adam
:rule polyak
:rule adamw
:passes {entry}
:show {entry} --after dce
:show {entry}x
:show {entry} --after foldd
:show
:dot {entry} target/repl-test.dot
:dot {entry} /nonexistent/dir/x.dot
:grad {loss}
:grad nosuchloss
{net_call}
:eval gae([1, 1, 1], [0.9, 0.9, 0.9], [0, 0, 0, 0], 0.95)
:eval [1, 2] + [1, 2, 3]
:eval undefined_thing(3)
:time {entry}
:code {entry}
:code {entry} --backend interp
:backend interp
:backend cuda
:backend
:set
:set {param}
:set not_a_param=3
:set oops
:env Acrobot-v2
:sohw
:reload
:load stdlib/missing.rl
:quit
:entries
"
    )
}

#[test]
fn ddpg_session() {
    let script = session_script(
        "act_greedy",
        "actor_loss",
        "critic(randn([2, 3]), randn([2, 1]))",
        "hidden=[32, 32]",
    );
    let (code, out, err) = repl(&["stdlib/ddpg.rl"], &script);
    assert_eq!(
        code,
        Some(1),
        "failing commands make a scripted session exit 1\n{err}"
    );
    assert!(err.is_empty(), "{err}");
    insta::assert_snapshot!("repl_ddpg", normalise(&out));
}

#[test]
fn sac_session() {
    let script = session_script(
        "act_explore",
        "alpha_loss",
        "pi(randn([2, 3])).sample()",
        "batch=64",
    );
    let (code, out, err) = repl(&["stdlib/sac.rl"], &script);
    assert_eq!(code, Some(1), "{err}");
    insta::assert_snapshot!("repl_sac", normalise(&out));
}

#[test]
fn acer_session() {
    let script = session_script(
        "act_behave",
        "policy_loss",
        "softmax(pi(randn([2, 4])))",
        "lambda=0.9",
    );
    let (code, out, err) = repl(&["stdlib/acer.rl"], &script);
    assert_eq!(code, Some(1), "{err}");
    insta::assert_snapshot!("repl_acer", normalise(&out));
}

#[test]
fn a_clean_session_exits_zero_and_commands_do_their_work() {
    let dot = std::env::temp_dir().join(format!("rlc-repl-{}.dot", std::process::id()));
    let script = format!(
        ":entries\n:show train --after all\n:time net_critic\n:code net_critic\n:dot train {}\n:set hidden=[8, 8]\n:params\n",
        dot.display()
    );
    let (code, out, err) = repl(&["stdlib/ddpg.rl"], &script);
    assert_eq!(code, Some(0), "{out}\n{err}");
    // :show prints the optimised training graph with its matrix products.
    assert!(out.contains("train(%0 D.s: f32[256,3]"), "{out}");
    assert!(out.contains("matmul"), "{out}");
    // :time reports a positive time and a rate.
    let timing = out
        .lines()
        .find(|l| l.starts_with("net_critic on jit:"))
        .expect("timing line");
    assert!(timing.contains("GFLOP/s"), "{timing}");
    // :code shows Cranelift IR with vector instructions.
    assert!(out.contains("function "), "no Cranelift function in\n{out}");
    assert!(out.contains("f32x4"), "no SIMD in the generated code");
    // :dot wrote a DOT file.
    let text = std::fs::read_to_string(&dot).expect("dot file");
    assert!(text.starts_with("digraph"), "{text}");
    let _ = std::fs::remove_file(&dot);
    // :set recompiled with the smaller nets: 3*8+8 + 8*8+8 + 8+1 = 113 actor parameters.
    assert!(out.contains("net actor: 113 parameters"), "{out}");
}

/// Numbers in the printed values of one `:eval` (everything inside brackets).
fn numbers(block: &str) -> Vec<Vec<f64>> {
    block
        .lines()
        .map(|l| {
            // Skip the `N: ` of a tuple element and the type (`f32[3]`, `f32[]` for a scalar).
            let body = &l[l.find(']').map_or(0, |i| i + 1)..];
            body.split(|c: char| c == '[' || c == ']' || c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .map(|w| {
                    w.parse::<f64>()
                        .unwrap_or_else(|_| panic!("not a number `{w}` in `{l}`"))
                })
                .collect()
        })
        .collect()
}

#[test]
fn eval_of_every_trace_operator_gives_the_rlax_conformance_output() {
    let ops = [
        "discounted_returns",
        "n_step_returns",
        "lambda_returns",
        "gae",
        "retrace",
        "retrace_discrete",
        "vtrace",
        "importance_corrected_td_errors",
        "td_lambda",
        "sarsa_lambda",
        "q_lambda",
        "general_off_policy_returns_from_action_values",
        "tree_backup_returns",
        "transformed_n_step_q_learning",
        "categorical_l2_project",
        "categorical_td_learning",
        "quantile_regression_loss",
    ];
    for op in ops {
        let path = conformance_dir()
            .join("traces")
            .join(format!("{}.json", file(op)));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file: serde_json::Value = serde_json::from_str(&text).expect("json");
        let cases = file["cases"].as_array().expect("cases");
        // One session per operator; a marker line separates the cases' outputs.
        let script: String = cases
            .iter()
            .map(|c| format!(":eval {}\n:eval 424242\n", call(op, c)))
            .collect();
        let (code, out, err) = repl(&[], &script);
        assert_eq!(code, Some(0), "{op}: {out}\n{err}");
        let blocks: Vec<&str> = out.split("424242\n").collect();
        assert_eq!(blocks.len(), cases.len() + 1, "{op}: {out}");
        for (ci, (case, block)) in cases.iter().zip(&blocks).enumerate() {
            let want = expected(op, case);
            let got = numbers(block);
            assert_eq!(got.len(), want.len(), "{op} case {ci}: {block}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.len(), w.len(), "{op} case {ci}: {block}");
                for (a, b) in g.iter().zip(w) {
                    // Values print with 7 significant digits.
                    assert!(
                        (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                        "{op} case {ci}: got {a}, rlax {b}"
                    );
                }
            }
        }
    }
}

/// Fragments random lines are built from: commands, names, flags and junk.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            ":load",
            ":reload",
            ":entries",
            ":show",
            ":passes",
            ":dot",
            ":params",
            ":grad",
            ":eval",
            ":code",
            ":set",
            ":env",
            ":backend",
            ":help",
            ":",
            "::",
            ":time",
            "--after",
            "--backend",
            "train",
            "act_explore",
            "eval",
            "policy_loss",
            "q_loss",
            "fold",
            "dce",
            "jit",
            "interp",
            "hidden=[",
            "lambda=",
            "gamma=2",
            "CartPole-v1",
            "Pendulum-v1",
            "pi(",
            "q(",
            "randn([2,4])",
            "gae(",
            "[1,2]",
            "scan",
            "stop(",
            ")",
            "]",
            "=",
            "1e999",
            "-",
            "x.dot",
            "stdlib/acer.rl",
            "\u{1F600}",
        ])
        .prop_map(String::from),
        "[ -~]{0,12}",
    ]
}

fn line() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..6).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    /// Whatever is typed, the REPL answers and goes on: no panic, exit 0 or 1.
    #[test]
    fn random_lines_never_crash_the_repl(lines in prop::collection::vec(line(), 1..16)) {
        // A scratch directory, so `:dot` with a random path writes nowhere that matters.
        let dir = std::env::temp_dir().join(format!("rlc-repl-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let acer = common::root().join("stdlib/acer.rl");
        let script: String = lines
            .iter()
            .filter(|l| !l.starts_with(":time") && !l.starts_with(":quit") && !l.starts_with(":q"))
            .map(|l| format!("{l}\n"))
            .collect();
        let (code, out, err) = repl_in(&dir, &[acer.to_str().expect("utf-8 path")], &script);
        prop_assert!(!err.contains("panicked"), "panic on\n{script}\n{err}");
        prop_assert!(matches!(code, Some(0 | 1)), "exit {code:?} on\n{script}\n{out}\n{err}");
    }
}

/// The README's debugging story: a DDPG variant whose TD target is neither stopped nor
/// computed by the target nets. `:grad` shows the critic's loss going through the critic
/// twice and reaching the actor.
#[test]
fn grad_explains_an_unstopped_td_target() {
    let ddpg = std::fs::read_to_string(common::stdlib().join("ddpg.rl")).expect("ddpg.rl");
    let stopped = "let y = stop(b.r + gamma * (1 - b.done) * critic_t(b.s2, actor_t(b.s2)))";
    assert!(ddpg.contains(stopped), "ddpg.rl changed; update this test");
    let variant = ddpg.replace(
        stopped,
        "let y = b.r + gamma * (1 - b.done) * critic(b.s2, actor(b.s2))",
    );
    let dir = std::env::temp_dir().join(format!("rlc-repl-variant-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("my_ddpg.rl"), variant).expect("write");
    let (code, out, err) = repl_in(&dir, &["my_ddpg.rl"], ":grad critic_loss\n");
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.contains("critic: 6 tensors, 67,329 values, differentiated through 2 applications"),
        "{out}"
    );
    assert!(
        out.contains("actor: 6 tensors, 67,073 values  (gradient flows through"),
        "{out}"
    );
    assert!(out.contains("needs `stop(...)` or a target net"), "{out}");
    // The stdlib's DDPG has neither problem.
    let (_, out, _) = repl(&["stdlib/ddpg.rl"], ":grad critic_loss\n");
    assert!(
        out.contains(
            "reaches 6 parameter tensors:\n  critic: 6 tensors, 67,329 values  (updated by this loss)"
        ),
        "{out}"
    );
}

/// Asserts that `out` holds each of `expected`, each after the one before.
fn assert_in_order(out: &str, expected: &[&str]) {
    let mut rest = out;
    for e in expected {
        let at = rest
            .find(e)
            .unwrap_or_else(|| panic!("no {e:?} after what came before in\n{out}"));
        rest = &rest[at + e.len()..];
    }
}

/// `let` binds names that later lines see (shadowing as in a block, tuples, nets of the loaded
/// program); a binding that fails is not kept; `:lets` lists and forgets them; an expression
/// with an unclosed bracket continues on the next line, and one left open at the end of input
/// is reported.
#[test]
fn let_bindings_and_multi_line_input() {
    let script = "let x = 3\nlet y = x * [1, 2]\ny + x\n{\n  let c = x + 1\n  c * 2\n}\n\
                  let z = nope + 1\n:lets\nlet x = 10\nx + 1\nlet w\n:lets clear\nx\n[1,\n";
    let (code, out, err) = repl(&[], script);
    assert_eq!(code, Some(1), "failed lines make the exit status 1\n{out}{err}");
    let expected_in_order = [
        "x = 3",
        "y = f32[2] [3, 6]",
        "f32[2] [6, 9]",
        "8",
        "cannot find `nope` in this scope",
        // `:lets` lists the two bindings that succeeded, nothing else.
        "\nlet x = 3\nlet y = x * [1, 2]\nx = 10",
        "11",
        "error: usage: let NAME = EXPR",
        "forgot 3 bindings",
        "cannot find `x` in this scope",
        "expected `]` or an expression, found the end of the file",
    ];
    assert_in_order(&out, &expected_in_order);
    // Bindings see the loaded program's nets; a call continues over two lines.
    let (code, out, _) = repl(
        &["stdlib/ddpg.rl"],
        "let s = [[0.1, 0.2, 0.3]]\nlet a = actor(s)\ncritic(s,\n  a)\n",
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("a = f32[1,1] ") && out.contains("\nf32[1] "),
        "{out}"
    );
}

/// `fn` at the prompt defines a function later lines call (a new definition replaces it, a bad
/// one is a located error and is not kept); in a loaded program its body sees the nets and
/// hyperparameters, it survives `:set`, and a program without those nets drops it with a note.
#[test]
fn fn_definitions_at_the_prompt() {
    let script = "fn sq(x) = x * x\nsq(3)\nfn sq(x) = x * x * x\nsq(2)\nfn bad(x) = nope(x)\nbad(1)\n\
                  fn g(x) = {\n  let y = sq(x)\n  y + 1\n}\ng([1, 2])\n";
    let (code, out, _) = repl(&[], script);
    assert_eq!(code, Some(1), "{out}");
    let expected_in_order = [
        "defined sq\n9\n",
        "defined sq\n8\n",
        "<definition>:1:13",
        "cannot find `bad` in this scope",
        "defined g\nf32[2] [2, 9]\n",
    ];
    assert_in_order(&out, &expected_in_order);
    let script = "fn q(s) = critic(s, actor(s))\nfn width() = hidden\nwidth()\n:set hidden=[8]\nwidth()\n\
                  q(zeros([2, 3]))\n:load stdlib/ppo.rl\n";
    let (code, out, _) = repl(&["stdlib/ddpg.rl"], script);
    assert_eq!(code, Some(0), "{out}");
    for e in [
        "defined q\ndefined width\n[256, 256]\n",
        "[8]\nf32[2] ",
        "note: `fn q(s) = critic(s, actor(s))` is dropped: cannot find `critic` in this scope",
    ] {
        assert!(out.contains(e), "no {e:?} in\n{out}");
    }
}
