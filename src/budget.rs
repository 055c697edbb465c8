//! The time budget of one file: a deadline set for the thread while the file is processed,
//! and cheap checks (`tick`) in every loop whose cost grows with the file, so that no shape of
//! input (a huge module, a deep expression, a long chain) can stall a run. Running out unwinds
//! to [`run`], which reports it; the parser is cancelled through its progress callback.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Instant;

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    static TICKS: Cell<u32> = const { Cell::new(0) };
}

/// The unwinding payload when a file's time runs out.
#[derive(Debug)]
pub struct OverBudget;

/// Runs `work` with a deadline for this thread (`None`: no limit); `Err` when it ran out.
/// A panic of `work` for another reason goes on unwinding.
pub fn run<R>(deadline: Option<Instant>, work: impl FnOnce() -> R) -> Result<R, OverBudget> {
    let outer = DEADLINE.replace(deadline);
    let result = catch_unwind(AssertUnwindSafe(work));
    DEADLINE.set(outer);
    match result {
        Ok(value) => Ok(value),
        Err(payload) if payload.is::<OverBudget>() => Err(OverBudget),
        Err(payload) => resume_unwind(payload),
    }
}

/// Whether this thread's deadline has passed.
pub fn expired() -> bool {
    DEADLINE.get().is_some_and(|end| Instant::now() >= end)
}

/// Stops the work when the deadline has passed: checks the clock now.
pub fn check() {
    if expired() {
        // Not a panic: no message is printed, and `run` turns it into an error.
        resume_unwind(Box::new(OverBudget));
    }
}

/// A step of a loop that grows with the input: checks the clock every 1,024th step.
#[inline]
pub fn tick() {
    let n = TICKS.get().wrapping_add(1);
    TICKS.set(n);
    if n.is_multiple_of(1024) {
        check();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_stops_the_work_and_is_reported() {
        let past = Some(Instant::now());
        let steps = Cell::new(0u32);
        let outcome = run(past, || {
            while steps.get() < 10_000 {
                steps.set(steps.get() + 1);
                tick();
            }
        });
        assert!(
            outcome.is_err(),
            "ran {} steps past the deadline",
            steps.get()
        );
        assert!(steps.get() <= 1024, "stopped at the first clock check");
        assert!(!expired(), "the deadline is the caller's again");
        assert_eq!(run(None, || 7).ok(), Some(7));
    }

    #[test]
    fn other_panics_go_on_unwinding() {
        let caught = std::panic::catch_unwind(|| run(None, || panic!("a bug")));
        assert!(caught.is_err());
    }
}
