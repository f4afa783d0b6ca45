//! A tiny fork-join pool for splitting matrix products across cores.
//!
//! General-purpose pools (rayon) park and wake threads through the kernel on every call,
//! which on a 2-core machine costs as much as a 256x256x256 product itself. Here each
//! worker spins briefly for the next job before parking, the caller always does a share of
//! the work itself, and a job is a plain function pointer with a context pointer.
//!
//! The caller never waits for a worker that has not started: a part is claimed with a
//! compare-and-swap, and once the caller has finished its own share it takes back every
//! part no worker has claimed yet. So when the cores are oversubscribed (several `rlc`
//! processes, parallel tests) a descheduled worker costs nothing but its part's share of
//! parallelism, instead of stalling every product until the scheduler runs it again.
//! `RLC_THREADS` sets the number of threads (the caller included); the default is one per
//! core.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, Thread};

/// A job: `run(ctx, part)` computes part `part` of the work.
type JobFn = unsafe fn(*const u8, usize);

/// No job posted.
const IDLE: u32 = 0;
/// A job is posted and not yet claimed.
const POSTED: u32 = 1;
/// The worker claimed the job and is running it.
const RUNNING: u32 = 2;
/// The worker finished the job.
const DONE: u32 = 3;

/// Iterations a worker spins waiting for work before it yields the core once.
const SPIN: u32 = 2_000;
/// Rounds of spinning (each followed by a yield) before a worker parks.
const ROUNDS: u32 = 50;

struct Slot {
    state: AtomicU32,
    job: AtomicPtr<()>,
    ctx: AtomicPtr<u8>,
    part: AtomicU32,
    sleeping: AtomicBool,
    thread: OnceLock<Thread>,
}

impl Slot {
    /// A slot with no job and no thread yet.
    fn idle() -> Slot {
        Slot {
            state: AtomicU32::new(IDLE),
            job: AtomicPtr::new(std::ptr::null_mut()),
            ctx: AtomicPtr::new(std::ptr::null_mut()),
            part: AtomicU32::new(0),
            sleeping: AtomicBool::new(false),
            thread: OnceLock::new(),
        }
    }
}

/// The pool: one slot per worker thread.
pub struct Pool {
    slots: Vec<Arc<Slot>>,
    /// Held by the thread whose job the workers are running.
    busy: std::sync::Mutex<()>,
}

static POOL: OnceLock<Pool> = OnceLock::new();

/// Threads to use: `RLC_THREADS` when set, else one per core. A bad setting is refused when the
/// backend is created ([`check_threads_setting`]); here it falls back to one per core.
pub fn configured_threads() -> usize {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    threads_from(std::env::var("RLC_THREADS").ok().as_deref(), cores).unwrap_or(cores)
}

/// An error naming a bad `RLC_THREADS` value (not a positive integer): a setting that would be
/// ignored is refused rather than silently run with another thread count.
pub fn check_threads_setting() -> Result<(), String> {
    threads_from(std::env::var("RLC_THREADS").ok().as_deref(), 1).map(|_| ())
}

/// The thread count `RLC_THREADS=value` asks for (at most [`MAX_THREADS`]), `cores` when unset,
/// an error when it is not a positive integer.
fn threads_from(value: Option<&str>, cores: usize) -> Result<usize, String> {
    let Some(v) = value else { return Ok(cores) };
    match v.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n.min(MAX_THREADS)),
        _ => Err(format!(
            "RLC_THREADS={v:?} is not a positive integer (the JIT's thread count, the caller included)"
        )),
    }
}

/// More threads than this would only spin against each other.
const MAX_THREADS: usize = 256;

/// The process-wide pool, with one worker per thread beyond the caller's.
pub fn pool() -> &'static Pool {
    POOL.get_or_init(|| Pool::new(configured_threads().saturating_sub(1)))
}

impl Pool {
    fn new(workers: usize) -> Pool {
        let mut slots = Vec::new();
        for i in 0..workers {
            let slot = Arc::new(Slot::idle());
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
            // SeqCst pairs with the worker's announcement of sleep (a store then a load on
            // each side), so at least one of the two sees the other.
            s.state.store(POSTED, Ordering::SeqCst);
            if s.sleeping.load(Ordering::SeqCst)
                && let Some(t) = s.thread.get()
            {
                t.unpark();
            }
        }
        // SAFETY: forwarded from the caller.
        unsafe { job(ctx, 0) };
        // Take back every part no worker has claimed yet and run it here, then wait for the
        // claimed ones.
        for (i, s) in self.slots.iter().enumerate() {
            if s.state
                .compare_exchange(POSTED, IDLE, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // SAFETY: forwarded from the caller; the worker will not run this part.
                unsafe { job(ctx, i + 1) };
            }
        }
        for s in &self.slots {
            if s.state.load(Ordering::Acquire) == IDLE {
                continue;
            }
            let mut spins = 0u32;
            while s.state.load(Ordering::Acquire) != DONE {
                spins = spins.wrapping_add(1);
                if spins.is_multiple_of(SPIN) {
                    // The worker was preempted mid-part: let it have the core.
                    thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
            s.state.store(IDLE, Ordering::Release);
        }
    }
}

fn worker(s: &Slot) {
    loop {
        wait_for_post(s);
        // Claim the job; the caller may have taken it back meanwhile.
        if s.state
            .compare_exchange(POSTED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            continue;
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

/// Spins (yielding now and then, so other processes' threads get the core), then parks,
/// until a job is posted.
fn wait_for_post(s: &Slot) {
    let mut spins = 0u32;
    let mut rounds = 0u32;
    while s.state.load(Ordering::Acquire) != POSTED {
        if spins < SPIN {
            spins += 1;
            std::hint::spin_loop();
        } else if rounds < ROUNDS {
            spins = 0;
            rounds += 1;
            thread::yield_now();
        } else {
            s.sleeping.store(true, Ordering::SeqCst);
            // Re-check after announcing sleep, so a job posted meanwhile is not missed.
            if s.state.load(Ordering::SeqCst) != POSTED {
                thread::park();
            }
            s.sleeping.store(false, Ordering::SeqCst);
            spins = 0;
            rounds = 0;
        }
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

    fn runs_every_part_once(p: &Pool, calls: usize) {
        let counters: [AtomicUsize; 8] = Default::default();
        for _ in 0..calls {
            // SAFETY: parts touch distinct counters; `counters` outlives the call.
            unsafe { p.run(add_part, &counters as *const _ as *const u8) };
        }
        for (i, c) in counters.iter().enumerate() {
            let want = if i < p.parts() { calls * (i + 1) } else { 0 };
            assert_eq!(c.load(Ordering::SeqCst), want, "part {i}");
        }
    }

    #[test]
    fn every_part_runs_once_per_call() {
        runs_every_part_once(pool(), 1000);
    }

    #[test]
    fn more_workers_than_cores_still_run_every_part_once() {
        runs_every_part_once(&Pool::new(7), 2000);
    }

    #[test]
    fn a_worker_that_never_runs_does_not_stall_the_caller() {
        // Slots whose threads never start stand for workers the scheduler keeps off the
        // cores: the caller must take their parts back.
        let absent = (0..3).map(|_| Arc::new(Slot::idle())).collect();
        let p = Pool {
            slots: absent,
            busy: std::sync::Mutex::new(()),
        };
        runs_every_part_once(&p, 100);
    }

    #[test]
    fn rlc_threads_is_used_when_it_is_a_positive_integer_and_refused_otherwise() {
        assert_eq!(threads_from(Some("1"), 8), Ok(1));
        assert_eq!(threads_from(Some(" 3 "), 8), Ok(3));
        assert_eq!(threads_from(None, 8), Ok(8));
        assert_eq!(threads_from(Some("100000"), 8), Ok(MAX_THREADS));
        for bad in ["0", "many", "", "-2", "1.5"] {
            let e = threads_from(Some(bad), 8).unwrap_err();
            assert!(e.contains("not a positive integer"), "{bad}: {e}");
        }
    }
}
