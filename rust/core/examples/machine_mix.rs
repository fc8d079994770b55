//! Times a machine of mixed rules: `cargo run --release --example machine_mix`.
use std::time::Instant;

use rulebus_core::machine::Machine;

fn main() {
    let mut machine = Machine::new();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for i in 0..5000 {
        let v = next(500);
        let pattern = match i % 8 {
            0 => format!(r#"{{"source": ["src-{v}"], "detail": {{"kind": ["k{}"]}}}}"#, v % 7),
            1 => format!(r#"{{"detail": {{"name": [{{"prefix": "n{v}-"}}]}}}}"#),
            2 => format!(r#"{{"detail": {{"name": [{{"suffix": "-{v}"}}]}}}}"#),
            3 => format!(
                r#"{{"detail": {{"amount": [{{"numeric": [">", {v}, "<=", {}]}}]}}, "source": ["src-{}"]}}"#,
                v + 5,
                v % 50
            ),
            4 => format!(r#"{{"detail": {{"tier": [{{"equals-ignore-case": "T{v}"}}]}}}}"#),
            5 => format!(r#"{{"detail": {{"name": [{{"wildcard": "n{v}*x"}}]}}}}"#),
            6 => format!(r#"{{"source": ["src-{v}"], "detail": {{"kind": [{{"anything-but": ["k{}"]}}]}}}}"#, v % 7),
            _ => format!(r#"{{"detail": {{"items": {{"sku": ["s{v}"], "qty": [{}]}}}}}}"#, v % 4),
        };
        machine.add_pattern(&format!("r{i}"), pattern.as_bytes()).expect("valid");
    }
    machine.prepare();
    let events: Vec<String> = (0..1000)
        .map(|_| {
            let v = next(500);
            format!(
                r#"{{"source": "src-{}", "detail": {{"kind": "k{}", "name": "n{v}-{}x", "amount": {}, "tier": "t{v}", "items": [{{"sku": "s{v}", "qty": {}}}, {{"sku": "s{}", "qty": 1}}]}}}}"#,
                next(500), next(7), next(500), next(520), next(4), next(500)
            )
        })
        .collect();
    let mut out = Vec::new();
    let mut matched = 0;
    let rounds = 200;
    let start = Instant::now();
    for _ in 0..rounds {
        for event in &events {
            out.clear();
            machine.matches_slots(event.as_bytes(), &mut out).expect("valid event");
            matched += out.len();
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let n = (rounds * events.len()) as f64;
    println!("{:.0} ns per event, {:.2} matches per event", seconds * 1e9 / n, matched as f64 / n);
}
