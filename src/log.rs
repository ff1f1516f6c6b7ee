//! Messages for people on stderr: `-q` keeps errors only, `-v` adds what each stage did and how
//! long it took. On a terminal, a spinner names the running stage; piped or in CI, nothing moves.
//!
//! The spinner is not a byte bar: exports are memory-mapped and parsed by Polars in one call, so
//! there is no position in the file to report honestly.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static SPINNER: Mutex<Option<ProgressBar>> = Mutex::new(None);

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
        say(&format!("deskpulse: {message}"));
    }
}

/// A note for `-v` only.
pub fn detail(message: &str) {
    if level() >= 2 {
        say(&format!("deskpulse: {message}"));
    }
}

/// A line on stderr that does not tear through the spinner, its control characters shown.
pub fn say(line: &str) {
    let line = printable(line);
    let spinner = SPINNER.lock().ok().and_then(|s| s.clone());
    match spinner {
        Some(bar) => bar.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

/// Text from a file or a configuration as a terminal may show it: control characters (an
/// escape sequence in a title or a column name would drive the terminal) written as `\u{1b}`.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let shown = |c: char| !c.is_control() || c == '\n' || c == '\t';
    if text.chars().all(shown) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if shown(c) {
            out.push(c);
        } else {
            out.extend(c.escape_unicode());
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Shows `activity` on the spinner, started on first use; only at the normal level on a terminal.
fn show(activity: &str) {
    if level() != 1 {
        return;
    }
    let Ok(mut slot) = SPINNER.lock() else {
        return;
    };
    if slot.is_none() {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>3} {msg}")
                .expect("the template is valid"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        *slot = Some(bar);
    }
    if let Some(bar) = slot.as_ref() {
        bar.set_message(activity.to_string());
    }
}

/// Removes the spinner, before the run's closing lines or its error.
pub fn done() {
    if let Ok(mut slot) = SPINNER.lock()
        && let Some(bar) = slot.take()
    {
        bar.finish_and_clear();
    }
}

/// Times a stage; said on drop at `-v`.
pub struct Stage {
    name: String,
    start: Instant,
}

pub fn stage(name: impl Into<String>) -> Stage {
    let name = name.into();
    show(&name);
    Stage {
        name,
        start: Instant::now(),
    }
}

/// A stage on a helper thread: timed at `-v`, but the spinner keeps naming the main thread's.
pub fn background_stage(name: impl Into<String>) -> Stage {
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

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_never_reach_the_terminal() {
        // regression: an escape sequence in a report title or an export's header was printed
        assert_eq!(printable("\u{1b}[2J title"), "\\u{1b}[2J title");
        assert_eq!(printable("a\rb\u{7}"), "a\\u{d}b\\u{7}");
        assert_eq!(
            printable("two\nlines\tand tabs, ünïcode"),
            "two\nlines\tand tabs, ünïcode"
        );
    }
}
