use std::time::Instant;
fn time(m: usize, k: usize, n: usize, off: usize) -> f64 {
    let mut av = vec![0.5f32; m * k + 64];
    let mut bv = vec![0.25f32; k * n + 64];
    let mut cv = vec![0.0f32; m * n + 64];
    let align = |p: *const f32| (16 - ((p as usize / 4) % 16)) % 16;
    let (ao, bo, co) = (align(av.as_ptr()) + off, align(bv.as_ptr()) + off, align(cv.as_ptr()) + off);
    let a = av[ao..].as_mut_ptr(); let b = bv[bo..].as_mut_ptr(); let c = cv[co..].as_mut_ptr();
    for _ in 0..3 { unsafe { rlc_compiler::backend::jit::gemm_helper(m, k, n, a, b, c) } }
    let t = Instant::now();
    for _ in 0..200 { unsafe { rlc_compiler::backend::jit::gemm_helper(m, k, n, a, b, c) } }
    t.elapsed().as_secs_f64() / 200.0
}
fn main() {
    for off in [0, 1, 2, 4, 8] {
        println!("offset {off} floats: {:.1} us", time(256, 256, 256, off) * 1e6);
    }
}
