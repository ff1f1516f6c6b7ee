//! Messages for people on stderr: `-q` keeps errors only, `-v` adds what each stage did and how
//! long it took.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

static LEVEL: AtomicU8 = AtomicU8::new(1);

/// 0: errors only, 1: notes, 2: stages with timings.
pub fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

pub fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

/// A note a user should see unless they asked for quiet.
pub fn note(message: &str) {
    if level() >= 1 {
        eprintln!("deskpulse: {message}");
    }
}

/// Times a stage; said on drop at `-v`.
pub struct Stage {
    name: String,
    start: Instant,
}

pub fn stage(name: impl Into<String>) -> Stage {
    Stage {
        name: name.into(),
        start: Instant::now(),
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if level() >= 2 {
            eprintln!(
                "deskpulse: [{:>8.1} ms] {}",
                self.start.elapsed().as_secs_f64() * 1e3,
                self.name
            );
        }
    }
}
