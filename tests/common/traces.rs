//! Conformance cases of the trace operators (`../shared/conformance/traces`): the `.rl` call
//! of a case and its recorded outputs.

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

/// The call of the operator for one case, with the argument order of `traces.rl`.
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
        _ => vec![nums(o)],
    }
}
