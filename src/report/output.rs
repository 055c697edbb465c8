//! Standard output for the CLI: per-file text printed in the order of discovery as soon as
//! every earlier file is done (so a long run shows results while a slow file is still being
//! analysed, and the output is the same whatever the thread count), and a reader that closes
//! the pipe early (`unblock check | head`) ends the output quietly instead of a panic.
//! Coloured output goes through anstream (Windows consoles).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);
static COLORED: AtomicBool = AtomicBool::new(false);

/// Says that what is written from now on is coloured: it goes through anstream, which turns
/// the ANSI codes into console calls where a Windows console needs them.
pub fn set_colored(on: bool) {
    COLORED.store(on, Ordering::Relaxed);
}

/// Writes `bytes` to standard output; after the reader has gone, writes nothing.
pub fn write(bytes: &[u8]) -> std::io::Result<()> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let lock = std::io::stdout().lock();
    let mut out: Box<dyn Write> = if COLORED.load(Ordering::Relaxed) {
        Box::new(anstream::AutoStream::always(lock))
    } else {
        Box::new(lock)
    };
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        other => other,
    }
}

/// Per-file text that arrives in any order, printed in index order.
pub struct Ordered {
    state: Mutex<(usize, BTreeMap<usize, Vec<u8>>)>,
}

impl Default for Ordered {
    fn default() -> Self {
        Self::new()
    }
}

impl Ordered {
    pub fn new() -> Ordered {
        Ordered {
            state: Mutex::new((0, BTreeMap::new())),
        }
    }

    /// Takes the text of file `index` and prints every text whose turn has come, through
    /// `print` (which may, e.g., hide a progress bar meanwhile).
    pub fn arrive(&self, index: usize, text: Vec<u8>, print: &dyn Fn(&[u8])) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let (next, waiting) = &mut *state;
        waiting.insert(index, text);
        while let Some(ready) = waiting.remove(next) {
            if !ready.is_empty() {
                print(&ready);
            }
            *next += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn texts_come_out_in_index_order_as_soon_as_their_turn_comes() {
        let ordered = Ordered::new();
        let printed = RefCell::new(Vec::new());
        let print = |t: &[u8]| {
            printed
                .borrow_mut()
                .push(String::from_utf8_lossy(t).into_owned())
        };
        ordered.arrive(2, b"c".to_vec(), &print);
        ordered.arrive(1, b"b".to_vec(), &print);
        assert!(printed.borrow().is_empty(), "file 0 is not done yet");
        ordered.arrive(0, b"a".to_vec(), &print);
        assert_eq!(*printed.borrow(), ["a", "b", "c"]);
        ordered.arrive(4, b"e".to_vec(), &print);
        ordered.arrive(3, Vec::new(), &print);
        assert_eq!(*printed.borrow(), ["a", "b", "c", "e"]);
    }
}
