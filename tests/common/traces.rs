//! Conformance cases of the library operators (`../shared/conformance/traces`): the library
//! module and recorded file of an operator, the `.rl` call of a case and its recorded outputs.

use serde_json::Value;
use std::path::PathBuf;

/// The conformance directory: `RLC_CONFORMANCE_DIR`, else `../shared/conformance`.
pub fn conformance_dir() -> PathBuf {
    if let Ok(d) = std::env::var("RLC_CONFORMANCE_DIR")
        && !d.is_empty()
    {
        return PathBuf::from(d);
    }
    super::root().join("../shared/conformance")
}

/// A JSON value as `.rl` literal text (f64 numbers in shortest round-trip form).
pub fn literal(v: &Value) -> String {
    match v {
        Value::Array(items) => format!("[{}]", items.iter().map(literal).collect::<Vec<_>>().join(", ")),
        Value::Number(n) if n.is_i64() => n.to_string(),
        Value::Number(n) => {
            let f = n.as_f64().expect("number");
            let s = format!("{f:?}");
            if s.contains('.') || s.contains('e') {
                s
            } else {
                format!("{s}.0")
            }
        }
        other => panic!("unexpected input {other}"),
    }
}

/// The import that brings an operator, and whatever else its call uses, into scope.
pub fn import(op: &str) -> String {
    match op {
        "categorical_l2_project" | "quantile_regression_loss" => {
            format!("import distributional.{{{op}}}\n")
        }
        "categorical_td_learning" => {
            "import distributional.{categorical_td_learning, categorical_l2_project}\n".into()
        }
        _ => format!("import traces.{{{op}}}\n"),
    }
}

/// The recorded file (`traces/FILE.json`) an operator is checked against: its own, except
/// Tree-Backup, whose cases are general off-policy returns with c_t = pi_t(a_t).
pub fn file(op: &str) -> &str {
    match op {
        "tree_backup_returns" => "general_off_policy_returns_from_action_values",
        other => other,
    }
}

/// The call of the operator for one case, with the argument order of its library module.
pub fn call(op: &str, case: &Value) -> String {
    let i = &case["inputs"];
    let p = &case["params"];
    let a = |k: &str| literal(&i[k]);
    let q = |k: &str| literal(&p[k]);
    match op {
        "discounted_returns" => format!(
            "discounted_returns({}, {}, {})",
            a("r"),
            a("discount"),
            a("bootstrap")
        ),
        "gae" => format!(
            "gae({}, {}, {}, {})",
            a("r"),
            a("discount"),
            a("values"),
            q("lambda")
        ),
        "lambda_returns" => format!(
            "lambda_returns({}, {}, {}, {})",
            a("r"),
            a("discount"),
            a("v"),
            q("lambda")
        ),
        "n_step_returns" => format!(
            "n_step_returns({}, {}, {}, {})",
            a("r"),
            a("discount"),
            a("v"),
            q("n")
        ),
        "retrace" => format!(
            "retrace({}, {}, {}, {}, {}, {}, {})",
            a("q_tm1"),
            a("q_t"),
            a("v_t"),
            a("r"),
            a("discount"),
            a("log_rhos"),
            q("lambda")
        ),
        "retrace_discrete" => format!(
            "retrace_discrete({}, {}, {}, {}, {}, {}, {}, {}, {}, eps = {})",
            a("q_tm1"),
            a("q_t"),
            a("a_tm1"),
            a("a_t"),
            a("r"),
            a("discount"),
            a("pi_t"),
            a("mu_t"),
            q("lambda"),
            q("eps")
        ),
        "vtrace" => format!(
            "vtrace({}, {}, {}, {}, {}, {}, {}, {})",
            a("v_tm1"),
            a("v_t"),
            a("r"),
            a("discount"),
            a("rho_tm1"),
            q("lambda"),
            q("clip_rho_threshold"),
            q("clip_pg_rho_threshold")
        ),
        "importance_corrected_td_errors" => format!(
            "importance_corrected_td_errors({}, {}, {}, {}, {})",
            a("r"),
            a("discount"),
            a("rho_tm1"),
            a("lambda"),
            a("values")
        ),
        "td_lambda" => format!(
            "td_lambda({}, {}, {}, {}, {})",
            a("v_tm1"),
            a("r"),
            a("discount"),
            a("v_t"),
            q("lambda")
        ),
        "sarsa_lambda" => format!(
            "sarsa_lambda({}, {}, {}, {}, {}, {}, {})",
            a("q_tm1"),
            a("a_tm1"),
            a("r"),
            a("discount"),
            a("q_t"),
            a("a_t"),
            q("lambda")
        ),
        "q_lambda" => format!(
            "q_lambda({}, {}, {}, {}, {}, {})",
            a("q_tm1"),
            a("a_tm1"),
            a("r"),
            a("discount"),
            a("q_t"),
            q("lambda")
        ),
        "general_off_policy_returns_from_action_values" => format!(
            "general_off_policy_returns_from_action_values({}, {}, {}, {}, {}, {})",
            a("q_t"),
            a("a_t"),
            a("r"),
            a("discount"),
            a("c_t"),
            a("pi_t")
        ),
        // The traces are derived from pi_t here rather than read from c_t.
        "tree_backup_returns" => format!(
            "tree_backup_returns({}, {}, {}, {}, {})",
            a("q_t"),
            a("a_t"),
            a("r"),
            a("discount"),
            a("pi_t")
        ),
        "transformed_n_step_q_learning" => {
            assert_eq!(p["tx"], "signed_hyperbolic", "only the signed hyperbolic pair");
            format!(
                "transformed_n_step_q_learning({}, {}, {}, {}, {}, {}, {}, eps = {})",
                a("q_tm1"),
                a("a_tm1"),
                a("target_q_t"),
                a("a_t"),
                a("r"),
                a("discount"),
                q("n"),
                q("eps")
            )
        }
        "categorical_l2_project" => format!(
            "categorical_l2_project({}, {}, {})",
            a("z_p"),
            a("probs"),
            a("z_q")
        ),
        // The file also records the projected target, an intermediate of the loss: the call
        // returns both, the target computed as rlax computes it inside the loss.
        "categorical_td_learning" => format!(
            "(categorical_td_learning({atoms_tm1}, {}, {r}, {d}, {atoms_t}, {logits_t}), \
             categorical_l2_project({r} + {d} * {atoms_t}, softmax({logits_t}), {atoms_tm1}))",
            a("v_logits_tm1"),
            atoms_tm1 = a("v_atoms_tm1"),
            r = a("r_t"),
            d = a("discount_t"),
            atoms_t = a("v_atoms_t"),
            logits_t = a("v_logits_t"),
        ),
        "quantile_regression_loss" => format!(
            "quantile_regression_loss({}, {}, {}, {})",
            a("dist_src"),
            a("tau_src"),
            a("dist_target"),
            q("huber_param")
        ),
        other => panic!("unknown operator {other}"),
    }
}

/// Expected outputs in the order the operator returns them.
pub fn expected(op: &str, case: &Value) -> Vec<Vec<f64>> {
    let nums = |v: &Value| {
        v.as_array()
            .expect("array")
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .collect::<Vec<_>>()
    };
    let o = &case["output"];
    match op {
        "retrace" => vec![nums(&o["targets"]), nums(&o["errors"])],
        "vtrace" => vec![
            nums(&o["errors"]),
            nums(&o["pg_advantage"]),
            nums(&o["q_estimate"]),
        ],
        "categorical_td_learning" => vec![nums(&o["loss"]), nums(&o["target"])],
        _ => vec![nums(o)],
    }
}
