//! The OpenCL backend: each entry point is planned by [`super::kernel`] as for the JIT
//! (fusion groups, views, one arena by liveness), rendered as OpenCL C ([`render`]), built
//! once, and run as an in-order sequence of kernel launches. Parameters, optimiser moments,
//! target copies and replay buffers stay in device memory, and replay is sampled there
//! ([`replay`]); a call writes its inputs and reads its outputs, nothing else.

mod device;
mod render;
mod replay;

pub use device::{Device, OclDevice};

use super::api::Backend;
use super::kernel::{RoutineCall, View};
use super::replay::{DeviceReplay, Draw, ReplayId};
use super::routine::run_on_words;
use super::types::{BackendError, EntryId, EntryStats, HostData, In, Out};
use crate::backend::kernel::{Storage, plan};
use crate::interp::{Buf, initial_state};
use crate::ir::{DType, Graph, StateId, StateTable};
use device::{Arg, Kern, Mem};
use render::{Rendered, Step};
use std::time::Instant;

struct StateBuf {
    mem: Mem,
    len: usize,
    dtype: DType,
}

struct ClEntry {
    arena: Mem,
    kernels: Vec<(Kern, render::ClKernel)>,
    steps: Vec<Step>,
    /// Per graph input: device buffer (none if the plan never reads it), type, length.
    inputs: Vec<(Option<Mem>, DType, usize)>,
    outputs: Vec<(Option<Mem>, DType, usize)>,
    /// Inputs the last call drew from device replay (not copied from the host).
    drawn: Vec<bool>,
    source: String,
    /// Per plan buffer: its device memory and the word offset of its first element (for
    /// host steps).
    places: Vec<(Mem, usize)>,
    launches: usize,
    scratch: Vec<u32>,
    compile_ms: f64,
}

/// Runs entry points as OpenCL kernels on one device.
pub struct OpenClBackend {
    dev: Box<dyn Device>,
    states: Vec<StateBuf>,
    entries: Vec<ClEntry>,
    replays: replay::Replays,
}

impl OpenClBackend {
    /// Opens the OpenCL device (see [`OclDevice::open`] for `RLC_OPENCL_DEVICE`).
    pub fn new() -> Result<OpenClBackend, BackendError> {
        Ok(OpenClBackend::on(Box::new(OclDevice::open()?)))
    }

    /// A backend on a given device.
    pub fn on(dev: Box<dyn Device>) -> OpenClBackend {
        OpenClBackend {
            dev,
            states: Vec::new(),
            entries: Vec::new(),
            replays: replay::Replays::default(),
        }
    }

    /// The device in use.
    pub fn device_name(&self) -> String {
        self.dev.describe()
    }

    fn run_steps(&mut self, e: usize, steps: &[Step], t: i32) -> Result<(), BackendError> {
        for s in steps {
            match s {
                Step::Launch(k) => {
                    let (kern, ck) = &self.entries[e].kernels[*k];
                    let int_arg = ck
                        .takes_t
                        .then(|| ((ck.bufs.len() + 2 * usize::from(ck.arena)) as u32, t));
                    self.dev.launch(*kern, ck.global, ck.local, int_arg.as_slice())?;
                }
                Step::Host { call, args, out } => self.run_host(e, call, args, out)?,
                Step::Scan {
                    length,
                    reverse,
                    t_word,
                    init,
                    body,
                    copy,
                } => {
                    self.run_steps(e, init, t)?;
                    let arena = self.entries[e].arena;
                    for i in 0..*length {
                        let tt = if *reverse { length - 1 - i } else { i } as i32;
                        self.dev.write(arena, *t_word, &[tt as u32])?;
                        self.run_steps(e, body, tt)?;
                        self.run_steps(e, copy, tt)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs a routine on the host: its operands are read from the device, the result written.
    fn run_host(
        &mut self,
        e: usize,
        call: &RoutineCall,
        args: &[View],
        out: &View,
    ) -> Result<(), BackendError> {
        let mut words = Vec::with_capacity(args.len());
        for v in args {
            let (mem, base) = self.entries[e].places[v.buf];
            let mut w = vec![0u32; v.numel()];
            self.dev.read(mem, base + v.offset as usize, &mut w)?;
            words.push(w);
        }
        let slices: Vec<&[u32]> = words.iter().map(Vec::as_slice).collect();
        let mut res = vec![0u32; out.numel()];
        run_on_words(call, &slices, &mut res);
        let (mem, base) = self.entries[e].places[out.buf];
        self.dev.write(mem, base + out.offset as usize, &res)
    }

    /// Runs an entry: host inputs are written, inputs named by `draws` are sampled from
    /// device replay, and outputs are read back.
    fn call_with(
        &mut self,
        entry: EntryId,
        inputs: &[In<'_>],
        draws: &[Draw],
        outputs: &mut [Out<'_>],
    ) -> Result<(), BackendError> {
        let e = entry.0;
        let Some(en) = self.entries.get_mut(e) else {
            return Err(BackendError(format!("no entry #{e}")));
        };
        if inputs.len() != en.inputs.len() || outputs.len() != en.outputs.len() {
            return Err(BackendError(format!(
                "expected {} inputs and {} outputs, got {} and {}",
                en.inputs.len(),
                en.outputs.len(),
                inputs.len(),
                outputs.len()
            )));
        }
        en.drawn.fill(false);
        for d in draws {
            for &(k, _) in &d.fields {
                match en.drawn.get_mut(k) {
                    Some(x) => *x = true,
                    None => return Err(BackendError(format!("no input {k} to draw into"))),
                }
            }
        }
        // Inputs go through the entry's scratch buffer: nothing is allocated per call.
        for (k, (x, (mem, dt, n))) in inputs.iter().zip(&en.inputs).enumerate() {
            if en.drawn[k] {
                continue;
            }
            let buf = &mut en.scratch[..*n];
            match (x, dt) {
                (In::F32(v), DType::F32) if v.len() == *n => {
                    buf.iter_mut().zip(v.iter()).for_each(|(d, s)| *d = s.to_bits())
                }
                (In::I32(v), DType::I32 | DType::Bool) if v.len() == *n => {
                    buf.iter_mut().zip(v.iter()).for_each(|(d, s)| *d = *s as u32)
                }
                _ => return Err(BackendError(format!("input {k} must be {n} values of {dt}"))),
            }
            if let Some(m) = mem {
                self.dev.write(*m, 0, buf)?;
            }
        }
        for d in draws {
            self.replays
                .gather(self.dev.as_mut(), d, &self.entries[e].inputs)?;
        }
        let steps = std::mem::take(&mut self.entries[e].steps);
        let r = self.run_steps(e, &steps, 0);
        self.entries[e].steps = steps;
        r?;
        let en = &mut self.entries[e];
        for (k, (o, (mem, dt, n))) in outputs.iter_mut().zip(&en.outputs).enumerate() {
            let buf = &mut en.scratch[..*n];
            match mem {
                Some(m) => self.dev.read(*m, 0, buf)?,
                None => buf.fill(0),
            }
            match (o, dt) {
                (Out::F32(v), DType::F32) if v.len() == *n => v
                    .iter_mut()
                    .zip(buf.iter())
                    .for_each(|(d, s)| *d = f32::from_bits(*s)),
                (Out::I32(v), DType::I32 | DType::Bool) if v.len() == *n => {
                    v.iter_mut().zip(buf.iter()).for_each(|(d, s)| *d = *s as i32)
                }
                _ => return Err(BackendError(format!("output {k} must hold {n} values of {dt}"))),
            }
        }
        Ok(())
    }
}

fn count_launches(steps: &[Step]) -> usize {
    steps
        .iter()
        .map(|s| match s {
            Step::Launch(_) => 1,
            Step::Host { .. } => 0,
            Step::Scan {
                length,
                init,
                body,
                copy,
                ..
            } => count_launches(init) + length * (count_launches(body) + count_launches(copy)),
        })
        .sum()
}

fn words(v: &crate::interp::Tensor<f32>) -> Vec<u32> {
    match &v.buf {
        Buf::F(x) => x.iter().map(|f| f.to_bits()).collect(),
        Buf::I(x) => x.iter().map(|i| *i as u32).collect(),
        Buf::B(x) => x.iter().map(|b| u32::from(*b)).collect(),
    }
}

impl Backend for OpenClBackend {
    fn name(&self) -> &'static str {
        "opencl"
    }

    fn init_state(&mut self, states: &StateTable, seed: u64) -> Result<(), BackendError> {
        let values = initial_state::<f32>(states, seed);
        if !self.states.is_empty() && self.states.len() != values.len() {
            return Err(BackendError(
                "state layout changed after compiling entry points".into(),
            ));
        }
        for (i, v) in values.iter().enumerate() {
            let data = words(v);
            let dtype = if v.ty.dtype == DType::F32 {
                DType::F32
            } else {
                DType::I32
            };
            if i == self.states.len() {
                let mem = self.dev.alloc(data.len())?;
                self.states.push(StateBuf {
                    mem,
                    len: data.len(),
                    dtype,
                });
            }
            if self.states[i].len != data.len() {
                return Err(BackendError(
                    "state sizes changed after compiling entry points".into(),
                ));
            }
            self.dev.write(self.states[i].mem, 0, &data)?;
        }
        Ok(())
    }

    fn compile(&mut self, name: &str, graph: &Graph) -> Result<EntryId, BackendError> {
        let start = Instant::now();
        let g = crate::passes::optimize(graph).map_err(|e| BackendError(format!("{name}: {e}")))?;
        let plan = plan(&g).map_err(|e| BackendError(format!("{name}: {}", e.0)))?;
        let arena = self.dev.alloc(plan.arena_bytes / 4 + 1)?;
        let inputs: Vec<(Option<Mem>, DType, usize)> = g
            .inputs
            .iter()
            .map(|i| (None, g.ty(*i).dtype, g.ty(*i).numel()))
            .collect();
        let outputs: Vec<(Option<Mem>, DType, usize)> = g
            .outputs
            .iter()
            .map(|(_, o)| (None, g.ty(*o).dtype, g.ty(*o).numel()))
            .collect();
        let (mut inputs, mut outputs) = (inputs, outputs);
        // Device memory of every plan buffer.
        let mut mems = Vec::with_capacity(plan.buffers.len());
        for b in &plan.buffers {
            let m = match b.storage {
                Storage::Arena => arena,
                Storage::Const => {
                    let data: Vec<u32> = b
                        .data
                        .iter()
                        .map(|v| {
                            if b.dtype == DType::F32 {
                                (*v as f32).to_bits()
                            } else {
                                *v as i32 as u32
                            }
                        })
                        .collect();
                    // Constants are planned never to be overwritten: write them once.
                    self.dev.write(arena, b.offset / 4, &data)?;
                    arena
                }
                Storage::State(s) => match self.states.get(s.0 as usize) {
                    Some(st) if st.len == b.len => st.mem,
                    _ => {
                        return Err(BackendError(format!(
                            "{name}: state #{} is not initialised (call init_state first)",
                            s.0
                        )));
                    }
                },
                Storage::Input(k) => *inputs[k].0.get_or_insert(self.dev.alloc(b.len)?),
                Storage::Output(k) => *outputs[k].0.get_or_insert(self.dev.alloc(b.len)?),
            };
            mems.push(m);
        }
        let places: Vec<(Mem, usize)> = plan
            .buffers
            .iter()
            .zip(&mems)
            .map(|(b, m)| match b.storage {
                Storage::Arena | Storage::Const => (*m, b.offset / 4),
                Storage::State(_) | Storage::Input(_) | Storage::Output(_) => (*m, 0),
            })
            .collect();
        let Rendered {
            source,
            kernels,
            steps,
        } = render::render(&plan);
        let prog = self
            .dev
            .build(&source)
            .map_err(|e| BackendError(format!("{name}: {}", e.0)))?;
        let mut ks = Vec::with_capacity(kernels.len());
        for ck in kernels {
            let mut args = Vec::new();
            if ck.arena {
                args.push(Arg::Mem(arena));
                args.push(Arg::Mem(arena));
            }
            args.extend(ck.bufs.iter().map(|b| Arg::Mem(mems[*b])));
            if ck.takes_t {
                args.push(Arg::Int(0));
            }
            ks.push((self.dev.kernel(prog, &ck.name, &args)?, ck));
        }
        let launches = count_launches(&steps);
        let scratch_len = inputs.iter().chain(&outputs).map(|x| x.2).max().unwrap_or(0);
        self.entries.push(ClEntry {
            arena,
            kernels: ks,
            steps,
            inputs,
            outputs,
            source,
            places,
            launches,
            drawn: vec![false; g.inputs.len()],
            scratch: vec![0; scratch_len],
            compile_ms: start.elapsed().as_secs_f64() * 1e3,
        });
        Ok(EntryId(self.entries.len() - 1))
    }

    fn call(
        &mut self,
        entry: EntryId,
        inputs: &[In<'_>],
        outputs: &mut [Out<'_>],
    ) -> Result<(), BackendError> {
        self.call_with(entry, inputs, &[], outputs)
    }

    fn read_state(&self, id: StateId) -> Result<HostData, BackendError> {
        let s = self
            .states
            .get(id.0 as usize)
            .ok_or_else(|| BackendError(format!("no state #{}", id.0)))?;
        let mut buf = vec![0u32; s.len];
        self.dev.read(s.mem, 0, &mut buf)?;
        Ok(match s.dtype {
            DType::F32 => HostData::F32(buf.into_iter().map(f32::from_bits).collect()),
            _ => HostData::I32(buf.into_iter().map(|x| x as i32).collect()),
        })
    }

    fn write_state(&mut self, id: StateId, data: &HostData) -> Result<(), BackendError> {
        let s = self
            .states
            .get(id.0 as usize)
            .ok_or_else(|| BackendError(format!("no state #{}", id.0)))?;
        if data.len() != s.len {
            return Err(BackendError(format!(
                "state #{} has {} values, got {}",
                id.0,
                s.len,
                data.len()
            )));
        }
        let words: Vec<u32> = match data {
            HostData::F32(v) => v.iter().map(|f| f.to_bits()).collect(),
            HostData::I32(v) => v.iter().map(|i| *i as u32).collect(),
        };
        self.dev.write(s.mem, 0, &words)
    }

    fn code(&self, e: EntryId) -> Option<String> {
        self.entries.get(e.0).map(|x| x.source.clone())
    }

    fn transfers(&self) -> Option<super::Transfers> {
        Some(self.dev.moved())
    }

    fn stats(&self, e: EntryId) -> Option<EntryStats> {
        self.entries.get(e.0).map(|x| EntryStats {
            kernels: x.kernels.len(),
            launches_per_call: x.launches,
            bytes_in: x
                .inputs
                .iter()
                .zip(&x.drawn)
                .filter(|(i, drawn)| i.0.is_some() && !**drawn)
                .map(|(i, _)| 4 * i.2)
                .sum(),
            bytes_out: x.outputs.iter().map(|o| 4 * o.2).sum(),
            compile_ms: x.compile_ms,
        })
    }

    fn device_replay(&mut self) -> Option<&mut dyn DeviceReplay> {
        Some(self)
    }
}

impl DeviceReplay for OpenClBackend {
    fn replay_create(
        &mut self,
        numels: &[usize],
        capacity: usize,
        steps: usize,
    ) -> Result<Option<ReplayId>, BackendError> {
        self.replays
            .create(self.dev.as_mut(), numels, capacity, steps)
            .map(Some)
    }

    fn replay_push(&mut self, replay: ReplayId, n: usize, values: &[&[f32]]) -> Result<(), BackendError> {
        self.replays.push(self.dev.as_mut(), replay, n, values)
    }

    fn call_drawn(
        &mut self,
        entry: EntryId,
        inputs: &[In<'_>],
        draws: &[Draw],
        outputs: &mut [Out<'_>],
    ) -> Result<(), BackendError> {
        self.call_with(entry, inputs, draws, outputs)
    }
}
