//! Indices are proven in range at compile time or checked at run time, never clamped
//! silently (`rlc_compiler::lower` `bounds`): every index in the standard library is proven
//! (its programs read no index-fault state), and an index computed from data stops the run
//! with an error naming the expression, on every backend.

mod common;

use rlc_compiler::backend::{Backend, InterpBackend, JitBackend};
use rlc_runtime::progress::Progress;
use rlc_runtime::trainer::{RunError, Trainer};

/// DQN-like, with the loss's index taken from the reward (CartPole's reward is 1, so
/// `i32(b.r * scale)` is `scale`: in range for 1, outside the 2 actions for 5).
fn program(index: &str) -> rlc_compiler::lower::Compiled {
    let src = format!(
        "import nets.{{mlp}}
algorithm t {{
  env: discrete default \"CartPole-v1\"
  net q(s: obs) = mlp(s, [8], env.num_actions)
  replay D capacity 1000 of (s: obs, a: act, r: f32, s2: obs, done: f32)
  policy greedy(s) = argmax(q(s))
  loss l(b ~ D.sample(16)) = mean(pick(q(b.s), {index})^2)
  update q by adam(lr = 1e-3) on l
  schedule {{ envs 1; warmup 100; act greedy into D; train 1 every 1 after 100; eval greedy }}
}}"
    );
    common::compile_text(&src, None).expect("compiles").remove(0)
}

fn run(c: &rlc_compiler::lower::Compiled, backend: Box<dyn Backend>) -> Result<(), RunError> {
    let mut t = Trainer::new(c, backend, common::run_config(300, 3)).expect("trainer");
    t.run(&mut Progress::Quiet).map(|_| ())
}

#[test]
fn stdlib_indices_are_all_proven_at_compile_time() {
    for path in common::stdlib_algorithms() {
        for c in common::compile(&path, &[]) {
            assert!(
                c.index_fault_state().is_none() && c.index_checks.is_empty(),
                "{}: {} run-time index checks",
                path.display(),
                c.index_checks.len()
            );
        }
    }
}

#[test]
fn an_index_from_data_outside_its_axis_stops_the_run_on_every_cpu_backend() {
    let c = program("i32(b.r * 5.0)");
    assert_eq!(c.index_checks.len(), 1);
    for backend in [
        Box::new(InterpBackend::new()) as Box<dyn Backend>,
        Box::new(JitBackend::new()),
    ] {
        let name = backend.name();
        match run(&c, backend) {
            Err(RunError::IndexOutOfRange { message, check }) => {
                assert!(message.contains("training at step 101"), "{name}: {message}");
                assert!(message.contains("2 entries `pick`"), "{name}: {message}");
                assert_eq!(check.size, 2);
                assert_eq!(
                    (check.span.end - check.span.start) as usize,
                    "i32(b.r * 5.0)".len(),
                    "{name}"
                );
            }
            other => panic!("{name}: expected an index fault, got {other:?}"),
        }
    }
}

#[test]
fn the_same_index_in_range_or_clamped_runs() {
    // Checked at run time and in range: runs to the end.
    let c = program("i32(b.r)");
    assert_eq!(c.index_checks.len(), 1);
    run(&c, Box::new(JitBackend::new())).expect("in range");
    // Clamped explicitly: proven, no check at all.
    let c = program("clip(i32(b.r * 5.0), 0, 1)");
    assert!(c.index_checks.is_empty() && c.index_fault_state().is_none());
    run(&c, Box::new(JitBackend::new())).expect("clamped");
}

#[test]
fn an_index_from_outside_a_scan_is_checked_at_run_time_and_one_from_inside_is_refused() {
    let text = |body: &str| {
        format!(
            "import nets.{{mlp}}
algorithm t {{
  env: discrete default \"CartPole-v1\"
  net q(s: obs) = mlp(s, [8], env.num_actions)
  rollout R steps 8 of (s: obs, a: act, r: f32)
  policy sample(s) = categorical(q(s))
  fn f(r) = {{ {body} }}
  loss l(b ~ R) = -mean(categorical(q(b.s)).log_prob(b.a) * b.r) + mean(f(b.r[:, 0]))
  update q by adam(lr = 1e-3) on l
  schedule {{ envs 1; act sample into R; train 1; eval sample }}
}}"
        )
    };
    // Computed outside the loop from data: one run-time check.
    let ok = common::compile_text(
        &text("let i = i32(r[0] * 9.0)\n scan t in len(r) with acc = 0.0 { acc + r[i] }"),
        None,
    )
    .expect("compiles")
    .remove(0);
    assert_eq!(ok.index_checks.len(), 1);
    // Computed inside the loop from data: refused, located.
    let err = common::compile_text(
        &text("scan t in len(r) with acc = 0.0 { acc + r[i32(r[t] * 3.0)] }"),
        None,
    )
    .expect_err("refused");
    assert!(err.contains("E0017") && err.contains("inside a loop"), "{err}");
    // The scan's step and the stored actions are proven: no check.
    let proven = common::compile_text(
        &text("scan t in len(r) with acc = 0.0 { acc + r[clip(t + 1, 0, len(r) - 1)] }"),
        None,
    )
    .expect("compiles")
    .remove(0);
    assert!(proven.index_checks.is_empty());
}

/// The last line of defence, below the language: a gather or scatter whose indices were never
/// checked (an IR graph built directly) still stays inside its buffers on the JIT — extreme
/// indices land on the first or last row, as on the interpreter.
#[test]
fn unchecked_gathers_and_scatters_stay_in_bounds_on_the_jit() {
    use rlc_compiler::backend::{In, Out};
    use rlc_compiler::ir::{DType, Graph, StateTable, TensorType};
    let mut g = Graph::new();
    let x = g.input("x", TensorType::f32(vec![5]));
    let bad = [i32::MIN, -1, 0, 4, 5, i32::MAX];
    let idx = g
        .constant(
            bad.iter().map(|v| f64::from(*v)).collect(),
            TensorType::new(DType::I32, vec![6]),
        )
        .unwrap();
    let t = g.take(x, idx, 0).unwrap();
    let ones = g.fill(1.0, TensorType::f32(vec![6]));
    let s = g.scatter_add(x, idx, ones, 0).unwrap();
    g.output("t", t);
    g.output("s", s);
    let xs = [10.0f32, 11.0, 12.0, 13.0, 14.0];
    let mut jit = JitBackend::new();
    jit.init_state(&StateTable::new(), 0).unwrap();
    let e = jit.compile("gather", &g).expect("compiles");
    let (mut t_out, mut s_out) = (vec![0.0f32; 6], vec![0.0f32; 5]);
    jit.call(
        e,
        &[In::F32(&xs)],
        &mut [Out::F32(&mut t_out), Out::F32(&mut s_out)],
    )
    .expect("runs");
    assert_eq!(t_out, [10.0, 10.0, 10.0, 14.0, 14.0, 14.0]);
    assert_eq!(s_out, [13.0, 11.0, 12.0, 13.0, 17.0]);
    let r = rlc_compiler::interp::eval::<f64>(
        &g,
        &[rlc_compiler::interp::Tensor::f(
            vec![5],
            xs.iter().map(|v| f64::from(*v)).collect(),
        )],
        &[],
    )
    .expect("interprets");
    assert_eq!(
        r.outputs[0].to_f64(),
        t_out.iter().map(|v| f64::from(*v)).collect::<Vec<_>>()
    );
    assert_eq!(
        r.outputs[1].to_f64(),
        s_out.iter().map(|v| f64::from(*v)).collect::<Vec<_>>()
    );
}
