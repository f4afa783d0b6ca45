//! The linear-algebra and gather builtins on small inputs with hand-computed answers:
//! `matmul` (batched, broadcast), `lower_triangular`, `take_along` (broadcast indices),
//! `solve`, and their gradients through `grad`, evaluated by the reference interpreter in f64.
//! (Every backend runs them against the interpreter in `tests/routines.rs`.)

mod common;

use rlc_compiler::driver::{Driver, no_env};
use rlc_compiler::interp::eval;

/// Evaluates an expression; its outputs, flattened.
fn eval_expr(text: &str) -> Result<Vec<Vec<f64>>, String> {
    let mut d = Driver::new(Some(common::stdlib()));
    let m = d
        .load_text("t.rl", Some(&common::stdlib()), "")
        .map_err(|e| format!("{e:?}"))?;
    let traced = d
        .trace_expr(m, None, no_env(), text)
        .map_err(|e| rlc_compiler::diag::render_all(&e, &d.mods.sources, false))?;
    let r = eval::<f64>(&traced.graph, &[], &[]).map_err(|e| e.to_string())?;
    Ok(r.outputs.iter().map(|t| t.to_f64()).collect())
}

fn value(text: &str) -> Vec<f64> {
    let mut outs = eval_expr(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(outs.len(), 1, "{text}");
    outs.remove(0)
}

fn close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-9 * w.abs().max(1.0),
            "{what}: {got:?} vs {want:?}"
        );
    }
}

#[test]
fn matmul_multiplies_the_last_two_axes_and_broadcasts_the_rest() {
    // Two [2, 3] matrices times one shared [3, 2].
    let a = "[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[0.0, 1.0, 0.0], [1.0, 0.0, -1.0]]]";
    let b = "[[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]]";
    let got = value(&format!("matmul({a}, {b})"));
    close(&got, &[7.0, -1.0, 16.0, -1.0, 0.0, 1.0, -1.0, 1.0], "batched");
    // The plain product takes the primitive path and agrees.
    let got = value(&format!("matmul({a}[0], {b})"));
    close(&got, &[7.0, -1.0, 16.0, -1.0], "plain");
}

#[test]
fn lower_triangular_fills_rows_and_zeroes_the_upper_part() {
    let got = value("lower_triangular([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])");
    close(&got, &[1.0, 0.0, 0.0, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0], "3x3");
    let got = value("lower_triangular([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])");
    close(&got, &[1.0, 0.0, 2.0, 3.0, 4.0, 0.0, 5.0, 6.0], "batched 2x2");
}

#[test]
fn gradients_flow_through_the_triangle_and_the_product() {
    // d/dv sum(L(v) * w) picks w's lower triangle, row by row.
    let w = "[[1.0, 10.0], [2.0, 3.0]]";
    let got = value(&format!(
        "{{ let v = f32([0.5, -1.0, 2.0])\n grad(sum(lower_triangular(v) * {w}), v) }}"
    ));
    close(&got, &[1.0, 2.0, 3.0], "d tril");
    // d/da sum(matmul(a, b) * w) = w @ b^T.
    let got = value(
        "{ let a = f32([[1.0, 2.0], [3.0, 4.0]])\n let b = [[1.0, -1.0], [2.0, 0.5]]\n grad(sum(matmul(a, b) * [[1.0, 0.0], [2.0, 1.0]]), a) }",
    );
    // w @ b^T = [[1, 2], [1.0, 4.5]]
    close(&got, &[1.0, 2.0, 1.0, 4.5], "d matmul");
}

#[test]
fn take_along_repeats_size_one_index_axes() {
    // x [2, 3]; one index per row, broadcast over nothing; then idx [1, 2] shared by both rows.
    let x = "[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]";
    close(
        &value(&format!("take_along({x}, [[2], [0]])")),
        &[3.0, 4.0],
        "per row",
    );
    close(
        &value(&format!("take_along({x}, [[2, 1]])")),
        &[3.0, 2.0, 6.0, 5.0],
        "shared",
    );
    // Out-of-range positions are an error at the index, not clamped silently; clamping is
    // asked for with `clip` (and never reads the next row).
    let err = eval_expr(&format!("take_along({x}, [[5], [-1]])")).expect_err("out of range");
    assert!(
        err.contains("E0017") && err.contains("takes values -1..=5"),
        "{err}"
    );
    close(
        &value(&format!("take_along({x}, clip(i32([[5], [-1]]), 0, 2))")),
        &[3.0, 4.0],
        "clamped",
    );
}

#[test]
fn solve_solves() {
    close(
        &value("solve([[2.0, 1.0], [1.0, 3.0]], [3.0, 5.0])"),
        &[0.8, 1.4],
        "2x2",
    );
}

#[test]
fn cholesky_and_transpose() {
    // [[4, 2], [2, 5]] = l lᵀ with l = [[2, 0], [1, 2]]; the upper 99 is not read.
    close(
        &value("cholesky([[4.0, 99.0], [2.0, 5.0]])"),
        &[2.0, 0.0, 1.0, 2.0],
        "2x2",
    );
    close(
        &value("transpose([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])"),
        &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0],
        "2x3",
    );
    // solve with a Cholesky factor: two triangular solves give a⁻¹ b.
    let l = "cholesky([[4.0, 2.0], [2.0, 5.0]])";
    close(
        &value(&format!("solve(transpose({l}), solve({l}, [2.0, 3.0]))")),
        &[0.25, 0.5],
        "a⁻¹ b",
    );
}

#[test]
fn lists_of_tensors_flatten_and_cut_back() {
    // `for` without `with` is the list of its body's values; flatten joins any shapes.
    let xs = "for i in range(3) { zeros([i + 1]) + f32(i) }";
    close(
        &value(&format!("flatten({xs})")),
        &[0.0, 1.0, 1.0, 2.0, 2.0, 2.0],
        "flatten",
    );
    close(
        &value(&format!("unflatten([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], {xs})[2]")),
        &[4.0, 5.0, 6.0],
        "the third piece",
    );
    let err = eval_expr(&format!("unflatten([1.0, 2.0], {xs})")).expect_err("sizes");
    assert!(err.contains("the sizes must be equal"), "{err}");
}

#[test]
fn bad_shapes_are_located_errors() {
    for (text, want) in [
        ("lower_triangular([1.0, 2.0, 3.0, 4.0])", "n(n+1)/2"),
        (
            "matmul([[1.0, 2.0]], [[1.0, 2.0]])",
            "matmul needs [.., m, k] and [.., k, n]",
        ),
        ("matmul([1.0, 2.0], [[1.0], [2.0]])", "matmul needs"),
        ("take_along([[1.0, 2.0]], [1])", "shaped like x (or 1)"),
        ("solve([[1.0, 2.0]], [1.0])", "needs a of shape [n, n]"),
        ("cholesky([[1.0, 2.0]])", "needs a square matrix"),
        ("transpose([1.0, 2.0])", "swaps the last two axes"),
    ] {
        let err = eval_expr(text).expect_err(text);
        assert!(err.contains(want), "{text}:\n{err}");
    }
}
