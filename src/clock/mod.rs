//! Business time: calendars and durations as the configuration states them, the timeline
//! kernel that measures open time between instants, and each ticket's clocks and SLA outcomes
//! (`tickets`). No I/O; the one place where correctness is subtle (DST, holidays, pauses).

pub mod calendar;
pub mod duration;
pub mod tickets;
pub mod timeline;
