//! Every way the trainer feeds data: on-policy minibatches over epochs, prioritized replay
//! with priorities fed back from the loss, sequence replay (ACER), and warm-up.

mod common;

use rlc_compiler::backend::InterpBackend;
use rlc_runtime::progress::Progress;
use rlc_runtime::trainer::{RunConfig, Store, Summary, Trainer};

fn config(steps: u64) -> RunConfig {
    RunConfig {
        steps,
        seed: 4,
        eval_every: 0,
        eval_episodes: 3,
        log_every: 1000,
        metrics: None,
        checkpoint: None,
        curve: None,
        program_hash: 0,
        debug_nans: false,
    }
}

fn compile(src: &str) -> rlc_compiler::lower::Compiled {
    let mut d = rlc_compiler::driver::Driver::new(Some(common::stdlib()));
    let m = d
        .load_text("paths.rl", Some(&common::stdlib()), src)
        .unwrap_or_else(|e| panic!("{}", rlc_compiler::diag::render_all(&e, &d.mods.sources, false)));
    let req = rlc_compiler::driver::Request {
        eval_batch: Some(3),
        ..Default::default()
    };
    d.compile(m, &req, &common::resolve)
        .unwrap_or_else(|e| panic!("{}", rlc_compiler::diag::render_all(&e, &d.mods.sources, false)))
        .remove(0)
}

fn run(c: &rlc_compiler::lower::Compiled, steps: u64) -> (Summary, Vec<usize>) {
    let mut t = Trainer::new(c, Box::new(InterpBackend::new()), config(steps)).expect("trainer");
    let s = t.run(&mut Progress::Quiet).expect("run");
    let lens = t
        .stores()
        .iter()
        .map(|st| match st {
            Store::Replay(r) => r.len(),
            Store::Prioritized(r) => r.len(),
            Store::Rollout(r) => r.len(),
            Store::Sequence { replay, .. } => replay.len(),
        })
        .collect();
    (s, lens)
}

#[test]
fn on_policy_minibatches_over_epochs() {
    let c = compile(
        r#"
import nets.{mlp}
algorithm mb {
  param gamma = 0.99
  env: discrete default "CartPole-v1"
  net pi(s: obs) = mlp(s, [32], env.num_actions)
  net v(s: obs) = mlp(s, [32], 1)[..., 0]
  rollout R steps 32 of (s: obs, a: act, r: f32, s2: obs, done: f32)
  policy sample(s) = categorical(pi(s))
  policy greedy(s) = argmax(pi(s))
  loss pl(b ~ R.minibatch(32)) =
    -mean(categorical(pi(b.s)).log_prob(b.a) * stop(b.r + gamma * (1 - b.done) * v(b.s2) - v(b.s)))
  loss vl(b ~ R.minibatch(32)) = mean((v(b.s) - stop(b.r + gamma * (1 - b.done) * v(b.s2)))^2)
  update pi by adam(lr = 1e-3) on pl
  update v by adam(lr = 1e-3) on vl
  schedule { envs 4; act sample into R; train epochs 3; eval greedy }
}"#,
    );
    let (s, lens) = run(&c, 1280);
    // 10 rollouts of 32 steps x 4 envs; each: 3 epochs x 128/32 minibatches.
    assert_eq!(s.updates, 10 * 3 * 4);
    assert_eq!(lens, vec![0], "the rollout is cleared after training");
}

#[test]
fn prioritized_replay_gets_priorities_from_the_loss() {
    let c = compile(
        r#"
import nets.{mlp}
algorithm dqn_per {
  param gamma = 0.99
  param eps = 0.1
  env: discrete default "CartPole-v1"
  net q(s: obs) = mlp(s, [32], env.num_actions)
  target q_t = copy(q, 50)
  prioritized replay P capacity 1000 alpha 0.6 beta 0.4 of (s: obs, a: act, r: f32, s2: obs, done: f32)
  policy explore(s) = {
    let best = argmax(q(s))
    let other = i32(floor(rand(best.shape) * env.num_actions))
    where(rand(best.shape) < eps, other, best)
  }
  policy greedy(s) = argmax(q(s))
  loss td(b ~ P.sample(32)) = {
    let y = stop(b.r + gamma * (1 - b.done) * max(q_t(b.s2), axis = -1))
    let err = pick(q(b.s), b.a) - y
    let p = priority(P, abs(err))
    mean(b.weight * err^2)
  }
  update q by adam(lr = 1e-3) on td
  schedule { warmup 100; act explore into P; train 1 every 1 after 100; eval greedy }
}"#,
    );
    assert!(
        c.entry("train")
            .unwrap()
            .graph
            .find_output("priority/P")
            .is_some()
    );
    let mut t = Trainer::new(&c, Box::new(InterpBackend::new()), config(600)).expect("trainer");
    let s = t.run(&mut Progress::Quiet).expect("run");
    assert_eq!(s.updates, 500);
    let Store::Prioritized(p) = &t.stores()[0] else {
        panic!("prioritized store")
    };
    assert_eq!(p.len(), 600);
    // New items enter at the maximum priority; training changed the sampled ones.
    let pr: Vec<f64> = (0..p.len()).filter_map(|i| p.priority(i)).collect();
    let distinct = pr
        .iter()
        .map(|x| x.to_bits())
        .collect::<std::collections::HashSet<_>>()
        .len();
    assert!(distinct > 100, "only {distinct} distinct priorities");
}

#[test]
fn sequence_replay_trains_acer() {
    let c = common::compile(&common::stdlib().join("acer.rl"), &["hidden=[32]"]).remove(0);
    let (s, lens) = run(&c, 2000);
    // 4 envs, sequences of 20: 25 rollouts of 4 sequences; `train 4 every 20` vector steps.
    assert_eq!(lens, vec![100]);
    assert_eq!(s.updates, 25 * 4);
}

#[test]
fn warm_up_acts_randomly_and_delays_training() {
    let c = common::compile(
        &common::stdlib().join("ddpg.rl"),
        &["hidden=[16]", "learning_starts=200"],
    )
    .remove(0);
    let (s, lens) = run(&c, 260);
    assert_eq!(lens, vec![260]);
    assert_eq!(s.updates, 60);
}
