//! Diagnostics of update and target rules (`rule` declarations, stdlib/optim.rl).

use super::{check, with};
use rlc_compiler::diag::Code;

/// A user-defined update rule, put before the algorithm.
fn with_rule(rule: &str, from: &str, to: &str) -> String {
    let src = with(from, to);
    let at = src.find("algorithm tiny").expect("algorithm");
    format!("{}{rule}\n\n{}", &src[..at], &src[at..])
}

#[test]
fn rule_unknown_with_suggestion() {
    check(
        "rule_unknown",
        &with(
            "update critic by adam(lr = 1e-3)",
            "update critic by adan(lr = 1e-3)",
        ),
        Code::UnknownName,
    );
}

#[test]
fn rule_of_the_wrong_kind() {
    // `polyak` is how a target follows its net, not an update.
    check(
        "rule_wrong_kind",
        &with(
            "update critic by adam(lr = 1e-3)",
            "update critic by polyak(tau = 0.5)",
        ),
        Code::TypeMismatch,
    );
}

#[test]
fn rule_requirement_fails_at_the_setting() {
    check(
        "rule_requirement",
        &with(
            "update critic by adam(lr = 1e-3)",
            "update critic by adam(lr = 1e-3, b1 = 1.5)",
        ),
        Code::BadArgument,
    );
}

#[test]
fn rule_result_must_have_the_parameter_type() {
    check(
        "rule_result_type",
        &with_rule(
            "rule halve(lr) {\n  each (p, g) { mean(p - lr * g) }\n}",
            "update critic by adam(lr = 1e-3)",
            "update critic by halve(lr = 1e-3)",
        ),
        Code::TypeMismatch,
    );
}

#[test]
fn rule_shared_state_set_per_parameter() {
    check(
        "rule_shared_state_in_each",
        &with_rule(
            "rule counted(lr) {\n  state n = 0.0\n  each (p, g) {\n    set n = n + 1\n    p - lr * g\n  }\n}",
            "update critic by adam(lr = 1e-3)",
            "update critic by counted(lr = 1e-3)",
        ),
        Code::StateWrite,
    );
}

#[test]
fn rule_state_starts_from_a_constant() {
    check(
        "rule_state_not_constant",
        &with_rule(
            "rule odd(lr) {\n  each (p, g) {\n    state m = g\n    p - lr * m\n  }\n}",
            "update critic by adam(lr = 1e-3)",
            "update critic by odd(lr = 1e-3)",
        ),
        Code::NotConstant,
    );
}
