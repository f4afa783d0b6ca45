//! Every way the trainer feeds data: on-policy minibatches over epochs, prioritized replay
//! with priorities fed back from the loss, sequence replay (ACER), warm-up, and exploration
//! noise.

mod common;

use rlc_compiler::backend::InterpBackend;
use rlc_runtime::progress::Progress;
use rlc_runtime::trainer::noise::OrnsteinUhlenbeck;
use rlc_runtime::trainer::{RunConfig, Store, Summary, Trainer, keys};

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
        tensorboard: None,
        program_hash: 0,
        debug_nans: false,
        vectorize: Default::default(),
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

/// A uniform n-step replay fed by two environments: items are windows of the next 5 steps,
/// per environment, checked against hand-computed windows: full windows shift by one step,
/// `s2` is the state 5 steps on, and each time limit (Pendulum's 200 steps; it never
/// terminates) flushes 4 shorter windows, zero-padded, that still bootstrap (`done` = 0).
#[test]
fn nstep_replay_stores_per_environment_windows() {
    let c = compile(
        r#"
import nets.{mlp}
algorithm nstep_ddpg {
  env: continuous default "Pendulum-v1"
  net actor(s: obs) = env.act_high * tanh(mlp(s, [16], env.act_dim))
  net critic(s: obs, a: act) = mlp(concat(s, a), [16], 1)[..., 0]
  replay D capacity 1000 nstep 5 of (s: obs, a: act, r: f32[5], done: f32[5], mask: f32[5], s2: obs)
  policy act(s) = actor(s)
  loss critic_loss(b ~ D.sample(16)) = {
    let y = stop(sum(0.99 ^ f32(range(5)) * b.r, axis = -1) + 0.99 ^ sum(b.mask, axis = -1) * (1 - sum(b.done, axis = -1)) * critic(b.s2, actor(b.s2)))
    mean((critic(b.s, b.a) - y)^2)
  }
  loss actor_loss(b ~ D.sample(16)) = -mean(critic(b.s, actor(b.s)))
  update critic by adam(lr = 1e-3) on critic_loss
  update actor by adam(lr = 1e-3) on actor_loss
  schedule { envs 2; warmup 100; act act into D; train 1 every 1 after 450; eval act }
}"#,
    );
    let mut t = Trainer::new(&c, Box::new(InterpBackend::new()), config(500)).expect("trainer");
    let s = t.run(&mut Progress::Quiet).expect("run");
    assert_eq!(s.updates, 25, "trains once per vector step after 450 steps");
    let Store::Replay(d) = &t.stores()[0] else {
        panic!("uniform replay")
    };
    // 250 steps per env; every step starts one item, except the 4 still in each window.
    assert_eq!(d.len(), 500 - 2 * 4);
    let (s_, r, done, mask, s2) = (d.column(0), d.column(2), d.column(3), d.column(4), d.column(5));
    let win = |col: &[f32], i: usize| col[5 * i..5 * i + 5].to_vec();
    let obs = |col: &[f32], i: usize| col[3 * i..3 * i + 3].to_vec();
    assert!(done.iter().all(|x| *x == 0.0), "Pendulum only truncates");
    // Items 0..390: windows from steps 0..195 of both envs (alternating env 0, env 1), each
    // completed 4 steps after its start.
    for i in 0..390 {
        assert_eq!(win(mask, i), vec![1.0; 5], "item {i}");
        if i + 2 < 390 {
            assert_eq!(
                win(r, i)[1..],
                win(r, i + 2)[..4],
                "item {i}: rewards shift by one step"
            );
        }
        if i + 10 < 390 {
            assert_eq!(
                obs(s2, i),
                obs(s_, i + 10),
                "item {i}: s2 is the state 5 steps on"
            );
        }
    }
    // Step 199 (the 200th) truncates both envs: each flushes its windows from steps 195..200,
    // of 5, 4, 3, 2 and 1 steps, env 0's first.
    for (e, first) in [(0usize, 390usize), (1, 395)] {
        for k in 0..5 {
            let i = first + k;
            let valid = 5 - k;
            let want: Vec<f32> = (0..5).map(|j| if j < valid { 1.0 } else { 0.0 }).collect();
            assert_eq!(win(mask, i), want, "env {e} flushed item {k}");
            assert!(win(r, i)[valid..].iter().all(|x| *x == 0.0), "zero padding");
            assert!(win(r, i)[..valid].iter().all(|x| *x < 0.0), "Pendulum's rewards");
            assert_eq!(obs(s2, i), obs(s2, first), "all end at the final observation");
        }
    }
}

/// D4PG's prioritized n-step replay: two environments' windows enter the prioritized ring
/// (each step starts one item once its window closes) and training sets their priorities.
#[test]
fn prioritized_nstep_replay_trains_d4pg() {
    let c = common::compile(
        &common::stdlib().join("d4pg.rl"),
        &["hidden=[8]", "batch=16", "learning_starts=200", "envs=2"],
    )
    .remove(0);
    let mut t = Trainer::new(&c, Box::new(InterpBackend::new()), config(300)).expect("trainer");
    let s = t.run(&mut Progress::Quiet).expect("run");
    // One update per environment copy per vector step after the warm-up: 2 x 50.
    assert_eq!(s.updates, 100);
    let Store::Prioritized(p) = &t.stores()[0] else {
        panic!("prioritized store")
    };
    // 150 steps per env, no episode end yet: the last 4 of each are still open windows.
    assert_eq!(p.len(), 300 - 2 * 4);
    let distinct = (0..p.len())
        .filter_map(|i| p.priority(i))
        .map(|x| x.to_bits())
        .collect::<std::collections::HashSet<_>>()
        .len();
    assert!(distinct > 50, "only {distinct} distinct priorities");
}

/// `act ... noise ou(..)`: with a policy that always acts 0, the stored actions are exactly
/// the OU processes (one per environment copy, scaled by Pendulum's bound 2, clipped to the
/// box), restarted at each episode start (Pendulum truncates at 200 steps), drawn from the
/// run's seed: the same seed stores the same actions, another seed others.
#[test]
fn ou_noise_is_added_per_copy_reset_per_episode_and_seeded() {
    let src = |sigma: &str| {
        format!(
            r#"
import nets.{{mlp}}
algorithm still {{
  env: continuous default "Pendulum-v1"
  net critic(s: obs, a: act) = mlp(concat(s, a), [8], 1)[..., 0]
  replay D capacity 1000 of (s: obs, a: act, r: f32, s2: obs, done: f32)
  policy zero(s) = zeros([len(s), env.act_dim])
  loss l(b ~ D.sample(16)) = mean((critic(b.s, b.a) - b.r)^2)
  update critic by adam(lr = 1e-3) on l
  schedule {{ envs 2; act zero into D noise ou(theta = 0.15, sigma = {sigma}); train 1 every 1 after 1000; eval zero }}
}}"#
        )
    };
    let actions = |sigma: &str, seed: u64| {
        let c = compile(&src(sigma));
        let mut cfg = config(500);
        cfg.seed = seed;
        let mut t = Trainer::new(&c, Box::new(InterpBackend::new()), cfg).expect("trainer");
        t.run(&mut Progress::Quiet).expect("run");
        let Store::Replay(d) = &t.stores()[0] else {
            panic!("uniform replay")
        };
        d.column(1).to_vec()
    };
    let got = actions("0.2", 4);
    assert_eq!(got.len(), 500);
    let mut ou = OrnsteinUhlenbeck::new(0.15, 0.2, 2, 1, keys::derive(4, keys::Purpose::Noise));
    let mut clipped = 0;
    for step in 0..250 {
        if step % 200 == 0 {
            ou.reset(0);
            ou.reset(1);
        }
        let x = ou.advance().to_vec();
        for e in 0..2 {
            let want = ((2.0 * x[e]) as f32).clamp(-2.0, 2.0);
            assert_eq!(got[2 * step + e], want, "step {step}, copy {e}");
            clipped += usize::from(want.abs() == 2.0);
        }
    }
    // Correlated: consecutive actions are close (theta = 0.15 keeps 85% of the last value).
    let lag1: f32 =
        (0..498).map(|i| got[i] * got[i + 2]).sum::<f32>() / (0..500).map(|i| got[i] * got[i]).sum::<f32>();
    assert!(lag1 > 0.7, "lag-1 autocorrelation {lag1}");
    assert!(clipped < 50, "{clipped} clipped");
    assert_eq!(actions("0.2", 4), got, "same seed, same noise");
    assert_ne!(actions("0.2", 5), got, "another seed, other noise");
    // sigma = 0 adds nothing: the policy's own actions are stored.
    assert!(actions("0", 4).iter().all(|a| *a == 0.0));
}
