//! Whole programs of the generator: user functions, hyperparameters, the three algorithm
//! templates (discrete replay, on-policy rollout, continuous actor-critic) and the hostile
//! mutations.

use super::*;

impl Gen {
    /// A user function of one or two tensors of one shape: smooth elementwise templates, so
    /// that it keeps its arguments' shape whatever it is called with.
    pub(super) fn fn_decl(&mut self) -> String {
        const ONE: [&str; 8] = [
            "tanh({a})",
            "sin({a})",
            "exp(tanh({a}))",
            "sigmoid({a}) * {a}",
            "softplus(tanh({a}))",
            "elu(tanh({a}))",
            "sqrt(abs({a}) + 0.1)",
            "log(abs({a}) + 0.5)",
        ];
        const TWO: [&str; 5] = [
            "tanh({a}) * tanh({b})",
            "tanh({a} - {b})",
            "{a} / (abs({b}) + 1.0)",
            "cos({a} + 0.5 * {b})",
            "stop({a}) * tanh({b})",
        ];
        let name = self.name("f");
        let arity = self.rng.random_range(1..3);
        let params: Vec<String> = (0..arity).map(|i| format!("x{i}")).collect();
        let mut body = String::from("x0 * 0.0");
        for _ in 0..self.rng.random_range(1..4) {
            let a = self.pick(&params);
            let b = self.pick(&params);
            let t = if self.chance(0.5) {
                self.pick(&ONE)
            } else {
                self.pick(&TWO)
            };
            body = format!("{body} + {}", t.replace("{a}", &a).replace("{b}", &b));
        }
        self.fns.push((name.clone(), arity));
        format!("  fn {name}({}) = tanh({body})\n", params.join(", "))
    }

    // ------------------------------------------------------------------ declarations

    /// Common hyperparameters: gamma, a few numbers usable as sizes (extreme ones in hostile
    /// programs).
    pub(super) fn params(&mut self) -> String {
        let mut out = String::from("  param gamma = 0.9\n");
        for i in 0..self.rng.random_range(0..3) {
            let name = format!("n{i}");
            let v = if self.opt.extreme && self.chance(0.3) {
                self.pick(&EXTREME_INTS).to_string()
            } else {
                self.rng.random_range(0..6).to_string()
            };
            if let Ok(x) = v.parse::<usize>() {
                self.int_params.push((name.clone(), x));
            }
            out += &format!("  param {name} = {v}\n");
        }
        out
    }

    pub(super) fn hidden(&mut self) -> String {
        let layers: Vec<String> = (0..self.rng.random_range(1..3))
            .map(|_| {
                if self.opt.extreme && self.chance(0.2) {
                    self.pick(&EXTREME_INTS).to_string()
                } else {
                    self.pick(&[1usize, 3, 8]).to_string()
                }
            })
            .collect();
        format!("[{}]", layers.join(", "))
    }

    pub(super) fn optimiser(&mut self) -> String {
        // Adam and RMSProp divide by the gradient's root mean square: a large eps keeps a
        // gradient that is only rounding noise from becoming a full step of either sign.
        match self.rng.random_range(0..3) {
            0 => "sgd(lr = 0.01)".into(),
            1 => "adam(lr = 0.001, eps = 0.001)".into(),
            _ => "rmsprop(lr = 0.001, eps = 0.01, clip_norm = 1.0)".into(),
        }
    }

    pub(super) fn activation(&mut self) -> &'static str {
        self.pick(&["", ", act = tanh", ", act = elu"])
    }

    pub(super) fn batch(&mut self) -> String {
        if self.opt.extreme && self.chance(0.2) {
            self.pick(&EXTREME_INTS).to_string()
        } else {
            self.pick(&[1usize, 2, 5]).to_string()
        }
    }

    /// A scalar term added to a loss: 0.01 * sum of an expression of a random shape.
    pub(super) fn loss_term(&mut self, depth: usize) -> String {
        let fresh = vec![self.small_dim(true), self.small_dim(false)];
        let shapes: Vec<Vec<usize>> = self
            .vars
            .iter()
            .map(|v| v.shape.clone())
            .chain([vec![], fresh])
            .collect();
        let s = self.pick(&shapes);
        let e = self.expr(&s, depth);
        format!("0.01 * sum({})", e.s)
    }

    /// A policy is traced for one observation and for a batch of them: the names in scope
    /// are rows and scalars that do not depend on the batch size.
    pub(super) fn policy_vars(&mut self, s: &str, out: &str, obs: usize, n: usize) {
        self.vars = vec![
            Var::float(format!("{s}[0]"), vec![obs], 6.0, true),
            Var::float(format!("{out}[0]"), vec![n], 10.0, false),
            Var::float(format!("{s}[-1, 0]"), vec![], 6.0, true),
            Var::float(format!("mean({out})"), vec![], 10.0, false),
        ];
    }

    pub(super) fn env_float_vars(&mut self, b: &str, lead: &[usize], obs: usize, act: Option<usize>) {
        let with = |x: &[usize]| {
            let mut v = lead.to_vec();
            v.extend_from_slice(x);
            v
        };
        self.vars = vec![
            Var::float(format!("{b}.s"), with(&[obs]), 6.0, true),
            Var::float(format!("{b}.s2"), with(&[obs]), 6.0, true),
            Var::float(format!("{b}.r"), lead.to_vec(), 6.0, true),
            Var::float(format!("{b}.done"), lead.to_vec(), 1.0, true),
        ];
        match act {
            Some(n) => self
                .vars
                .push(Var::int(format!("{b}.a"), lead.to_vec(), (n - 1) as f64)),
            None => self
                .vars
                .push(Var::float(format!("{b}.a"), with(&[1]), 6.0, true)),
        }
    }

    /// DQN-like: a Q net, a target, uniform replay, a greedy policy, a TD loss plus a term.
    pub(super) fn replay_program(&mut self) -> String {
        let (env, obs, n_act) = self.pick(&[("CartPole-v1", 4, 2), ("Acrobot-v1", 6, 3)]);
        let mut p = String::from("import nets.{mlp}\n\nalgorithm fuzz {\n");
        p += &self.params();
        let batch = self.batch();
        p += &format!("  param batch = {batch}\n  param hidden = {}\n", self.hidden());
        p += &format!("  env: discrete default \"{env}\"\n");
        let act = self.activation();
        p += &format!("  net q(s: obs) = mlp(s, hidden, env.num_actions{act})\n");
        let target = self.chance(0.5);
        if target {
            p += if self.chance(0.5) {
                "  target q_t = polyak(q, 0.5)\n"
            } else {
                "  target q_t = copy(q, 3)\n"
            };
        }
        let cap = if self.opt.extreme && self.chance(0.2) {
            self.pick(&EXTREME_INTS).to_string()
        } else {
            "64".into()
        };
        p += &format!("  replay D capacity {cap} of (s: obs, a: act, r: f32, s2: obs, done: f32)\n");
        for _ in 0..self.rng.random_range(0..3) {
            p += &self.fn_decl();
        }
        // The policy: greedy on Q plus a small generated term over the actions.
        self.policy_vars("s", "q(s)", obs, n_act);
        let bonus = self.expr(&[n_act], 2);
        p += &format!("  policy greedy(s) = argmax(q(s) + 0.001 * {})\n", bonus.s);
        let bsize: usize = batch.parse().unwrap_or(1);
        self.env_float_vars("b", &[bsize], obs, Some(n_act));
        self.vars
            .push(Var::float("q(b.s)", vec![bsize, n_act], 10.0, false));
        let qt = if target { "q_t" } else { "q" };
        let term = self.loss_term(4);
        p += &format!(
            "  loss l(b ~ D.sample(batch)) = {{\n    let y = stop(b.r + gamma * (1 - b.done) * max({qt}(b.s2), axis = -1))\n    mean((pick(q(b.s), b.a) - y)^2) + {term}\n  }}\n"
        );
        p += &format!("  update q by {} on l\n", self.optimiser());
        p += "  schedule { warmup 16; act greedy into D; train 1; eval greedy }\n}\n";
        self.mangle(p)
    }

    /// REINFORCE-like: a policy and a value net on a rollout `[T, envs]`, returns by `scan`.
    pub(super) fn rollout_program(&mut self) -> String {
        let (env, obs, n_act) = self.pick(&[("CartPole-v1", 4, 2), ("Acrobot-v1", 6, 3)]);
        let t = self.pick(&[1usize, 2, 5]);
        let envs = self.pick(&[1usize, 2, 3]);
        let mut p = String::from("import nets.{mlp}\n\nalgorithm fuzz {\n");
        p += &self.params();
        let steps = if self.opt.extreme && self.chance(0.2) {
            self.pick(&EXTREME_INTS).to_string()
        } else {
            t.to_string()
        };
        p += &format!(
            "  param horizon = {steps}\n  param n_envs = {envs}\n  param hidden = {}\n",
            self.hidden()
        );
        p += &format!("  env: discrete default \"{env}\"\n");
        let act = self.activation();
        p += &format!("  net pi(s: obs) = mlp(s, hidden, env.num_actions{act})\n");
        p += "  net value(s: obs) = mlp(s, hidden, 1)[..., 0]\n";
        p += "  rollout R steps horizon of (s: obs, a: act, r: f32, s2: obs, done: f32)\n";
        for _ in 0..self.rng.random_range(0..3) {
            p += &self.fn_decl();
        }
        self.policy_vars("s", "pi(s)", obs, n_act);
        let logits = self.expr(&[n_act], 2);
        p += &format!("  policy sample(s) = categorical(pi(s) + 0.001 * {})\n", logits.s);
        p += "  policy greedy(s) = argmax(pi(s))\n";
        self.env_float_vars("b", &[t, envs], obs, Some(n_act));
        self.vars
            .push(Var::float("pi(b.s)", vec![t, envs, n_act], 10.0, false));
        self.vars
            .push(Var::float("value(b.s)", vec![t, envs], 10.0, false));
        let term = self.loss_term(4);
        let rev = self.pick(&["reverse ", ""]);
        p += &format!(
            "  fn returns(b) = scan {rev}t in horizon with g = zeros_like(b.r[0]) {{ b.r[t] + gamma * (1 - b.done[t]) * g }}\n"
        );
        p += &format!(
            "  loss policy_loss(b ~ R) = {{\n    let d = categorical(pi(b.s))\n    let adv = stop(returns(b) - value(b.s))\n    -mean(d.log_prob(b.a) * adv + 0.01 * d.entropy()) + {term}\n  }}\n"
        );
        p += "  loss value_loss(b ~ R) = mean((value(b.s) - stop(returns(b)))^2)\n";
        p += &format!("  update pi by {} on policy_loss\n", self.optimiser());
        p += &format!("  update value by {} on value_loss\n", self.optimiser());
        p += "  schedule { envs n_envs; act sample into R; train 1; eval greedy }\n}\n";
        self.mangle(p)
    }

    /// DDPG-like on Pendulum-v1: an actor, a critic, targets, Gaussian exploration.
    pub(super) fn continuous_program(&mut self) -> String {
        let obs = 3;
        let mut p = String::from("import nets.{mlp}\n\nalgorithm fuzz {\n");
        p += &self.params();
        let batch = self.batch();
        p += &format!("  param batch = {batch}\n  param hidden = {}\n", self.hidden());
        p += "  env: continuous default \"Pendulum-v1\"\n";
        let act = self.activation();
        p += &format!("  net actor(s: obs) = env.act_high * tanh(mlp(s, hidden, env.act_dim{act}))\n");
        p += "  net critic(s: obs, a: act) = mlp(concat(s, a), hidden, 1)[..., 0]\n";
        p += "  target critic_t = polyak(critic, 0.5)\n";
        p += "  replay D capacity 64 of (s: obs, a: act, r: f32, s2: obs, done: f32)\n";
        for _ in 0..self.rng.random_range(0..3) {
            p += &self.fn_decl();
        }
        self.policy_vars("s", "actor(s)", obs, 1);
        let noise = self.expr(&[1], 2);
        p += &format!(
            "  policy explore(s) = clip(actor(s) + 0.1 * tanh({}), -env.act_high, env.act_high)\n",
            noise.s
        );
        p += "  policy greedy(s) = actor(s)\n";
        let bsize: usize = batch.parse().unwrap_or(1);
        self.env_float_vars("b", &[bsize], obs, None);
        self.vars
            .push(Var::float("actor(b.s)", vec![bsize, 1], 2.0, false));
        let term = self.loss_term(4);
        p += &format!(
            "  loss critic_loss(b ~ D.sample(batch)) = {{\n    let y = stop(b.r + gamma * (1 - b.done) * critic_t(b.s2, actor(b.s2)))\n    mean((critic(b.s, b.a) - y)^2) + {term}\n  }}\n"
        );
        let term = self.loss_term(3);
        p += &format!("  loss actor_loss(b ~ D.sample(batch)) = -mean(critic(b.s, actor(b.s))) + {term}\n");
        p += &format!("  update critic by {} on critic_loss\n", self.optimiser());
        p += &format!("  update actor by {} on actor_loss\n", self.optimiser());
        p += "  schedule { warmup 8; act explore into D; train 1 every 1 after 8; eval greedy }\n}\n";
        self.mangle(p)
    }

    /// In mutated programs, one textual mistake more: two identifiers swapped, a numeral
    /// replaced by an extreme one, `b.r` where an action belongs, or a line dropped.
    pub(super) fn mangle(&mut self, p: String) -> String {
        if !self.opt.mutate || self.chance(0.4) {
            return p;
        }
        let words = super::super::identifiers(&p);
        match self.rng.random_range(0..4) {
            0 if words.len() >= 2 => {
                let (i, j) = (
                    self.rng.random_range(0..words.len()),
                    self.rng.random_range(0..words.len()),
                );
                let (x, y) = if words[i].0 <= words[j].0 {
                    (words[i], words[j])
                } else {
                    (words[j], words[i])
                };
                if x.1 > y.0 {
                    return p;
                }
                format!(
                    "{}{}{}{}{}",
                    &p[..x.0],
                    &p[y.0..y.1],
                    &p[x.1..y.0],
                    &p[x.0..x.1],
                    &p[y.1..]
                )
            }
            1 => {
                let digits: Vec<usize> = p
                    .char_indices()
                    .filter(|(i, c)| {
                        c.is_ascii_digit()
                            && !p[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.')
                    })
                    .map(|(i, _)| i)
                    .collect();
                if digits.is_empty() {
                    return p;
                }
                let at = self.pick(&digits);
                let end = p[at..]
                    .find(|c: char| !c.is_ascii_digit() && c != '.' && c != '_')
                    .map_or(p.len(), |e| at + e);
                let x = self.pick(&EXTREME_INTS);
                format!("{}{x}{}", &p[..at], &p[end..])
            }
            2 => p.replacen("b.a", self.pick(&["b.r", "true", "b.s", "(b.a > 0)"]), 1),
            _ => {
                let lines: Vec<&str> = p.lines().collect();
                let drop = self.rng.random_range(0..lines.len());
                lines
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != drop)
                    .map(|(_, l)| *l)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
    }
}
