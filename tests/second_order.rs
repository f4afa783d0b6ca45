//! Gradients of gradients — what TRPO's Fisher-vector products (the Hessian of the mean KL
//! applied to a vector) and any Hessian-vector product need: `grad(sum(grad(f, x) * v), x)`
//! against central finite differences of the first gradient, (∇f(x + εv) - ∇f(x - εv)) / 2ε,
//! on the reference interpreter in f64.

mod common;

use rlc_compiler::driver::{Driver, no_env};
use rlc_compiler::interp::eval;

/// Evaluates an expression; its first output, flattened.
fn value(text: &str) -> Vec<f64> {
    let mut d = Driver::new(Some(common::stdlib()));
    let m = d
        .load_text("t.rl", Some(&common::stdlib()), "")
        .unwrap_or_else(|e| panic!("{e:?}"));
    let traced = d.trace_expr(m, None, no_env(), text).unwrap_or_else(|e| {
        panic!(
            "{text}\n{}",
            rlc_compiler::diag::render_all(&e, &d.mods.sources, false)
        )
    });
    let r = eval::<f64>(&traced.graph, &[], &[]).unwrap_or_else(|e| panic!("{text}: {e}"));
    r.outputs[0].to_f64()
}

fn literal(x: &[f64], shape: &[usize]) -> String {
    let fmt = |v: &[f64]| v.iter().map(|a| format!("{a:e}")).collect::<Vec<_>>().join(", ");
    match shape {
        [_] => format!("f32([{}])", fmt(x)),
        [r, c] => {
            let rows: Vec<String> = (0..*r)
                .map(|i| format!("[{}]", fmt(&x[i * c..(i + 1) * c])))
                .collect();
            format!("f32([{}])", rows.join(", "))
        }
        _ => unreachable!("rank 1 or 2"),
    }
}

/// `f` is an expression of `x`; checks its Hessian-vector product at `x0` along `v`.
fn check_hvp(f: &str, x0: &[f64], v: &[f64], shape: &[usize]) {
    let hvp = value(&format!(
        "{{ let x = {}\n let v = {}\n grad(sum(grad({f}, x) * v), x) }}",
        literal(x0, shape),
        literal(v, shape)
    ));
    let grad_at = |x: &[f64]| value(&format!("{{ let x = {}\n grad({f}, x) }}", literal(x, shape)));
    let eps = 1e-5;
    let plus: Vec<f64> = x0.iter().zip(v).map(|(a, b)| a + eps * b).collect();
    let minus: Vec<f64> = x0.iter().zip(v).map(|(a, b)| a - eps * b).collect();
    let (gp, gm) = (grad_at(&plus), grad_at(&minus));
    let scale = hvp.iter().fold(1.0f64, |m, a| m.max(a.abs()));
    for (i, h) in hvp.iter().enumerate() {
        let fd = (gp[i] - gm[i]) / (2.0 * eps);
        assert!(
            (h - fd).abs() <= 1e-6 * scale,
            "{f}: Hv[{i}] = {h}, finite differences {fd}"
        );
    }
    assert!(
        hvp.iter().any(|h| h.abs() > 1e-3),
        "{f}: a vacuous Hessian {hvp:?}"
    );
}

#[test]
fn hessian_vector_products_of_smooth_functions_match_finite_differences() {
    let x0 = [0.3, -1.2, 0.8, 0.05, 1.5, -0.4];
    let v = [1.0, 0.5, -2.0, 0.25, -0.7, 1.1];
    check_hvp("sum(tanh(x)^3)", &x0, &v, &[6]);
    check_hvp("logsumexp(x) * sum(x^2)", &x0, &v, &[6]);
    // A small net: tanh layer and a quadratic readout, with x as the weights.
    check_hvp(
        "sum(tanh(matmul([[1.0, -0.5], [0.3, 2.0]], x))^2 * [[1.0, 2.0, 0.5], [0.2, 1.0, -1.0]])",
        &x0,
        &v,
        &[2, 3],
    );
}

#[test]
fn fisher_vector_products_of_the_mean_kl_match_finite_differences() {
    // TRPO's curvature: the Hessian of KL(π_old ‖ π_θ) in the logits, at θ away from θ_old
    // (at θ_old itself it is the Fisher matrix; here the second-order terms count too).
    let old = "stop([[0.2, -0.3, 1.0], [1.5, 0.1, -0.6]])";
    let x0 = [0.25, -0.2, 0.9, 1.4, 0.3, -0.5];
    let v = [0.5, -1.0, 0.25, 1.0, 0.3, -0.2];
    check_hvp(
        &format!("mean(kl(categorical({old}), categorical(x)))"),
        &x0,
        &v,
        &[2, 3],
    );
    // A diagonal Gaussian policy: x holds the mean (row 0) and the log standard deviation.
    check_hvp(
        "mean(kl(normal(stop([[0.1, -0.4, 0.3]]), stop(exp([[0.2, -0.1, 0.0]]))), normal(x[:1], exp(x[1:]))))",
        &x0,
        &v,
        &[2, 3],
    );
}
