//! Times PutEvents' usual routing: 100 rules of one source and a customer each, matched by
//! events as the wire benchmark's EventBridge workload writes them (benches/wire_cases.py):
//! `cargo run --release --example bus_hundred`.
use std::time::Instant;

use rulebus_core::machine::Machine;

fn main() {
    let mut machine = Machine::new();
    for i in 0..100 {
        let pattern = format!(r#"{{"source": ["com.shop"], "detail": {{"customer": ["c-{i}"]}}}}"#);
        machine.add_pattern(&format!("r{i}"), pattern.as_bytes()).expect("valid");
    }
    machine.prepare();
    let events: Vec<String> = (0..100)
        .map(|k| {
            format!(
                r#"{{"version":"0","id":"ea2fc3d1-1f28-40ec-82a4-0000000000{k:02}","detail-type":"Order Placed","source":"com.shop","account":"000000000000","time":"2026-12-07T19:00:00Z","region":"us-east-1","resources":[],"detail":{{"customer":"c-{k}","orderId":"o-{k}","amount":{k}}}}}"#
            )
        })
        .collect();
    let mut out = Vec::new();
    let mut matched = 0;
    let rounds: u32 = std::env::args().nth(1).map_or(20_000, |s| s.parse().expect("a count"));
    let start = Instant::now();
    for _ in 0..rounds {
        for event in &events {
            out.clear();
            machine.matches_slots(event.as_bytes(), &mut out).expect("valid event");
            matched += out.len();
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let n = f64::from(rounds) * events.len() as f64;
    println!("{:.0} ns per event, {:.2} matches per event", seconds * 1e9 / n, matched as f64 / n);
}
