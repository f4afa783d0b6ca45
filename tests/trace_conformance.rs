//! Conformance of the library operators in `stdlib/traces.rl` and `stdlib/distributional.rl`
//! against vectors recorded from rlax (`../shared/conformance/traces`, or `RLC_CONFORMANCE_DIR`): on the interpreter in f64
//! (tolerance 1e-9 * max(1, |e|)) and on the JIT in f32 (1e-4 * max(1, |e|)).

mod common;

use common::traces::{call, conformance_dir, expected, file, import};
use rlc_compiler::backend::{Backend, JitBackend, Out};
use rlc_compiler::driver::{Driver, no_env};
use rlc_compiler::interp::eval;
use serde_json::Value;

fn check(got: &[f64], want: &[f64], eps: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= eps * 1f64.max(w.abs()),
            "{what}[{k}]: got {g}, rlax {w}"
        );
    }
}

fn run_op(op: &str) {
    let path = conformance_dir()
        .join("traces")
        .join(format!("{}.json", file(op)));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: Value = serde_json::from_str(&text).expect("json");
    let cases = file["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    let mut d = Driver::new(Some(common::stdlib()));
    let m = d
        .load_text("conformance.rl", Some(&common::stdlib()), &import(op))
        .expect("load");
    for (ci, case) in cases.iter().enumerate() {
        let tags = &case["tags"];
        let what = format!("{op} case {ci} {tags}");
        let traced = d
            .trace_expr(m, None, no_env(), &call(op, case))
            .unwrap_or_else(|e| {
                panic!(
                    "{what}: {}",
                    rlc_compiler::diag::render_all(&e, &d.mods.sources, false)
                )
            });
        let g = &traced.graph;
        let want = expected(op, case);
        assert_eq!(g.outputs.len(), want.len(), "{what}: outputs");
        // Interpreter, f64.
        let r = eval::<f64>(g, &[], &[]).expect("eval");
        for (k, w) in want.iter().enumerate() {
            check(
                &r.outputs[k].to_f64(),
                w,
                1e-9,
                &format!("{what} interp output {k}"),
            );
        }
        // JIT, f32.
        let mut jit = JitBackend::new();
        jit.init_state(&traced.states, 0).expect("init");
        let id = jit.compile(op, g).expect("compile");
        let mut bufs: Vec<Vec<f32>> = g
            .outputs
            .iter()
            .map(|(_, o)| vec![0.0; g.ty(*o).numel()])
            .collect();
        let mut outs: Vec<Out<'_>> = bufs.iter_mut().map(|b| Out::F32(b)).collect();
        jit.call(id, &[], &mut outs).expect("call");
        for (k, w) in want.iter().enumerate() {
            let got: Vec<f64> = bufs[k].iter().map(|x| f64::from(*x)).collect();
            check(&got, w, 1e-4, &format!("{what} jit output {k}"));
        }
    }
}

#[test]
fn conformance_discounted_returns() {
    run_op("discounted_returns");
}
#[test]
fn conformance_n_step_returns() {
    run_op("n_step_returns");
}
#[test]
fn conformance_lambda_returns() {
    run_op("lambda_returns");
}
#[test]
fn conformance_gae() {
    run_op("gae");
}
#[test]
fn conformance_retrace() {
    run_op("retrace");
}
#[test]
fn conformance_retrace_discrete() {
    run_op("retrace_discrete");
}
#[test]
fn conformance_vtrace() {
    run_op("vtrace");
}
#[test]
fn conformance_importance_corrected_td_errors() {
    run_op("importance_corrected_td_errors");
}
#[test]
fn conformance_td_lambda() {
    run_op("td_lambda");
}
#[test]
fn conformance_sarsa_lambda() {
    run_op("sarsa_lambda");
}
#[test]
fn conformance_q_lambda() {
    run_op("q_lambda");
}
#[test]
fn conformance_general_off_policy_returns_from_action_values() {
    run_op("general_off_policy_returns_from_action_values");
}
#[test]
fn conformance_tree_backup_returns() {
    run_op("tree_backup_returns");
}
#[test]
fn conformance_transformed_n_step_q_learning() {
    run_op("transformed_n_step_q_learning");
}
#[test]
fn conformance_categorical_l2_project() {
    run_op("categorical_l2_project");
}
#[test]
fn conformance_categorical_td_learning() {
    run_op("categorical_td_learning");
}
#[test]
fn conformance_quantile_regression_loss() {
    run_op("quantile_regression_loss");
}

/// The batched projection (leading batch axes on all three arguments) equals the per-row
/// projection row by row: the recorded cases grouped by (Kp, Kq), each group stacked into one
/// `[rows, K]` call, checked against rlax's rows on the interpreter (f64) and the JIT (f32).
#[test]
fn batched_categorical_l2_project_equals_per_row() {
    let op = "categorical_l2_project";
    let path = conformance_dir().join("traces").join(format!("{op}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: Value = serde_json::from_str(&text).expect("json");
    let cases = file["cases"].as_array().expect("cases");
    let mut groups: std::collections::BTreeMap<(usize, usize), Vec<&Value>> = Default::default();
    for c in cases {
        let len = |k: &str| c["inputs"][k].as_array().expect("array").len();
        groups.entry((len("z_p"), len("z_q"))).or_default().push(c);
    }
    let mut d = Driver::new(Some(common::stdlib()));
    let m = d
        .load_text("batched.rl", Some(&common::stdlib()), &import(op))
        .expect("load");
    let mut checked = 0;
    for ((kp, kq), rows) in groups.iter().filter(|(_, rows)| rows.len() > 1) {
        let stack = |k: &str| {
            let r: Vec<String> = rows
                .iter()
                .map(|c| common::traces::literal(&c["inputs"][k]))
                .collect();
            format!("[{}]", r.join(", "))
        };
        let expr = format!("{op}({}, {}, {})", stack("z_p"), stack("probs"), stack("z_q"));
        let traced = d.trace_expr(m, None, no_env(), &expr).expect("batched call");
        let g = &traced.graph;
        assert_eq!(g.ty(g.outputs[0].1).shape, vec![rows.len(), *kq], "Kp={kp}");
        let interp = eval::<f64>(g, &[], &[]).expect("eval").outputs[0].to_f64();
        let mut jit = JitBackend::new();
        jit.init_state(&traced.states, 0).expect("init");
        let id = jit.compile(op, g).expect("compile");
        let mut buf = vec![0.0f32; rows.len() * kq];
        jit.call(id, &[], &mut [Out::F32(&mut buf)]).expect("call");
        let jit: Vec<f64> = buf.iter().map(|x| f64::from(*x)).collect();
        for (r, c) in rows.iter().enumerate() {
            let want = &expected(op, c)[0];
            let what = format!("Kp={kp} Kq={kq} row {r}");
            check(
                &interp[r * kq..(r + 1) * kq],
                want,
                1e-9,
                &format!("{what} interp"),
            );
            check(&jit[r * kq..(r + 1) * kq], want, 1e-4, &format!("{what} jit"));
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} rows batched");
}
