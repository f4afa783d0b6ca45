//! Functions the generated code calls: matrix products (the `gemm` crate, AVX-512 when the
//! CPU has it), gathers and scatters, the shared random-number generator, and libm.
//! Each is `extern "C"` and takes raw pointers the code generator knows to be valid.

use crate::backend::kernel::RoutineCall;
use crate::backend::routine::run_on_words;
use crate::random;

/// Products with at least this many flops are split across cores.
const PARALLEL_FLOPS: usize = 1 << 20;

/// One strided product, as a job for the pool: part `p` of `parts` computes a band of rows
/// (or of columns when there are few rows).
struct Gemm {
    m: usize,
    k: usize,
    n: usize,
    a: *const f32,
    a_rs: isize,
    a_cs: isize,
    b: *const f32,
    b_rs: isize,
    b_cs: isize,
    c: *mut f32,
    c_rs: isize,
    c_cs: isize,
    parts: usize,
}

impl Gemm {
    /// Computes rows (or columns) `lo..hi` of the product on this thread.
    unsafe fn band(&self, part: usize) {
        let by_rows = self.m >= self.n || self.m >= 64;
        let total = if by_rows { self.m } else { self.n };
        let lo = total * part / self.parts;
        let hi = total * (part + 1) / self.parts;
        if hi <= lo {
            return;
        }
        // SAFETY: the band lies inside the matrices described by the caller.
        unsafe {
            if by_rows {
                gemm::gemm(
                    hi - lo,
                    self.n,
                    self.k,
                    self.c.offset(lo as isize * self.c_rs),
                    self.c_cs,
                    self.c_rs,
                    false,
                    self.a.offset(lo as isize * self.a_rs),
                    self.a_cs,
                    self.a_rs,
                    self.b,
                    self.b_cs,
                    self.b_rs,
                    0.0f32,
                    1.0f32,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            } else {
                gemm::gemm(
                    self.m,
                    hi - lo,
                    self.k,
                    self.c.offset(lo as isize * self.c_cs),
                    self.c_cs,
                    self.c_rs,
                    false,
                    self.a,
                    self.a_cs,
                    self.a_rs,
                    self.b.offset(lo as isize * self.b_cs),
                    self.b_cs,
                    self.b_rs,
                    0.0f32,
                    1.0f32,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
    }
}

unsafe fn gemm_part(ctx: *const u8, part: usize) {
    // SAFETY: `ctx` is the `Gemm` posted by `gemm` below, alive until the pool returns.
    unsafe { (*(ctx as *const Gemm)).band(part) }
}

/// `c = a @ b` for an `[m,k] x [k,n]` product with arbitrary element strides.
///
/// # Safety
/// The pointers must address the described strided matrices.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gemm(
    m: i64,
    k: i64,
    n: i64,
    a: *const f32,
    a_rs: i64,
    a_cs: i64,
    b: *const f32,
    b_rs: i64,
    b_cs: i64,
    c: *mut f32,
    c_rs: i64,
    c_cs: i64,
) {
    let (m, k, n) = (m as usize, k as usize, n as usize);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for i in 0..m {
            for j in 0..n {
                // SAFETY: in bounds of c by the caller's contract.
                unsafe { *c.offset(i as isize * c_rs as isize + j as isize * c_cs as isize) = 0.0 };
            }
        }
        return;
    }
    let pool = super::pool::pool();
    let parts = if 2 * m * n * k >= PARALLEL_FLOPS && m.max(n) >= 2 * pool.parts() {
        pool.parts()
    } else {
        1
    };
    let job = Gemm {
        m,
        k,
        n,
        a,
        a_rs: a_rs as isize,
        a_cs: a_cs as isize,
        b,
        b_rs: b_rs as isize,
        b_cs: b_cs as isize,
        c,
        c_rs: c_rs as isize,
        c_cs: c_cs as isize,
        parts,
    };
    // gemm computes dst = alpha*dst + beta*lhs*rhs; with read_dst = false dst is only written.
    if parts == 1 {
        // SAFETY: forwarded from the caller.
        unsafe { job.band(0) };
    } else {
        // SAFETY: bands write disjoint parts of `c`; `job` outlives the call.
        unsafe { pool.run(gemm_part, &job as *const Gemm as *const u8) };
    }
}

/// Two independent products, each on its own core (one after the other on a single core).
///
/// # Safety
/// As for [`gemm`], for both products; their outputs must not overlap anything the other reads.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gemm_pair(
    m: i64,
    k: i64,
    n: i64,
    a: *const f32,
    a_rs: i64,
    a_cs: i64,
    b: *const f32,
    b_rs: i64,
    b_cs: i64,
    c: *mut f32,
    c_rs: i64,
    c_cs: i64,
    m2: i64,
    k2: i64,
    n2: i64,
    a2: *const f32,
    a2_rs: i64,
    a2_cs: i64,
    b2: *const f32,
    b2_rs: i64,
    b2_cs: i64,
    c2: *mut f32,
    c2_rs: i64,
    c2_cs: i64,
) {
    let job = |m: i64,
               k: i64,
               n: i64,
               a,
               a_rs: i64,
               a_cs: i64,
               b,
               b_rs: i64,
               b_cs: i64,
               c,
               c_rs: i64,
               c_cs: i64| Gemm {
        m: m as usize,
        k: k as usize,
        n: n as usize,
        a,
        a_rs: a_rs as isize,
        a_cs: a_cs as isize,
        b,
        b_rs: b_rs as isize,
        b_cs: b_cs as isize,
        c,
        c_rs: c_rs as isize,
        c_cs: c_cs as isize,
        parts: 1,
    };
    let pair = [
        job(m, k, n, a, a_rs, a_cs, b, b_rs, b_cs, c, c_rs, c_cs),
        job(m2, k2, n2, a2, a2_rs, a2_cs, b2, b2_rs, b2_cs, c2, c2_rs, c2_cs),
    ];
    let pool = super::pool::pool();
    if pool.parts() >= 2 && pair.iter().all(|g| g.k > 0) {
        // SAFETY: the two products write disjoint outputs; `pair` outlives the call.
        unsafe { pool.run(gemm_pair_part, pair.as_ptr() as *const u8) };
    } else {
        // SAFETY: forwarded.
        unsafe {
            gemm(m, k, n, a, a_rs, a_cs, b, b_rs, b_cs, c, c_rs, c_cs);
            gemm(m2, k2, n2, a2, a2_rs, a2_cs, b2, b2_rs, b2_cs, c2, c2_rs, c2_cs);
        }
    }
}

unsafe fn gemm_pair_part(ctx: *const u8, part: usize) {
    if part < 2 {
        // SAFETY: `ctx` is the pair posted by `gemm_pair`.
        unsafe { (*(ctx as *const Gemm).add(part)).band(0) }
    }
}

/// A kernel function compiled for one part of a split loop.
type PartFn = unsafe extern "C" fn(i64, i64, *const *const u8, *const *mut u8);

struct ParJob {
    f: PartFn,
    inputs: *const *const u8,
    outputs: *const *mut u8,
    parts: usize,
}

unsafe fn par_part(ctx: *const u8, part: usize) {
    // SAFETY: `ctx` is the job posted by `par_run`.
    unsafe {
        let j = &*(ctx as *const ParJob);
        (j.f)(part as i64, j.parts as i64, j.inputs, j.outputs);
    }
}

/// Runs a split kernel on every core: `f(part, parts, inputs, outputs)` for each part.
///
/// # Safety
/// `f` must be a kernel function generated for this entry (parts write disjoint bands).
pub unsafe extern "C" fn par_run(f: *const u8, inputs: *const *const u8, outputs: *const *mut u8) {
    let pool = super::pool::pool();
    // SAFETY: `f` has the `PartFn` signature (generated so).
    let f: PartFn = unsafe { std::mem::transmute::<*const u8, PartFn>(f) };
    let job = ParJob {
        f,
        inputs,
        outputs,
        parts: pool.parts(),
    };
    // SAFETY: the parts write disjoint bands; `job` outlives the call.
    unsafe { pool.run(par_part, &job as *const ParJob as *const u8) };
}

/// `out = x.take(idx, axis)` for contiguous f32/i32 data (4-byte elements), indices clamped.
///
/// # Safety
/// The pointers must address `outer*len*inner`, `n_idx` and `outer*n_idx*inner` elements.
pub unsafe extern "C" fn take(
    x: *const u32,
    idx: *const i32,
    out: *mut u32,
    outer: i64,
    len: i64,
    inner: i64,
    n_idx: i64,
) {
    let (outer, len, inner, n_idx) = (outer as usize, len as usize, inner as usize, n_idx as usize);
    let mut o = 0;
    for a in 0..outer {
        for j in 0..n_idx {
            // SAFETY: indices clamped into range; sizes by contract.
            let ix = unsafe { *idx.add(j) }.clamp(0, len as i32 - 1) as usize;
            for i in 0..inner {
                unsafe { *out.add(o) = *x.add((a * len + ix) * inner + i) };
                o += 1;
            }
        }
    }
}

/// Runs a routine on the host (see `backend/routine.rs`).
///
/// # Safety
/// `call` points at a live [`RoutineCall`]; `args` holds one pointer per operand, each
/// addressing that operand's element count of 4-byte words; `out` addresses the result's.
pub unsafe extern "C" fn routine(call: *const RoutineCall, args: *const *const u32, out: *mut u32) {
    // SAFETY: as the caller promises; the plan keeps `call` alive as long as the code.
    unsafe {
        let call = &*call;
        let ptrs = std::slice::from_raw_parts(args, call.args.len());
        let slices: Vec<&[u32]> = ptrs
            .iter()
            .zip(&call.args)
            .map(|(p, ty)| std::slice::from_raw_parts(*p, ty.numel()))
            .collect();
        let out = std::slice::from_raw_parts_mut(out, call.out.numel());
        run_on_words(call, &slices, out);
    }
}

/// `out[.., idx[j], ..] += upd[.., j, ..]` for f32 data (`is_int` for i32), indices clamped.
///
/// # Safety
/// As for [`take`].
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn scatter_add(
    out: *mut u32,
    idx: *const i32,
    upd: *const u32,
    outer: i64,
    len: i64,
    inner: i64,
    n_idx: i64,
    is_int: i64,
) {
    let (outer, len, inner, n_idx) = (outer as usize, len as usize, inner as usize, n_idx as usize);
    let mut u = 0;
    for a in 0..outer {
        for j in 0..n_idx {
            // SAFETY: indices clamped; sizes by contract.
            let ix = unsafe { *idx.add(j) }.clamp(0, len as i32 - 1) as usize;
            for i in 0..inner {
                let p = (a * len + ix) * inner + i;
                unsafe {
                    let (dst, src) = (out.add(p), *upd.add(u));
                    *dst = if is_int != 0 {
                        (*dst as i32).wrapping_add(src as i32) as u32
                    } else {
                        (f32::from_bits(*dst) + f32::from_bits(src)).to_bits()
                    };
                }
                u += 1;
            }
        }
    }
}

/// Fills `out` with `n` numbers of the shared counter-based generator (the interpreter's).
///
/// # Safety
/// `key` must point to two i32, `out` to `n` f32.
pub unsafe extern "C" fn random(key: *const i32, stream: i64, normal: i64, out: *mut f32, n: i64) {
    // SAFETY: by contract.
    let k = unsafe { [*key, *key.add(1)] };
    let key = random::stream_key(k, stream as u32);
    for i in 0..n as u64 {
        let v = if normal != 0 {
            random::normal_f32(key, i)
        } else {
            random::uniform(key, i) as f32
        };
        unsafe { *out.add(i as usize) = v };
    }
}

/// Copies `n` 4-byte elements.
///
/// # Safety
/// Both ranges must be valid and not overlap.
pub unsafe extern "C" fn copy(dst: *mut u32, src: *const u32, n: i64) {
    // SAFETY: by contract.
    unsafe { std::ptr::copy_nonoverlapping(src, dst, n as usize) };
}

/// f32 exp (libm, as the interpreter).
pub extern "C" fn expf(x: f32) -> f32 {
    x.exp()
}
/// f32 natural log.
pub extern "C" fn logf(x: f32) -> f32 {
    x.ln()
}
/// f32 tanh.
pub extern "C" fn tanhf(x: f32) -> f32 {
    x.tanh()
}
/// f32 sine.
pub extern "C" fn sinf(x: f32) -> f32 {
    x.sin()
}
/// f32 cosine.
pub extern "C" fn cosf(x: f32) -> f32 {
    x.cos()
}
/// f32 power.
pub extern "C" fn powf(x: f32, y: f32) -> f32 {
    x.powf(y)
}
/// i32 division as the interpreter defines it (0 for division by zero, wrapping).
pub extern "C" fn idiv(x: i32, y: i32) -> i32 {
    if y == 0 { 0 } else { x.wrapping_div(y) }
}
/// i32 floor modulo: the interpreter's definition itself, so the backends cannot disagree.
pub extern "C" fn irem(x: i32, y: i32) -> i32 {
    crate::interp::eval_binary_i32(crate::ir::BinaryOp::Rem, x, y)
}
