//! Routines (`ir/routine/`: argsort, solve) on every backend (OpenCL with `--features
//! opencl`): exact values against hand-computed results, the interpreter against each backend
//! on a whole program that sorts in its loss and policy, and the located errors of the
//! builtins built on them.

mod common;

use common::differential::check_program;
use common::{compile_text, root};
use rlc_compiler::backend::{Backend, In, InterpBackend, JitBackend, Out};
use rlc_compiler::interp::{Tensor, eval};
use rlc_compiler::ir::{Argsort, DType, Graph, Routine, TensorType};

/// `argsort` of a `[2, 5]` input with ties and a NaN, both directions, as one graph.
fn sort_graph() -> Graph {
    let mut g = Graph::new();
    let x = g.input("x", TensorType::f32(vec![2, 5]));
    for (name, descending) in [("up", false), ("down", true)] {
        let r = g
            .routine(Routine::Argsort(Argsort { axis: 1, descending }), &[x])
            .unwrap();
        g.output(name, r);
    }
    g
}

const X: [f32; 10] = [3.0, 1.0, f32::NAN, 1.0, -4.0, 0.5, 0.5, 0.5, 9.0, -1.0];
const UP: [i32; 10] = [4, 1, 3, 0, 2, 4, 0, 1, 2, 3];
const DOWN: [i32; 10] = [0, 1, 3, 4, 2, 3, 0, 1, 2, 4];

fn run(dev: &mut dyn Backend, g: &Graph) -> (Vec<i32>, Vec<i32>) {
    let states = rlc_compiler::ir::StateTable::default();
    dev.init_state(&states, 0).unwrap();
    let id = dev.compile("sort", g).unwrap();
    let (mut up, mut down) = (vec![0; 10], vec![0; 10]);
    dev.call(id, &[In::F32(&X)], &mut [Out::I32(&mut up), Out::I32(&mut down)])
        .unwrap();
    (up, down)
}

#[test]
fn argsort_is_stable_with_nans_last_on_the_interpreter_and_the_jit() {
    let g = sort_graph();
    let r = eval(&g, &[Tensor::f(vec![2, 5], X.to_vec())], &[]).unwrap();
    let ints = |t: &Tensor<f32>| t.to_f64().iter().map(|v| *v as i32).collect::<Vec<_>>();
    assert_eq!(ints(&r.outputs[0]), UP);
    assert_eq!(ints(&r.outputs[1]), DOWN);
    assert_eq!(g.ty(g.outputs[0].1).dtype, DType::I32);
    for mut dev in [
        Box::new(InterpBackend::new()) as Box<dyn Backend>,
        Box::new(JitBackend::new()),
    ] {
        assert_eq!(
            run(dev.as_mut(), &g),
            (UP.to_vec(), DOWN.to_vec()),
            "{}",
            dev.name()
        );
    }
}

#[test]
fn a_program_with_routines_matches_the_interpreter_on_the_jit() {
    let path = root().join("tests/programs/routines.rl");
    check_program(|| Box::new(JitBackend::new()), &path, &[]);
    check_program(|| Box::new(JitBackend::new()), &path, &["k=1", "batch=5"]);
}

#[test]
fn the_routine_shows_in_graph_and_kernel_dumps() {
    let g = sort_graph();
    let text = rlc_compiler::ir::print_graph(&g, "sort");
    assert!(text.contains("argsort[axis=1, descending]"), "{text}");
    let plan = rlc_compiler::backend::kernel::plan(&g).unwrap();
    let dump = rlc_compiler::backend::kernel::dump(&plan);
    assert!(
        dump.contains("routine") && dump.contains("argsort[axis=1]("),
        "{dump}"
    );
}

fn program(body: &str) -> String {
    format!(
        "import nets.{{mlp}}\nalgorithm t {{\n  env: discrete default \"CartPole-v1\"\n  net q(s: obs) = mlp(s, [8], env.num_actions)\n  {body}\n  schedule {{ act greedy into R; train 1 }}\n  rollout R steps 4 of (s: obs, a: act)\n  loss l(b ~ R) = mean(q(b.s))\n  update q by adam(lr = 1e-3) on l\n}}\n"
    )
}

#[test]
fn routine_builtins_report_bad_arguments_where_they_are() {
    let cases = [
        ("policy greedy(s) = top_k(q(s), 0)[..., 0]", "1 <= k <= 2"),
        ("policy greedy(s) = top_k(q(s), 3)[..., 0]", "1 <= k <= 2"),
        (
            "policy greedy(s) = argsort(q(s), 2)[..., 0]",
            "axis 2 is out of range",
        ),
        ("policy greedy(s) = argsort(q(s) > 0)[..., 0]", "f32 or i32"),
        (
            "policy greedy(s) = argsort(q(s), descending = 1)[..., 0]",
            "descending is true or false",
        ),
        (
            "policy greedy(s) = i32(take_along(q(s), range(3)))",
            "shaped like x (or 1) except on axis",
        ),
        (
            "policy greedy(s) = argmax(solve(q(s), q(s)))",
            "needs a of shape [n, n]",
        ),
    ];
    for (line, want) in cases {
        let err = compile_text(&program(line), None).expect_err(line);
        assert!(err.contains(want), "{line}:\n{err}");
    }
    assert!(compile_text(&program("policy greedy(s) = top_k(q(s), 2)[..., 1]"), None).is_ok());
}

#[cfg(feature = "opencl")]
mod opencl {
    use super::*;
    use rlc_compiler::backend::OpenClBackend;

    fn opencl() -> Box<dyn Backend> {
        Box::new(OpenClBackend::new().unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn argsort_runs_on_the_host_between_device_kernels() {
        let mut dev = opencl();
        assert_eq!(run(dev.as_mut(), &sort_graph()), (UP.to_vec(), DOWN.to_vec()));
    }

    #[test]
    fn a_program_with_routines_matches_the_interpreter_on_opencl() {
        check_program(opencl, &root().join("tests/programs/routines.rl"), &[]);
    }
}
