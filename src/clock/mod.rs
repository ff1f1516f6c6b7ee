//! Business time: calendars and durations as the configuration states them, and the timeline
//! kernel that measures open time between instants. Pure functions, no I/O; the one place where
//! correctness is subtle (DST, holidays, pauses).

pub mod calendar;
pub mod duration;
pub mod timeline;
