//! The fast validating skipper: steps over one JSON value that no pattern wants, checking the
//! whole grammar (strings, escapes, numbers, literals, separators, nesting) but building
//! nothing and reporting nothing. On invalid input it answers `None`, and the caller re-reads
//! the value with the careful lexer to word the error, so the common path carries no error
//! plumbing.

use crate::json::MAX_DEPTH;
use crate::lexer::special_byte;
use crate::structural;

mod shape;

use shape::Shape;

/// The offset just past the value that starts at `i` (after any whitespace), or `None` if the
/// text there is not one valid JSON value or nests deeper than `MAX_DEPTH` (counting `depth`
/// levels already open). Objects and arrays go to the structural skipper, 64 bytes at a time.
#[inline]
pub fn value(b: &[u8], i: usize, depth: usize) -> Option<usize> {
    let i = ws(b, i);
    match *b.get(i)? {
        b'{' | b'[' => structural::container(b, i, depth),
        _ => value_scalar(b, i, depth),
    }
}

/// `value` a byte at a time: the reference the structural skipper and `value_compact` are held
/// to, and the reader of lone strings, numbers and literals.
pub fn value_scalar(b: &[u8], i: usize, depth: usize) -> Option<usize> {
    walk::<false>(b, i, depth)
}

/// `value_scalar` that skips objects repeating the layout of the flat object before them by
/// that layout (`shape`): the same answer, with a fraction of the work on arrays of records.
pub fn value_compact(b: &[u8], i: usize, depth: usize) -> Option<usize> {
    walk::<true>(b, i, depth)
}

#[inline(always)]
fn walk<const SHAPED: bool>(b: &[u8], mut i: usize, depth: usize) -> Option<usize> {
    // Open containers, innermost at bit `len - 1`: 1 for an object, 0 for an array.
    let mut bits: u64 = 0;
    let mut len: usize = 0;
    let mut deep: Vec<bool> = Vec::new();
    // The layout of the last flat object read (its runs point into `b`); made at the first
    // object met in an array, as most values hold none (zeroing it costs a `memset`).
    let mut shape: Option<Shape> = None;
    loop {
        // A value.
        i = ws(b, i);
        match *b.get(i)? {
            b'"' => i = string(b, i + 1)?,
            open @ (b'{' | b'[') => {
                if depth + len >= MAX_DEPTH {
                    return None;
                }
                let object = open == b'{';
                // A flat object (one more level, closed again) read whole by the layout of the
                // one before it, or, in an array (where records repeat), read once to learn its
                // own; otherwise opened and read a token at a time below. Learning elsewhere
                // would mostly read a nested object's first members twice, to no use.
                let flat = if SHAPED && object {
                    shape.as_ref().and_then(|shape| shape.skip(b, i)).or_else(|| {
                        if in_array(bits, len, &deep) {
                            shape.get_or_insert_with(Shape::new).learn(b, i)
                        } else {
                            None
                        }
                    })
                } else {
                    None
                };
                if let Some(end) = flat {
                    i = end;
                } else {
                    i = ws(b, i + 1);
                    if *b.get(i)? == if object { b'}' } else { b']' } {
                        i += 1;
                    } else {
                        if len < 64 {
                            bits = (bits & !(1 << len)) | (u64::from(object) << len);
                        } else {
                            deep.push(object);
                        }
                        len += 1;
                        if object {
                            i = key(b, i)?;
                        }
                        continue;
                    }
                }
            }
            b't' => i = literal(b, i, b"true")?,
            b'f' => i = literal(b, i, b"false")?,
            b'n' => i = literal(b, i, b"null")?,
            // (The reference reads numbers byte by byte, so that the tests hold the mask to it.)
            b'-' | b'0'..=b'9' => i = if SHAPED { number(b, i)? } else { number_bytes(b, i)? },
            _ => return None,
        }
        // After a value: a separator, or closing brackets.
        loop {
            if len == 0 {
                return Some(i);
            }
            let object = if len <= 64 { bits >> (len - 1) & 1 == 1 } else { *deep.last()? };
            i = ws(b, i);
            let next = *b.get(i)?;
            // One branch on the container's kind, then a test each kind predicts on its own
            // (an object's members and an array's elements run to different lengths).
            if object {
                if next == b',' {
                    i = key(b, ws(b, i + 1))?;
                    break;
                }
                if next != b'}' {
                    return None;
                }
            } else {
                if next == b',' {
                    i += 1;
                    break;
                }
                if next != b']' {
                    return None;
                }
            }
            i += 1;
            if len > 64 {
                deep.pop();
            }
            len -= 1;
        }
    }
}

/// Whether the innermost open container (see `walk`'s `bits`, `len` and `deep`) is an array.
#[inline(always)]
fn in_array(bits: u64, len: usize, deep: &[bool]) -> bool {
    match len {
        0 => false,
        1..=64 => bits >> (len - 1) & 1 == 0,
        _ => deep.last() == Some(&false),
    }
}

#[inline(always)]
pub fn ws(b: &[u8], mut i: usize) -> usize {
    // Compact text has no blank between tokens, and `json.dumps` one space after `,` and `:`:
    // both settled by a look at the next two bytes, with no loop.
    match b.get(i) {
        Some(&c) if c > b' ' => return i,
        Some(b' ') => match b.get(i + 1) {
            Some(&c) if c > b' ' => return i + 1,
            _ => i += 1,
        },
        _ => {}
    }
    while let Some(&c) = b.get(i) {
        // Every token starts above the space; test that first, as most bytes here are tokens.
        if c > b' ' || !(c == b' ' || c == b'\n' || c == b'\r' || c == b'\t') {
            break;
        }
        i += 1;
    }
    i
}

/// `"key" :` starting at its quote; returns the offset after the colon.
#[inline(always)]
fn key(b: &[u8], i: usize) -> Option<usize> {
    if *b.get(i)? != b'"' {
        return None;
    }
    let i = ws(b, string(b, i + 1)?);
    (*b.get(i)? == b':').then_some(i + 1)
}

/// The rest of a string whose content starts at `i`; returns the offset after its quote.
#[inline]
fn string(b: &[u8], i: usize) -> Option<usize> {
    string_end(b, i).map(|(end, _)| end + 1)
}

/// The offset of the closing quote of a string whose content starts at `i`, and whether the
/// string holds escapes.
#[inline(always)]
pub fn string_end(b: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        i = special_byte(b, i);
        match *b.get(i)? {
            b'"' => return Some((i, escaped)),
            b'\\' => match *b.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                    escaped = true;
                    i += 2;
                }
                b'u' => {
                    if !b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    escaped = true;
                    i += 6;
                }
                _ => return None,
            },
            _ => return None,
        }
    }
}

#[inline]
pub fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    let end = i + word.len();
    if b.get(i..end)? != word {
        return None;
    }
    match b.get(end) {
        Some(&c) if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => None,
        _ => Some(end),
    }
}

#[inline(always)]
pub fn number(b: &[u8], i: usize) -> Option<usize> {
    // A number of the usual shape (a sign, digits, a fraction) read from one mask of the
    // digits among the next 32 bytes: its runs found by counting bits, not byte by byte.
    if let Some(digits) = crate::simd::digits32(b, i) {
        if let Some(end) = number_in_window(b, i, digits) {
            return Some(end);
        }
    }
    number_bytes(b, i)
}

/// `number` for a number inside the 32 bytes at `i` whose digits are `digits` (bit k for byte
/// `i + k`), with no exponent; `None` for anything else, which `number_bytes` then reads.
#[inline(always)]
fn number_in_window(b: &[u8], i: usize, digits: u32) -> Option<usize> {
    let sign = usize::from(b[i] == b'-');
    let whole = (!digits >> sign).trailing_zeros() as usize;
    // Digits, not running to the window's end; a leading zero only alone.
    if whole == 0 || sign + whole >= 32 || (whole > 1 && b[i + sign] == b'0') {
        return None;
    }
    let mut end = sign + whole;
    if b[i + end] == b'.' {
        if end + 1 >= 32 {
            return None;
        }
        let fraction = (!digits >> (end + 1)).trailing_zeros() as usize;
        if fraction == 0 || end + 1 + fraction >= 32 {
            return None;
        }
        end += 1 + fraction;
    }
    if matches!(b[i + end], b'e' | b'E') {
        return None;
    }
    Some(i + end)
}

/// `number` a byte (or a word of digits) at a time: the reference for `number_in_window`.
#[inline(always)]
pub fn number_bytes(b: &[u8], mut i: usize) -> Option<usize> {
    let digit = |i: usize| matches!(b.get(i), Some(b'0'..=b'9'));
    if b[i] == b'-' {
        i += 1;
    }
    match *b.get(i)? {
        b'0' => {
            i += 1;
            if digit(i) {
                return None;
            }
        }
        b'1'..=b'9' => i = digits(b, i + 1),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digit(i) {
            return None;
        }
        i = digits(b, i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digit(i) {
            return None;
        }
        i = digits(b, i + 1);
    }
    Some(i)
}

/// The offset of the first byte at or after `i` that is not an ASCII digit (or the end).
///
/// Eight bytes at a time: a run of digits (a coordinate's fraction is 14 of them) then ends in
/// one step whatever its length, instead of a byte test each and a mispredicted loop exit.
#[inline(always)]
pub fn digits(b: &[u8], mut i: usize) -> usize {
    while let Some(word) = b.get(i..i + 8) {
        let non_digits = non_digit_bytes(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        if non_digits != 0 {
            return i + (non_digits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while matches!(b.get(i), Some(b'0'..=b'9')) {
        i += 1;
    }
    i
}

/// The high bit of each byte of `word` (read little-endian: byte 0 lowest) set where that byte
/// is not an ASCII digit. A byte's own test can carry into the byte above it only from a byte
/// that is not a digit, so the lowest set bit, the one `digits` reads, is always exact.
#[inline(always)]
fn non_digit_bytes(word: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A digit becomes 0..=9; adding 0x76 sets the high bit of every byte from 10 up, and bytes
    // that had their high bit set (from 0x80 up) are caught by the `|`.
    let offset = word ^ 0x3030_3030_3030_3030;
    (offset.wrapping_add(0x7676_7676_7676_7676) | offset) & HIGH
}

#[cfg(test)]
mod tests {
    use super::{number, number_bytes, value, value_compact, value_scalar, ws};
    use crate::json::MAX_DEPTH;

    fn skip(text: &str) -> Option<usize> {
        let fast = value(text.as_bytes(), 0, 0);
        assert_eq!(fast, value_scalar(text.as_bytes(), 0, 0), "{text}");
        assert_eq!(value_compact(text.as_bytes(), 0, 0), fast, "{text}");
        fast
    }

    #[test]
    fn repeated_records_are_skipped_by_their_layout_and_differences_are_read() {
        let same = r#"[{"x":-122.4371748,"y":37.8,"z":0.0},{"x":-1,"y":2e5,"z":0},{"x":"a","y":null,"z":true}]"#;
        assert_eq!(skip(same), Some(same.len()));
        for text in [
            // The layout changes: keys, their order, spacing, one member more or fewer.
            r#"[{"x":1,"y":2},{"y":1,"x":2},{"x":1, "y":2},{"x":1,"y":2,"z":3},{"x":1}]"#,
            // A value becomes a container, an empty one, then the layout comes back.
            r#"[{"x":1,"y":2},{"x":[1,{"a":2}],"y":2},{"x":{},"y":[]},{"x":1,"y":2}]"#,
            // Keys past eight bytes, differing only near their end.
            r#"[{"a_rather_long_key_1":1},{"a_rather_long_key_2":1},{"a_rather_long_key_2":3}]"#,
            // Objects in objects, records in records, and a record at the very end.
            r#"{"a":{"b":{"c":1}},"d":[{"e":1},{"e":2}],"f":{"e":3}}"#,
            r#"{"e":1}"#,
        ] {
            assert_eq!(skip(text), Some(text.len()), "{text}");
        }
        for text in [
            r#"[{"x":1,"y":2},{"x":1,"y":}]"#,
            r#"[{"x":1,"y":2},{"x":1,"y":2]"#,
            r#"[{"x":1,"y":2},{"x":01,"y":2}]"#,
            r#"[{"x":1,"y":2},{"x":1,"y":2,}]"#,
            r#"[{"x":1,"y":2},{"x":1,"y":2"#,
            r#"[{"x":1,"y":2},{"x":1,"y":tru}]"#,
            r#"[{"x":"a","y":2},{"x":"a\q","y":2}]"#,
        ] {
            assert_eq!(skip(text), None, "{text}");
        }
    }

    #[test]
    fn a_record_counts_toward_the_depth_limit() {
        for open in [MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH] {
            let text = format!("{}{}{}", "[".repeat(open), r#"{"a":1},{"a":2}"#, "]".repeat(open));
            let want = (open < MAX_DEPTH).then_some(text.len());
            assert_eq!(skip(&text), want, "{open} arrays around records");
        }
    }

    #[test]
    fn valid_values_are_stepped_over() {
        for (text, end) in [
            (r#"{"a": [1, -2.5e3, "x\"y\u00e9", true, false, null, {}, []]} tail"#, 59),
            ("[ ]", 3),
            ("0,", 1),
            (r#""\ud800""#, 8),
            ("[[[[1]]]]", 9),
            ("[0,-0,10,-10.5,0.0e-0,1E+9,2e9,123456789012345678901234567890]", 62),
        ] {
            assert_eq!(skip(text), Some(end), "{text}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(skip(&deep), Some(400));
    }

    #[test]
    fn numbers_read_from_the_digit_mask_end_where_byte_by_byte_reading_ends() {
        // Every number shape near the window's edges, then each with every byte after it.
        let shapes = [
            "0",
            "-0",
            "7",
            "-7",
            "10",
            "01",
            "-01",
            "00",
            "0.5",
            "-0.5",
            "1.",
            "1.x",
            "-",
            "-x",
            ".5",
            "1e5",
            "1E+5",
            "2.5e-3",
            "1e",
            "12345678901234567890123456789012345",
            "-1234567890123456789012345678.5",
            "1.2345678901234567890123456789012",
            "-122.43717480198934",
            "37.82292570303751",
        ];
        // And a point, or the window's end, at every place near the end of the window.
        let long: Vec<String> = (25..34)
            .flat_map(|n| {
                let run = "1".repeat(n);
                [format!("{run}.5"), format!("-{run}.5"), format!("-{run}"), format!("0.{run}")]
            })
            .collect();
        for shape in shapes.iter().copied().chain(long.iter().map(String::as_str)) {
            for pad in 0..40 {
                for after in [b',', b'}', b' ', b'.', b'e', b'5', b'x', b'"'] {
                    let mut text = shape.as_bytes().to_vec();
                    text.push(after);
                    text.extend(std::iter::repeat_n(b'9', pad));
                    assert_eq!(number(&text, 0), number_bytes(&text, 0), "{shape:?} then {after} and {pad}");
                }
            }
        }
    }

    #[test]
    fn blanks_end_at_the_first_other_byte_or_the_end() {
        // Every run of up to four bytes drawn from the four JSON blanks and two others (a token
        // byte, and a control byte that is not a blank), at every offset, against a plain loop.
        let alphabet = [b' ', b'\n', b'\r', b'\t', b'"', 0x0b];
        let mut runs: Vec<Vec<u8>> = vec![Vec::new()];
        let mut last: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..4 {
            last = last.iter().flat_map(|run| alphabet.iter().map(move |&c| [run.as_slice(), &[c]].concat())).collect();
            runs.extend(last.iter().cloned());
        }
        for run in &runs {
            for start in 0..=run.len() {
                let expected =
                    start + run[start..].iter().take_while(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t')).count();
                assert_eq!(ws(run, start), expected, "{run:?} from {start}");
            }
        }
    }

    #[test]
    fn digit_runs_end_at_the_first_other_byte() {
        // Every position and every byte value for the run's end, within and across words.
        for len in 0..20 {
            for end in 0u8..=255 {
                let mut text = vec![b'7'; len];
                text.push(end);
                text.extend_from_slice(b"123456789");
                let want = if end.is_ascii_digit() { len + 1 + 9 } else { len };
                assert_eq!(super::digits(&text, 0), want, "{len} then {end}");
            }
            assert_eq!(super::digits(&vec![b'0'; len], 0), len);
        }
    }

    #[test]
    fn invalid_values_are_refused() {
        for text in [
            "{",
            "[1,]",
            "[1 2]",
            r#"{"a" 1}"#,
            r#"{"a":}"#,
            r"{a:1}",
            "01",
            "1.",
            "1e",
            "-",
            "-01",
            "00",
            "0e",
            "1e+",
            "-.5",
            ".5",
            "1.e5",
            "+1",
            "[1,0123]",
            "tru",
            "truex",
            "nul",
            r#""abc"#,
            "\"a\nb\"",
            r#""\x""#,
            r#""\u12g4""#,
            "NaN",
            "[}",
            "{]",
            r#"{"a":1,}"#,
        ] {
            assert_eq!(skip(text), None, "{text}");
        }
        let too_deep = "[".repeat(1001);
        assert_eq!(skip(&too_deep), None);
    }
}
