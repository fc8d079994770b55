//! Times the skippers over one event, whole and from each of its values:
//! `cargo run --release --example skip_one -- EVENT_FILE`. Prints the best of 200 loops in ns per
//! pass, as these shared machines are noisy.
use std::hint::black_box;
use std::time::Instant;

use rulebus_core::{simd, skip, structural};

fn best(name: &str, mut f: impl FnMut()) {
    let n = 20_000u32;
    let mut best = f64::INFINITY;
    for _ in 0..200 {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(start.elapsed().as_nanos() as f64 / f64::from(n));
    }
    println!("{best:9.1} ns  {name}");
}

fn main() {
    let path = std::env::args().nth(1).expect("an event file");
    let event = std::fs::read(path).expect("a readable file");
    assert_eq!(skip::value(&event, 0, 0), Some(event.len()), "the file holds one JSON value");
    best("skip::value (the scanner's choice)", || {
        black_box(skip::value(black_box(&event), 0, 0));
    });
    best("byte-wise, records by layout", || {
        black_box(skip::value_compact(black_box(&event), 0, 0));
    });
    for level in simd::levels() {
        best(&format!("structural, {level:?}"), || {
            black_box(structural::container_at(level, black_box(&event), 0, 0));
        });
    }
    let pattern = rulebus_core::Pattern::new(br#"{"no such key": ["x"]}"#).expect("a valid pattern");
    best("Pattern::matches naming no key of the event", || {
        black_box(pattern.matches(black_box(&event)).expect("a valid event"));
    });
    best("Pattern::matches on {}", || {
        black_box(pattern.matches(black_box(b"{}")).expect("a valid event"));
    });
}
