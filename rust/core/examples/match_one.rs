//! Times one pattern against one event: `cargo run --release --example match_one -- EVENT_FILE`.
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("an event file");
    let event = std::fs::read(path).expect("readable event");
    let text = std::env::args()
        .nth(3)
        .unwrap_or_else(|| r#"{"source": ["aws.ec2"], "detail": {"state": ["terminated"]}}"#.to_owned());
    let pattern = rulebus_core::Pattern::new(text.as_bytes()).unwrap();
    let _ = pattern.matches(&event).unwrap();
    let n: u32 = std::env::args().nth(2).map_or(1_000_000, |s| s.parse().expect("a count"));
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(pattern.matches(std::hint::black_box(&event)).unwrap());
    }
    let elapsed = start.elapsed();
    println!("{:.0} ns per match", elapsed.as_nanos() as f64 / f64::from(n));
}
