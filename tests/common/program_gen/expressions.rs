//! Compound expressions of the generator: elementwise and reduction calls, indexing and
//! slicing, joins, gathers with data, integer arithmetic, distributions, `scan` and `for`
//! loops, and calls of user functions.

use super::*;

impl Gen {
    pub(super) fn compound(&mut self, shape: &[usize], d: usize) -> E {
        let rank = shape.len();
        let s = shape.to_vec();
        match self.rng.random_range(0..26) {
            0..=2 => self.unary(&s, d),
            3..=5 => self.binary(&s, d),
            6 => {
                let x = self.expr(&s, d);
                let (lo, hi) = if self.opt.mutate && self.chance(0.1) {
                    ("1.0", "-1.0")
                } else {
                    ("(-1.5)", "2.0")
                };
                E {
                    s: self.call(Builtin::Clip, vec![x.s, lo.into(), hi.into()]),
                    shape: s,
                    bound: 2.0,
                    exact: x.exact,
                }
            }
            7 => {
                let a = self.exact_expr(&s, d);
                let b = self.exact_expr(&s, d);
                let x = self.expr(&s, d);
                let y = self.expr(&s, d);
                let op = self.pick(&[">", "<", ">=", "<=", "==", "!="]);
                E {
                    s: self.call(Builtin::Where, vec![format!("{} {op} {}", a.s, b.s), x.s, y.s]),
                    shape: s,
                    bound: x.bound.max(y.bound),
                    exact: x.exact && y.exact,
                }
            }
            8 | 9 => self.reduction(&s, d),
            10 if rank > 0 && s[rank - 1] > 0 => {
                let x = self.expr(&s, d);
                let b = self.pick(&[Builtin::Softmax, Builtin::LogSoftmax]);
                let bound = if b == Builtin::Softmax {
                    1.0
                } else {
                    2.0 * x.bound + 5.0
                };
                E {
                    s: self.call(b, vec![x.s, "axis = -1".into()]),
                    shape: s,
                    bound,
                    exact: false,
                }
            }
            11 => self.index(&s, d),
            12 if rank > 0 => self.slice(&s, d),
            13 if rank > 0 => self.concat(&s, d),
            14 if rank > 0 => {
                // A reshape from the reversed shape (same element count).
                let mut r = s.clone();
                r.reverse();
                let x = self.expr(&r, d);
                let target = if self.opt.extreme && self.chance(0.2) {
                    format!("[{}, -1]", self.dim(false))
                } else {
                    shape_text(&s)
                };
                x.moved(self.call(Builtin::Reshape, vec![x.s.clone(), target]), s)
            }
            15 if s.contains(&1) => {
                let k = s.iter().position(|&x| x == 1).expect("has a 1");
                let mut r = s.clone();
                r.remove(k);
                let x = self.expr(&r, d);
                x.moved(self.call(Builtin::Expand, vec![x.s.clone(), k.to_string()]), s)
            }
            16 => {
                let k = self.rng.random_range(0..=rank);
                let mut r = s.clone();
                r.insert(k, 1);
                let x = self.expr(&r, d);
                x.moved(self.call(Builtin::Squeeze, vec![x.s.clone(), k.to_string()]), s)
            }
            17 if rank >= 2 => {
                let k = self.small_dim(true);
                let mut a = s.clone();
                a[rank - 1] = k;
                let b = vec![k, s[rank - 1]];
                let x = self.expr(&a, d);
                let y = self.expr(&b, d);
                E {
                    s: self.call(Builtin::Matmul, vec![x.s, y.s]),
                    shape: s,
                    bound: x.bound * y.bound * k as f64,
                    exact: false,
                }
            }
            18 => self.gather(&s, d),
            19 => self.scan(&s, d),
            20 => self.for_loop(&s, d),
            21 => {
                let x = self.expr(&s, d);
                let y = self.expr(&s, d);
                let p = self.int_params.first().map(|p| p.0.clone()).unwrap_or("1".into());
                let cond = if self.opt.mutate && self.chance(0.1) {
                    // A condition that is a tensor, not a compile-time boolean.
                    format!("{} > 0.0", self.leaf(&[]).s)
                } else {
                    format!("{p} > 2")
                };
                E {
                    s: format!("(if {cond} then {} else {})", x.s, y.s),
                    shape: s,
                    bound: x.bound.max(y.bound),
                    exact: x.exact && y.exact,
                }
            }
            22 => {
                // A block with a local.
                let r = self.any_shape(&s);
                let v = self.expr(&r, d);
                let name = self.name("v");
                self.vars.push(Var::float(name.clone(), r, v.bound, v.exact));
                let body = self.expr(&s, d);
                self.vars.pop();
                E {
                    s: format!("{{\n    let {name} = {}\n    {}\n  }}", v.s, body.s),
                    shape: s,
                    bound: body.bound,
                    exact: body.exact && v.exact,
                }
            }
            23 | 24 => self.distribution(&s, d),
            25 => {
                // The gradient of a scalar with respect to an intermediate (ACER's trust region).
                let v = self.expr(&s, d);
                let w = self.expr(&s, d);
                let name = self.name("g");
                E {
                    s: format!(
                        "{{\n    let {name} = {}\n    grad(sum(tanh({name}) * {}), {name})\n  }}",
                        v.s, w.s
                    ),
                    shape: s,
                    bound: w.bound,
                    exact: false,
                }
            }
            _ => self.user_call(&s, d),
        }
    }

    /// Distributions: log-probabilities, entropies and KL divergences, elementwise over `s`.
    pub(super) fn distribution(&mut self, s: &[usize], d: usize) -> E {
        let n = self.small_dim(false);
        let mut big = s.to_vec();
        big.push(n);
        let ints = self.ints(s);
        match self.rng.random_range(0..4) {
            0 => {
                let x = self.expr(&big, d);
                E {
                    s: format!("categorical({}).entropy()", x.s),
                    shape: s.to_vec(),
                    bound: (n as f64).ln() + 1.0,
                    exact: false,
                }
            }
            1 if !ints.is_empty() => {
                // Log-probabilities of the actions in the data (the logits' width is theirs).
                let a = self.pick(&ints);
                let mut big = s.to_vec();
                big.push(a.bound as usize + 1);
                let x = self.expr(&big, d);
                E {
                    s: format!("categorical({}).log_prob({})", x.s, a.name),
                    shape: s.to_vec(),
                    bound: 2.0 * x.bound + 5.0,
                    exact: false,
                }
            }
            2 => {
                let (p, q) = (self.expr(&big, d), self.expr(&big, d));
                E {
                    s: format!("kl(categorical({}), categorical({}))", p.s, q.s),
                    shape: s.to_vec(),
                    bound: 2.0 * (p.bound + q.bound) + 5.0,
                    exact: false,
                }
            }
            _ => {
                // A diagonal Gaussian: log_prob sums over the last (event) axis.
                let (mu, sd, x) = (self.expr(&big, d), self.expr(&big, d), self.expr(&big, d));
                E {
                    s: format!("normal({}, abs({}) + 0.5).log_prob({})", mu.s, sd.s, x.s),
                    shape: s.to_vec(),
                    bound: n as f64 * (2.0 * (mu.bound + x.bound).powi(2) + 2.0 + sd.bound.ln().abs()),
                    exact: false,
                }
            }
        }
    }

    /// A shape related to `s`: itself, a suffix, or a fresh small one.
    pub(super) fn any_shape(&mut self, s: &[usize]) -> Vec<usize> {
        match self.rng.random_range(0..3) {
            0 => s.to_vec(),
            1 => s[self.rng.random_range(0..=s.len())..].to_vec(),
            _ => (0..self.rng.random_range(0..3))
                .map(|_| self.small_dim(false))
                .collect(),
        }
    }

    pub(super) fn unary(&mut self, s: &[usize], d: usize) -> E {
        let x = self.expr(s, d);
        let b = x.bound;
        let (text, bound, exact) = match self.rng.random_range(0..16) {
            0 => (
                format!("exp({})", self.call(Builtin::Tanh, vec![x.s])),
                2.8,
                false,
            ),
            1 => (self.call(Builtin::Tanh, vec![x.s]), 1.0, false),
            2 => (self.call(Builtin::Sin, vec![x.s]), 1.0, false),
            3 => (self.call(Builtin::Cos, vec![x.s]), 1.0, false),
            4 => (self.call(Builtin::Abs, vec![x.s]), b, x.exact),
            5 => (self.call(Builtin::Relu, vec![x.s]), b, x.exact),
            6 => (self.call(Builtin::Sigmoid, vec![x.s]), 1.0, false),
            7 => (self.call(Builtin::Softplus, vec![x.s]), b + 1.0, false),
            8 => (self.call(Builtin::Elu, vec![x.s]), b + 1.0, false),
            9 => (self.call(Builtin::Square, vec![x.s]), b * b, x.exact),
            10 => (format!("(-{})", x.s), b, x.exact),
            11 => (format!("sqrt(abs({}) + 0.1)", x.s), b.sqrt() + 1.0, false),
            12 => (format!("log(abs({}) + 0.5)", x.s), b.ln().abs() + 1.0, false),
            13 => (format!("({} ^ 2)", x.s), b * b, false),
            // Discontinuous: only on values both backends compute identically.
            14 if x.exact => (self.call(Builtin::Floor, vec![x.s]), b + 1.0, true),
            15 if x.exact => (self.call(Builtin::Sign, vec![x.s]), 1.0, true),
            _ => (format!("stop({})", x.s), b, x.exact),
        };
        E {
            s: text,
            shape: s.to_vec(),
            bound,
            exact,
        }
    }

    pub(super) fn binary(&mut self, s: &[usize], d: usize) -> E {
        let x = self.expr(s, d);
        // The other operand: the same shape, a suffix of it (broadcast) or a scalar.
        let ys = if self.chance(0.6) {
            s.to_vec()
        } else {
            s[self.rng.random_range(0..=s.len())..].to_vec()
        };
        let y = if ys.is_empty() && self.chance(0.5) {
            let (c, v) = self.float_lit();
            E {
                s: c,
                shape: vec![],
                bound: v,
                exact: true,
            }
        } else {
            self.expr(&ys, d)
        };
        let (xs, yb) = (x.s, y.s);
        let (text, bound, exact) = match self.rng.random_range(0..7) {
            0 => (format!("({xs} + {yb})"), x.bound + y.bound, x.exact && y.exact),
            1 => (format!("({xs} - {yb})"), x.bound + y.bound, x.exact && y.exact),
            2 => (format!("({xs} * {yb})"), x.bound * y.bound, x.exact && y.exact),
            3 => (format!("({xs} / (abs({yb}) + 0.5))"), 2.0 * x.bound, false),
            4 => (
                self.call(Builtin::Maximum, vec![xs, yb]),
                x.bound.max(y.bound),
                x.exact && y.exact,
            ),
            5 => (
                self.call(Builtin::Minimum, vec![xs, yb]),
                x.bound.max(y.bound),
                x.exact && y.exact,
            ),
            _ => (format!("({xs} % (abs({yb}) + 1.0))"), y.bound + 1.0, false),
        };
        // `%` is discontinuous in its result: only exact operands keep the backends together.
        if text.contains(" % ") && !(x.exact && y.exact) {
            return E {
                s: format!("({text} * 0.0 + {})", self.leaf_exact(s).s),
                shape: s.to_vec(),
                bound: BOUND,
                exact: true,
            };
        }
        E {
            s: text,
            shape: s.to_vec(),
            bound,
            exact,
        }
    }

    /// A reduction over an axis inserted into `s` (or kept with `keepdims`).
    pub(super) fn reduction(&mut self, s: &[usize], d: usize) -> E {
        let k = self.rng.random_range(0..=s.len());
        let keep = k < s.len() && s[k] == 1 && self.chance(0.4);
        let zero_ok = !self.opt.extreme || self.chance(0.5);
        let n = self.small_dim(zero_ok);
        let mut big = s.to_vec();
        if keep {
            big[k] = n.max(1);
        } else {
            big.insert(k, n);
        }
        let n = big[k];
        // Reductions that have no value over an empty axis (max, min, mean, logsumexp) only
        // reduce non-empty ones.
        let ops: &[Builtin] = if n == 0 {
            &[Builtin::Sum]
        } else if keep {
            &[Builtin::Sum, Builtin::Mean, Builtin::Max, Builtin::Min]
        } else {
            &[
                Builtin::Sum,
                Builtin::Mean,
                Builtin::Max,
                Builtin::Min,
                Builtin::Logsumexp,
            ]
        };
        let b = self.pick(ops);
        let x = self.expr(&big, d);
        let axis = if self.chance(0.5) {
            k.to_string()
        } else {
            format!("-{}", big.len() - k)
        };
        let mut args = vec![x.s, format!("axis = {axis}")];
        if keep {
            args.push("keepdims = true".into());
        }
        let bound = match b {
            Builtin::Sum => x.bound * n as f64,
            Builtin::Logsumexp => x.bound + (n as f64).ln() + 1.0,
            _ => x.bound,
        };
        E {
            s: self.call(b, args),
            shape: s.to_vec(),
            bound,
            exact: false,
        }
    }

    /// A constant index into a tensor with one more leading axis (at its boundaries, often).
    pub(super) fn index(&mut self, s: &[usize], d: usize) -> E {
        let n = self.small_dim(false);
        let mut big = vec![n];
        big.extend_from_slice(s);
        let x = self.expr(&big, d);
        let n = n as i64;
        let i = if self.opt.mutate && self.chance(0.1) {
            self.pick(&[n, -n - 1]).to_string()
        } else if self.opt.extreme && self.chance(0.1) {
            self.pick(&EXTREME_INTS).to_string()
        } else {
            self.pick(&[0, n - 1, -1, -n, n / 2]).to_string()
        };
        x.moved(format!("{}[{i}]", paren(&x.s)), s.to_vec())
    }

    pub(super) fn slice(&mut self, s: &[usize], d: usize) -> E {
        let extra = self.small_dim(true);
        let lo = self.rng.random_range(0..=extra);
        let mut big = s.to_vec();
        big[0] += extra;
        let x = self.expr(&big, d);
        let hi = lo + s[0];
        let text = if lo == 0 && self.chance(0.5) {
            format!("{}[:{hi}]", paren(&x.s))
        } else if hi == big[0] && self.chance(0.5) {
            format!("{}[{lo}:]", paren(&x.s))
        } else {
            format!("{}[{lo}:{hi}]", paren(&x.s))
        };
        x.moved(text, s.to_vec())
    }

    pub(super) fn concat(&mut self, s: &[usize], d: usize) -> E {
        let k = self.rng.random_range(0..s.len());
        let a = self.rng.random_range(0..=s[k]);
        let (mut sa, mut sb) = (s.to_vec(), s.to_vec());
        sa[k] = a;
        sb[k] = s[k] - a;
        let x = self.expr(&sa, d);
        let y = self.expr(&sb, d);
        E {
            s: self.call(Builtin::Concat, vec![x.s, y.s, format!("axis = {k}")]),
            shape: s.to_vec(),
            bound: x.bound.max(y.bound),
            exact: x.exact && y.exact,
        }
    }

    /// The integer names in scope of shape `s`.
    pub(super) fn ints(&self, s: &[usize]) -> Vec<Var> {
        self.vars
            .iter()
            .filter(|v| v.int && v.shape == s)
            .cloned()
            .collect()
    }

    /// Gathers with data: `pick` by actions, `take_along` by sorted positions, `one_hot`.
    pub(super) fn gather(&mut self, s: &[usize], d: usize) -> E {
        let ints = self.ints(s);
        let rank = s.len();
        let rows = if rank > 0 { self.ints(&s[..1]) } else { Vec::new() };
        match self.rng.random_range(0..6) {
            5 if !rows.is_empty() => {
                // Rows chosen by data: `x[b.a]` with x of n rows, n the number of actions
                // (proven in range: stored actions are) or fewer (E0017: an action can leave
                // the rows).
                let a = self.pick(&rows);
                let n = self.rng.random_range(1..=a.bound as usize + 1);
                let mut big = vec![n];
                big.extend_from_slice(&s[1..]);
                let x = self.expr(&big, d);
                x.moved(format!("{}[{}]", paren(&x.s), a.name), s.to_vec())
            }
            4 => {
                // Integer arithmetic (wrapping, `%` by zero and by -1, saturating
                // casts), folded into a small range so that no `tanh` hides a difference.
                let i = self.int_expr(s, d.min(2));
                E {
                    s: format!("f32(({i}) % 50)"),
                    shape: s.to_vec(),
                    bound: 50.0,
                    exact: true,
                }
            }
            0 if !ints.is_empty() => {
                let a = self.pick(&ints);
                let n = a.bound as usize + 1;
                let mut big = s.to_vec();
                big.push(n);
                let x = self.expr(&big, d);
                x.moved(self.call(Builtin::Pick, vec![x.s.clone(), a.name]), s.to_vec())
            }
            1 if rank > 0 => {
                // take_along with positions from sorting exact values; sizes 1 broadcast.
                let key = self.exact_expr(s, d);
                // top_k needs k >= 1: an empty last axis is sorted instead.
                let which = if s[rank - 1] == 0 {
                    0
                } else {
                    self.rng.random_range(0..3)
                };
                let idx = match which {
                    0 => self.call(Builtin::Argsort, vec![key.s, "axis = -1".into()]),
                    1 => self.call(
                        Builtin::Argsort,
                        vec![key.s, "axis = -1".into(), "descending = true".into()],
                    ),
                    _ => {
                        let k = if self.opt.extreme && self.chance(0.2) {
                            self.pick(&EXTREME_INTS).to_string()
                        } else {
                            s[rank - 1].max(1).to_string()
                        };
                        self.call(Builtin::TopK, vec![key.s, k])
                    }
                };
                let x = self.expr(s, d);
                x.moved(
                    self.call(Builtin::TakeAlong, vec![x.s.clone(), idx, "axis = -1".into()]),
                    s.to_vec(),
                )
            }
            2 if rank > 0 => {
                // one_hot of an argmax of exact values: positions in [0, n).
                let n = s[rank - 1];
                let mut big = s[..rank - 1].to_vec();
                big.push(self.small_dim(false));
                let x = self.exact_expr(&big, d);
                let am = self.call(Builtin::Argmax, vec![x.s, "axis = -1".into()]);
                let width = if self.opt.extreme && self.chance(0.2) {
                    self.pick(&EXTREME_INTS).to_string()
                } else {
                    n.to_string()
                };
                E {
                    s: self.call(Builtin::OneHot, vec![am, width]),
                    shape: s.to_vec(),
                    bound: 1.0,
                    exact: true,
                }
            }
            _ => {
                // f32 of an integer: argmin positions over a new last axis.
                let mut big = s.to_vec();
                let n = self.small_dim(false);
                big.push(n);
                let x = self.exact_expr(&big, d);
                let am = self.call(Builtin::Argmin, vec![x.s, "axis = -1".into()]);
                E {
                    s: self.call(Builtin::F32, vec![am]),
                    shape: s.to_vec(),
                    bound: n as f64,
                    exact: true,
                }
            }
        }
    }

    /// An i32 expression of shape `s`: actions, argmax positions, casts of exact values
    /// (saturating past the i32 range), constants, and `+ - * %` between them.
    pub(super) fn int_expr(&mut self, s: &[usize], d: usize) -> String {
        if d == 0 || self.chance(0.3) {
            let ints = self.ints(s);
            return match self.rng.random_range(0..4) {
                0 if !ints.is_empty() => self.pick(&ints).name,
                1 => {
                    let mut big = s.to_vec();
                    big.push(self.small_dim(false));
                    let x = self.exact_expr(&big, 1);
                    self.call(Builtin::Argmax, vec![x.s, "axis = -1".into()])
                }
                2 => {
                    let x = self.exact_expr(s, 1);
                    let scale = self.pick(&["1.0", "3.0", "1e9", "1e10", "(-7.0)"]);
                    self.call(Builtin::I32, vec![format!("{} * {scale}", x.s)])
                }
                _ => {
                    let k = self.pick(&[0i64, 1, -1, 2, 7, -2147483648, 2147483647]);
                    format!("i32(full({}, {k}))", shape_text(s))
                }
            };
        }
        let a = self.int_expr(s, d - 1);
        let b = self.int_expr(s, d - 1);
        // (`/` on integers is refused by the language as ambiguous.)
        let op = self.pick(&["+", "-", "*", "%"]);
        format!("({a} {op} {b})")
    }

    /// A scan over a new leading axis with one or two carries; computed indices into a local
    /// (`t`, `n - 1 - t`, `clip(t + 1, 0, n - 1)`), reduced back to `s`.
    pub(super) fn scan(&mut self, s: &[usize], d: usize) -> E {
        let n = if self.opt.extreme && self.chance(0.15) {
            self.pick(&[0usize, 1, 4096]) // 0 and 1 steps; a long loop
        } else {
            self.small_dim(false)
        };
        let mut big = vec![n];
        big.extend_from_slice(s);
        let xs_e = self.expr(&big, d);
        let xs = self.name("xs");
        let c = self.name("c");
        let rev = if self.chance(0.5) { "reverse " } else { "" };
        let last = n as i64 - 1;
        // A name of its own, so that a scan inside the body does not shadow it.
        let t = self.name("t");
        let idx = match self.rng.random_range(0..5) {
            0 | 1 => t.clone(),
            2 => format!("{last} - {t}"),
            3 => format!("clip({t} + 1, 0, {last})"),
            _ if self.opt.mutate => format!("{t} + 1"), // out of range at the last step: E0017
            _ => format!("minimum({t} + 1, {last})"),
        };
        let init = self.expr(s, d);
        // The body: decay the carry and add the indexed row (bounded by the `tame` of c).
        self.vars.push(Var::float(c.clone(), s.to_vec(), 1.0, false));
        self.vars.push(Var::float(
            format!("{xs}[{idx}]"),
            s.to_vec(),
            xs_e.bound,
            xs_e.exact,
        ));
        let outer = std::mem::replace(&mut self.no_random, true);
        let extra = self.expr(s, d.min(1));
        self.no_random = outer;
        self.vars.pop();
        self.vars.pop();
        let two = self.chance(0.3);
        let body = format!("tanh(0.5 * {c} + {xs}[{idx}] + 0.1 * {})", extra.s);
        let (carries, ret) = if two {
            let c2 = self.name("c");
            (
                format!("{c} = {}, {c2} = {}", init.s, init.s),
                format!("({body}, {c2} * 0.5 + {c})"),
            )
        } else {
            (format!("{c} = tanh({})", init.s), body)
        };
        let scan = format!("scan {rev}{t} in {n} with {carries} {{\n      {ret}\n    }}");
        let result = if two {
            let (a, b) = (self.name("ys"), self.name("zs"));
            format!(
                "{{\n    let {xs} = {}\n    let ({a}, {b}) = {scan}\n    sum({a}, axis = 0) + mean({b}, axis = 0) * 0.0 + {b}[0] * 0.1\n  }}",
                xs_e.s
            )
        } else {
            format!("{{\n    let {xs} = {}\n    sum({scan}, axis = 0)\n  }}", xs_e.s)
        };
        // The two-carry result reads element 0 of the stack and means over it: not for n = 0.
        if two && n == 0 {
            return self.leaf(s);
        }
        E {
            s: result,
            shape: s.to_vec(),
            bound: n as f64 * 1.0 + 6.0,
            exact: false,
        }
    }

    /// An unrolled `for` over a list of constants or `range(k)`.
    pub(super) fn for_loop(&mut self, s: &[usize], d: usize) -> E {
        let y = self.name("y");
        let k = self.name("k");
        let init = self.expr(s, d);
        let (over, kval) = if self.chance(0.5) {
            let items: Vec<String> = (0..self.rng.random_range(0..4))
                .map(|_| self.float_lit().0)
                .collect();
            (format!("[{}]", items.join(", ")), k.clone())
        } else {
            let m = if self.opt.extreme && self.chance(0.2) {
                self.pick(&EXTREME_INTS).to_string()
            } else {
                self.rng.random_range(0..4).to_string()
            };
            (format!("range({m})"), format!("f32({k})"))
        };
        self.vars.push(Var::float(y.clone(), s.to_vec(), 1.0, false));
        let step = self.expr(s, d.min(1));
        self.vars.pop();
        E {
            s: format!(
                "(for {k} in {over} with {y} = tanh({}) {{ tanh({y} * 0.5 + {kval} * 0.1 + {}) }})",
                init.s, step.s
            ),
            shape: s.to_vec(),
            bound: 1.0,
            exact: false,
        }
    }

    /// A call of a user function (elementwise, so it keeps the shape of its arguments).
    pub(super) fn user_call(&mut self, s: &[usize], d: usize) -> E {
        if self.fns.is_empty() {
            return self.unary(s, d);
        }
        let (f, arity) = self.pick(&self.fns.clone());
        let mut args: Vec<String> = (0..arity).map(|_| self.expr(s, d).s).collect();
        if self.opt.mutate && self.chance(0.1) {
            args.pop();
        }
        E {
            s: format!("{f}({})", args.join(", ")),
            shape: s.to_vec(),
            bound: 1.0,
            exact: false,
        }
    }
}
