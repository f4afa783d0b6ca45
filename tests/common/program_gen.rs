//! A grammar-aware generator of `.rl` programs for the program fuzzers (`tests/program_fuzz.rs`).
//!
//! A program is a whole algorithm — params, nets (`mlp` from `nets.rl`), fns, data, policies,
//! losses, updates, a schedule — in one of three templates (discrete replay, on-policy rollout,
//! continuous actor-critic) whose losses and policies carry randomly generated expressions.
//! Expressions are generated *typed*: every one has a known shape, so well-formed programs
//! compile, and builtins are drawn from the registry (`rlc_compiler::builtins`). Two flags make
//! programs hostile: `extreme` draws sizes, indices and hyperparameters from extreme values
//! (0, 1, 2^31, 2^40, 2^62, i64::MAX, negative), `mutate` makes small mistakes (a builtin call
//! with one argument too few or too many, a builtin replaced by another from the registry, a
//! name swapped, a boolean where a number belongs, an index past the end).
//!
//! For the JIT-vs-interpreter differential, generated values stay numerically tame: each
//! expression carries a bound on its magnitude (anything growing past [`BOUND`] is squashed by
//! `tanh`), and functions that are discontinuous (`floor`, `sign`, comparisons, sorting) are
//! applied only to *exact* values — inputs and results of `+ - *`, indexing and layout — on which
//! both backends compute bit-identical f32, so a rounding difference cannot flip a branch.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rlc_compiler::builtins::{Builtin, Form};

/// Values larger than this are squashed by `tanh` (f32 rounding stays far below the tolerance).
const BOUND: f64 = 50.0;

/// Sizes and numbers a hostile program draws from.
const EXTREME_INTS: [&str; 10] = [
    "0",
    "1",
    "-1",
    "2147483648",
    "4294967297",
    "1099511627776",
    "4611686018427387904",
    "9223372036854775807",
    "-9223372036854775808",
    "1e18",
];

/// What kind of program to make.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Draw sizes, indices and hyperparameters from extreme values.
    pub extreme: bool,
    /// Make small mistakes (arity, names, types, indices).
    pub mutate: bool,
}

/// A generated program and what it was made from.
#[derive(Clone, Debug)]
pub struct Program {
    /// The source text.
    pub text: String,
    /// The seed it was generated from.
    pub seed: u64,
    /// The options it was generated with.
    pub options: Options,
}

/// A generated expression: its text, shape, a bound on its magnitude, and whether both backends
/// compute it bit for bit alike.
#[derive(Clone, Debug)]
struct E {
    s: String,
    shape: Vec<usize>,
    bound: f64,
    exact: bool,
}

impl E {
    /// The same values moved or selected (a layout change, indexing): same bound and exactness.
    fn moved(&self, s: String, shape: impl Into<Vec<usize>>) -> E {
        E {
            s,
            shape: shape.into(),
            bound: self.bound,
            exact: self.exact,
        }
    }
}

/// A name in scope: a tensor of a known shape (f32 unless `int`).
#[derive(Clone, Debug)]
struct Var {
    name: String,
    shape: Vec<usize>,
    int: bool,
    bound: f64,
    /// Whether both backends compute it bit for bit alike (inputs; not net outputs).
    exact: bool,
}

impl Var {
    fn float(name: impl Into<String>, shape: Vec<usize>, bound: f64, exact: bool) -> Var {
        Var {
            name: name.into(),
            shape,
            int: false,
            bound,
            exact,
        }
    }

    /// Integers (actions) are exact; `bound` is the largest value.
    fn int(name: impl Into<String>, shape: Vec<usize>, bound: f64) -> Var {
        Var {
            name: name.into(),
            shape,
            int: true,
            bound,
            exact: true,
        }
    }
}

/// Generates the program for `seed`.
pub fn generate(seed: u64, options: Options) -> Program {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
        vars: Vec::new(),
        fns: Vec::new(),
        opt: options,
        fresh: 0,
        int_params: Vec::new(),
        no_random: false,
    };
    let text = match g.rng.random_range(0..3) {
        0 => g.replay_program(),
        1 => g.rollout_program(),
        _ => g.continuous_program(),
    };
    Program { text, seed, options }
}

struct Gen {
    rng: ChaCha8Rng,
    vars: Vec<Var>,
    /// User functions (name, arity) the expressions may call.
    fns: Vec<(String, usize)>,
    opt: Options,
    fresh: usize,
    /// Integer hyperparameters (name, value) usable as sizes and indices.
    int_params: Vec<(String, usize)>,
    /// Inside a `scan` body, where random numbers cannot be drawn.
    no_random: bool,
}

fn shape_text(s: &[usize]) -> String {
    let v: Vec<String> = s.iter().map(|d| d.to_string()).collect();
    format!("[{}]", v.join(", "))
}

fn numel(s: &[usize]) -> f64 {
    s.iter().map(|&d| d as f64).product()
}

impl Gen {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.rng.random_range(0..xs.len())].clone()
    }

    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    /// A float literal: mostly tame, sometimes an edge value.
    fn float_lit(&mut self) -> (String, f64) {
        let v = self.pick(&[0.0, 0.5, 1.0, 2.0, 0.25, 3.0, 0.1, 1.5]);
        let neg = self.chance(0.3);
        let s = if v == 0.0 || !neg {
            format!("{v:?}")
        } else {
            format!("(-{v:?})")
        };
        (s, v)
    }

    /// A size for a new axis: small, 1 or (where legal) 0; extreme in hostile programs.
    fn dim(&mut self, allow_zero: bool) -> String {
        if self.opt.extreme && self.chance(0.15) {
            return self.pick(&EXTREME_INTS).to_string();
        }
        let d = self.small_dim(allow_zero);
        d.to_string()
    }

    fn small_dim(&mut self, allow_zero: bool) -> usize {
        let ds: &[usize] = if allow_zero {
            &[0, 1, 1, 2, 3, 4]
        } else {
            &[1, 1, 2, 3, 4, 5]
        };
        self.pick(ds)
    }

    // ------------------------------------------------------------------ expressions

    /// A leaf of shape `shape`: a variable of that shape, one broadcast to it, or a constant.
    fn leaf(&mut self, shape: &[usize]) -> E {
        if self.opt.extreme && !self.no_random && self.chance(0.05) {
            // A constructor of an extreme size (its shape is not `shape`: the program is broken).
            let d = self.pick(&EXTREME_INTS);
            let c = self.pick(&["zeros", "ones", "randn", "rand"]);
            return E {
                s: format!("{c}([{d}, {}])", self.dim(true)),
                shape: shape.to_vec(),
                bound: 1.0,
                exact: true,
            };
        }
        let exact: Vec<Var> = self
            .vars
            .iter()
            .filter(|v| !v.int && v.shape == shape)
            .cloned()
            .collect();
        if !exact.is_empty() && self.chance(0.7) {
            let v = self.pick(&exact);
            return E {
                s: v.name,
                shape: shape.to_vec(),
                bound: v.bound,
                exact: v.exact,
            };
        }
        // A variable whose shape is a suffix of this one broadcasts to it.
        let suffix: Vec<Var> = self
            .vars
            .iter()
            .filter(|v| !v.int && v.shape.len() <= shape.len() && shape.ends_with(&v.shape))
            .cloned()
            .collect();
        let floats: Vec<Var> = self.vars.iter().filter(|v| !v.int).cloned().collect();
        match self.rng.random_range(0..5) {
            0 | 1 if !suffix.is_empty() => {
                let v = self.pick(&suffix);
                E {
                    s: format!("(zeros({}) + {})", shape_text(shape), v.name),
                    shape: shape.to_vec(),
                    bound: v.bound,
                    exact: v.exact,
                }
            }
            2 if !floats.is_empty() => {
                // A scalar read from data, broadcast: an element at a boundary or a reduction.
                let v = self.pick(&floats);
                let first: Vec<String> = v.shape.iter().map(|_| "0".to_string()).collect();
                let last: Vec<String> = v.shape.iter().map(|d| format!("{}", d - 1)).collect();
                let scalar = if v.shape.is_empty() || v.shape.contains(&0) {
                    (
                        format!("sum({})", v.name),
                        v.bound * numel(&v.shape).max(1.0),
                        false,
                    )
                } else {
                    match self.rng.random_range(0..3) {
                        0 => (format!("{}[{}]", v.name, first.join(", ")), v.bound, v.exact),
                        1 => (format!("{}[{}]", v.name, last.join(", ")), v.bound, v.exact),
                        _ => (format!("mean({})", v.name), v.bound, false),
                    }
                };
                E {
                    s: format!("(ones({}) * {})", shape_text(shape), scalar.0),
                    shape: shape.to_vec(),
                    bound: scalar.1,
                    exact: scalar.2,
                }
            }
            3 if !self.no_random => {
                let dist = self.pick(&["randn", "rand"]);
                E {
                    s: format!("{dist}({})", shape_text(shape)),
                    shape: shape.to_vec(),
                    bound: 6.0,
                    exact: true,
                }
            }
            _ => {
                let (c, v) = self.float_lit();
                E {
                    s: format!("full({}, {c})", shape_text(shape)),
                    shape: shape.to_vec(),
                    bound: v,
                    exact: true,
                }
            }
        }
    }

    /// A builtin call, with the registry's name; in mutated programs sometimes one argument
    /// too few or too many, or another builtin's name.
    fn call(&mut self, b: Builtin, args: Vec<String>) -> String {
        let mut name = b.name().to_string();
        let mut args = args;
        if self.opt.mutate && self.chance(0.04) {
            match self.rng.random_range(0..3) {
                0 if !args.is_empty() => {
                    args.pop();
                }
                1 => args.push("1.0".into()),
                _ => {
                    let other = self.pick(&Builtin::ALL);
                    name = other.name().to_string();
                }
            }
        }
        format!("{name}({})", args.join(", "))
    }

    /// Squashes a value too large for the tolerance.
    fn tame(&mut self, e: E) -> E {
        if e.bound > BOUND {
            E {
                s: format!("tanh({})", e.s),
                shape: e.shape,
                bound: 1.0,
                exact: false,
            }
        } else {
            e
        }
    }

    /// An f32 expression of exactly `shape`.
    fn expr(&mut self, shape: &[usize], depth: usize) -> E {
        if depth == 0 || self.chance(0.2) {
            return self.leaf(shape);
        }
        let e = self.compound(shape, depth - 1);
        debug_assert_eq!(e.shape, shape, "{}", e.s);
        self.tame(e)
    }

    /// An f32 expression of `shape` that both backends compute bit for bit alike.
    fn exact_expr(&mut self, shape: &[usize], depth: usize) -> E {
        for _ in 0..8 {
            let e = self.expr(shape, depth);
            if e.exact {
                return e;
            }
        }
        self.leaf_exact(shape)
    }

    fn leaf_exact(&mut self, shape: &[usize]) -> E {
        loop {
            let e = self.leaf(shape);
            if e.exact {
                return e;
            }
        }
    }

    fn compound(&mut self, shape: &[usize], d: usize) -> E {
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
    fn distribution(&mut self, s: &[usize], d: usize) -> E {
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
    fn any_shape(&mut self, s: &[usize]) -> Vec<usize> {
        match self.rng.random_range(0..3) {
            0 => s.to_vec(),
            1 => s[self.rng.random_range(0..=s.len())..].to_vec(),
            _ => (0..self.rng.random_range(0..3))
                .map(|_| self.small_dim(false))
                .collect(),
        }
    }

    fn unary(&mut self, s: &[usize], d: usize) -> E {
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

    fn binary(&mut self, s: &[usize], d: usize) -> E {
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
    fn reduction(&mut self, s: &[usize], d: usize) -> E {
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
    fn index(&mut self, s: &[usize], d: usize) -> E {
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

    fn slice(&mut self, s: &[usize], d: usize) -> E {
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

    fn concat(&mut self, s: &[usize], d: usize) -> E {
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
    fn ints(&self, s: &[usize]) -> Vec<Var> {
        self.vars
            .iter()
            .filter(|v| v.int && v.shape == s)
            .cloned()
            .collect()
    }

    /// Gathers with data: `pick` by actions, `take_along` by sorted positions, `one_hot`.
    fn gather(&mut self, s: &[usize], d: usize) -> E {
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
    fn int_expr(&mut self, s: &[usize], d: usize) -> String {
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
    fn scan(&mut self, s: &[usize], d: usize) -> E {
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
    fn for_loop(&mut self, s: &[usize], d: usize) -> E {
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
    fn user_call(&mut self, s: &[usize], d: usize) -> E {
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

    /// A user function of one or two tensors of one shape: smooth elementwise templates, so
    /// that it keeps its arguments' shape whatever it is called with.
    fn fn_decl(&mut self) -> String {
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
    fn params(&mut self) -> String {
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

    fn hidden(&mut self) -> String {
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

    fn optimiser(&mut self) -> String {
        // Adam and RMSProp divide by the gradient's root mean square: a large eps keeps a
        // gradient that is only rounding noise from becoming a full step of either sign.
        match self.rng.random_range(0..3) {
            0 => "sgd(lr = 0.01)".into(),
            1 => "adam(lr = 0.001, eps = 0.001)".into(),
            _ => "rmsprop(lr = 0.001, eps = 0.01, clip_norm = 1.0)".into(),
        }
    }

    fn activation(&mut self) -> &'static str {
        self.pick(&["", ", act = tanh", ", act = elu"])
    }

    fn batch(&mut self) -> String {
        if self.opt.extreme && self.chance(0.2) {
            self.pick(&EXTREME_INTS).to_string()
        } else {
            self.pick(&[1usize, 2, 5]).to_string()
        }
    }

    /// A scalar term added to a loss: 0.01 * sum of an expression of a random shape.
    fn loss_term(&mut self, depth: usize) -> String {
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
    fn policy_vars(&mut self, s: &str, out: &str, obs: usize, n: usize) {
        self.vars = vec![
            Var::float(format!("{s}[0]"), vec![obs], 6.0, true),
            Var::float(format!("{out}[0]"), vec![n], 10.0, false),
            Var::float(format!("{s}[-1, 0]"), vec![], 6.0, true),
            Var::float(format!("mean({out})"), vec![], 10.0, false),
        ];
    }

    fn env_float_vars(&mut self, b: &str, lead: &[usize], obs: usize, act: Option<usize>) {
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
    fn replay_program(&mut self) -> String {
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
    fn rollout_program(&mut self) -> String {
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
    fn continuous_program(&mut self) -> String {
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
    fn mangle(&mut self, p: String) -> String {
        if !self.opt.mutate || self.chance(0.4) {
            return p;
        }
        let words = super::identifiers(&p);
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

/// Brackets an expression unless it is a name or a call (so indexing binds to all of it).
fn paren(s: &str) -> String {
    if s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
        s.to_string()
    } else {
        format!("({s})")
    }
}

/// A call of a random callable builtin from the registry with arguments of random shapes and
/// kinds (often the wrong number or type): the checker must reject or accept it with located
/// diagnostics. Used for near-well-formed one-line programs.
pub fn random_builtin_program(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let callable: Vec<Builtin> = Builtin::ALL
        .into_iter()
        .filter(|b| b.form() == Form::Call || b.form() == Form::Variadic)
        .collect();
    let b = callable[rng.random_range(0..callable.len())];
    let arity = b.params().len();
    let n = match rng.random_range(0..4) {
        0 => arity.saturating_sub(1),
        1 => arity + 1,
        _ => arity,
    };
    let atoms = [
        "b.r",
        "b.s",
        "b.a",
        "b.done",
        "q(b.s)",
        "1",
        "0",
        "-1",
        "2.5",
        "true",
        "[1, 2]",
        "[[1.0], [2.0]]",
        "[]",
        "4611686018427387904",
        "9223372036854775807",
        "-9223372036854775808",
        "1e38",
        "range(3)",
        "zeros([0, 3])",
        "ones([1])",
        "categorical(q(b.s))",
        "f32",
        "i32",
        "axis = 0",
        "axis = -1",
        "axis = 7",
        "keepdims = true",
        "k = 2",
        "n = 0",
        "q",
        "mean",
        "\"text\"",
    ];
    let args: Vec<&str> = (0..n).map(|_| atoms[rng.random_range(0..atoms.len())]).collect();
    format!(
        "import nets.{{mlp}}\n\nalgorithm fuzz {{\n  env: discrete default \"CartPole-v1\"\n  net q(s: obs) = mlp(s, [4], env.num_actions)\n  replay D capacity 64 of (s: obs, a: act, r: f32, s2: obs, done: f32)\n  policy greedy(s) = argmax(q(s))\n  loss l(b ~ D.sample(4)) = mean(pick(q(b.s), b.a)) + 0.01 * sum(f32({}({})))\n  update q by sgd(lr = 0.01) on l\n  schedule {{ warmup 8; act greedy into D; train 1; eval greedy }}\n}}\n",
        b.name(),
        args.join(", ")
    )
}
