//! Integration tests: deskpulse run as a user runs it, on real files.
mod suite;
