//! OpenCL C from the kernel plan ([`crate::backend::kernel`]): the same fusion groups and buffer layout, one OpenCL kernel
//! per planned kernel (a tiled local-memory kernel for matrix products), and a list of launch
//! steps (scans become host loops over their body's launches).

use crate::backend::kernel::{ENode, Expr, Kernel, Plan, RoutineCall, ScanKernel, Storage, View};
use crate::ir::{BinaryOp, DType, RandomDist, ReduceOp, UnaryOp};
use std::fmt::Write;
use std::sync::Arc;

/// Tile edge of the matrix-product kernel (work-groups are TILE x TILE).
pub const TILE: usize = 16;
/// Edge of the block of C one work-group of the tiled product computes.
pub const BLOCK: usize = 64;

/// One OpenCL kernel of an entry point.
#[derive(Clone, Debug)]
pub struct ClKernel {
    /// Function name in the program.
    pub name: String,
    /// Global work size (2-D; the second is 1 for 1-D kernels).
    pub global: [usize; 2],
    /// Local work size, when the kernel needs one.
    pub local: Option<[usize; 2]>,
    /// Whether the arena is passed (as `A` and `AI`, first).
    pub arena: bool,
    /// Plan buffers passed next, in order (states, inputs, outputs).
    pub bufs: Vec<usize>,
    /// Whether a last `int t` argument (the scan step) is passed.
    pub takes_t: bool,
}

/// What runs, in order.
#[derive(Clone, Debug)]
pub enum Step {
    /// Launch kernel `k` (with the current scan step as `t` if it takes one).
    Launch(usize),
    /// A routine run on the host: read the operands back, evaluate, write the result (see
    /// `backend/routine.rs`); views are contiguous.
    Host {
        /// The routine and its types.
        call: Arc<RoutineCall>,
        /// Operands.
        args: Vec<View>,
        /// Destination.
        out: View,
    },
    /// A scan: `init` once, then per step `t`: write `t` into the arena, `body`, `copy`.
    Scan {
        /// Steps.
        length: usize,
        /// Iterate backwards.
        reverse: bool,
        /// Arena word holding `t`.
        t_word: usize,
        /// Initial carries.
        init: Vec<Step>,
        /// The body.
        body: Vec<Step>,
        /// Carry updates and history writes.
        copy: Vec<Step>,
    },
}

/// A rendered entry point.
pub struct Rendered {
    /// The program source.
    pub source: String,
    /// Kernels, indexed by [`Step::Launch`].
    pub kernels: Vec<ClKernel>,
    /// Launch order.
    pub steps: Vec<Step>,
}

/// Philox-4x32-10 and the samplers, exactly as `crate::random` computes them in f32, and
/// integer `/` and `%` as the interpreter defines them.
pub(super) const PRELUDE: &str = r#"
uint4 rlc_philox(uint4 c, uint2 k) {
  for (int r = 0; r < 10; r++) {
    if (r > 0) { k.x += 0x9E3779B9u; k.y += 0xBB67AE85u; }
    uint h0 = mul_hi(0xD2511F53u, c.x), l0 = 0xD2511F53u * c.x;
    uint h1 = mul_hi(0xCD9E8D57u, c.z), l1 = 0xCD9E8D57u * c.z;
    c = (uint4)(h1 ^ c.y ^ k.x, l1, h0 ^ c.w ^ k.y, l0);
  }
  return c;
}

// Integer division and floored remainder exactly as `interp::eval_binary_i32`: by zero gives 0,
// `INT_MIN / -1` wraps to INT_MIN and `INT_MIN % -1` is 0 (C leaves both undefined, and x86
// traps), and the remainder takes the divisor's sign without the overflow of `(x % y + y) % y`.
int rlc_idiv(int x, int y) {
  if (y == 0) return 0;
  if (y == -1) return (int)(0u - (uint)x);
  return x / y;
}
int rlc_irem(int x, int y) {
  if (y == 0 || y == -1) return 0;
  int r = x % y;
  return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
}
"#;

struct Renderer<'p> {
    plan: &'p Plan,
    src: String,
    kernels: Vec<ClKernel>,
}

/// Renders every kernel of `plan` as OpenCL C.
pub fn render(plan: &Plan) -> Rendered {
    let mut r = Renderer {
        plan,
        src: String::from(PRELUDE),
        kernels: Vec::new(),
    };
    let steps = r.steps(&plan.kernels);
    Rendered {
        source: r.src,
        kernels: r.kernels,
        steps,
    }
}

fn cty(d: DType) -> &'static str {
    if d == DType::F32 { "float" } else { "int" }
}

fn float_lit(v: f64) -> String {
    let f = v as f32;
    if f.is_nan() {
        "NAN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "INFINITY".into()
        } else {
            "(-INFINITY)".into()
        }
    } else {
        format!("({f:?}f)")
    }
}

fn int_lit(v: f64) -> String {
    let i = v as i32;
    if i == i32::MIN {
        "(-2147483647-1)".into()
    } else {
        format!("({i})")
    }
}

/// Index decomposition of a flat id `g` over `shape` into variables `i0..`.
fn decompose(out: &mut String, g: &str, shape: &[usize], names: &[String]) {
    let _ = writeln!(out, "  int r_ = {g};");
    for d in (0..shape.len()).rev() {
        if d == 0 {
            let _ = writeln!(out, "  const int {} = r_;", names[d]);
        } else {
            let _ = writeln!(
                out,
                "  const int {} = r_ % {}; r_ /= {};",
                names[d], shape[d], shape[d]
            );
        }
    }
}

impl Renderer<'_> {
    fn steps(&mut self, ks: &[Kernel]) -> Vec<Step> {
        let mut out = Vec::new();
        for k in ks {
            match k {
                Kernel::Scan(s) => out.push(self.scan(s)),
                Kernel::MatMulPair { first, second } => {
                    out.push(self.matmul(&first[0], &first[1], &first[2]));
                    out.push(self.matmul(&second[0], &second[1], &second[2]));
                }
                Kernel::Map { .. }
                | Kernel::Reduce { .. }
                | Kernel::MatMul { .. }
                | Kernel::Take { .. }
                | Kernel::ScatterAdd { .. }
                | Kernel::Random { .. } => out.push(self.kernel(k)),
                Kernel::Routine { call, args, out: o } => out.push(Step::Host {
                    call: call.clone(),
                    args: args.clone(),
                    out: o.clone(),
                }),
            }
        }
        out
    }

    fn scan(&mut self, s: &ScanKernel) -> Step {
        let init = s
            .carries
            .iter()
            .zip(&s.inits)
            .map(|(c, v)| self.copy(&View::whole(*c, &v.shape), v, None))
            .collect();
        let body = self.steps(&s.body);
        let mut copy = Vec::new();
        for (i, (c, nc)) in s.carries.iter().zip(&s.new_carries).enumerate() {
            let whole = View::whole(*c, &nc.shape);
            copy.push(self.copy(&whole, nc, None));
            if let Some(h) = s.hist[i] {
                copy.push(self.copy(&View::whole(h, &nc.shape), &whole, Some(nc.numel())));
            }
        }
        Step::Scan {
            length: s.length,
            reverse: s.reverse,
            t_word: self.base(s.t_buf),
            init,
            body,
            copy,
        }
    }

    /// `dst = src` elementwise; with `t_stride`, `dst` is shifted by `t * t_stride` (history).
    fn copy(&mut self, dst: &View, src: &View, t_stride: Option<usize>) -> Step {
        let dt = self.plan.buffers[dst.buf].dtype;
        let expr = Expr {
            nodes: vec![(ENode::Load(src.clone()), dt)],
        };
        self.map(dst, &expr, t_stride)
    }

    /// First element of a buffer: arena buffers start at their offset, others at 0.
    fn base(&self, buf: usize) -> usize {
        let b = &self.plan.buffers[buf];
        match b.storage {
            Storage::Arena | Storage::Const => b.offset / 4,
            _ => 0,
        }
    }

    fn in_arena(&self, buf: usize) -> bool {
        matches!(self.plan.buffers[buf].storage, Storage::Arena | Storage::Const)
    }

    /// The pointer expression for a buffer.
    fn ptr(&self, buf: usize) -> String {
        let b = &self.plan.buffers[buf];
        if self.in_arena(buf) {
            if b.dtype == DType::F32 {
                "A".into()
            } else {
                "AI".into()
            }
        } else {
            format!("B{buf}")
        }
    }

    /// `ptr[index]` of a view at loop variables `vars` (one per view axis).
    fn at(&self, v: &View, vars: &[String]) -> String {
        let mut idx = format!("{}", self.base(v.buf) as isize + v.offset);
        for (d, s) in v.strides.iter().enumerate() {
            if *s != 0 && v.shape[d] > 1 {
                let _ = write!(idx, " + {} * {}", vars[d], s);
            }
        }
        format!("{}[{idx}]", self.ptr(v.buf))
    }

    /// Starts a kernel function over `views` (the buffers it touches) and registers it.
    fn begin(
        &mut self,
        views: &[&View],
        global: [usize; 2],
        local: Option<[usize; 2]>,
        takes_t: bool,
    ) -> String {
        let name = format!("k{}", self.kernels.len());
        let arena = views.iter().any(|v| self.in_arena(v.buf));
        let mut bufs: Vec<usize> = views
            .iter()
            .map(|v| v.buf)
            .filter(|b| !self.in_arena(*b))
            .collect();
        bufs.sort();
        bufs.dedup();
        let mut params = Vec::new();
        if arena {
            params.push("__global float* A".to_string());
            params.push("__global int* AI".to_string());
        }
        for b in &bufs {
            params.push(format!("__global {}* B{b}", cty(self.plan.buffers[*b].dtype)));
        }
        if takes_t {
            params.push("const int t".into());
        }
        let _ = writeln!(self.src, "\n__kernel void {name}({}) {{", params.join(", "));
        self.kernels.push(ClKernel {
            name: name.clone(),
            global,
            local,
            arena,
            bufs,
            takes_t,
        });
        name
    }

    fn kernel(&mut self, k: &Kernel) -> Step {
        match k {
            Kernel::Map { out, expr } => self.map(out, expr, None),
            Kernel::Reduce {
                op, acc, expr, init, ..
            } => self.reduce(*op, acc, expr, *init),
            Kernel::MatMul { a, b, c } => self.matmul(a, b, c),
            Kernel::Take { x, idx, out, axis } => self.take(x, idx, out, *axis),
            Kernel::ScatterAdd { idx, upd, out, axis } => self.scatter(idx, upd, out, *axis),
            Kernel::Random {
                key,
                dist,
                stream,
                out,
            } => self.random(key, *dist, *stream, out),
            Kernel::MatMulPair { .. } | Kernel::Scan(_) | Kernel::Routine { .. } => {
                unreachable!("handled in steps")
            }
        }
    }

    fn map(&mut self, out: &View, expr: &Expr, t_stride: Option<usize>) -> Step {
        let n = out.numel().max(1);
        let mut views: Vec<&View> = expr.loads().collect();
        views.push(out);
        self.begin(&views, [n, 1], None, t_stride.is_some());
        let vars: Vec<String> = (0..out.shape.len()).map(|d| format!("i{d}")).collect();
        let mut body = String::new();
        let _ = writeln!(body, "  const int g_ = get_global_id(0);");
        decompose(&mut body, "g_", &out.shape, &vars);
        let val = self.expr(&mut body, expr, &vars);
        let mut dst = self.at(out, &vars);
        if let Some(s) = t_stride {
            // History rows: shift the destination by t rows.
            dst = dst.replacen('[', &format!("[t * {s} + "), 1);
        }
        let _ = writeln!(body, "  {dst} = {val};\n}}");
        self.src.push_str(&body);
        Step::Launch(self.kernels.len() - 1)
    }

    /// Emits the expression's nodes as local variables; returns the result's name.
    fn expr(&self, out: &mut String, e: &Expr, vars: &[String]) -> String {
        for (i, (n, dt)) in e.nodes.iter().enumerate() {
            let t = cty(*dt);
            let v = |j: &usize| format!("v{j}");
            let float_in = |j: &usize| e.nodes[*j].1 == DType::F32;
            let rhs = match n {
                ENode::Load(view) => self.at(view, vars),
                ENode::Scalar(x) => {
                    if *dt == DType::F32 {
                        float_lit(*x)
                    } else {
                        int_lit(*x)
                    }
                }
                ENode::Iota(axis) => format!("({t}){}", vars[*axis]),
                ENode::Unary(op, a) => unary(*op, &v(a), float_in(a)),
                ENode::Binary(op, a, b) => binary(*op, &v(a), &v(b), float_in(a)),
                ENode::Select(c, a, b) => format!("({} ? {} : {})", v(c), v(a), v(b)),
                ENode::Cast(a) => {
                    let from = e.nodes[*a].1;
                    match (from, *dt) {
                        (x, y) if x == y => v(a),
                        (_, DType::F32) => format!("(float){}", v(a)),
                        (DType::F32, DType::I32) => format!("convert_int_sat_rtz({})", v(a)),
                        (DType::F32, DType::Bool) => format!("({} != 0.0f)", v(a)),
                        (_, DType::Bool) => format!("({} != 0)", v(a)),
                        _ => v(a),
                    }
                }
            };
            let _ = writeln!(out, "  const {t} v{i} = {rhs};");
        }
        format!("v{}", e.nodes.len() - 1)
    }

    fn reduce(&mut self, op: ReduceOp, acc: &View, expr: &Expr, init: f64) -> Step {
        let shape = &acc.shape;
        let reduced: Vec<usize> = (0..shape.len())
            .filter(|d| acc.strides[*d] == 0 && shape[*d] > 1)
            .collect();
        let kept: Vec<usize> = (0..shape.len()).filter(|d| !reduced.contains(d)).collect();
        let n_kept: usize = kept.iter().map(|d| shape[*d]).product();
        let n_red: usize = reduced.iter().map(|d| shape[*d]).product();
        let mut views: Vec<&View> = expr.loads().collect();
        views.push(acc);
        self.begin(&views, [n_kept.max(1), 1], None, false);
        let vars: Vec<String> = (0..shape.len()).map(|d| format!("i{d}")).collect();
        let dt = expr.dtype();
        let t = cty(dt);
        let mut body = String::new();
        let _ = writeln!(body, "  const int g_ = get_global_id(0);");
        let kept_shape: Vec<usize> = kept.iter().map(|d| shape[*d]).collect();
        let kept_vars: Vec<String> = kept.iter().map(|d| vars[*d].clone()).collect();
        decompose(&mut body, "g_", &kept_shape, &kept_vars);
        let init_lit = if dt == DType::F32 {
            float_lit(init)
        } else {
            int_lit(init)
        };
        let _ = writeln!(body, "  {t} acc_ = {init_lit};");
        let _ = writeln!(body, "  for (int q_ = 0; q_ < {n_red}; q_++) {{");
        let red_shape: Vec<usize> = reduced.iter().map(|d| shape[*d]).collect();
        let red_vars: Vec<String> = reduced.iter().map(|d| vars[*d].clone()).collect();
        let mut inner = String::new();
        if red_vars.is_empty() {
            let _ = writeln!(inner, "  int r_ = q_;");
        } else {
            decompose(&mut inner, "q_", &red_shape, &red_vars);
        }
        let val = self.expr(&mut inner, expr, &vars);
        let combine = match (op, dt == DType::F32) {
            (ReduceOp::Sum, _) => format!("acc_ + {val}"),
            (ReduceOp::Max, true) => format!("fmax(acc_, {val})"),
            (ReduceOp::Min, true) => format!("fmin(acc_, {val})"),
            (ReduceOp::Max, false) => format!("max(acc_, {val})"),
            (ReduceOp::Min, false) => format!("min(acc_, {val})"),
        };
        let _ = writeln!(inner, "  acc_ = {combine};");
        for l in inner.lines() {
            let _ = writeln!(body, "  {l}");
        }
        let _ = writeln!(body, "  }}\n  {} = acc_;\n}}", self.at(acc, &vars));
        self.src.push_str(&body);
        Step::Launch(self.kernels.len() - 1)
    }

    fn matmul(&mut self, a: &View, b: &View, c: &View) -> Step {
        let (m, _, n) = (a.shape[0], a.shape[1], b.shape[1]);
        if m >= BLOCK / 2 && n >= BLOCK / 2 {
            self.matmul_blocked(a, b, c)
        } else {
            self.matmul_direct(a, b, c)
        }
    }

    /// A product with a short side (one observation's action, a critic's single output): one
    /// work-item per output element runs the whole dot product; tiles would be mostly padding.
    fn matmul_direct(&mut self, a: &View, b: &View, c: &View) -> Step {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1]);
        self.begin(&[a, b, c], [m.max(1), n.max(1)], None, false);
        let ia = self.at(a, &["row".to_string(), "q".to_string()]);
        let ib = self.at(b, &["q".to_string(), "col".to_string()]);
        let ic = self.at(c, &["row".to_string(), "col".to_string()]);
        let _ = write!(
            self.src,
            "  const int row = get_global_id(0), col = get_global_id(1);
  float acc = 0.0f;
  for (int q = 0; q < {k}; q++) acc += {ia} * {ib};
  {ic} = acc;
}}
"
        );
        Step::Launch(self.kernels.len() - 1)
    }

    /// The tiled product: a work-group of TILE x TILE work-items computes a BLOCK x BLOCK
    /// block of C, each work-item a (BLOCK/TILE)^2 register block at a stride of TILE (so
    /// neighbouring work-items touch neighbouring addresses), over K in steps of TILE staged
    /// through local memory. The operands' strides carry the autodiff's transposes.
    fn matmul_blocked(&mut self, a: &View, b: &View, c: &View) -> Step {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1]);
        let groups = |x: usize| x.div_ceil(BLOCK).max(1) * TILE;
        self.begin(&[a, b, c], [groups(m), groups(n)], Some([TILE, TILE]), false);
        let ia = self.at(a, &["row".to_string(), "ka".to_string()]);
        let ib = self.at(b, &["kb".to_string(), "col".to_string()]);
        let ic = self.at(c, &["row".to_string(), "col".to_string()]);
        const W: usize = BLOCK / TILE;
        let loads = BLOCK * TILE / (TILE * TILE);
        let _ = write!(
            self.src,
            "  __local float As[{TILE}][{BLOCK}];
  __local float Bs[{TILE}][{BLOCK}];
  const int tr = get_local_id(0), tc = get_local_id(1), lin = tr * {TILE} + tc;
  const int r0 = get_group_id(0) * {BLOCK}, c0 = get_group_id(1) * {BLOCK};
  float acc[{W}][{W}];
  for (int i = 0; i < {W}; i++) for (int j = 0; j < {W}; j++) acc[i][j] = 0.0f;
  for (int t0 = 0; t0 < {k}; t0 += {TILE}) {{
    for (int l = 0; l < {loads}; l++) {{
      const int e = l * {TILE} * {TILE} + lin;
      {{ const int row = r0 + e / {TILE}, ka = t0 + e % {TILE};
        As[e % {TILE}][e / {TILE}] = (row < {m} && ka < {k}) ? {ia} : 0.0f; }}
      {{ const int kb = t0 + e / {BLOCK}, col = c0 + e % {BLOCK};
        Bs[e / {BLOCK}][e % {BLOCK}] = (kb < {k} && col < {n}) ? {ib} : 0.0f; }}
    }}
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int q = 0; q < {TILE}; q++) {{
      float av[{W}], bv[{W}];
      for (int i = 0; i < {W}; i++) av[i] = As[q][tr + {TILE} * i];
      for (int j = 0; j < {W}; j++) bv[j] = Bs[q][tc + {TILE} * j];
      for (int i = 0; i < {W}; i++) for (int j = 0; j < {W}; j++) acc[i][j] += av[i] * bv[j];
    }}
    barrier(CLK_LOCAL_MEM_FENCE);
  }}
  for (int i = 0; i < {W}; i++) for (int j = 0; j < {W}; j++) {{
    const int row = r0 + tr + {TILE} * i, col = c0 + tc + {TILE} * j;
    if (row < {m} && col < {n}) {ic} = acc[i][j];
  }}
}}
"
        );
        Step::Launch(self.kernels.len() - 1)
    }

    fn take(&mut self, x: &View, idx: &View, out: &View, axis: usize) -> Step {
        let (_, len, inner) = split(&x.shape, axis);
        let n_idx = idx.numel();
        let n = out.numel().max(1);
        self.begin(&[x, idx, out], [n, 1], None, false);
        let (xb, ib, ob) = (self.flat(x), self.flat(idx), self.flat(out));
        let _ = write!(
            self.src,
            "  const int g = get_global_id(0);
  const int a = g / ({n_idx} * {inner}), j = (g / {inner}) % {n_idx}, i = g % {inner};
  const int ix = clamp({}, 0, {});
  {} = {};
}}
",
            ib("j"),
            len as i64 - 1,
            ob("g"),
            xb(&format!("(a * {len} + ix) * {inner} + i")),
        );
        Step::Launch(self.kernels.len() - 1)
    }

    fn scatter(&mut self, idx: &View, upd: &View, out: &View, axis: usize) -> Step {
        let (outer, len, inner) = split(&out.shape, axis);
        let n_idx = idx.numel();
        self.begin(&[idx, upd, out], [(outer * inner).max(1), 1], None, false);
        let (ib, ub, ob) = (self.flat(idx), self.flat(upd), self.flat(out));
        // One work-item per (outer, inner) column walks the indices in order: no races.
        let _ = write!(
            self.src,
            "  const int g = get_global_id(0);
  const int a = g / {inner}, i = g % {inner};
  for (int j = 0; j < {n_idx}; j++) {{
    const int ix = clamp({}, 0, {});
    {} += {};
  }}
}}
",
            ib("j"),
            len as i64 - 1,
            ob(&format!("(a * {len} + ix) * {inner} + i")),
            ub(&format!("(a * {n_idx} + j) * {inner} + i")),
        );
        Step::Launch(self.kernels.len() - 1)
    }

    fn random(&mut self, key: &View, dist: RandomDist, stream: u32, out: &View) -> Step {
        let n = out.numel().max(1);
        self.begin(&[key, out], [n, 1], None, false);
        let kb = self.flat(key);
        let ob = self.flat(out);
        let sample = match dist {
            RandomDist::Uniform => "(float)(b.x >> 8) * (1.0f / 16777216.0f)".to_string(),
            RandomDist::Normal => "sqrt(-2.0f * log((float)((b.x >> 8) + 1u) * (1.0f / 16777216.0f))) * cos(6.2831855f * ((float)(b.y >> 8) * (1.0f / 16777216.0f)))".to_string(),
        };
        let _ = write!(
            self.src,
            "  const int g = get_global_id(0);
  const uint2 k = (uint2)((uint){}, ((uint){}) ^ ({}u * 0x85EBCA6Bu));
  const uint4 b = rlc_philox((uint4)((uint)g, 0u, 0u, 0u), k);
  {} = {sample};
}}
",
            kb("0"),
            kb("1"),
            stream,
            ob("g"),
        );
        Step::Launch(self.kernels.len() - 1)
    }

    /// Flat indexing of a contiguous view: `ptr[base + offset + i]`.
    fn flat(&self, v: &View) -> impl Fn(&str) -> String + use<> {
        let p = self.ptr(v.buf);
        let off = self.base(v.buf) as isize + v.offset;
        move |i: &str| format!("{p}[{off} + {i}]")
    }
}

fn split(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        shape[..axis].iter().product(),
        shape[axis],
        shape[axis + 1..].iter().product(),
    )
}

fn unary(op: UnaryOp, x: &str, float: bool) -> String {
    match (op, float) {
        (UnaryOp::Exp, _) => format!("exp({x})"),
        (UnaryOp::Log, _) => format!("log({x})"),
        (UnaryOp::Tanh, _) => format!("tanh({x})"),
        (UnaryOp::Sqrt, _) => format!("sqrt({x})"),
        (UnaryOp::Sin, _) => format!("sin({x})"),
        (UnaryOp::Cos, _) => format!("cos({x})"),
        (UnaryOp::Recip, _) => format!("(1.0f / {x})"),
        (UnaryOp::Floor, _) => format!("floor({x})"),
        (UnaryOp::Not, _) => format!("(!{x})"),
    }
}

fn binary(op: BinaryOp, x: &str, y: &str, float: bool) -> String {
    match (op, float) {
        (BinaryOp::Add, _) => format!("({x} + {y})"),
        (BinaryOp::Mul, _) => format!("({x} * {y})"),
        (BinaryOp::Div, true) => format!("({x} / {y})"),
        (BinaryOp::Div, false) => format!("rlc_idiv({x}, {y})"),
        (BinaryOp::Pow, _) => format!("pow({x}, {y})"),
        (BinaryOp::Rem, true) => format!("({x} - floor({x} / {y}) * {y})"),
        (BinaryOp::Rem, false) => format!("rlc_irem({x}, {y})"),
        // NaN-propagating, like the interpreter's.
        (BinaryOp::Max, true) => format!("((isnan({x}) || {x} >= {y}) ? {x} : {y})"),
        (BinaryOp::Max, false) => format!("max({x}, {y})"),
        (BinaryOp::Lt, _) => format!("({x} < {y})"),
        (BinaryOp::Eq, _) => format!("({x} == {y})"),
        (BinaryOp::And, _) => format!("({x} && {y})"),
        (BinaryOp::Or, _) => format!("({x} || {y})"),
    }
}
