//! Every entry point of every stdlib algorithm runs on the interpreter (f32 and f64) on random
//! inputs, and the gradients of every stdlib loss match central finite differences in f64.

mod common;

use common::*;
use rlc_compiler::autodiff::grad;
use rlc_compiler::env_spec::ActionSpace;
use rlc_compiler::interp::{Buf, Real, Tensor, eval, initial_state};
use rlc_compiler::ir::{Graph, NodeId, Op, StateKind};
use rlc_compiler::lower::Compiled;

fn n_actions(c: &Compiled) -> usize {
    match c.env.action {
        ActionSpace::Discrete { n } => n,
        ActionSpace::Continuous { .. } => 1,
    }
}

fn all_finite<T: Real>(t: &Tensor<T>) -> bool {
    t.to_f64().iter().all(|x| x.is_finite())
}

fn run_all_entries<T: Real>(c: &Compiled) {
    let state = initial_state::<T>(&c.states, 1);
    for e in &c.entries {
        let inputs = random_inputs::<T>(&e.graph, n_actions(c), 3);
        let r = eval(&e.graph, &inputs, &state).unwrap_or_else(|err| panic!("{} {}: {err}", c.name, e.name));
        assert_eq!(r.outputs.len(), e.graph.outputs.len());
        for ((name, _), v) in e.graph.outputs.iter().zip(&r.outputs) {
            assert!(
                all_finite(v),
                "{} {}: output {name} is not finite: {:?}",
                c.name,
                e.name,
                v.to_f64()
            );
        }
        for (id, v) in &r.assigns {
            let s = c.states.get(*id);
            assert_eq!(&v.ty, &s.ty, "{} {}: assignment to {}", c.name, e.name, s.name);
            assert!(
                all_finite(v),
                "{} {}: new value of {} is not finite",
                c.name,
                e.name,
                s.name
            );
        }
        if e.name == "train" {
            // Every trainable parameter and every target copy is written by the training step.
            for (id, s) in c.states.iter() {
                if matches!(
                    s.kind,
                    StateKind::Param { .. } | StateKind::Target { .. } | StateKind::Learnable
                ) {
                    assert!(
                        r.assigns.iter().any(|(a, _)| *a == id),
                        "{}: {} is never updated",
                        c.name,
                        s.name
                    );
                }
            }
        }
    }
}

#[test]
fn every_stdlib_entry_point_runs_on_the_interpreter() {
    let files = stdlib_algorithms();
    assert!(files.len() >= 4, "stdlib algorithms: {files:?}");
    for f in files {
        for c in compile(&f, &["hidden=[16, 16]"]) {
            run_all_entries::<f32>(&c);
            run_all_entries::<f64>(&c);
        }
    }
}

/// Replaces every `stop_grad` node by a constant holding its value at the base point, so
/// finite differences see exactly what autodiff differentiates.
fn freeze_stops(g: &Graph, inputs: &[Tensor<f64>], state: &[Tensor<f64>]) -> Graph {
    let stops: Vec<NodeId> = g
        .ids()
        .filter(|id| matches!(g.node(*id).op, Op::StopGrad))
        .collect();
    let mut probe = g.clone();
    for (i, s) in stops.iter().enumerate() {
        probe.output(format!("stop{i}"), *s);
    }
    let r = eval(&probe, inputs, state).expect("probe evaluates");
    let base = g.outputs.len();
    let (frozen, _) = g.rebuild(
        |_| true,
        |id, node, _, out| {
            let i = stops.iter().position(|s| *s == id)?;
            let values = r.outputs[base + i].to_f64();
            Some(
                out.constant(values, node.ty.clone())
                    .expect("constant of the node's type"),
            )
        },
    );
    frozen
}

fn param_nodes(g: &Graph, c: &Compiled) -> Vec<(String, NodeId, usize)> {
    g.ids()
        .filter_map(|id| match g.node(id).op {
            Op::State(s) => {
                let v = c.states.get(s);
                matches!(v.kind, StateKind::Param { .. } | StateKind::Learnable)
                    .then(|| (v.name.clone(), id, s.0 as usize))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn stdlib_loss_gradients_match_finite_differences() {
    let mut checked = 0;
    for f in stdlib_algorithms() {
        for c in compile(&f, &["hidden=[8, 8]"]) {
            let train = &c.entry("train").expect("train entry").graph;
            let state = initial_state::<f64>(&c.states, 5);
            let inputs = random_inputs::<f64>(train, n_actions(&c), 11);
            let frozen = freeze_stops(train, &inputs, &state);
            for loss in &c.losses {
                let mut g = frozen.clone();
                let l = g.find_output(&format!("loss/{loss}")).expect("loss output");
                g.outputs.retain(|(n, _)| *n == format!("loss/{loss}"));
                let params = param_nodes(&g, &c);
                let nodes: Vec<NodeId> = params.iter().map(|p| p.1).collect();
                let grads = grad(&mut g, l, &nodes).expect("grad");
                let mut with_grads = g.clone();
                for (i, gr) in grads.iter().enumerate() {
                    if let Some(gn) = gr {
                        with_grads.output(format!("g{i}"), *gn);
                    }
                }
                let base = eval(&with_grads, &inputs, &state).expect("eval");
                let mut k = 1;
                for (i, (pname, _, sid)) in params.iter().enumerate() {
                    let Some(_) = grads[i] else { continue };
                    let analytic = base.outputs[k].to_f64();
                    k += 1;
                    let n = analytic.len();
                    // A spread of elements of each parameter tensor.
                    for j in (0..n).step_by((n / 6).max(1)) {
                        let eps = 1e-6;
                        let f_at = |delta: f64| {
                            let mut st = state.clone();
                            if let Buf::F(v) = &mut st[*sid].buf {
                                v[j] += delta;
                            }
                            eval(&g, &inputs, &st).expect("eval").outputs[0].get(0)
                        };
                        let numeric = (f_at(eps) - f_at(-eps)) / (2.0 * eps);
                        let a = analytic[j];
                        let err = (a - numeric).abs() / 1f64.max(a.abs()).max(numeric.abs());
                        assert!(
                            err < 1e-6,
                            "{}: d {loss} / d {pname}[{j}]: analytic {a} numeric {numeric} (error {err:e})",
                            c.name
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} gradient elements checked");
}

#[test]
fn optimisation_passes_preserve_every_stdlib_entry_point() {
    for f in stdlib_algorithms() {
        for c in compile(&f, &["hidden=[16, 16]"]) {
            let state = initial_state::<f32>(&c.states, 2);
            for e in &c.entries {
                let opt = rlc_compiler::passes::optimize(&e.graph).expect("passes verify");
                assert!(opt.len() <= e.graph.len());
                let inputs = random_inputs::<f32>(&e.graph, n_actions(&c), 4);
                let a = eval(&e.graph, &inputs, &state).unwrap();
                let b = eval(&opt, &inputs, &state).unwrap();
                for (x, y) in a.outputs.iter().zip(&b.outputs) {
                    assert_eq!(x.to_f64(), y.to_f64(), "{} {}", c.name, e.name);
                }
                let mut sa = a.assigns.clone();
                let mut sb = b.assigns.clone();
                sa.sort_by_key(|(k, _)| *k);
                sb.sort_by_key(|(k, _)| *k);
                assert_eq!(sa.len(), sb.len());
                for ((ka, va), (kb, vb)) in sa.iter().zip(&sb) {
                    assert_eq!(ka, kb);
                    assert_eq!(
                        va.to_f64(),
                        vb.to_f64(),
                        "{} {} state {}",
                        c.name,
                        e.name,
                        c.states.get(*ka).name
                    );
                }
            }
        }
    }
}
