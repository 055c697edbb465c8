//! The progress bar of long runs: on standard error, only when it is a terminal and not `-q`,
//! and only once the run has taken about a second (a short run never flashes one).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes before its progress bar appears.
pub const DELAY: Duration = Duration::from_secs(1);

/// A progress bar that stays hidden until [`DELAY`] has passed.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    /// Whether the bar may be shown at all (a terminal, not quiet, more than one file).
    wanted: bool,
    shown: AtomicBool,
}

impl Progress {
    pub fn new(len: usize, wanted: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files") {
            bar.set_style(style);
        }
        Progress {
            bar,
            started: Instant::now(),
            wanted,
            shown: AtomicBool::new(false),
        }
    }

    /// Counts `n` more files done; shows the bar once the run is past [`DELAY`].
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
        if self.wanted
            && !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() >= DELAY
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Runs `f` with the bar hidden (to print beside it).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
    }

    /// Whether the bar has been shown.
    pub fn is_shown(&self) -> bool {
        self.shown.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_waits_for_the_delay_and_for_being_wanted() {
        let quick = Progress::new(3, true);
        quick.inc(1);
        assert!(!quick.is_shown(), "a run under a second shows nothing");
        let unwanted = Progress::new(3, false);
        std::thread::sleep(DELAY);
        unwanted.inc(1);
        assert!(!unwanted.is_shown());
        quick.inc(1);
        assert!(quick.is_shown());
        quick.finish_and_clear();
    }
}
