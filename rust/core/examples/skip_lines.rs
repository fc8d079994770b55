//! Times the skippers over every line of a JSON Lines file whose lines are objects, beside a bare
//! count of its quotes: `cargo run --release --example skip_lines -- FILE [ROUNDS [ONLY]]`. Prints
//! the best of the rounds in MB/s, as these shared machines are noisy. ONLY (a row's number) runs
//! that row alone, for counting instructions and branch misses under `valgrind --tool=cachegrind`.
use std::time::Instant;

use rulebus_core::{simd, skip, structural};

fn main() {
    let path = std::env::args().nth(1).expect("a JSON Lines file");
    let rounds: usize = std::env::args().nth(2).map_or(15, |s| s.parse().expect("a count"));
    let raw = std::fs::read(path).expect("a readable file");
    let lines: Vec<&[u8]> = raw.split(|&b| b == b'\n').filter(|l| l.first() == Some(&b'{')).collect();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    let mut names = vec![
        "quotes counted (memchr)".to_owned(),
        "byte-wise skipper".to_owned(),
        "skip::value (the scanner's choice)".to_owned(),
        "byte-wise, records by layout".to_owned(),
    ];
    names.extend(simd::levels().iter().map(|level| format!("structural skipper, {level:?}")));
    let only: Option<usize> = std::env::args().nth(3).map(|s| s.parse().expect("a row number"));
    let mut best = vec![0f64; names.len()];
    let mut total = 0usize;
    for _ in 0..rounds {
        let mut time = |k: usize, f: &dyn Fn(&[u8]) -> usize| {
            if only.is_some_and(|only| only != k) {
                return;
            }
            let start = Instant::now();
            for line in &lines {
                total += f(std::hint::black_box(line));
            }
            best[k] = best[k].max(bytes as f64 / start.elapsed().as_secs_f64() / 1e6);
        };
        time(0, &|l| memchr::memchr_iter(b'"', l).count());
        time(1, &|l| skip::value_scalar(l, 0, 0).expect("valid JSON"));
        time(2, &|l| skip::value(l, 0, 0).expect("valid JSON"));
        time(3, &|l| skip::value_compact(l, 0, 0).expect("valid JSON"));
        let levels = simd::levels();
        for (k, &level) in levels.iter().enumerate() {
            time(4 + k, &|l| structural::container_at(level, l, 0, 0).expect("valid JSON"));
        }
    }
    println!("{} lines, {bytes} bytes, best of {rounds} rounds ({total})", lines.len());
    for (name, rate) in names.iter().zip(best) {
        println!("{name:>32}: {rate:>6.0} MB/s");
    }
}
