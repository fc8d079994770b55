//! Times a machine of rules over every line of a JSON Lines file, as `RuleSet.matches_many`
//! runs it without Python: `cargo run --release --example scan_lines -- FILE RULES [ROUNDS]`,
//! RULES a file holding a JSON list of patterns. Prints the best round in events/s and MB/s and
//! the matches counted, for profiling the scan under `perf` or `valgrind`.
use std::time::Instant;

use rulebus_core::machine::Machine;

fn main() {
    let path = std::env::args().nth(1).expect("a JSON Lines file");
    let rules = std::env::args().nth(2).expect("a file of patterns, one JSON list");
    let rounds: usize = std::env::args().nth(3).map_or(5, |s| s.parse().expect("a count"));
    let raw = std::fs::read(path).expect("a readable file");
    let lines: Vec<&[u8]> = raw.split(|&b| b == b'\n').filter(|l| l.first() == Some(&b'{')).collect();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    let patterns: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(rules).expect("a readable rules file")).expect("a JSON list");
    let mut machine = Machine::new();
    for (k, pattern) in patterns.iter().enumerate() {
        machine.add_pattern(&format!("r{k}"), pattern.to_string().as_bytes()).expect("a valid pattern");
    }
    machine.prepare();
    let mut best = f64::INFINITY;
    let mut matched = 0usize;
    let mut slots = Vec::new();
    for _ in 0..rounds {
        matched = 0;
        let start = Instant::now();
        for line in &lines {
            slots.clear();
            machine.matches_slots(std::hint::black_box(line), &mut slots).expect("a valid event");
            matched += slots.len();
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let events = lines.len() as f64;
    println!(
        "{} events, {matched} matches: {:.0} events/s, {:.0} MB/s (best of {rounds})",
        lines.len(),
        events / best,
        bytes as f64 / best / 1e6
    );
}
