//! The structural skipper: steps over one JSON object or array that no pattern wants, 64 bytes
//! at a time, checking the whole grammar as `skip::value` does.
//!
//! Its first stage is simdjson's: each block is classified in bulk (`simd::classify`), escaped
//! characters are found from the runs of backslashes (an odd run escapes the byte after it,
//! carried across blocks), and the bytes inside strings from the prefix XOR of the unescaped
//! quotes. What is left outside strings is a few tokens per block: structural characters,
//! opening quotes and the first byte of each number or literal. The second stage walks only
//! those, with the grammar's state and the open containers, so whitespace and string content
//! cost nothing byte by byte. String content is still checked in bulk (no control character;
//! each escape one of JSON's), plain numbers (`-12.5`) from the block's digit mask, and other
//! numbers and literals by `skip`'s own readers.
//!
//! It answers exactly as `skip::value` does on every input (property tests hold them together):
//! the end of a valid value, or `None`, after which the careful lexer words the error.

use crate::event::BitStack;
use crate::json::MAX_DEPTH;
use crate::simd::{self, Level};
use crate::skip;

/// Where the grammar stands between two tokens.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// A value (after `:` or after `,` in an array).
    Value,
    /// A value or `]` (just after `[`).
    ValueOrClose,
    /// A key or `}` (just after `{`).
    KeyOrClose,
    /// A key (after `,` in an object).
    Key,
    /// The `:` after a key.
    Colon,
    /// `,` or the container's closing bracket.
    CommaOrClose,
}

/// The state carried from one block to the next.
#[derive(Default)]
struct Carry {
    /// The first byte of the next block is escaped (the block ended on an odd run of backslashes).
    escaped: bool,
    /// The next block starts inside a string: all ones, or zero.
    in_string: u64,
    /// The block ended inside a number or literal.
    scalar: bool,
}

/// The offset just past the object or array whose opening bracket is at `i`, or `None` if the
/// text there is not one valid JSON value or nests deeper than `MAX_DEPTH` (counting `depth`
/// levels already open). The same answer as `skip::value(b, i, depth)`.
#[inline]
pub fn container(b: &[u8], i: usize, depth: usize) -> Option<usize> {
    match simd::level() {
        // Classifying a byte at a time costs more than it saves: the byte-wise skipper is faster.
        Level::Portable => skip::value_compact(b, i, depth),
        level if spaced(level, b, i) => container_at(level, b, i, depth),
        // Compact JSON has a token every three or four bytes, and the byte-wise skipper walks
        // those with fewer instructions and branch misses (measured: benches/RESULTS.md); it
        // skips repeated records by their layout (skip::shape).
        _ => skip::value_compact(b, i, depth),
    }
}

/// Whether the 64 bytes from `i` hold as much whitespace as indented JSON does (a sixth of them
/// or more; `json.dumps`'s `", "` and `": "` make about a tenth): text where skipping whole
/// blocks pays. A value that starts less than 64 bytes from the input's end is short, and a
/// short value is skipped faster byte by byte however it is spaced (measured: a 23-byte array
/// took 17 ns byte-wise and 38 ns structurally, and deciding by classifying its padded block
/// cost another 20).
#[inline]
fn spaced(level: Level, b: &[u8], i: usize) -> bool {
    let blanks = match simd::blanks64(b, i) {
        Some(blanks) => blanks,
        // No vector instructions to count with: the classifier counts.
        None => match b.get(i..i + 64) {
            Some(window) => simd::classify(level, window.try_into().expect("64 bytes")).whitespace.count_ones(),
            None => return false,
        },
    };
    blanks >= 11
}

/// `container` with the classifier at `level` (one this processor runs).
pub fn container_at(level: Level, b: &[u8], start: usize, depth: usize) -> Option<usize> {
    let mut carry = Carry::default();
    // Open containers, innermost last: `true` for an object.
    let mut open = BitStack::default();
    let mut expect = Expect::Value;
    let mut base = start;
    // The last block, padded; every other block is classified where it lies. (A copy would be
    // stored in narrower pieces than the classifier loads, which the processor cannot forward
    // from store to load: measured, it nearly doubled the cost of a block.)
    let mut padded: [u8; 64];
    while base < b.len() {
        let block: &[u8; 64] = if let Some(whole) = b.get(base..base + 64) {
            whole.try_into().expect("64 bytes")
        } else {
            padded = load(b, base);
            &padded
        };
        let m = simd::classify(level, block);
        let escaped = escaped(m.backslash, &mut carry.escaped);
        let quotes = m.quote & !escaped;
        let in_string = prefix_xor(quotes) ^ carry.in_string;
        carry.in_string = ((in_string as i64) >> 63) as u64;
        // String content: no raw control character, and every escape one of JSON's. Errors
        // past the value's end are not its own, so they count only once the walk reaches them.
        let escapes = m.backslash & !escaped & in_string;
        let mut errors = m.control & in_string;
        if escapes != 0 {
            errors |= invalid_escapes(b, base, escapes);
        }
        let scalar = !(in_string | m.structural | m.whitespace | quotes);
        let scalar_starts = scalar & !(scalar << 1 | u64::from(carry.scalar));
        carry.scalar = scalar >> 63 == 1;
        let mut tokens = (m.structural & !in_string) | (quotes & in_string) | scalar_starts;
        while tokens != 0 {
            let k = tokens.trailing_zeros() as usize;
            tokens &= tokens - 1;
            // Past the input's end the block holds only spaces, never a token.
            debug_assert!(base + k < b.len());
            let c = block[k];
            expect = match (expect, c) {
                (Expect::Value | Expect::ValueOrClose, b'{' | b'[') => {
                    if depth + open.len() >= MAX_DEPTH {
                        return None;
                    }
                    let object = c == b'{';
                    open.push(object);
                    if object {
                        Expect::KeyOrClose
                    } else {
                        Expect::ValueOrClose
                    }
                }
                (Expect::Value | Expect::ValueOrClose, b'"') => Expect::CommaOrClose,
                (Expect::Value | Expect::ValueOrClose, _) if scalar_starts >> k & 1 == 1 => {
                    if !plain_number(block, k, scalar, m.digit) && !other_scalar(b, base + k) {
                        return None;
                    }
                    Expect::CommaOrClose
                }
                (Expect::KeyOrClose | Expect::Key, b'"') => Expect::Colon,
                (Expect::Colon, b':') => Expect::Value,
                (Expect::CommaOrClose, b',') => {
                    if open.last() == Some(true) {
                        Expect::Key
                    } else {
                        Expect::Value
                    }
                }
                (Expect::ValueOrClose, b']') | (Expect::KeyOrClose, b'}') => {
                    open.pop();
                    Expect::CommaOrClose
                }
                (Expect::CommaOrClose, b'}' | b']') if open.last() == Some(c == b'}') => {
                    open.pop();
                    Expect::CommaOrClose
                }
                _ => return None,
            };
            if open.len() == 0 {
                let through = u64::MAX >> (63 - k);
                return (errors & through == 0).then_some(base + k + 1);
            }
        }
        if errors != 0 {
            return None;
        }
        base += 64;
    }
    None
}

/// Whether the run of token bytes starting at bit `k` of `scalar` is a number without an
/// exponent (`-?(0|[1-9][0-9]*)(\.[0-9]+)?`), read from the block's masks alone. `false` leaves
/// the run to `skip`'s readers: other numbers and literals, runs that go on into the next block,
/// and invalid runs.
#[inline(always)]
fn plain_number(block: &[u8; 64], k: usize, scalar: u64, digit: u64) -> bool {
    let from_k = u64::MAX << k;
    let after = !scalar & from_k;
    if after == 0 {
        return false;
    }
    let end = after.trailing_zeros() as usize;
    let run = from_k & !(u64::MAX << end);
    let minus = block[k] == b'-';
    let start = k + usize::from(minus);
    if start >= end || digit >> start & 1 == 0 {
        return false;
    }
    // A leading zero followed by a digit is refused (by the slow path, which words it).
    if block[start] == b'0' && start + 1 < end && digit >> (start + 1) & 1 == 1 {
        return false;
    }
    let others = run & !digit & !(u64::from(minus) << k);
    if others == 0 {
        return true;
    }
    // One decimal point, with digits on both sides (the first digit is before it).
    let point = others.trailing_zeros() as usize;
    others.is_power_of_two() && block[point] == b'.' && point + 1 < end
}

/// Whether the number or literal at `p` is valid and makes up the whole run of token bytes there
/// (read byte by byte: the numbers `plain_number` leaves, and literals).
#[cold]
#[inline(never)]
fn other_scalar(b: &[u8], p: usize) -> bool {
    let end = match b[p] {
        b't' => skip::literal(b, p, b"true"),
        b'f' => skip::literal(b, p, b"false"),
        b'n' => skip::literal(b, p, b"null"),
        b'-' | b'0'..=b'9' => skip::number(b, p),
        _ => None,
    };
    end.is_some_and(|end| !b.get(end).is_some_and(|&next| is_token_byte(next)))
}

/// A byte that, outside strings, belongs to a number or literal token (or is invalid there):
/// anything but whitespace, a quote and the structural characters.
#[inline(always)]
fn is_token_byte(c: u8) -> bool {
    !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'{' | b'}' | b'[' | b']' | b':' | b',')
}

/// The 64 bytes from `base`, padded with spaces past the end of the input.
#[inline(always)]
fn load(b: &[u8], base: usize) -> [u8; 64] {
    if let Some(block) = b.get(base..base + 64) {
        block.try_into().expect("64 bytes")
    } else {
        let mut block = [b' '; 64];
        let rest = &b[base..];
        block[..rest.len()].copy_from_slice(rest);
        block
    }
}

/// The bytes escaped by a backslash: the byte after each backslash that is not itself escaped.
/// `carry` says the block's first byte is escaped, and is set when its last byte escapes the
/// next block's first.
#[inline(always)]
fn escaped(backslash: u64, carry: &mut bool) -> u64 {
    if backslash == 0 && !*carry {
        return 0;
    }
    let mut escaped = 0;
    let mut rest = backslash;
    if std::mem::take(carry) {
        escaped = 1;
        rest &= !1;
    }
    while rest != 0 {
        let at = rest.trailing_zeros();
        if at == 63 {
            *carry = true;
            break;
        }
        escaped |= 1 << (at + 1);
        rest &= !(0b11 << at);
    }
    escaped
}

/// Bit `k` of the result is the XOR of bits `0..=k` of `x`: set from an opening quote up to, but
/// not including, its closing quote.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The escapes among `escapes` (offsets from `base`, one bit each) that are not one of JSON's:
/// `\" \\ \/ \b \f \n \r \t` or `\u` and four hex digits.
#[cold]
fn invalid_escapes(b: &[u8], base: usize, escapes: u64) -> u64 {
    let mut invalid = 0;
    let mut rest = escapes;
    while rest != 0 {
        let bit = rest & rest.wrapping_neg();
        rest &= rest - 1;
        let at = base + bit.trailing_zeros() as usize;
        let valid = match b.get(at + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => true,
            Some(b'u') => b.get(at + 2..at + 6).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
            _ => false,
        };
        if !valid {
            invalid |= bit;
        }
    }
    invalid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agree(text: &[u8]) {
        for start in 0..text.len().min(3) {
            if !matches!(text[start], b'{' | b'[') {
                continue;
            }
            for depth in [0, 1, MAX_DEPTH - 3] {
                let expected = skip::value_scalar(text, start, depth);
                assert_eq!(
                    skip::value_compact(text, start, depth),
                    expected,
                    "records by layout, depth {depth} on {:?}",
                    String::from_utf8_lossy(text)
                );
                for level in simd::levels() {
                    assert_eq!(
                        container_at(level, text, start, depth),
                        expected,
                        "{level:?} depth {depth} on {:?}",
                        String::from_utf8_lossy(text)
                    );
                }
            }
        }
    }

    #[test]
    fn escapes_are_found_across_blocks() {
        let mut carry = false;
        assert_eq!(escaped(0b0110, &mut carry), 0b0100);
        assert!(!carry);
        assert_eq!(escaped(1 << 63, &mut carry), 0);
        assert!(carry);
        assert_eq!(escaped(0b1, &mut carry), 0b1);
        assert!(!carry);
        assert_eq!(escaped(0b111, &mut carry), 0b1010);
    }

    #[test]
    fn known_values_agree() {
        for text in [
            r#"{"a": [1, -2.5e3, "x\"y\u00e9", true, false, null, {}, []]} tail"#,
            "[ ]",
            "[[[[1]]]]",
            r#"{"a":1,}"#,
            "[1 2]",
            "[true-]",
            "[1.]",
            "[01]",
            "[-]",
            "[truex]",
            r#"["a""b"]"#,
            r#"{"a" 1}"#,
            "[\"a\nb\"]",
            r#"["\x"]"#,
            r#"["\u12g4"]"#,
            r#"[1, \"]"#,
            "[}",
            "{]",
            "[1,]",
            "{",
            "[\"abc",
            "[1",
            "[\u{e9}]",
            "[\"\u{e9}\"]",
        ] {
            agree(text.as_bytes());
        }
    }

    /// Every sequence of up to seven tokens (six for the wider spacings) that opens a container,
    /// written tight, spaced, and spread so that neighbours straddle a block's end: each pair of
    /// neighbouring tokens, and each kind of container around them, comes up valid and invalid.
    #[test]
    fn every_short_token_sequence_agrees() {
        const TOKENS: [&str; 8] = ["{", "}", "[", "]", ":", ",", "\"k\"", "7"];
        for (gap, longest) in [("", 7), (" ", 6), ("          ", 6)] {
            for len in 1..=longest {
                let mut digits = vec![0usize; len];
                'sequences: loop {
                    let text: Vec<&str> = digits.iter().map(|&d| TOKENS[d]).collect();
                    // (The skippers are asked only about a value that opens a container.)
                    if matches!(text[0], "{" | "[") {
                        agree(text.join(gap).as_bytes());
                    }
                    for d in digits.iter_mut().rev() {
                        *d += 1;
                        if *d < TOKENS.len() {
                            continue 'sequences;
                        }
                        *d = 0;
                    }
                    break;
                }
            }
        }
    }

    #[test]
    fn deep_nesting_agrees() {
        for n in [63, 64, 65, 200, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1] {
            agree(format!("{}{}", "[".repeat(n), "]".repeat(n)).as_bytes());
            agree(format!("{}{}", r#"{"a":["#.repeat(n), "]}".repeat(n)).as_bytes());
            agree("[".repeat(n).as_bytes());
        }
    }

    #[test]
    fn backslash_runs_straddling_blocks_agree() {
        for pad in 50..70 {
            for run in 0..6 {
                let text = format!("[\"{}{}\"]", "x".repeat(pad), "\\".repeat(run));
                agree(text.as_bytes());
                let text = format!("[\"{}{}\"\", 1]", "x".repeat(pad), "\\".repeat(run));
                agree(text.as_bytes());
            }
        }
    }

    mod properties {
        use super::agree;
        use proptest::prelude::*;

        /// A JSON-ish text: valid JSON pieces, broken pieces and raw bytes, so that both valid
        /// and subtly invalid values come up.
        fn jsonish() -> impl Strategy<Value = Vec<u8>> {
            let piece = prop_oneof![
                Just(b"{".to_vec()),
                Just(b"}".to_vec()),
                Just(b"[".to_vec()),
                Just(b"]".to_vec()),
                Just(b":".to_vec()),
                Just(b",".to_vec()),
                Just(b"\"".to_vec()),
                Just(b"\\".to_vec()),
                Just(b"\\\\".to_vec()),
                Just(b"\\\"".to_vec()),
                Just(b"\\u00e9".to_vec()),
                Just(b"\\u12".to_vec()),
                Just(b" ".to_vec()),
                Just(b"\n\t\r".to_vec()),
                Just(b"true".to_vec()),
                Just(b"fals".to_vec()),
                Just(b"null".to_vec()),
                Just(b"-12.5e+3".to_vec()),
                Just(b"0".to_vec()),
                Just(b"01".to_vec()),
                Just(b"1.".to_vec()),
                Just("é✓😀".as_bytes().to_vec()),
                Just(vec![0xff, 0xc3]),
                Just(vec![0x01]),
                Just(vec![0x1f]),
                "[a-z0-9]{1,70}".prop_map(String::into_bytes),
                any::<u8>().prop_map(|b| vec![b]),
            ];
            prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
        }

        /// A valid JSON value, with long strings and runs of backslashes so that escapes and
        /// quotes fall on every block boundary.
        fn valid() -> impl Strategy<Value = String> {
            let leaf = prop_oneof![
                Just("null".to_owned()),
                Just("true".to_owned()),
                any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| f.to_string()),
                any::<i64>().prop_map(|n| n.to_string()),
                "(\\PC|\\\\|\"){0,80}".prop_map(|s| serde_json::to_string(&s).expect("a string")),
            ];
            leaf.prop_recursive(8, 128, 8, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..8).prop_map(|v| format!("[{}]", v.join(", "))),
                    prop::collection::vec(("\\PC{0,20}", inner), 0..8).prop_map(|v| {
                        let entries: Vec<String> = v
                            .iter()
                            .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).expect("a key")))
                            .collect();
                        format!("{{{}}}", entries.join(","))
                    }),
                ]
            })
        }

        /// An array of records: objects of one layout (keys, spacing) with values of any kind,
        /// now and then one of another layout or holding a container, as data tends to be.
        fn records() -> impl Strategy<Value = String> {
            let scalar = prop_oneof![
                Just("null".to_owned()),
                Just("true".to_owned()),
                Just("0".to_owned()),
                any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| f.to_string()),
                "[a-z\\\"]{0,12}".prop_map(|s| serde_json::to_string(&s).expect("a string")),
                Just("[1,{\"k\":2}]".to_owned()),
                Just("{}".to_owned()),
            ];
            let layout = (prop::collection::vec("[a-z]{1,10}", 1..5), prop_oneof![Just(""), Just(" ")]);
            (layout, prop::collection::vec((prop::collection::vec(scalar, 5), 0..8u8), 1..12)).prop_map(
                |((keys, space), objects)| {
                    let written: Vec<String> = objects
                        .iter()
                        .map(|(values, odd)| {
                            // One object in eight has a member fewer, one in eight one more.
                            let n = match odd {
                                0 => keys.len() - 1,
                                1 => keys.len() + 1,
                                _ => keys.len(),
                            };
                            let members: Vec<String> = (0..n)
                                .map(|k| {
                                    let key = keys.get(k).map_or("extra", String::as_str);
                                    format!("\"{key}\":{space}{}", values[k % values.len()])
                                })
                                .collect();
                            format!("{{{}}}", members.join(&format!(",{space}")))
                        })
                        .collect();
                    format!("[{}]", written.join(","))
                },
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            #[test]
            fn records_agree_whole_truncated_and_changed(
                text in records(),
                cut in any::<prop::sample::Index>(),
                at in any::<prop::sample::Index>(),
                byte in prop::sample::select(b"{}[]\",: 0-9.eaxnt\\\x00\x80".to_vec()),
            ) {
                let bytes = text.as_bytes();
                agree(bytes);
                agree(&bytes[..cut.index(bytes.len() + 1)]);
                let mut changed = bytes.to_vec();
                changed[at.index(bytes.len())] = byte;
                agree(&changed);
            }

            #[test]
            fn random_text_agrees(mut text in jsonish(), open in 0..2u8) {
                text.insert(0, if open == 0 { b'[' } else { b'{' });
                agree(&text);
            }

            #[test]
            fn valid_values_agree_whole_and_truncated(text in valid(), cut in any::<prop::sample::Index>()) {
                let wrapped = format!("[{text}]");
                agree(wrapped.as_bytes());
                let bytes = wrapped.as_bytes();
                agree(&bytes[..cut.index(bytes.len() + 1)]);
            }

            #[test]
            fn one_byte_changed_agrees(text in valid(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
                let mut bytes = format!("[{text}]").into_bytes();
                let at = at.index(bytes.len());
                bytes[at] = byte;
                agree(&bytes);
            }
        }
    }
}
