//! A tiny fork-join pool for splitting matrix products across cores.
//!
//! General-purpose pools (rayon) park and wake threads through the kernel on every call,
//! which on a 2-core machine costs as much as a 256x256x256 product itself. Here each
//! worker spins briefly for the next job before parking, the caller always does a share of
//! the work itself, and a job is a plain function pointer with a context pointer.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, Thread};

/// A job: `run(ctx, part)` computes part `part` of the work.
type JobFn = unsafe fn(*const u8, usize);

const IDLE: u32 = 0;
const WORK: u32 = 1;
const DONE: u32 = 2;

/// Iterations a worker spins waiting for work before it parks.
const SPIN: u32 = 200_000;

struct Slot {
    state: AtomicU32,
    job: AtomicPtr<()>,
    ctx: AtomicPtr<u8>,
    part: AtomicU32,
    sleeping: AtomicBool,
    thread: OnceLock<Thread>,
}

/// The pool: one slot per worker thread.
pub struct Pool {
    slots: Vec<Arc<Slot>>,
    /// Held by the thread whose job the workers are running.
    busy: std::sync::Mutex<()>,
}

static POOL: OnceLock<Pool> = OnceLock::new();

/// The process-wide pool, with one worker per extra core (none on a single core).
pub fn pool() -> &'static Pool {
    POOL.get_or_init(|| {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        Pool::new(cores.saturating_sub(1))
    })
}

impl Pool {
    fn new(workers: usize) -> Pool {
        let mut slots = Vec::new();
        for i in 0..workers {
            let slot = Arc::new(Slot {
                state: AtomicU32::new(IDLE),
                job: AtomicPtr::new(std::ptr::null_mut()),
                ctx: AtomicPtr::new(std::ptr::null_mut()),
                part: AtomicU32::new(0),
                sleeping: AtomicBool::new(false),
                thread: OnceLock::new(),
            });
            let s = slot.clone();
            let spawned = thread::Builder::new()
                .name(format!("rlc-worker-{i}"))
                .spawn(move || worker(&s));
            match spawned {
                Ok(h) => {
                    let _ = slot.thread.set(h.thread().clone());
                    slots.push(slot);
                }
                // Without the thread the caller simply does all the work.
                Err(_) => break,
            }
        }
        Pool {
            slots,
            busy: std::sync::Mutex::new(()),
        }
    }

    /// Number of parts a job is split into (workers plus the caller).
    pub fn parts(&self) -> usize {
        self.slots.len() + 1
    }

    /// Runs `job(ctx, p)` for every part `p`, the caller taking part 0, and waits for all.
    ///
    /// # Safety
    /// `job` must be safe to call concurrently for distinct parts with `ctx`, and `ctx` must
    /// stay valid until this returns (it does: this blocks until every part is done).
    pub unsafe fn run(&self, job: JobFn, ctx: *const u8) {
        // Another thread (another backend, a parallel test) owns the workers: do every part
        // here rather than wait.
        let Ok(_guard) = self.busy.try_lock() else {
            for p in 0..self.parts() {
                // SAFETY: forwarded from the caller.
                unsafe { job(ctx, p) };
            }
            return;
        };
        for (i, s) in self.slots.iter().enumerate() {
            s.job.store(job as *mut (), Ordering::Relaxed);
            s.ctx.store(ctx as *mut u8, Ordering::Relaxed);
            s.part.store(i as u32 + 1, Ordering::Relaxed);
            s.state.store(WORK, Ordering::Release);
            if s.sleeping.load(Ordering::Acquire)
                && let Some(t) = s.thread.get()
            {
                t.unpark();
            }
        }
        // SAFETY: forwarded from the caller.
        unsafe { job(ctx, 0) };
        for s in &self.slots {
            while s.state.load(Ordering::Acquire) != DONE {
                std::hint::spin_loop();
            }
            s.state.store(IDLE, Ordering::Relaxed);
        }
    }
}

fn worker(s: &Slot) {
    loop {
        let mut spins = 0u32;
        while s.state.load(Ordering::Acquire) != WORK {
            if spins < SPIN {
                spins += 1;
                std::hint::spin_loop();
            } else {
                s.sleeping.store(true, Ordering::SeqCst);
                // Re-check after announcing sleep, so a job posted meanwhile is not missed.
                if s.state.load(Ordering::SeqCst) != WORK {
                    thread::park();
                }
                s.sleeping.store(false, Ordering::SeqCst);
                spins = 0;
            }
        }
        let job = s.job.load(Ordering::Relaxed);
        let ctx = s.ctx.load(Ordering::Relaxed);
        let part = s.part.load(Ordering::Relaxed) as usize;
        // SAFETY: `Pool::run` posted this job under its contract and waits for DONE.
        unsafe {
            let f: JobFn = std::mem::transmute::<*mut (), JobFn>(job);
            f(ctx, part);
        }
        s.state.store(DONE, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    unsafe fn add_part(ctx: *const u8, part: usize) {
        // SAFETY: ctx points to an array of counters, one per part.
        let counters = unsafe { &*(ctx as *const [AtomicUsize; 8]) };
        counters[part].fetch_add(part + 1, Ordering::SeqCst);
    }

    #[test]
    fn every_part_runs_once_per_call() {
        let p = pool();
        let counters: [AtomicUsize; 8] = Default::default();
        for _ in 0..1000 {
            // SAFETY: parts touch distinct counters; `counters` outlives the call.
            unsafe { p.run(add_part, &counters as *const _ as *const u8) };
        }
        for (i, c) in counters.iter().enumerate().take(p.parts()) {
            assert_eq!(c.load(Ordering::SeqCst), 1000 * (i + 1));
        }
    }
}
