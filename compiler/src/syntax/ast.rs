//! The abstract syntax tree of `.rl` programs. Every node carries the span it came from so
//! that later stages can point at the source.

use crate::diag::Span;

/// A name with its location.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// One parsed `.rl` file.
#[derive(Clone, Debug, Default)]
pub struct Module {
    /// `import` declarations, in order.
    pub imports: Vec<Import>,
    /// Top-level functions.
    pub fns: Vec<FnDecl>,
    /// Update rules (`rule adam(...) { ... }`).
    pub rules: Vec<RuleDecl>,
    /// Algorithms (usually zero or one per file).
    pub algorithms: Vec<Algorithm>,
}

/// `import nets.{mlp, linear}` or `import traces`.
#[derive(Clone, Debug)]
pub struct Import {
    /// Module path segments, e.g. `["nets"]`.
    pub path: Vec<Ident>,
    /// Imported names; `None` imports the module itself under its last segment.
    pub names: Option<Vec<Ident>>,
    /// The whole declaration.
    pub span: Span,
}

/// An `algorithm NAME { ... }` block.
#[derive(Clone, Debug)]
pub struct Algorithm {
    /// Its name.
    pub name: Ident,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// Declarations in source order (order carries no meaning).
    pub decls: Vec<Decl>,
    /// The whole block.
    pub span: Span,
}

/// A declaration inside an algorithm.
#[derive(Clone, Debug)]
pub enum Decl {
    /// `param NAME = EXPR`: a hyperparameter, a compile-time constant overridable by `--set`.
    Param(ParamDecl),
    /// `env: continuous default "Pendulum-v1"`.
    Env(EnvDecl),
    /// `net NAME(args) = EXPR`: a parameterised function.
    Net(FnDecl),
    /// `target NAME = polyak(net, tau)` or `copy(net, every)`.
    Target(TargetDecl),
    /// `learnable NAME = EXPR`: a trainable tensor outside any net.
    Learnable(LearnableDecl),
    /// `state NAME = EXPR`: program state, changed by `set` statements, not by gradients.
    State(LearnableDecl),
    /// A replay buffer or rollout storage.
    Data(DataDecl),
    /// `policy NAME(s) = EXPR`.
    Policy(FnDecl),
    /// `loss NAME(b ~ D.sample(n)) = EXPR`.
    Loss(LossDecl),
    /// `update NETS by OPTIMISER on LOSS`.
    Update(UpdateDecl),
    /// `schedule { ... }`.
    Schedule(ScheduleDecl),
    /// `derive R(b) = { field: ..., ... }`: fields computed over a whole rollout.
    Derive(DeriveDecl),
    /// A local function.
    Fn(FnDecl),
}

impl Decl {
    /// The declared name and its span, if the declaration has one.
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Decl::Param(d) => Some(&d.name),
            Decl::Net(d) | Decl::Policy(d) | Decl::Fn(d) => Some(&d.name),
            Decl::Target(d) => Some(&d.name),
            Decl::Learnable(d) | Decl::State(d) => Some(&d.name),
            Decl::Data(d) => Some(&d.name),
            Decl::Loss(d) => Some(&d.name),
            Decl::Env(_) | Decl::Update(_) | Decl::Schedule(_) | Decl::Derive(_) => None,
        }
    }

    /// A word for the kind of declaration, for messages.
    pub fn kind_word(&self) -> &'static str {
        match self {
            Decl::Param(_) => "param",
            Decl::Env(_) => "env",
            Decl::Net(_) => "net",
            Decl::Target(_) => "target",
            Decl::Learnable(_) => "learnable",
            Decl::State(_) => "state",
            Decl::Data(_) => "data",
            Decl::Policy(_) => "policy",
            Decl::Loss(_) => "loss",
            Decl::Update(_) => "update",
            Decl::Schedule(_) => "schedule",
            Decl::Derive(_) => "derive",
            Decl::Fn(_) => "fn",
        }
    }
}

/// `param NAME = EXPR`.
#[derive(Clone, Debug)]
pub struct ParamDecl {
    /// Name.
    pub name: Ident,
    /// Default value (a compile-time constant expression).
    pub value: Expr,
    /// Whole declaration.
    pub span: Span,
}

/// `env: KIND [default "ID"]`.
#[derive(Clone, Debug)]
pub struct EnvDecl {
    /// `continuous` or `discrete`.
    pub kind: Ident,
    /// The default environment id and its span.
    pub default: Option<(String, Span)>,
    /// Whole declaration.
    pub span: Span,
}

/// A function, net or policy definition.
#[derive(Clone, Debug)]
pub struct FnDecl {
    /// Name.
    pub name: Ident,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// Parameters.
    pub params: Vec<FnParam>,
    /// Declared result type, if any.
    pub ret: Option<TypeExpr>,
    /// Body.
    pub body: Expr,
    /// Whole declaration.
    pub span: Span,
}

/// `rule NAME(hyperparameters) { ... each (p, g) { ... } }`: an update rule, applied by
/// `update NETS by NAME(...) on LOSS`.
#[derive(Clone, Debug)]
pub struct RuleDecl {
    /// Name.
    pub name: Ident,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// Hyperparameters (with defaults).
    pub params: Vec<FnParam>,
    /// Declared `for target`: used by `target` declarations (`each (t, p)`: the target's
    /// tensor and the net's new parameter), not by `update`.
    pub for_target: bool,
    /// The part that runs once per `update`: its state (step counters) and statements, with
    /// `params` and `grads` (the lists of parameter tensors and their gradients) in scope.
    pub shared: RulePart,
    /// How the new parameter values are made: per tensor (`each`) or all at once.
    pub step: RuleStep,
    /// Whole declaration.
    pub span: Span,
}

/// State declarations and statements of one part of a rule.
#[derive(Clone, Debug, Default)]
pub struct RulePart {
    /// `state NAME = INIT`, in order.
    pub states: Vec<RuleState>,
    /// `let` and `set` statements, in order.
    pub stmts: Vec<Stmt>,
}

/// `state NAME = INIT` inside a rule: a constant (`0.0`, `zeros_like(p)`) or the parameter
/// itself (`p`, a copy of its initial value).
#[derive(Clone, Debug)]
pub struct RuleState {
    /// Name (local to the rule).
    pub name: Ident,
    /// Initial value.
    pub init: Expr,
    /// Whole statement.
    pub span: Span,
}

/// The end of a rule: the new value of each parameter.
#[derive(Clone, Debug)]
pub enum RuleStep {
    /// `each (p, g) { ... }`: once per parameter tensor (SGD, Adam).
    Each(RuleEach),
    /// An expression giving the list of new values, in the order of `params`: for rules that
    /// treat the parameters as one vector (TRPO's natural-gradient step).
    All(Expr),
}

/// `each (p, g) { ...; new value of p }`.
#[derive(Clone, Debug)]
pub struct RuleEach {
    /// The name the parameter tensor is bound to.
    pub param: Ident,
    /// The name its gradient is bound to.
    pub grad: Ident,
    /// Per-parameter state and statements.
    pub part: RulePart,
    /// The parameter's new value.
    pub result: Expr,
    /// The whole `each` block.
    pub span: Span,
}

/// One parameter of a function, net or policy.
#[derive(Clone, Debug)]
pub struct FnParam {
    /// Name.
    pub name: Ident,
    /// Declared type (required for nets: it fixes parameter shapes).
    pub ty: Option<TypeExpr>,
    /// Default value, making the argument optional.
    pub default: Option<Expr>,
}

/// A written type: `obs`, `act`, `f32`, `[3]`, `i32[4, 2]`.
#[derive(Clone, Debug)]
pub struct TypeExpr {
    /// Element type or alias name (`f32`, `i32`, `bool`, `obs`, `act`); `None` means `f32`.
    pub base: Option<Ident>,
    /// Explicit shape, if given.
    pub shape: Option<Vec<Expr>>,
    /// Whole type.
    pub span: Span,
}

/// `target NAME = EXPR` (EXPR is `polyak(net, tau)` or `copy(net, every)`).
#[derive(Clone, Debug)]
pub struct TargetDecl {
    /// Name.
    pub name: Ident,
    /// The defining call.
    pub value: Expr,
    /// Whole declaration.
    pub span: Span,
}

/// `learnable NAME[: TYPE] = INIT` or `state NAME[: TYPE] = INIT`.
#[derive(Clone, Debug)]
pub struct LearnableDecl {
    /// Name.
    pub name: Ident,
    /// Declared type (scalar f32 if absent).
    pub ty: Option<TypeExpr>,
    /// Initial value.
    pub init: Expr,
    /// Whole declaration.
    pub span: Span,
}

/// The kind of a data declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    /// Uniform replay buffer.
    Replay,
    /// Proportional prioritized replay.
    PrioritizedReplay,
    /// On-policy rollout storage (T steps x N envs).
    Rollout,
    /// Replay of stored trajectories of fixed length.
    SequenceReplay,
}

impl DataKind {
    /// How the kind is written.
    pub fn word(self) -> &'static str {
        match self {
            DataKind::Replay => "replay",
            DataKind::PrioritizedReplay => "prioritized replay",
            DataKind::Rollout => "rollout",
            DataKind::SequenceReplay => "sequence replay",
        }
    }
}

/// `replay D capacity 100_000 of (s: obs, a: act, ...)`.
#[derive(Clone, Debug)]
pub struct DataDecl {
    /// Kind of storage.
    pub kind: DataKind,
    /// Name.
    pub name: Ident,
    /// Options such as `capacity 1000`, `steps 16`.
    pub options: Vec<(Ident, Expr)>,
    /// Stored fields.
    pub fields: Vec<(Ident, TypeExpr)>,
    /// Whole declaration.
    pub span: Span,
}

/// `loss NAME(b ~ D.sample(batch), ...) = EXPR`.
#[derive(Clone, Debug)]
pub struct LossDecl {
    /// Name.
    pub name: Ident,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// Parameters, each optionally bound to a data source.
    pub params: Vec<(Ident, Option<Expr>)>,
    /// Body (must be a scalar).
    pub body: Expr,
    /// Whole declaration.
    pub span: Span,
}

/// `update a, b by adam(lr) on loss [every k]`.
#[derive(Clone, Debug)]
pub struct UpdateDecl {
    /// Nets or learnables whose parameters this updates.
    pub targets: Vec<Ident>,
    /// The optimiser call, e.g. `adam(lr = 1e-3)`.
    pub optimiser: Expr,
    /// The loss to minimise.
    pub loss: Ident,
    /// Apply only every k-th training step.
    pub every: Option<Expr>,
    /// Whole declaration.
    pub span: Span,
}

/// `derive R(b) = EXPR`: after a rollout is collected, `EXPR` (a record of `[T, N, ..]`
/// tensors, with `b` the whole rollout) adds fields to it, e.g. advantages for minibatches.
#[derive(Clone, Debug)]
pub struct DeriveDecl {
    /// The rollout.
    pub data: Ident,
    /// The name the rollout is bound to.
    pub param: Ident,
    /// The record of new fields.
    pub body: Expr,
    /// Whole declaration.
    pub span: Span,
}

/// `schedule { ... }`.
#[derive(Clone, Debug)]
pub struct ScheduleDecl {
    /// Statements in order.
    pub stmts: Vec<SchedStmt>,
    /// Whole block.
    pub span: Span,
}

/// One schedule statement.
#[derive(Clone, Debug)]
pub enum SchedStmt {
    /// `envs N`: number of environment copies stepped together.
    Envs(Expr),
    /// `warmup N`: environment steps with uniformly random actions before training.
    Warmup(Expr),
    /// `act POLICY into D, ... [noise ou(theta = .., sigma = ..)]`.
    Act {
        /// Policy used to collect experience.
        policy: Ident,
        /// Where transitions are stored.
        into: Vec<Ident>,
        /// Exploration noise added to the policy's actions (a call of a noise builtin).
        noise: Option<Expr>,
        /// Whole statement.
        span: Span,
    },
    /// `train [K] [every E] [epochs P] [minibatches M] [after S]`.
    Train {
        /// Training calls per trigger.
        count: Option<Expr>,
        /// Options by keyword.
        options: Vec<(Ident, Expr)>,
        /// Whole statement.
        span: Span,
    },
    /// `eval POLICY`.
    Eval(Ident),
}

/// An expression.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-x`
    Neg,
    /// `!x`
    Not,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `^`
    Pow,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Pow => "^",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }
}

/// A call argument, optionally named.
#[derive(Clone, Debug)]
pub struct Arg {
    /// `name =` part.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
}

/// One item of an index expression `x[...]`.
#[derive(Clone, Debug)]
pub enum IndexItem {
    /// `x[i]`: select one position (drops the axis).
    At(Expr),
    /// `x[a:b]`: a range (keeps the axis).
    Slice(Option<Expr>, Option<Expr>),
    /// `x[..., i]`: all remaining leading axes.
    Ellipsis(Span),
}

/// A `let` binding pattern.
#[derive(Clone, Debug)]
pub enum Pattern {
    /// A single name.
    Name(Ident),
    /// A tuple of patterns.
    Tuple(Vec<Pattern>, Span),
}

/// `let PAT = EXPR`, `let PAT ~ DIST` (a reparameterised sample) or `log NAME = EXPR` (a
/// binding whose scalar value is also logged as a metric).
#[derive(Clone, Debug)]
pub struct Let {
    /// What is bound.
    pub pattern: Pattern,
    /// `~` instead of `=`.
    pub sample: bool,
    /// `log` instead of `let`: the value is a metric of the entry that computes it.
    pub log: bool,
    /// The value.
    pub value: Expr,
    /// Whole statement.
    pub span: Span,
}

/// A statement of a block.
#[derive(Clone, Debug)]
pub enum Stmt {
    /// `let PAT = EXPR` / `let PAT ~ DIST`.
    Let(Let),
    /// `set NAME = EXPR`: the program state `NAME` takes this value when the call ends.
    Set(SetStmt),
    /// `require COND, "message"` (in update rules): a compile-time check of settings.
    Require(Require),
}

/// `require COND, "message"`.
#[derive(Clone, Debug)]
pub struct Require {
    /// What must hold (a compile-time boolean).
    pub cond: Expr,
    /// Said when it does not.
    pub message: String,
    /// Whole statement.
    pub span: Span,
}

/// `set NAME = EXPR`.
#[derive(Clone, Debug)]
pub struct SetStmt {
    /// The state.
    pub name: Ident,
    /// Its new value.
    pub value: Expr,
    /// Whole statement.
    pub span: Span,
}

/// Expression kinds.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// Integer literal.
    Int(i64),
    /// Floating-point literal.
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// String literal.
    Str(String),
    /// A name.
    Name(String),
    /// Unary operation.
    Unary(UnOp, Box<Expr>),
    /// Binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `f(args)`.
    Call(Box<Expr>, Vec<Arg>),
    /// `x[items]`.
    Index(Box<Expr>, Vec<IndexItem>),
    /// `x.name`.
    Field(Box<Expr>, Ident),
    /// `[a, b, c]`: a tensor (or compile-time list) literal.
    List(Vec<Expr>),
    /// `(a, b)`.
    Tuple(Vec<Expr>),
    /// `{ name: value, ... }`.
    Record(Vec<(Ident, Expr)>),
    /// `{ let ...; result }`.
    Block(Vec<Stmt>, Box<Expr>),
    /// `if c then a else b`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `scan [reverse] t in LEN with c = init, ... { body }`.
    Scan(Box<Loop>),
    /// `for x in LIST with c = init, ... { body }` (unrolled at compile time).
    For(Box<Loop>),
}

/// The shared shape of `scan` and `for`.
#[derive(Clone, Debug)]
pub struct Loop {
    /// Iterate backwards (`scan reverse`).
    pub reverse: bool,
    /// The loop variable.
    pub var: Ident,
    /// Length (scan) or list (for).
    pub over: Expr,
    /// Carried values with their initial values.
    pub carries: Vec<(Ident, Expr)>,
    /// Computes the new carries (a tuple when there are several).
    pub body: Expr,
}
