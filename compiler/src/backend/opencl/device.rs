//! The thin layer over the `ocl` crate: the few operations the backend needs (allocate,
//! write, read, build, make a kernel, launch), all blocking or in-order. Nothing else in rlc
//! touches `ocl`, so replacing it means reimplementing [`Device`] only.

use crate::backend::types::{BackendError, Transfers};
use std::cell::Cell;

/// A device buffer handle (of 4-byte words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mem(pub usize);
/// A built program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prog(pub usize);
/// A kernel with its buffer arguments bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kern(pub usize);

/// A kernel argument bound at creation.
#[derive(Clone, Copy, Debug)]
pub enum Arg {
    /// A buffer.
    Mem(Mem),
    /// An `int` (updated before launches with [`Device::launch`]'s `ints`).
    Int(i32),
}

/// What the OpenCL backend needs from a device.
pub trait Device {
    /// Platform and device name.
    fn describe(&self) -> String;
    /// A zeroed buffer of `words` 4-byte words.
    fn alloc(&mut self, words: usize) -> Result<Mem, BackendError>;
    /// Writes `data` at word `offset` (blocking).
    fn write(&mut self, m: Mem, offset: usize, data: &[u32]) -> Result<(), BackendError>;
    /// Reads `out.len()` words from word `offset` (blocking; waits for earlier launches).
    fn read(&self, m: Mem, offset: usize, out: &mut [u32]) -> Result<(), BackendError>;
    /// Compiles OpenCL C source.
    fn build(&mut self, source: &str) -> Result<Prog, BackendError>;
    /// Creates kernel `name` of `p` with its arguments.
    fn kernel(&mut self, p: Prog, name: &str, args: &[Arg]) -> Result<Kern, BackendError>;
    /// Bytes written to and read from the device so far.
    fn moved(&self) -> Transfers;
    /// Enqueues a launch (in order); `ints` sets `int` arguments (by index) first.
    fn launch(
        &mut self,
        k: Kern,
        global: [usize; 2],
        local: Option<[usize; 2]>,
        ints: &[(u32, i32)],
    ) -> Result<(), BackendError>;
}

fn cl_err(what: &str, e: impl std::fmt::Display) -> BackendError {
    BackendError(format!("OpenCL {what}: {e}"))
}

/// A device of an OpenCL platform, through `ocl`.
pub struct OclDevice {
    name: String,
    context: ocl::Context,
    device: ocl::Device,
    queue: ocl::Queue,
    mems: Vec<ocl::Buffer<u32>>,
    progs: Vec<ocl::Program>,
    kerns: Vec<ocl::Kernel>,
    written: u64,
    read: Cell<u64>,
}

/// Every device of every non-empty platform, as `(platform name, device)`.
fn all_devices() -> Vec<(String, ocl::Platform, ocl::Device)> {
    // ICD loaders and platforms are not reliably safe to enumerate from several threads at
    // once (PoCL has reported no devices to a concurrent caller): enumerate one at a time.
    static ENUMERATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ENUMERATING.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::new();
    // `ocl::Platform::list` panics when the ICD loader finds no platform at all (no vendor
    // files); the core call returns that as an error, which here means "no device".
    let platforms = ocl::core::get_platform_ids().unwrap_or_default();
    for p in platforms.into_iter().map(ocl::Platform::new) {
        let pname = p.name().unwrap_or_else(|_| "?".into());
        // Platforms without devices (an ICD with no hardware) are skipped.
        if let Ok(ds) = ocl::Device::list_all(p) {
            out.extend(ds.into_iter().map(|d| (pname.clone(), p, d)));
        }
    }
    out
}

impl OclDevice {
    /// Opens the first device, or the one `RLC_OPENCL_DEVICE` names (an index into the list
    /// of all devices, or a case-insensitive part of the platform or device name).
    pub fn open() -> Result<OclDevice, BackendError> {
        let devices = all_devices();
        let listing = || {
            devices
                .iter()
                .enumerate()
                .map(|(i, (p, _, d))| format!("{i}: {p} / {}", d.name().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("; ")
        };
        if devices.is_empty() {
            return Err(BackendError(
                "no OpenCL device found (no platform with a device; on Debian `apt-get install pocl-opencl-icd` gives a CPU one)"
                    .into(),
            ));
        }
        let pick = match std::env::var("RLC_OPENCL_DEVICE") {
            Ok(want) if !want.is_empty() => {
                let by_index = want.parse::<usize>().ok().filter(|i| *i < devices.len());
                let lw = want.to_lowercase();
                by_index
                    .or_else(|| {
                        devices.iter().position(|(p, _, d)| {
                            p.to_lowercase().contains(&lw)
                                || d.name().unwrap_or_default().to_lowercase().contains(&lw)
                        })
                    })
                    .ok_or_else(|| {
                        BackendError(format!(
                            "RLC_OPENCL_DEVICE={want} matches no OpenCL device (devices: {})",
                            listing()
                        ))
                    })?
            }
            _ => 0,
        };
        let (pname, platform, device) = devices[pick].clone();
        let context = ocl::Context::builder()
            .platform(platform)
            .devices(device)
            .build()
            .map_err(|e| cl_err("context", e))?;
        let queue = ocl::Queue::new(&context, device, None).map_err(|e| cl_err("queue", e))?;
        Ok(OclDevice {
            name: format!("{pname} / {}", device.name().unwrap_or_default()),
            context,
            device,
            queue,
            mems: Vec::new(),
            progs: Vec::new(),
            kerns: Vec::new(),
            written: 0,
            read: Cell::new(0),
        })
    }
}

impl Device for OclDevice {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn alloc(&mut self, words: usize) -> Result<Mem, BackendError> {
        let b = ocl::Buffer::<u32>::builder()
            .queue(self.queue.clone())
            .len(words.max(1))
            .fill_val(0u32)
            .build()
            .map_err(|e| cl_err("buffer", e))?;
        self.mems.push(b);
        Ok(Mem(self.mems.len() - 1))
    }

    fn write(&mut self, m: Mem, offset: usize, data: &[u32]) -> Result<(), BackendError> {
        if data.is_empty() {
            return Ok(());
        }
        self.written += 4 * data.len() as u64;
        self.mems[m.0]
            .write(data)
            .offset(offset)
            .enq()
            .map_err(|e| cl_err("write", e))
    }

    fn read(&self, m: Mem, offset: usize, out: &mut [u32]) -> Result<(), BackendError> {
        if out.is_empty() {
            return Ok(());
        }
        self.read.set(self.read.get() + 4 * out.len() as u64);
        self.mems[m.0]
            .read(out)
            .offset(offset)
            .enq()
            .map_err(|e| cl_err("read", e))
    }

    fn build(&mut self, source: &str) -> Result<Prog, BackendError> {
        let p = ocl::Program::builder()
            .src(source)
            .devices(self.device)
            .build(&self.context)
            .map_err(|e| cl_err("build", e))?;
        self.progs.push(p);
        Ok(Prog(self.progs.len() - 1))
    }

    fn kernel(&mut self, p: Prog, name: &str, args: &[Arg]) -> Result<Kern, BackendError> {
        let mut b = ocl::Kernel::builder();
        b.program(&self.progs[p.0]).name(name).queue(self.queue.clone());
        // SAFETY: arguments are 4-byte words either way; the arena is passed both as
        // `float*` and `int*`, which ocl's type check would reject.
        unsafe {
            b.disable_arg_type_check();
        }
        for a in args {
            match a {
                Arg::Mem(m) => {
                    b.arg(&self.mems[m.0]);
                }
                Arg::Int(i) => {
                    b.arg(*i);
                }
            }
        }
        let k = b.build().map_err(|e| cl_err(&format!("kernel {name}"), e))?;
        self.kerns.push(k);
        Ok(Kern(self.kerns.len() - 1))
    }

    fn moved(&self) -> Transfers {
        Transfers {
            to_device: self.written,
            to_host: self.read.get(),
        }
    }

    fn launch(
        &mut self,
        k: Kern,
        global: [usize; 2],
        local: Option<[usize; 2]>,
        ints: &[(u32, i32)],
    ) -> Result<(), BackendError> {
        let kern = &self.kerns[k.0];
        for &(i, v) in ints {
            kern.set_arg(i, v).map_err(|e| cl_err("argument", e))?;
        }
        let mut cmd = kern.cmd().global_work_size(global);
        if let Some(l) = local {
            cmd = cmd.local_work_size(l);
        }
        // SAFETY: every buffer argument was sized by the plan the kernel was rendered from.
        unsafe { cmd.enq() }.map_err(|e| cl_err("launch", e))
    }
}
