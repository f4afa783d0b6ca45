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

mod expressions;
mod programs;

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
