//! Diagnostics of what natural-gradient rules are built from: small linear algebra and loops
//! whose carries are tensors.

use super::{check, with};
use rlc_compiler::diag::Code;

const ACTOR_LOSS: &str = "-mean(critic(b.s, actor(b.s)))";

#[test]
fn solve_needs_a_square_matrix() {
    check(
        "linalg_solve_not_square",
        &with(
            ACTOR_LOSS,
            "-mean(critic(b.s, actor(b.s))) + sum(solve([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [1.0, 2.0]))",
        ),
        Code::ShapeMismatch,
    );
}

#[test]
fn cholesky_needs_a_square_matrix() {
    check(
        "linalg_cholesky_not_square",
        &with(
            ACTOR_LOSS,
            "-mean(critic(b.s, actor(b.s))) + sum(cholesky([[1.0, 2.0]]))",
        ),
        Code::ShapeMismatch,
    );
}

#[test]
fn a_scan_carry_keeps_its_shape() {
    // Each step makes the carry one longer: no fixed type to compile the loop with.
    check(
        "linalg_scan_carry_grows",
        &with(
            ACTOR_LOSS,
            "-mean(critic(b.s, actor(b.s))) + sum(scan t in 3 with c = [1.0] { concat(c, [1.0]) })",
        ),
        Code::ShapeMismatch,
    );
}
