//! Objects that repeat one layout, skipped by their layout.
//!
//! An array of records (a polygon's points, a batch of readings) holds objects whose keys,
//! separators and whitespace are the same bytes each time: only the values differ. The
//! byte-wise skipper reads every one of those bytes as a token (a key's quotes, its colon, each
//! comma), which is most of its work on such data. Once one flat object (every member a
//! scalar) has been read, its layout is kept: the literal bytes between its values. The next
//! object is then checked by comparing those runs of bytes as words and reading only its
//! values. Equal bytes parse alike, so an object that matches the layout is exactly as valid as
//! the one the layout came from; at the first difference the caller reads the object the usual
//! way, from its start.

use super::{literal, number, string, ws};

/// A run of literal bytes of the layout: up to 8 compared in one word, longer ones by slices.
#[derive(Clone, Copy)]
struct Run {
    start: usize,
    len: usize,
    word: u64,
    mask: u64,
}

/// The most members a kept layout has; a wider object is read the usual way.
const MAX_MEMBERS: usize = 16;

/// The layout of the last flat object read: `runs[0]` is `{` up to the first value, `runs[k]`
/// the bytes between value `k - 1` and value `k`, the last one ends with `}`. Runs point into
/// the text the layout was read from.
pub struct Shape {
    runs: [Run; MAX_MEMBERS + 1],
    members: usize,
}

impl Shape {
    pub const fn new() -> Self {
        Shape { runs: [Run { start: 0, len: 0, word: 0, mask: 0 }; MAX_MEMBERS + 1], members: 0 }
    }

    /// The offset just past the object at `i` (its `{`) if it has the kept layout and valid
    /// values; `None` if it differs anywhere (not necessarily invalid: read it the usual way).
    #[inline]
    pub fn skip(&self, b: &[u8], mut i: usize) -> Option<usize> {
        if self.members == 0 {
            return None;
        }
        for run in &self.runs[..self.members] {
            i = same(b, i, run)?;
            i = scalar(b, i)?;
        }
        same(b, i, &self.runs[self.members])
    }

    /// Reads the object at `i` (its `{`) and keeps its layout when it is flat: one to
    /// `MAX_MEMBERS` members, each value a string, number or literal. Returns the offset past it,
    /// or `None` (nothing kept) when it is not such an object or is invalid.
    pub fn learn(&mut self, b: &[u8], i: usize) -> Option<usize> {
        // Written in place: until `members` is set at the end, no run counts.
        self.members = 0;
        let mut start = i;
        let mut at = ws(b, i + 1);
        let mut members = 0;
        loop {
            // A member: "key" : value.
            if members == MAX_MEMBERS || *b.get(at)? != b'"' {
                return None;
            }
            at = ws(b, string(b, at + 1)?);
            if *b.get(at)? != b':' {
                return None;
            }
            at = ws(b, at + 1);
            self.runs[members] = Run::of(b, start, at);
            at = scalar(b, at)?;
            members += 1;
            start = at;
            at = ws(b, at);
            match *b.get(at)? {
                b',' => at = ws(b, at + 1),
                b'}' => {
                    self.runs[members] = Run::of(b, start, at + 1);
                    self.members = members;
                    return Some(at + 1);
                }
                _ => return None,
            }
        }
    }
}

impl Run {
    fn of(b: &[u8], start: usize, end: usize) -> Run {
        let len = end - start;
        let mut bytes = [0u8; 8];
        let head = len.min(8);
        bytes[..head].copy_from_slice(&b[start..start + head]);
        let mask = if len >= 8 { u64::MAX } else { (1u64 << (8 * len)) - 1 };
        Run { start, len, word: u64::from_le_bytes(bytes), mask }
    }
}

/// The offset past `run`'s bytes if they are at `i`.
#[inline(always)]
fn same(b: &[u8], i: usize, run: &Run) -> Option<usize> {
    let end = i + run.len;
    if run.len <= 8 {
        if let Some(word) = b.get(i..i + 8) {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            return ((word ^ run.word) & run.mask == 0).then_some(end);
        }
    }
    // Near the end of the text, or a long run: the layout's own bytes are in `b` at `run.start`.
    (b.get(i..end)? == &b[run.start..run.start + run.len]).then_some(end)
}

/// The offset past the string, number or literal at `i`; `None` for anything else.
#[inline(always)]
fn scalar(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'-' | b'0'..=b'9' => number(b, i),
        b'"' => string(b, i + 1),
        b't' => literal(b, i, b"true"),
        b'f' => literal(b, i, b"false"),
        b'n' => literal(b, i, b"null"),
        _ => None,
    }
}
