//! Every kind of diagnostic, printed as a user sees it (without colour), checked against
//! snapshots in `tests/snapshots/`. Run with `INSTA_UPDATE=always` to accept new output.

mod common;

use common::*;
use rlc_compiler::diag::{Code, Diagnostic, render_all};
use rlc_compiler::driver::{Driver, Request};

/// Update and target rules (`rule` declarations).
#[path = "diagnostics/linalg.rs"]
mod linalg;
#[path = "diagnostics/rules.rs"]
mod rules;

/// A small, valid DDPG; each test breaks one thing in it.
const BASE: &str = r#"import nets.{mlp}

algorithm tiny {
  param gamma = 0.99
  param batch = 32
  env: continuous default "Pendulum-v1"

  net actor(s: obs) = env.act_high * tanh(mlp(s, [16], env.act_dim))
  net critic(s: obs, a: act) = mlp(concat(s, a), [16], 1)[..., 0]
  target critic_t = polyak(critic, 0.01)
  target actor_t = polyak(actor, 0.01)

  replay D capacity 1000 of (s: obs, a: act, r: f32, s2: obs, done: f32)

  policy greedy(s) = actor(s)

  loss critic_loss(b ~ D.sample(batch)) = {
    let y = stop(b.r + gamma * (1 - b.done) * critic_t(b.s2, actor_t(b.s2)))
    mean((critic(b.s, b.a) - y)^2)
  }
  loss actor_loss(b ~ D.sample(batch)) = -mean(critic(b.s, actor(b.s)))

  update critic by adam(lr = 1e-3) on critic_loss
  update actor by adam(lr = 1e-3) on actor_loss

  schedule { act greedy into D; train 1 every 1 }
}
"#;

/// Compiles `src` (as `tiny.rl` in the stdlib directory); returns the rendered diagnostics
/// and their codes.
fn diagnose(src: &str, env: Option<&str>, overrides: &[&str]) -> (String, Vec<Code>) {
    let mut d = Driver::new(Some(stdlib()));
    let diags: Vec<Diagnostic> = match d.load_text("tiny.rl", Some(&stdlib()), src) {
        Err(e) => e,
        Ok(m) => {
            let req = Request {
                env: env.map(String::from),
                overrides: overrides.iter().map(|s| s.to_string()).collect(),
                eval_batch: None,
            };
            match d.compile(m, &req, &resolve) {
                Ok(_) => Vec::new(),
                Err(e) => e,
            }
        }
    };
    let text = render_all(&diags, &d.mods.sources, false);
    (text, diags.iter().map(|x| x.code).collect())
}

fn with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "base program has no {from:?}");
    BASE.replacen(from, to, 1)
}

/// Asserts the first diagnostic's code and snapshots the whole output.
fn check(name: &str, src: &str, code: Code) {
    check_with(name, src, code, None, &[]);
}

fn check_with(name: &str, src: &str, code: Code, env: Option<&str>, overrides: &[&str]) {
    let (text, codes) = diagnose(src, env, overrides);
    assert_eq!(
        codes.first(),
        Some(&code),
        "{name}: expected {code:?}, got {codes:?}\n{text}"
    );
    insta::assert_snapshot!(name, text);
}

#[test]
fn base_program_is_clean() {
    let (text, codes) = diagnose(BASE, None, &[]);
    assert!(codes.is_empty(), "{text}");
}

#[test]
fn e0001_syntax() {
    check(
        "e0001_syntax",
        &with("param batch = 32", "param batch 32"),
        Code::Syntax,
    );
}

#[test]
fn e0002_unknown_name_with_suggestion() {
    check(
        "e0002_unknown_name",
        &with("critic_t(b.s2", "critc_t(b.s2"),
        Code::UnknownName,
    );
}

#[test]
fn e0003_unknown_field() {
    check(
        "e0003_unknown_field",
        &with("let y = stop(b.r", "let y = stop(b.rew"),
        Code::UnknownField,
    );
}

#[test]
fn e0004_wrong_arity_points_at_definition() {
    check(
        "e0004_arity",
        &with("critic(b.s, actor(b.s))", "critic(b.s)"),
        Code::Arity,
    );
}

#[test]
fn e0005_shape_mismatch_shows_both_sides() {
    check(
        "e0005_shape_mismatch",
        &with("mlp(concat(s, a), [16], 1)[..., 0]", "mlp(concat(s, a), [16], 1)"),
        Code::ShapeMismatch,
    );
}

#[test]
fn e0006_type_mismatch() {
    check(
        "e0006_type_mismatch",
        &with("(1 - b.done)", "(1 - (b.done > 0.5))"),
        Code::TypeMismatch,
    );
}

#[test]
fn e0007_duplicate_definition() {
    check(
        "e0007_duplicate",
        &with(
            "  policy greedy(s) = actor(s)",
            "  policy greedy(s) = actor(s)\n  policy greedy(s) = actor(s)",
        ),
        Code::Duplicate,
    );
}

#[test]
fn e0008_module_not_found() {
    check(
        "e0008_module_not_found",
        &with("import nets.{mlp}", "import netz.{mlp}"),
        Code::ModuleNotFound,
    );
}

#[test]
fn e0009_import_not_found() {
    check(
        "e0009_import_not_found",
        &with("import nets.{mlp}", "import nets.{mlp, mpl}"),
        Code::ImportNotFound,
    );
}

#[test]
fn e0010_loss_reaches_no_parameter() {
    check(
        "e0010_no_gradient",
        &with(
            "-mean(critic(b.s, actor(b.s)))",
            "-mean(critic(b.s, stop(actor(b.s))))",
        ),
        Code::NoGradient,
    );
}

#[test]
fn e0011_state_assigned_twice() {
    check(
        "e0011_double_assign",
        &with(
            "update actor by adam(lr = 1e-3) on actor_loss",
            "update actor, critic by adam(lr = 1e-3) on actor_loss",
        ),
        Code::DoubleAssign,
    );
}

#[test]
fn e0012_policy_output_does_not_fit_the_action_space() {
    check(
        "e0012_policy_output",
        &with(
            "policy greedy(s) = actor(s)",
            "policy greedy(s) = actor(s)[..., 0]",
        ),
        Code::PolicyOutput,
    );
}

#[test]
fn e0013_action_space_kind() {
    check_with(
        "e0013_action_space",
        BASE,
        Code::ActionSpaceKind,
        Some("CartPole-v1"),
        &[],
    );
}

#[test]
fn e0014_layer_outside_net() {
    check(
        "e0014_layer_outside_net",
        &with(
            "-mean(critic(b.s, actor(b.s)))",
            "-mean(critic(b.s, actor(b.s))) + mean(linear(b.s, 1))",
        ),
        Code::LayerOutsideNet,
    );
}

#[test]
fn e0015_bad_override() {
    check_with("e0015_bad_param", BASE, Code::BadParam, None, &["gama=0.9"]);
}

#[test]
fn e0016_recursion() {
    check(
        "e0016_recursion",
        &with(
            "  policy greedy(s) = actor(s)",
            "  fn twice(x) = twice(x) * 2\n  policy greedy(s) = twice(actor(s))",
        ),
        Code::Recursion,
    );
}

#[test]
fn e0017_index_out_of_bounds() {
    check(
        "e0017_index_out_of_bounds",
        &with("[16], 1)[..., 0]", "[16], 1)[..., 3]"),
        Code::IndexOutOfBounds,
    );
}

#[test]
fn e0018_schedule_never_trains() {
    check(
        "e0018_schedule",
        &with("act greedy into D; train 1 every 1", "act greedy into D"),
        Code::Schedule,
    );
}

#[test]
fn e0019_not_a_constant() {
    check(
        "e0019_not_constant",
        &with("mlp(s, [16], env.act_dim)", "mlp(s, [16], s)"),
        Code::NotConstant,
    );
}

#[test]
fn e0020_unknown_environment() {
    check(
        "e0020_unknown_env",
        &with("\"Pendulum-v1\"", "\"Pendulum-v2\""),
        Code::UnknownEnv,
    );
}

#[test]
fn e0021_data_field_nobody_provides() {
    check(
        "e0021_data_field",
        &with("done: f32)", "done: f32, logp: f32)"),
        Code::DataField,
    );
}

#[test]
fn e0022_grad_of_unrelated_tensor() {
    check(
        "e0022_bad_grad",
        &with(
            "-mean(critic(b.s, actor(b.s)))",
            "{ let x = b.r * 2\n    let l = -mean(critic(b.s, actor(b.s)))\n    l + mean(grad(l, x)) }",
        ),
        Code::BadGrad,
    );
}

#[test]
fn e0023_net_parameter_without_type() {
    check(
        "e0023_missing",
        &with("net actor(s: obs)", "net actor(s)"),
        Code::Missing,
    );
}

#[test]
fn e0024_bad_argument() {
    check(
        "e0024_bad_argument",
        &with("polyak(critic, 0.01)", "polyak(critic, 2.0)"),
        Code::BadArgument,
    );
}

#[test]
fn e0025_unreadable_file() {
    let mut d = Driver::new(Some(stdlib()));
    let e = d
        .load(std::path::Path::new("/definitely/not/here.rl"))
        .unwrap_err();
    assert_eq!(e[0].code, Code::Io);
    insta::assert_snapshot!("e0025_io", render_all(&e, &d.mods.sources, false));
}

#[test]
fn broadcasting_a_column_against_a_row_is_reported() {
    // The classic TD-target bug: a [B,1] critic minus a [B] target silently becomes [B,B].
    check(
        "shape_outer_broadcast",
        &with(
            "mean((critic(b.s, b.a) - y)^2)",
            "mean((mlp_col(b.s, b.a) - y)^2)",
        )
        .replace(
            "  policy greedy",
            "  net mlp_col(s: obs, a: act) = mlp(concat(s, a), [16], 1)\n  policy greedy",
        ),
        Code::ShapeMismatch,
    );
}

#[test]
fn e0027_non_finite_constant() {
    check(
        "e0027_non_finite",
        &with("param gamma = 0.99", "param gamma = 0.0 / 0.0"),
        Code::NonFinite,
    );
}

#[test]
fn e0028_too_large() {
    let src = with(
        "replay D capacity 1000",
        "replay D capacity 1_000_000_000_000_000",
    );
    let (text, codes) = diagnose(&src, None, &[]);
    assert_eq!(codes.first(), Some(&Code::TooLarge), "{text}");
    // The budget is the machine's memory: snapshot it as a placeholder.
    let budget = rlc_compiler::lower::budget::memory_budget().expect("budget");
    let shown = rlc_compiler::lower::budget::human(budget);
    assert!(text.contains(&shown), "{text}");
    insta::assert_snapshot!("e0028_too_large", text.replace(&shown, "[budget]"));
}

#[test]
fn e0029_scan_over_shuffled_samples() {
    // PPO computing returns on its minibatch instead of in `derive`: the minibatch's samples
    // are shuffled across time and environments, so the scan would mix unrelated steps.
    let ppo = std::fs::read_to_string(stdlib().join("ppo.rl")).unwrap();
    let line = "    let adv = centred / (sqrt(mean(centred^2)) + 1e-8)";
    assert!(ppo.contains(line));
    let src = ppo.replace(
        line,
        "    let adv = discounted_returns(b.r, gamma * (1 - b.done), 0.0)",
    );
    let (text, codes) = diagnose(&src, None, &[]);
    assert_eq!(codes.first(), Some(&Code::TimeAxis), "{text}");
    insta::assert_snapshot!("e0029_time_axis", text);
    // The same scan over a replay sample is refused too; over the whole rollout (`derive`,
    // `b ~ R`) it is how PPO computes advantages, and compiles (every stdlib program does).
    let (text, codes) = diagnose(
        &with(
            "-mean(critic(b.s, actor(b.s)))",
            "{ let g = discounted_returns(b.r, 0.9 * (1 - b.done), 0.0)\n    -mean(critic(b.s, actor(b.s))) + mean(g) }",
        )
        .replace("import nets.{mlp}", "import nets.{mlp}\nimport traces.{discounted_returns}"),
        None,
        &[],
    );
    assert_eq!(codes.first(), Some(&Code::TimeAxis), "{text}");
    assert!(text.contains("a batch sampled from replay `D`"), "{text}");
}

#[test]
fn e0031_misplaced_or_non_scalar_metric() {
    // `log` in a `fn` would be traced once per call: refused before lowering.
    let src = with(
        "  policy greedy(s) = actor(s)",
        "  fn q_of(b) = { log q = mean(critic(b.s, b.a))\n    q }\n  policy greedy(s) = actor(s)",
    );
    let (text, codes) = diagnose(&src, None, &[]);
    assert_eq!(codes.first(), Some(&Code::Metric), "{text}");
    insta::assert_snapshot!("e0031_metric", text);
    // Inside a loop body or an `if` branch it is refused too.
    let looped = with(
        "-mean(critic(b.s, actor(b.s)))",
        "-mean(critic(b.s, actor(b.s))) + for i in [1, 2] with acc = 0.0 { log x = acc\n x }",
    );
    let (text, codes) = diagnose(&looped, None, &[]);
    assert_eq!(codes.first(), Some(&Code::Metric), "{text}");
    assert!(text.contains("in a loop body"), "{text}");
    // A logged value is a scalar: a vector is refused with a hint.
    let vector = with(
        "    mean((critic(b.s, b.a) - y)^2)",
        "    log y_batch = y\n    mean((critic(b.s, b.a) - y)^2)",
    );
    let (text, codes) = diagnose(&vector, None, &[]);
    assert_eq!(codes.first(), Some(&Code::Metric), "{text}");
    assert!(
        text.contains("must be a scalar, found a tensor of type f32[32]"),
        "{text}"
    );
    assert!(text.contains("mean(...)"), "{text}");
    // Each name is one column of metrics.jsonl: logged twice is a duplicate.
    let twice = with(
        "    mean((critic(b.s, b.a) - y)^2)",
        "    log q = mean(y)\n    mean((critic(b.s, b.a) - y)^2)",
    )
    .replace(
        "= -mean(critic(b.s, actor(b.s)))",
        "= { log q = mean(critic(b.s, actor(b.s)))\n -q }",
    );
    let (text, codes) = diagnose(&twice, None, &[]);
    assert_eq!(codes.first(), Some(&Code::Duplicate), "{text}");
    assert!(text.contains("metric `q` is logged twice"), "{text}");
    // `log` is still a function: `log(x)` as a block's result is not a statement.
    let call = with(
        "    mean((critic(b.s, b.a) - y)^2)",
        "    log (1 + mean((critic(b.s, b.a) - y)^2))",
    );
    let (text, codes) = diagnose(&call, None, &[]);
    assert!(codes.is_empty(), "{text}");
}

#[test]
fn every_code_has_a_snapshot_test() {
    // Every program-facing code is exercised above, with a snapshot named after its number.
    let dir = common::root().join("tests/snapshots");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for c in Code::ALL {
        let prefix = format!("diagnostics__{}_", c.as_str().to_lowercase());
        assert!(
            names.iter().any(|n| n.starts_with(&prefix)),
            "{c:?} ({}) has no snapshot in {}",
            c.as_str(),
            dir.display()
        );
    }
}

#[test]
fn train_options_that_would_do_nothing_are_schedule_errors() {
    // Off-policy (BASE samples replay): epochs and minibatches would be ignored.
    for opt in ["epochs 4", "minibatches 2"] {
        let (text, codes) = diagnose(
            &with("train 1 every 1", &format!("train 1 every 1 {opt}")),
            None,
            &[],
        );
        assert_eq!(codes.first(), Some(&Code::Schedule), "{opt}: {text}");
        assert!(text.contains("does nothing in this schedule"), "{opt}: {text}");
        assert!(text.contains("no trained loss reads a rollout"), "{opt}: {text}");
    }
    // On-policy (PPO reads a rollout): every and after would be ignored.
    let ppo = std::fs::read_to_string(stdlib().join("ppo.rl")).unwrap();
    let sched = "train epochs epochs;";
    assert!(ppo.contains(sched));
    for opt in ["every 2", "after 1000"] {
        let src = ppo.replace(sched, &format!("train epochs epochs {opt};"));
        let (text, codes) = diagnose(&src, None, &[]);
        assert_eq!(codes.first(), Some(&Code::Schedule), "{opt}: {text}");
        assert!(
            text.contains("runs each time the rollout is full"),
            "{opt}: {text}"
        );
    }
    // minibatches must be what the data gives: 8 envs x 32 steps / 64 = 4.
    let ok = ppo.replace(sched, "train epochs epochs minibatches 4;");
    assert_eq!(diagnose(&ok, None, &[]).1, vec![]);
    let wrong = ppo.replace(sched, "train epochs epochs minibatches 3;");
    let (text, codes) = diagnose(&wrong, None, &[]);
    assert_eq!(codes.first(), Some(&Code::Schedule), "{text}");
    assert!(
        text.contains("rollout `R` holds 256 transitions, which minibatches of 64 split into 4"),
        "{text}"
    );
    // ... and a loss reading its whole rollout draws no minibatches at all.
    let whole = ppo
        .replace("b ~ R.minibatch(minibatch)", "b ~ R")
        .replace(sched, "train epochs epochs minibatches 4;");
    let (text, _) = diagnose(&whole, None, &[]);
    assert!(
        text.contains("every trained loss reads its whole rollout"),
        "{text}"
    );
}

#[test]
fn computed_indices_proven_out_of_bounds_are_errors_and_clipped_ones_are_not() {
    // GAE with T values instead of T + 1: `values[t + 1]` reads past the end at the last step
    // (it used to be clamped silently and bootstrap from the wrong value).
    // `x` is time-ordered data of 32 steps (a replay sample's axis is not: `e0029`).
    let short = "gae(x, gamma * (1 - x), x, 0.95)";
    let long = "gae(x, gamma * (1 - x), concat(x, x[:1]), 0.95)";
    let src = |adv: &str| {
        with(
            "mean((critic(b.s, b.a) - y)^2)",
            &format!(
                "mean((critic(b.s, b.a) - y)^2) + 0 * mean({{ let x = ones([32]) * mean(b.r)\n    {adv} }})"
            ),
        )
        .replace("import nets.{mlp}", "import nets.{mlp}\nimport traces.{gae}")
    };
    let (text, codes) = diagnose(&src(short), None, &[]);
    assert_eq!(codes.first(), Some(&Code::IndexOutOfBounds), "{text}");
    assert!(
        text.contains(
            "this index takes values 1..=32 (the scan's step runs over 0..=31), outside axis 0 of size 32"
        ),
        "{text}"
    );
    assert!(text.contains("in this call of `gae`"), "{text}");
    assert!(text.contains("clip(i, 0, 31)"), "{text}");
    assert_eq!(diagnose(&src(long), None, &[]).1, vec![]);
    // Reversed and clipped indices are proven in bounds.
    for ok in ["x[31 - t]", "x[clip(t + 1, 0, 31)]", "x[maximum(t - 1, 0)]"] {
        let expr = format!("(scan t in 32 with c = 0.0 {{ c + {ok} }})");
        let (text, codes) = diagnose(&src(&expr), None, &[]);
        assert_eq!(codes, vec![], "{ok}: {text}");
    }
    let (text, codes) = diagnose(&src("(scan t in 32 with c = 0.0 { c + x[t - 1] })"), None, &[]);
    assert_eq!(codes.first(), Some(&Code::IndexOutOfBounds), "{text}");
    assert!(text.contains("takes values -1..=30"), "{text}");
}

/// N-step replay: `mask` exists only with `nstep`, per-step fields must be `[N]`, `nstep`
/// must be at least 1 and is an option of (prioritized) replay only; each a located error.
#[test]
fn nstep_replay_fields_are_checked() {
    let replay = "replay D capacity 1000 of (s: obs, a: act, r: f32, s2: obs, done: f32)";
    let cases = [
        (
            "replay D capacity 1000 of (s: obs, a: act, r: f32, s2: obs, done: f32, mask: f32)",
            Code::DataField,
            "`mask` is a field of n-step replay",
        ),
        (
            "replay D capacity 1000 nstep 3 of (s: obs, a: act, r: f32, s2: obs, done: f32[3])",
            Code::TypeMismatch,
            "`nstep 3` stores the next 3 values",
        ),
        (
            "replay D capacity 1000 nstep 3 of (s: obs, a: act, r: f32[3], s2: obs, done: f32[2])",
            Code::TypeMismatch,
            "field `done` holds f32[3] from the environment, not f32[2]",
        ),
        (
            "replay D capacity 1000 nstep 0 of (s: obs, a: act, r: f32, s2: obs, done: f32)",
            Code::BadArgument,
            "nstep",
        ),
        (
            "sequence replay D capacity 10 length 4 nstep 3 of (s: obs, a: act, r: f32, s2: obs, done: f32)",
            Code::UnknownField,
            "has no option `nstep`",
        ),
    ];
    for (decl, code, text) in cases {
        let (out, codes) = diagnose(&with(replay, decl), None, &[]);
        assert_eq!(codes.first(), Some(&code), "{decl}\n{out}");
        assert!(out.contains(text), "{decl}: expected {text:?} in\n{out}");
        assert!(
            out.contains("tiny.rl:13:"),
            "{decl}: located at the declaration\n{out}"
        );
    }
}

/// `act ... noise ou(theta, sigma)`: settings in range, continuous actions only, and never
/// beside stored policy outputs or into a rollout (the stored actions would not be the
/// policy's); each a located error.
#[test]
fn exploration_noise_is_checked() {
    let act = "act greedy into D";
    let noisy = |n: &str| with(act, &format!("act greedy into D noise {n}"));
    assert_eq!(
        diagnose(&noisy("ou(theta = 0.15, sigma = 0.2)"), None, &[]).1,
        vec![]
    );
    assert_eq!(diagnose(&noisy("ou(1, 0)"), None, &[]).1, vec![]);
    check(
        "noise_negative_sigma",
        &noisy("ou(theta = 0.15, sigma = -0.2)"),
        Code::BadArgument,
    );
    let cases = [
        (
            "ou(theta = 0, sigma = 0.2)",
            Code::BadArgument,
            "`theta` must be in (0, 1]",
        ),
        (
            "ou(theta = 1.5, sigma = 0.2)",
            Code::BadArgument,
            "`theta` must be in (0, 1]",
        ),
        (
            "ou(theta = 0.15, sigma = 1e308 * 10)",
            Code::NonFinite,
            "1e308 * 10",
        ),
        ("ou(sigma = 0.2)", Code::Arity, "theta"),
        ("ou(theta = 0.15, sigma = 0.2, mu = 1)", Code::Arity, "mu"),
        (
            "gauss(sigma = 0.2)",
            Code::UnknownName,
            "unknown exploration noise `gauss`",
        ),
        (
            "ou(theta = 0.15, sigma = randn([1]))",
            Code::NotConstant,
            "expected a constant number",
        ),
    ];
    for (n, code, text) in cases {
        let (out, codes) = diagnose(&noisy(n), None, &[]);
        assert_eq!(codes.first(), Some(&code), "{n}\n{out}");
        assert!(out.contains(text), "{n}: expected {text:?} in\n{out}");
        assert!(out.contains("tiny.rl:26:"), "{n}: located in the schedule\n{out}");
    }
    // `ou` is not an expression.
    let (out, codes) = diagnose(
        &with(
            "policy greedy(s) = actor(s)",
            "policy greedy(s) = actor(s) + ou(0.15, 0.2)",
        ),
        None,
        &[],
    );
    assert_eq!(codes.first(), Some(&Code::TypeMismatch), "{out}");
    assert!(out.contains("can only follow `noise`"), "{out}");
    // A policy output stored beside the action would describe the action before the noise.
    let stored = noisy("ou(theta = 0.15, sigma = 0.2)")
        .replace(
            "policy greedy(s) = actor(s)",
            "policy greedy(s) = { action: actor(s), mu: actor(s) }",
        )
        .replace("done: f32)", "done: f32, mu: act)");
    assert_eq!(
        diagnose(
            &stored.replace(" noise ou(theta = 0.15, sigma = 0.2)", ""),
            None,
            &[]
        )
        .1,
        vec![]
    );
    check("noise_beside_stored_policy_output", &stored, Code::Schedule);
    // On-policy data and discrete actions.
    let read = |f: &str| std::fs::read_to_string(stdlib().join(f)).unwrap();
    let ppo = read("ppo.rl").replace("act sample into R;", "act sample into R noise ou(0.15, 0.2);");
    let (out, codes) = diagnose(&ppo, None, &[]);
    assert_eq!(codes.first(), Some(&Code::Schedule), "{out}");
    assert!(out.contains("exploration noise with the rollout `R`"), "{out}");
    let dqn = read("dqn.rl").replace("act explore into D;", "act explore into D noise ou(0.15, 0.2);");
    check("noise_on_discrete_actions", &dqn, Code::ActionSpaceKind);
}

#[test]
fn e0030_set_where_state_cannot_change() {
    // `set` on a hyperparameter.
    check(
        "e0030_set_not_state",
        &with(
            "-mean(critic(b.s, actor(b.s)))",
            "{ set gamma = 0.5\n    -mean(critic(b.s, actor(b.s))) }",
        ),
        Code::StateWrite,
    );
    // In the evaluation policy: an evaluation must not change the run.
    check(
        "e0030_set_in_eval_policy",
        &with(
            "policy greedy(s) = actor(s)",
            "state calls = 0.0\n  policy greedy(s) = { set calls = calls + 1.0\n    actor(s) }",
        )
        .replace(
            "schedule { act greedy",
            "policy explore(s) = actor(s)\n  schedule { act explore",
        ),
        Code::StateWrite,
    );
    // Inside a loop body.
    let (text, codes) = diagnose(
        &with(
            "-mean(critic(b.s, actor(b.s)))",
            "{ let s = scan t in 3 with c = 0.0 { set seen = c\n      c + 1.0 }\n    -mean(critic(b.s, actor(b.s))) + s }",
        )
        .replace("policy greedy", "state seen = 0.0\n  policy greedy"),
        None,
        &[],
    );
    assert_eq!(codes.first(), Some(&Code::StateWrite), "{text}");
    assert!(text.contains("inside a loop body"), "{text}");
    // Twice in one entry point; and a value of the wrong shape.
    let twice = with(
        "-mean(critic(b.s, actor(b.s)))",
        "{ set seen = 1.0\n    set seen = 2.0\n    -mean(critic(b.s, actor(b.s))) }",
    )
    .replace("policy greedy", "state seen = 0.0\n  policy greedy");
    let (text, codes) = diagnose(&twice, None, &[]);
    assert_eq!(codes.first(), Some(&Code::DoubleAssign), "{text}");
    let shape = with(
        "-mean(critic(b.s, actor(b.s)))",
        "{ set seen = b.r\n    -mean(critic(b.s, actor(b.s))) }",
    )
    .replace("policy greedy", "state seen = 0.0\n  policy greedy");
    check("e0030_set_wrong_shape", &shape, Code::ShapeMismatch);
}

#[test]
fn suggestions_for_an_unknown_call_come_from_what_an_expression_can_call() {
    // `std(x)` once suggested `sgd`, an optimiser, which cannot be called in a loss.
    let (text, codes) = diagnose(
        &with(
            "-mean(critic(b.s, actor(b.s)))",
            "-mean(critic(b.s, actor(b.s))) + std(b.r)",
        ),
        None,
        &[],
    );
    assert_eq!(codes.first(), Some(&Code::UnknownName), "{text}");
    assert!(!text.contains("sgd"), "{text}");
    assert!(text.contains("sqrt(mean((x - mean(x))^2))"), "{text}");
    // A typo of an optimiser in an expression is not steered towards it either, but a typo
    // of an expression builtin still is.
    let (text, _) = diagnose(
        &with(
            "-mean(critic(b.s, actor(b.s)))",
            "-mean(critic(b.s, actor(b.s))) + adamm(b.r)",
        ),
        None,
        &[],
    );
    assert!(!text.contains("`adam`"), "{text}");
    let (text, _) = diagnose(
        &with("-mean(critic(b.s, actor(b.s)))", "-maen(critic(b.s, actor(b.s)))"),
        None,
        &[],
    );
    assert!(text.contains("did you mean `mean`?"), "{text}");
}
