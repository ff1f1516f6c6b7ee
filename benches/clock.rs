//! Throughput of the business-clock kernel: a million generated tickets on an office calendar
//! in Europe/Amsterdam (DST and holidays included), each with up to two pauses. Measures the
//! business time from creation to resolution net of pauses, and the SLA breach instant.
//!
//!     cargo bench --bench clock

use std::collections::BTreeMap;

use deskpulse::clock::calendar::{CalendarSpec, parse_calendar};
use deskpulse::clock::timeline::{Interval, MINUTE, Timeline};

const TICKETS: usize = 1_000_000;
/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000_000;
const YEAR: i64 = 365 * 24 * 60 * MINUTE;

fn main() {
    divan::main();
}

struct Ticket {
    created: i64,
    resolved: i64,
    pauses: Vec<Interval>,
}

/// A fixed pseudo-random sequence (xorshift), so every run measures the same tickets.
fn tickets() -> Vec<Ticket> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..TICKETS)
        .map(|_| {
            let created = T0 + (next() % YEAR as u64) as i64;
            // Mostly hours, sometimes weeks.
            let minutes = [30, 240, 1_440, 4_320, 20_160][(next() % 5) as usize];
            let resolved = created + (next() % minutes as u64 + 1) as i64 * MINUTE;
            let mut pauses = Vec::new();
            let mut at = created;
            for _ in 0..(next() % 3) {
                let start = at + ((next() % 600) as i64 + 1) * MINUTE;
                let end = start + ((next() % 900) as i64 + 1) * MINUTE;
                if end >= resolved {
                    break;
                }
                pauses.push((start, end));
                at = end;
            }
            Ticket {
                created,
                resolved,
                pauses,
            }
        })
        .collect()
}

fn office() -> CalendarSpec {
    let hours: BTreeMap<String, String> = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| (d.to_string(), "08:00-12:00,13:00-18:00".to_string()))
        .collect();
    let holidays: Vec<String> = [
        "2026-01-01",
        "2026-04-06",
        "2026-04-27",
        "2026-05-14",
        "2026-12-24..2026-12-31",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    parse_calendar("office", chrono_tz::Europe::Amsterdam, &hours, &holidays)
        .expect("valid calendar")
}

#[divan::bench(sample_count = 10)]
fn business_time_net_of_pauses(bencher: divan::Bencher) {
    let tickets = tickets();
    let timeline = Timeline::new(&office(), T0 - YEAR, T0 + 2 * YEAR);
    bencher
        .counter(divan::counter::ItemsCount::new(TICKETS))
        .bench_local(|| {
            tickets
                .iter()
                .map(|t| timeline.open_between_net(t.created, t.resolved, &t.pauses))
                .sum::<i64>()
        });
}

#[divan::bench(sample_count = 10)]
fn breach_instant_of_a_24_hour_target(bencher: divan::Bencher) {
    let tickets = tickets();
    let timeline = Timeline::new(&office(), T0 - YEAR, T0 + 2 * YEAR);
    bencher
        .counter(divan::counter::ItemsCount::new(TICKETS))
        .bench_local(|| {
            tickets
                .iter()
                .filter_map(|t| timeline.deadline(t.created, 24 * 60 * MINUTE, &t.pauses))
                .max()
        });
}

#[divan::bench(sample_count = 10)]
fn laying_out_a_year_of_office_hours(bencher: divan::Bencher) {
    let calendar = office();
    bencher.bench_local(|| Timeline::new(&calendar, T0, T0 + YEAR));
}
