//! Evaluation budgets: a bound on the work and the memory one evaluation may take, and a way
//! to cancel it from another thread.
//!
//! celador patch (see `vendor/README.md` in the celador repository): cel 0.15 evaluates an
//! expression to the end, however long it takes, so a comprehension over a comprehension, or
//! `lists.range(1000000).map(i, lists.range(1000000))`, runs for hours or exhausts memory.
//!
//! [`Budget::run`] installs a budget on the current thread for the duration of a closure. The
//! interpreter then charges:
//!
//! * one step per expression node evaluated (so every comprehension iteration costs the nodes
//!   of its body), and, for an operation whose work grows with its operands (`+`, `in`, `==`,
//!   a function call), one step per element, or per [`ELEMENT_BYTES`] bytes, of its operands;
//! * the bytes of every list, map or string an operation builds (an element is counted as
//!   [`ELEMENT_BYTES`]), cumulatively: memory freed during the evaluation is not refunded, so
//!   the count bounds the peak.
//!
//! Past either limit, or once the cancellation flag is set or the deadline has passed, the
//! evaluation stops with [`ExecutionError::BudgetExceeded`]. The flag and the clock are read
//! every [`CHECK_EVERY`] steps, so a cancelled evaluation stops within microseconds. Without a
//! budget installed, charging costs a thread-local read and never fails.

use crate::common::types::{CelBytes, CelString};
use crate::common::value::Val;
use crate::ExecutionError;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The bytes an element of a list or an entry of a map is counted as: a boxed value and the
/// value it points to, for the scalars lists are mostly made of.
pub const ELEMENT_BYTES: u64 = 32;

/// Steps taken between two looks at the cancellation flag and the clock.
pub const CHECK_EVERY: u64 = 4096;

/// What an evaluation may use.
#[derive(Clone, Debug)]
pub struct Budget {
    /// The most steps.
    pub steps: u64,
    /// The most bytes of lists, maps and strings built.
    pub bytes: u64,
    /// Set from anywhere to stop the evaluation.
    pub cancel: Option<Arc<AtomicBool>>,
    /// The evaluation stops once this instant has passed.
    pub deadline: Option<Instant>,
}

/// Which limit an evaluation hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    /// More steps than [`Budget::steps`].
    #[error("it took more than {0} evaluation steps")]
    Steps(u64),
    /// More bytes than [`Budget::bytes`].
    #[error("it built more than {0} bytes of lists, maps and strings")]
    Bytes(u64),
    /// The cancellation flag was set.
    #[error("it was cancelled")]
    Cancelled,
    /// The deadline passed.
    #[error("it ran past its deadline")]
    Deadline,
}

/// What an evaluation used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Steps taken.
    pub steps: u64,
    /// Bytes of lists, maps and strings built.
    pub bytes: u64,
    /// The limit that stopped it, if one did (even if the error it raised was then caught,
    /// as `||` and `&&` do with an error on one side).
    pub exceeded: Option<Exceeded>,
}

/// The budget installed on a thread, and what is left of it.
struct Meter {
    /// Steps that may be taken before the next look at the limits: the fast path.
    fuel: Cell<u64>,
    /// Steps left beyond `fuel`.
    reserve: Cell<u64>,
    /// Bytes left.
    bytes: Cell<u64>,
    /// The installed budget; `None` when there is none.
    budget: RefCell<Option<Budget>>,
    /// The first limit hit.
    exceeded: Cell<Option<Exceeded>>,
}

thread_local! {
    static METER: Meter = const {
        Meter {
            fuel: Cell::new(u64::MAX),
            reserve: Cell::new(0),
            bytes: Cell::new(u64::MAX),
            budget: RefCell::new(None),
            exceeded: Cell::new(None),
        }
    };
}

/// Restores the meter of the enclosing budget, if any, when a [`Budget::run`] ends (also by
/// unwinding).
struct Restore {
    saved: Option<(u64, u64, u64, Option<Budget>, Option<Exceeded>)>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some((fuel, reserve, bytes, budget, exceeded)) = self.saved.take() {
            METER.with(|m| {
                m.fuel.set(fuel);
                m.reserve.set(reserve);
                m.bytes.set(bytes);
                *m.budget.borrow_mut() = budget;
                m.exceeded.set(exceeded);
            });
        }
    }
}

impl Budget {
    /// A budget of `steps` steps and `bytes` bytes, never cancelled.
    pub fn new(steps: u64, bytes: u64) -> Self {
        Self {
            steps,
            bytes,
            cancel: None,
            deadline: None,
        }
    }

    /// Runs `f` under this budget, on this thread, and says what it used. A budget installed
    /// around this one is suspended meanwhile.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> (R, Usage) {
        let first = self.steps.min(CHECK_EVERY);
        let saved = METER.with(|m| {
            (
                m.fuel.replace(first),
                m.reserve.replace(self.steps - first),
                m.bytes.replace(self.bytes),
                m.budget.replace(Some(self.clone())),
                m.exceeded.replace(None),
            )
        });
        let restore = Restore { saved: Some(saved) };
        let result = f();
        let usage = METER.with(|m| Usage {
            steps: self.steps - (m.fuel.get() + m.reserve.get()).min(self.steps),
            bytes: self.bytes - m.bytes.get().min(self.bytes),
            exceeded: m.exceeded.get(),
        });
        drop(restore);
        (result, usage)
    }

    /// Whether the cancellation flag is set or the deadline has passed.
    fn stop(&self) -> Option<Exceeded> {
        if self.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Some(Exceeded::Cancelled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(Exceeded::Deadline);
        }
        None
    }
}

/// Charges `steps` steps to the budget of this thread.
#[inline]
pub fn charge(steps: u64) -> Result<(), ExecutionError> {
    METER.with(|m| {
        let fuel = m.fuel.get();
        if fuel >= steps {
            m.fuel.set(fuel - steps);
            Ok(())
        } else {
            refuel(m, steps)
        }
    })
}

/// The slow path of [`charge`]: looks at the limits, then hands out the next [`CHECK_EVERY`]
/// steps.
#[cold]
fn refuel(m: &Meter, steps: u64) -> Result<(), ExecutionError> {
    let budget = m.budget.borrow();
    let Some(budget) = budget.as_ref() else {
        m.fuel.set(u64::MAX);
        return Ok(());
    };
    if let Some(limit) = m.exceeded.get() {
        return Err(ExecutionError::BudgetExceeded(limit));
    }
    let left = m.fuel.get() + m.reserve.get();
    if left < steps {
        m.reserve.set(0);
        return Err(exceeded(m, Exceeded::Steps(budget.steps)));
    }
    if let Some(stop) = budget.stop() {
        return Err(exceeded(m, stop));
    }
    let left = left - steps;
    let fuel = left.min(CHECK_EVERY);
    m.fuel.set(fuel);
    m.reserve.set(left - fuel);
    Ok(())
}

/// Records the first limit hit, and returns the error for it. Every later charge fails with
/// the same error: comprehensions (`all`, `exists`) and `||`, `&&` carry on past an error in
/// one element or operand, and must not carry on spending.
fn exceeded(m: &Meter, limit: Exceeded) -> ExecutionError {
    let first = *m.exceeded.get().get_or_insert(limit);
    m.exceeded.set(Some(first));
    m.fuel.set(0);
    ExecutionError::BudgetExceeded(first)
}

/// Charges `bytes` bytes built (and a step per [`ELEMENT_BYTES`] of them: building takes time
/// too) to the budget of this thread.
#[inline]
pub fn allocate(bytes: u64) -> Result<(), ExecutionError> {
    METER.with(|m| {
        let left = m.bytes.get();
        if left >= bytes {
            m.bytes.set(left - bytes);
            Ok(())
        } else {
            let limit = m.budget.borrow().as_ref().map(|b| b.bytes);
            match limit {
                Some(limit) => {
                    m.bytes.set(0);
                    Err(exceeded(m, Exceeded::Bytes(limit)))
                }
                None => {
                    m.bytes.set(u64::MAX);
                    Ok(())
                }
            }
        }
    })?;
    charge(bytes / ELEMENT_BYTES)
}

/// The steps of reading `val` once: a step per [`ELEMENT_BYTES`] bytes of a string or bytes,
/// per element or entry of a list or a map (not theirs: nested collections are counted when
/// they are built), 1 for anything else.
pub fn size_of(val: &dyn Val) -> u64 {
    if let Some(s) = val.downcast_ref::<CelString>() {
        return s.inner().len() as u64 / ELEMENT_BYTES + 1;
    }
    if let Some(b) = val.downcast_ref::<CelBytes>() {
        return b.inner().len() as u64 / ELEMENT_BYTES + 1;
    }
    match val.as_sizer() {
        Some(sizer) => u64::try_from(*sizer.size().inner()).unwrap_or(0).max(1),
        None => 1,
    }
}

/// The bytes `val` is counted as when an operation builds it: its length for a string or
/// bytes, [`ELEMENT_BYTES`] per element or entry of a list or a map, nothing for a scalar (the
/// node that computed it was charged a step).
pub fn bytes_of(val: &dyn Val) -> u64 {
    if let Some(s) = val.downcast_ref::<CelString>() {
        return s.inner().len() as u64;
    }
    if let Some(b) = val.downcast_ref::<CelBytes>() {
        return b.inner().len() as u64;
    }
    match val.as_sizer() {
        Some(sizer) => u64::try_from(*sizer.size().inner())
            .unwrap_or(0)
            .saturating_mul(ELEMENT_BYTES),
        None => 0,
    }
}

/// Charges reading each of `vals` once ([`size_of`]).
pub fn charge_reading<'a>(vals: impl IntoIterator<Item = &'a dyn Val>) -> Result<(), ExecutionError> {
    let steps = vals.into_iter().map(size_of).fold(0u64, u64::saturating_add);
    charge(steps)
}
