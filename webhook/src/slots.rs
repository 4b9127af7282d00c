//! Evaluation slots: how many objects are evaluated at once, and since when all are busy.
//!
//! Each evaluation runs on a blocking thread and holds a slot until that thread is done with
//! it (cancelled evaluations stop within microseconds, so a slot is never held past the
//! evaluation timeout). A slot comes with a one-thread rayon pool of its own, on which the
//! engine evaluates the object's rules: a slow object occupies its slot's thread, never a
//! thread another object's rules wait for. When every slot has been busy for a while, new reviews can only wait
//! and time out: `/readyz` says so, and the Service routes to other replicas.

use celador_engine::limits::EVALUATION_STACK;
use rayon::ThreadPool;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The slots of one server.
pub(crate) struct Slots {
    semaphore: Arc<Semaphore>,
    total: usize,
    /// When the last free slot was taken; `None` while one is free.
    full_since: Mutex<Option<Instant>>,
    /// The threads of the free slots (none if they could not be started: the engine's shared
    /// threads are used then).
    pools: Mutex<Vec<ThreadPool>>,
}

/// One slot, held until dropped.
pub(crate) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    pool: Option<ThreadPool>,
    slots: Arc<Slots>,
}

impl Slot {
    /// Runs `work` on this slot's thread.
    pub(crate) fn run<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(work),
            None => work(),
        }
    }
}

impl Slots {
    /// `total` slots (at least one), whose threads run at `niceness` (0: the process's own;
    /// higher yields the CPU to the other threads, as `nice` does).
    pub(crate) fn new(total: usize, niceness: i32) -> Arc<Self> {
        let total = total.max(1);
        let pools = (0..total)
            .filter_map(|_| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(|_| "celador-slot".to_owned())
                    .stack_size(EVALUATION_STACK)
                    .start_handler(move |_| lower_priority(niceness))
                    .build()
                    .ok()
            })
            .collect();
        Arc::new(Self {
            semaphore: Arc::new(Semaphore::new(total)),
            total,
            full_since: Mutex::new(None),
            pools: Mutex::new(pools),
        })
    }

    /// The number of slots.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// Slots in use.
    pub(crate) fn busy(&self) -> usize {
        self.total - self.semaphore.available_permits()
    }

    /// Waits for a free slot.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Slot {
        let permit = self.semaphore.clone().acquire_owned().await.ok();
        if self.semaphore.available_permits() == 0 {
            self.full_since.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert_with(Instant::now);
        }
        let pool = self.pools.lock().unwrap_or_else(PoisonError::into_inner).pop();
        Slot { permit, pool, slots: self.clone() }
    }

    /// How long every slot has been busy, if they all are.
    pub(crate) fn full_for(&self) -> Option<Duration> {
        let since = *self.full_since.lock().unwrap_or_else(PoisonError::into_inner);
        since.filter(|_| self.semaphore.available_permits() == 0).map(|s| s.elapsed())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            self.slots.pools.lock().unwrap_or_else(PoisonError::into_inner).push(pool);
        }
        drop(self.permit.take());
        *self.slots.full_since.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Lowers the calling thread's scheduling priority by `niceness` (Linux: a thread's own nice
/// value); nothing elsewhere, or when it is 0.
#[allow(unsafe_code)]
fn lower_priority(niceness: i32) {
    #[cfg(target_os = "linux")]
    if niceness > 0 {
        // SAFETY: gettid and setpriority only read their arguments; a failure leaves the
        // thread at its priority, which is harmless.
        unsafe {
            let thread = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, niceness);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = niceness;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_since_the_last_slot_was_taken_until_one_is_freed() {
        let slots = Slots::new(2, 0);
        let first = slots.acquire().await;
        assert_eq!((slots.busy(), slots.full_for()), (1, None));
        let second = slots.acquire().await;
        assert_eq!(slots.busy(), 2);
        assert!(slots.full_for().is_some());
        drop(first);
        assert_eq!((slots.busy(), slots.full_for()), (1, None));
        drop(second);
        assert_eq!(slots.busy(), 0);
    }
}
