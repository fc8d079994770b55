//! Times a machine of many numeric ranges over citylots events:
//! `cargo run --release --example many_ranges -- EVENTS.jsonl RULES`.
use std::io::BufRead;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a JSON Lines file of events");
    let rules: usize = args.next().map_or(10_000, |s| s.parse().expect("a rule count"));
    let events: Vec<Vec<u8>> = std::io::BufReader::new(std::fs::File::open(path).expect("readable"))
        .split(b'\n')
        .map(|l| l.expect("a line"))
        .take(60_000)
        .collect();
    let mut machine = rulebus_core::machine::Machine::new();
    let mut seed = 1u64;
    let mut random = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    for i in 0..rules {
        let low = -122.52 + random() * 0.16;
        let high = low + random() * 0.01;
        let pattern =
            format!(r#"{{"geometry": {{"firstCoordinates": {{"x": [{{"numeric": [">", {low}, "<=", {high}]}}]}}}}}}"#);
        machine.add_pattern(&format!("r{i}"), pattern.as_bytes()).expect("valid");
    }
    machine.prepare();
    let mut out = Vec::new();
    let start = Instant::now();
    let mut matched = 0;
    for event in &events {
        out.clear();
        machine.matches_slots(event, &mut out).expect("valid event");
        matched += out.len();
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{rules} ranges: {:.0} events/s, {:.1} matches per event",
        events.len() as f64 / seconds,
        matched as f64 / events.len() as f64
    );
}
