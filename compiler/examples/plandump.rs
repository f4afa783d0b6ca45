use rlc_compiler::backend::jit::{plan, Plan};
use rlc_compiler::driver::{Driver, EnvLookupError, Request};
use rlc_compiler::env_spec::{ActionSpace, EnvSpec};
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let entry = std::env::args().nth(2).unwrap_or("train".into());
    let mut d = Driver::new(Some("stdlib".into()));
    let m = d.load(std::path::Path::new(&path)).unwrap();
    let env = |id: &str| -> Result<EnvSpec, EnvLookupError> {
        Ok(match id {
            "Pendulum-v1" => EnvSpec { id: id.into(), obs_dim: 3, action: ActionSpace::Continuous { dim: 1, low: vec![-2.0], high: vec![2.0] }, max_episode_steps: 200 },
            _ => EnvSpec { id: id.into(), obs_dim: 4, action: ActionSpace::Discrete { n: 2 }, max_episode_steps: 500 },
        })
    };
    let c = d.compile(m, &Request::default(), &env).map_err(|_| "compile").unwrap().remove(0);
    let g = rlc_compiler::passes::optimize(&c.entry(&entry).unwrap().graph).unwrap();
    let p: Plan = plan(&g).unwrap();
    println!("arena {} KB, {} buffers, {} kernels", p.arena_bytes / 1024, p.buffers.len(), p.kernels.len());
    for k in &p.kernels {
        use rlc_compiler::backend::jit::Kernel::*;
        match k {
            Map { out, expr } => println!("map {:?} strides {:?} nodes {} loads {:?}", out.shape, out.strides, expr.nodes.len(), expr.loads().map(|v| v.strides.clone()).collect::<Vec<_>>()),
            Reduce { acc, expr, .. } => println!("reduce over {:?} acc strides {:?} nodes {}", acc.shape, acc.strides, expr.nodes.len()),
            MatMul { a, b, .. } => println!("matmul {:?} x {:?}", a.shape, b.shape),
            other => println!("{}", match other { Take{..} => "take", ScatterAdd{..} => "scatter", Random{..} => "random", Scan(_) => "scan", _ => "?" }),
        }
    }
}
