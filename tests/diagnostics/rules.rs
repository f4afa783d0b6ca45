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

#[test]
fn rule_whole_result_must_be_a_list_of_parameters() {
    // A rule ending in an expression gives every new value at once, as a list like `params`.
    check(
        "rule_whole_result",
        &with_rule(
            "rule flat_sgd(lr) {\n  flatten(params) - lr * flatten(grads)\n}",
            "update critic by adam(lr = 1e-3)",
            "update critic by flat_sgd(lr = 1e-3)",
        ),
        Code::TypeMismatch,
    );
}

#[test]
fn rule_unflatten_sizes_must_add_up() {
    check(
        "rule_unflatten_sizes",
        &with_rule(
            "rule cut(lr) {\n  unflatten(flatten(params) - lr * flatten(grads), params[1:3])\n}",
            "update critic by adam(lr = 1e-3)",
            "update critic by cut(lr = 1e-3)",
        ),
        Code::ShapeMismatch,
    );
}

#[test]
fn rule_loss_takes_the_parameter_list() {
    // `loss(ps)` re-evaluates the update's loss at other parameters: `ps` is a list like `params`.
    check(
        "rule_loss_arguments",
        &with_rule(
            "rule probe(lr) {\n  let l = loss([1.0])\n  each (p, g) { p - lr * l * g }\n}",
            "update critic by adam(lr = 1e-3)",
            "update critic by probe(lr = 1e-3)",
        ),
        Code::TypeMismatch,
    );
}

#[test]
fn loss_is_evaluated_again_only_inside_a_rule() {
    check(
        "rule_loss_outside_rule",
        &with(
            "-mean(critic(b.s, actor(b.s)))",
            "-mean(critic(b.s, actor(b.s))) + critic_loss([])",
        ),
        Code::TypeMismatch,
    );
}

#[test]
fn layers_are_for_update_rules() {
    check(
        "rule_layers_outside_rule",
        &with(
            "-mean(critic(b.s, actor(b.s)))",
            "-mean(critic(b.s, actor(b.s))) + sum(critic_loss.layers()[0].x)",
        ),
        Code::TypeMismatch,
    );
}

#[test]
fn layers_cover_only_linear_layers() {
    // A learnable is no layer's weight or bias: K-FAC has no statistics for it.
    let src = with_rule(
        "rule probe(lr) {\n  let l = loss.layers()\n  each (p, g) { p - lr * g }\n}",
        "update critic by adam(lr = 1e-3) on critic_loss",
        "update critic by adam(lr = 1e-3) on critic_loss\n  update scale by probe(lr = 1e-3) on scale_loss",
    );
    let src = src.replace(
        "  replay D capacity",
        "  learnable scale = 1.0\n  loss scale_loss(b ~ D.sample(batch)) = mean((scale * b.r)^2)\n  replay D capacity",
    );
    check("rule_layers_not_a_layer", &src, Code::BadArgument);
}
