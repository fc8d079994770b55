//! The event scanner: one pass over an event's bytes that keeps only the values some pattern
//! names, skipping (but still validating) everything else without building it.
//!
//! Events are flattened as EventBridge flattens them: nested keys join with `.` (so a key
//! `"a.b"` and a nested `{"a": {"b": ...}}` give the same path), and arrays are "crushed", their
//! elements being values of the array's own path. Every array element the scanner enters gets a
//! node, so that matching can refuse to combine values from different elements of one array
//! (EventBridge's array-consistent matching).

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use crate::json::{check_depth, MAX_DEPTH};
use crate::lexer::{check_utf8, Cursor, SyntaxError};
use crate::skip;
use crate::value::Scalar;

/// A node of the path trie, or `SKIP` for a value no pattern wants.
pub type Want = u32;
pub const SKIP: Want = u32::MAX;

/// Children above this many are also indexed by a hash map.
const LINEAR_CHILDREN: usize = 8;

/// The paths that patterns name, as a trie over their `.`-separated segments. A dotted event
/// key walks several segments, so `"a.b"` and `{"a": {"b": ...}}` reach the same node.
#[derive(Debug, Clone)]
pub struct PathIndex {
    nodes: Vec<TrieNode>,
    paths: Vec<Box<[u8]>>,
}

#[derive(Debug, Clone, Default)]
struct TrieNode {
    children: Vec<Child>,
    map: Option<FxHashMap<Box<[u8]>, u32>>,
    leaf: Option<u32>,
}

/// A child segment, with its length and first eight bytes packed for a quick comparison.
#[derive(Debug, Clone)]
struct Child {
    head: u64,
    len: usize,
    segment: Box<[u8]>,
    node: u32,
}

/// The first eight bytes of a segment (zero-padded), for comparing segments a word at a time.
/// Shorter segments are read as two overlapping loads, not copied byte by byte (a copy of a
/// variable length is a call and a branch per length).
#[inline(always)]
fn head(segment: &[u8]) -> u64 {
    let n = segment.len();
    let word = |at: usize, width: usize| -> u64 {
        let mut bytes = [0u8; 8];
        bytes[..width].copy_from_slice(&segment[at..at + width]);
        u64::from_le_bytes(bytes)
    };
    match n {
        8.. => word(0, 8),
        4..=7 => word(0, 4) | word(n - 4, 4) << (8 * (n - 4)),
        2..=3 => word(0, 2) | word(n - 2, 2) << (8 * (n - 2)),
        1 => u64::from(segment[0]),
        0 => 0,
    }
}

/// Whether a word holds the byte `.` (zero bytes never count).
#[inline(always)]
fn has_dot(word: u64) -> bool {
    crate::simd::bytes_equal(word, b'.') != 0
}

/// Whether `key` (whose `head` is `h`) holds a dot. Most keys have none: up to 32 bytes they
/// are checked in a few words (overlapping at the end), longer ones by memchr; a byte loop's
/// exit would be mispredicted per key, and memchr's setup costs more than the words for the
/// short keys most events have.
#[inline(always)]
fn dotted(key: &[u8], h: u64) -> bool {
    let n = key.len();
    let word = |at: usize| u64::from_le_bytes(key[at..at + 8].try_into().unwrap_or_default());
    let equal = |w: u64| crate::simd::bytes_equal(w, b'.');
    match n {
        0..=8 => has_dot(h),
        9..=16 => equal(h) | equal(word(n - 8)) != 0,
        17..=32 => equal(h) | equal(word(8)) | equal(word(n - 16)) | equal(word(n - 8)) != 0,
        _ => memchr::memchr(b'.', key).is_some(),
    }
}

impl Default for PathIndex {
    fn default() -> Self {
        Self { nodes: vec![TrieNode::default()], paths: Vec::new() }
    }
}

impl PathIndex {
    /// The trie's root: what is wanted of the top-level object.
    pub const ROOT: Want = 0;

    /// The id of a path, adding it if new.
    pub fn intern(&mut self, path: &[u8]) -> u32 {
        let mut node = Self::ROOT;
        for segment in path.split(|&b| b == b'.') {
            node = match self.step(node, segment) {
                SKIP => {
                    let child = self.nodes.len() as u32;
                    self.nodes.push(TrieNode::default());
                    let parent = &mut self.nodes[node as usize];
                    parent.children.push(Child {
                        head: head(segment),
                        len: segment.len(),
                        segment: segment.into(),
                        node: child,
                    });
                    if parent.children.len() > LINEAR_CHILDREN {
                        let map = parent.map.get_or_insert_with(FxHashMap::default);
                        map.extend(parent.children.iter().map(|c| (c.segment.clone(), c.node)));
                    }
                    child
                }
                existing => existing,
            };
        }
        if let Some(id) = self.nodes[node as usize].leaf {
            return id;
        }
        let id = self.paths.len() as u32;
        self.paths.push(path.into());
        self.nodes[node as usize].leaf = Some(id);
        id
    }

    /// The id of a path that a pattern names as a leaf.
    pub fn lookup(&self, path: &[u8]) -> Option<u32> {
        self.leaf(self.child(Self::ROOT, path))
    }

    pub fn path(&self, id: u32) -> &[u8] {
        &self.paths[id as usize]
    }

    /// The number of leaf paths.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// What is wanted of the value of `key` inside the object wanted as `node`.
    #[inline(always)]
    pub fn child(&self, node: Want, key: &[u8]) -> Want {
        let h = head(key);
        if !dotted(key, h) {
            return self.step_head(node, key, h);
        }
        key.split(|&b| b == b'.')
            .try_fold(node, |n, segment| match self.step(n, segment) {
                SKIP => None,
                next => Some(next),
            })
            .unwrap_or(SKIP)
    }

    #[inline(always)]
    fn step(&self, node: Want, segment: &[u8]) -> Want {
        self.step_head(node, segment, head(segment))
    }

    /// `step` given the segment's `head`.
    #[inline(always)]
    fn step_head(&self, node: Want, segment: &[u8], h: u64) -> Want {
        let node = &self.nodes[node as usize];
        if let Some(map) = &node.map {
            return map.get(segment).copied().unwrap_or(SKIP);
        }
        let len = segment.len();
        if len <= 8 {
            // The head and length name a short segment exactly. Every child is compared, with
            // no exit at the first equal one: the loop's branch then never depends on where
            // (or whether) the key is found, which varies from key to key of an event.
            let mut found = SKIP;
            for c in &node.children {
                found = if (c.head ^ h) | (c.len ^ len) as u64 == 0 { c.node } else { found };
            }
            return found;
        }
        node.children.iter().find(|c| c.head == h && c.len == len && *c.segment == *segment).map_or(SKIP, |c| c.node)
    }

    /// The leaf id of a wanted node.
    #[inline]
    pub fn leaf(&self, node: Want) -> Option<u32> {
        if node == SKIP {
            None
        } else {
            self.nodes[node as usize].leaf
        }
    }

    /// Whether paths continue below a wanted node.
    #[inline]
    pub fn has_children(&self, node: Want) -> bool {
        node != SKIP && !self.nodes[node as usize].children.is_empty()
    }
}

/// One kept value: its path id, the array element it sits in, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Value<'a> {
    pub path: u32,
    pub node: u32,
    pub scalar: Scalar<'a>,
}

/// An array element: the element (or root) it sits in and the array it belongs to.
/// Node 0 is the root, outside every array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub parent: u32,
    pub array: u32,
}

/// A flattened event: the kept values and the array-element tree they hang from.
#[derive(Debug, Default)]
pub struct Flattened<'a> {
    pub values: Vec<Value<'a>>,
    pub nodes: Vec<Node>,
    arrays: u32,
    stack: Vec<Frame>,
}

impl Flattened<'_> {
    pub fn clear(&mut self) {
        self.values.clear();
        self.nodes.clear();
        self.nodes.push(Node { parent: 0, array: u32::MAX });
        self.arrays = 0;
        self.stack.clear();
    }

    fn element(&mut self, parent: u32, array: u32) -> u32 {
        self.nodes.push(Node { parent, array });
        (self.nodes.len() - 1) as u32
    }

    /// Empties the buffers for reuse by an event of another lifetime, keeping their memory.
    pub fn recycle<'b>(mut self) -> Flattened<'b> {
        self.values.clear();
        Flattened {
            // Same layout on both sides, so the allocation is reused in place.
            values: self.values.into_iter().map(|_| unreachable!("cleared")).collect(),
            nodes: self.nodes,
            arrays: 0,
            stack: self.stack,
        }
    }
}

/// Why an event could not be scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    Syntax(SyntaxError),
    /// Valid JSON, but not an object.
    NotAnObject,
}

impl From<SyntaxError> for ScanError {
    fn from(e: SyntaxError) -> Self {
        ScanError::Syntax(e)
    }
}

#[derive(Debug, Clone, Copy)]
enum Frame {
    Object { want: Want, node: u32 },
    Array { want: Want, parent: u32, array: u32 },
}

/// Scans an event into `out` (cleared first), keeping the values of the paths in `index`.
pub fn scan<'a>(input: &'a [u8], index: &PathIndex, out: &mut Flattened<'a>) -> Result<(), ScanError> {
    out.clear();
    let text = check_utf8(input)?;
    let mut c = Cursor::new(text);
    match c.peek() {
        Some(b'{') => {}
        None => return Err(SyntaxError::new("No content to map due to end-of-input", 0).into()),
        Some(_) => {
            skip_value(&mut c, 0)?;
            return Err(ScanError::NotAnObject);
        }
    }
    let mut stack = std::mem::take(&mut out.stack);
    let start = c.pos;
    let mut result =
        if scan_fast(c.bytes, start, index, out, &mut stack).is_some() { Ok(()) } else { Err(ScanError::NotAnObject) };
    if result.is_err() {
        // Invalid JSON somewhere: the careful scanner finds and words the error.
        out.clear();
        stack.clear();
        result = scan_reporting(&mut c, index, out, &mut stack);
    }
    out.stack = stack;
    result
}

/// The scanner's fast path over valid JSON: no error plumbing, `None` at the first problem.
/// Its twin `scan_reporting` reads the same grammar with Jackson's messages.
fn scan_fast<'a>(
    b: &'a [u8],
    mut i: usize,
    index: &PathIndex,
    out: &mut Flattened<'a>,
    stack: &mut Vec<Frame>,
) -> Option<()> {
    let mut want = PathIndex::ROOT;
    let mut node = 0u32;
    loop {
        // One value.
        i = skip::ws(b, i);
        let depth = stack.len();
        match *b.get(i)? {
            b'{' if index.has_children(want) => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                i = skip::ws(b, i + 1);
                if *b.get(i)? == b'}' {
                    i += 1;
                } else {
                    stack.push(Frame::Object { want, node });
                    (want, i) = fast_key(b, i, index, want)?;
                    continue;
                }
            }
            b'[' if want != SKIP => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                i = skip::ws(b, i + 1);
                if *b.get(i)? == b']' {
                    i += 1;
                } else {
                    let array = out.arrays;
                    out.arrays += 1;
                    stack.push(Frame::Array { want, parent: node, array });
                    node = out.element(node, array);
                    continue;
                }
            }
            b'{' | b'[' => i = skip::value(b, i, depth)?,
            b'"' => {
                let (end, escaped) = skip::string_end(b, i + 1)?;
                if let Some(id) = index.leaf(want) {
                    let s = decoded(b, i + 1, end, escaped);
                    out.values.push(Value { path: id, node, scalar: Scalar::String(s) });
                }
                i = end + 1;
            }
            b't' => {
                i = skip::literal(b, i, b"true")?;
                keep(out, index, want, node, Scalar::Bool(true));
            }
            b'f' => {
                i = skip::literal(b, i, b"false")?;
                keep(out, index, want, node, Scalar::Bool(false));
            }
            b'n' => {
                i = skip::literal(b, i, b"null")?;
                keep(out, index, want, node, Scalar::Null);
            }
            b'-' | b'0'..=b'9' => {
                let end = skip::number(b, i)?;
                if let Some(id) = index.leaf(want) {
                    // SAFETY: `skip::number` accepted only ASCII digits, signs, points and
                    // exponents between `i` and `end`, and ASCII is UTF-8.
                    let lexeme = unsafe { std::str::from_utf8_unchecked(&b[i..end]) };
                    out.values.push(Value { path: id, node, scalar: Scalar::Number(lexeme.into()) });
                }
                i = end;
            }
            _ => return None,
        }
        // After a value: a separator and the next value, or the end of containers.
        loop {
            // No container open: that value was the root, skipped whole (no rule names a path
            // in it, as in an empty rule set).
            let Some(&top) = stack.last() else { return Some(()) };
            i = skip::ws(b, i);
            let next = *b.get(i)?;
            match top {
                Frame::Object { want: object_want, node: object_node } => match next {
                    b',' => {
                        node = object_node;
                        (want, i) = fast_key(b, skip::ws(b, i + 1), index, object_want)?;
                        break;
                    }
                    b'}' => {
                        i += 1;
                        stack.pop();
                    }
                    _ => return None,
                },
                Frame::Array { want: element_want, parent, array } => match next {
                    b',' => {
                        i += 1;
                        want = element_want;
                        node = out.element(parent, array);
                        break;
                    }
                    b']' => {
                        i += 1;
                        stack.pop();
                    }
                    _ => return None,
                },
            }
            if stack.is_empty() {
                return Some(());
            }
        }
    }
}

/// `"key":` at `i` inside an object wanted as `object`: what is wanted of its value, and the
/// offset after the colon.
#[inline(always)]
fn fast_key(b: &[u8], i: usize, index: &PathIndex, object: Want) -> Option<(Want, usize)> {
    if *b.get(i)? != b'"' {
        return None;
    }
    let (end, escaped) = skip::string_end(b, i + 1)?;
    let colon = skip::ws(b, end + 1);
    if *b.get(colon)? != b':' {
        return None;
    }
    let want =
        if escaped { index.child(object, &decoded(b, i + 1, end, true)) } else { index.child(object, &b[i + 1..end]) };
    Some((want, colon + 1))
}

/// A validated string's content, decoded when it holds escapes.
#[inline]
fn decoded(b: &[u8], start: usize, end: usize, escaped: bool) -> Cow<'_, [u8]> {
    if escaped {
        // The escapes were validated by `skip::string_end`, so decoding cannot fail.
        Cow::Owned(crate::lexer::decode_escapes(&b[start..end], start).unwrap_or_default())
    } else {
        Cow::Borrowed(&b[start..end])
    }
}

fn scan_reporting<'a>(
    c: &mut Cursor<'a>,
    index: &PathIndex,
    out: &mut Flattened<'a>,
    stack: &mut Vec<Frame>,
) -> Result<(), ScanError> {
    // The value about to be read: what is wanted of it and the array element it sits in.
    let mut want = PathIndex::ROOT;
    let mut node = 0u32;
    loop {
        // Read one value.
        let depth = stack.len();
        match c.peek() {
            Some(b'{') if index.has_children(want) => {
                check_depth(c, depth)?;
                c.pos += 1;
                if c.peek() == Some(b'}') {
                    c.pos += 1;
                } else {
                    stack.push(Frame::Object { want, node });
                    want = read_key(c, index, want)?;
                    continue;
                }
            }
            Some(b'[') if want != SKIP => {
                check_depth(c, depth)?;
                c.pos += 1;
                if c.peek() == Some(b']') {
                    c.pos += 1;
                } else {
                    let array = out.arrays;
                    out.arrays += 1;
                    stack.push(Frame::Array { want, parent: node, array });
                    node = out.element(node, array);
                    continue;
                }
            }
            Some(b'{' | b'[') => skip_value(c, depth)?,
            Some(b'"') => {
                if let Some(id) = index.leaf(want) {
                    let s = c.string()?;
                    out.values.push(Value { path: id, node, scalar: Scalar::String(s) });
                } else {
                    c.skip_string()?;
                }
            }
            Some(b't') => {
                c.literal(b"true")?;
                keep(out, index, want, node, Scalar::Bool(true));
            }
            Some(b'f') => {
                c.literal(b"false")?;
                keep(out, index, want, node, Scalar::Bool(false));
            }
            Some(b'n') => {
                c.literal(b"null")?;
                keep(out, index, want, node, Scalar::Null);
            }
            Some(b'-' | b'0'..=b'9') => {
                let n = c.number()?;
                keep(out, index, want, node, Scalar::Number(n.into()));
            }
            _ => return Err(c.bad_value().into()),
        }
        // After a value: a separator and the next value, or the end of containers.
        loop {
            match stack.last() {
                None => return Ok(()),
                Some(&Frame::Object { want: object_want, node: object_node }) => match c.peek() {
                    Some(b',') => {
                        c.pos += 1;
                        node = object_node;
                        want = read_key(c, index, object_want)?;
                        break;
                    }
                    Some(b'}') => {
                        c.pos += 1;
                        stack.pop();
                    }
                    None => return Err(SyntaxError::new(unclosed("Object"), c.pos).into()),
                    Some(_) => return Err(c.unexpected("was expecting comma to separate Object entries").into()),
                },
                Some(&Frame::Array { want: element_want, parent, array }) => match c.peek() {
                    Some(b',') => {
                        c.pos += 1;
                        want = element_want;
                        node = out.element(parent, array);
                        break;
                    }
                    Some(b']') => {
                        c.pos += 1;
                        stack.pop();
                    }
                    None => return Err(SyntaxError::new(unclosed("Array"), c.pos).into()),
                    Some(_) => return Err(c.unexpected("was expecting comma to separate Array entries").into()),
                },
            }
        }
    }
}

#[inline]
fn keep<'a>(out: &mut Flattened<'a>, index: &PathIndex, want: Want, node: u32, scalar: Scalar<'a>) {
    if let Some(id) = index.leaf(want) {
        out.values.push(Value { path: id, node, scalar });
    }
}

/// Reads `"key":` of an object wanted as `object`; returns what is wanted of the key's value.
#[inline]
fn read_key(c: &mut Cursor<'_>, index: &PathIndex, object: Want) -> Result<Want, SyntaxError> {
    if c.peek() != Some(b'"') {
        return Err(c.unexpected("was expecting double-quote to start field name"));
    }
    let key = c.string()?;
    colon(c)?;
    Ok(index.child(object, &key))
}

#[inline]
fn skip_key(c: &mut Cursor<'_>) -> Result<(), SyntaxError> {
    if c.peek() != Some(b'"') {
        return Err(c.unexpected("was expecting double-quote to start field name"));
    }
    c.skip_string()?;
    colon(c)
}

#[inline]
fn colon(c: &mut Cursor<'_>) -> Result<(), SyntaxError> {
    if c.peek() == Some(b':') {
        c.pos += 1;
        Ok(())
    } else {
        Err(c.unexpected("was expecting a colon to separate field name and value"))
    }
}

fn unclosed(what: &str) -> String {
    format!("Unexpected end-of-input: expected close marker for {what}")
}

/// Skips one value, validating it, without recursion. `depth` is the nesting it starts at.
#[inline]
fn skip_value(c: &mut Cursor<'_>, depth: usize) -> Result<(), SyntaxError> {
    match skip::value(c.bytes, c.pos, depth) {
        Some(end) => {
            c.pos = end;
            Ok(())
        }
        // Invalid (or nested too deep): the careful skipper finds and words the error.
        None => skip_value_reporting(c, depth),
    }
}

/// The careful twin of `skip::value`: the same grammar, with Jackson's messages.
#[cold]
fn skip_value_reporting(c: &mut Cursor<'_>, depth: usize) -> Result<(), SyntaxError> {
    // Open containers, innermost last: `true` for an object, `false` for an array.
    let mut open = BitStack::default();
    loop {
        match c.peek() {
            Some(b @ (b'{' | b'[')) => {
                check_depth(c, depth + open.len())?;
                c.pos += 1;
                let object = b == b'{';
                if c.peek() == Some(if object { b'}' } else { b']' }) {
                    c.pos += 1;
                } else {
                    open.push(object);
                    if object {
                        skip_key(c)?;
                    }
                    continue;
                }
            }
            Some(b'"') => c.skip_string()?,
            Some(b't') => c.literal(b"true")?,
            Some(b'f') => c.literal(b"false")?,
            Some(b'n') => c.literal(b"null")?,
            Some(b'-' | b'0'..=b'9') => {
                c.number()?;
            }
            _ => return Err(c.bad_value()),
        }
        loop {
            let Some(object) = open.last() else { return Ok(()) };
            match c.peek() {
                Some(b',') => {
                    c.pos += 1;
                    if object {
                        skip_key(c)?;
                    }
                    break;
                }
                Some(b'}') if object => {
                    c.pos += 1;
                    open.pop();
                }
                Some(b']') if !object => {
                    c.pos += 1;
                    open.pop();
                }
                None => return Err(SyntaxError::new(unclosed(if object { "Object" } else { "Array" }), c.pos)),
                Some(_) => {
                    return Err(c.unexpected(if object {
                        "was expecting comma to separate Object entries"
                    } else {
                        "was expecting comma to separate Array entries"
                    }))
                }
            }
        }
    }
}

/// A stack of booleans in one word while it is shallow (skipped subtrees usually are).
#[derive(Default)]
pub(crate) struct BitStack {
    bits: u64,
    len: usize,
    deep: Vec<bool>,
}

impl BitStack {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn push(&mut self, bit: bool) {
        if self.len < 64 {
            self.bits = (self.bits & !(1 << self.len)) | (u64::from(bit) << self.len);
        } else {
            self.deep.push(bit);
        }
        self.len += 1;
    }

    #[inline]
    pub(crate) fn last(&self) -> Option<bool> {
        match self.len {
            0 => None,
            n if n <= 64 => Some(self.bits >> (n - 1) & 1 == 1),
            _ => self.deep.last().copied(),
        }
    }

    #[inline]
    pub(crate) fn pop(&mut self) {
        if self.len > 64 {
            self.deep.pop();
        }
        self.len -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flatten(paths: &[&str], event: &str) -> Vec<(String, u32, String)> {
        let mut index = PathIndex::default();
        for p in paths {
            index.intern(p.as_bytes());
        }
        let mut out = Flattened::default();
        scan(event.as_bytes(), &index, &mut out).unwrap();
        out.values
            .iter()
            .map(|v| {
                let text = match &v.scalar {
                    Scalar::String(s) => format!("\"{}\"", String::from_utf8_lossy(s)),
                    Scalar::Number(n) => n.to_string(),
                    Scalar::Bool(b) => b.to_string(),
                    Scalar::Null => "null".into(),
                };
                (String::from_utf8_lossy(index.path(v.path)).into_owned(), v.node, text)
            })
            .collect()
    }

    #[test]
    fn heads_and_dots_of_every_length() {
        for len in 0..40 {
            let key: Vec<u8> = (0..len).map(|k| b'a' + (k % 26) as u8).collect();
            let mut padded = [0u8; 8];
            padded[..len.min(8)].copy_from_slice(&key[..len.min(8)]);
            assert_eq!(head(&key), u64::from_le_bytes(padded), "{len}");
            assert!(!has_dot(head(&key)));
            assert!(!dotted(&key, head(&key)), "{len}");
            for at in 0..len {
                let mut with_dot = key.clone();
                with_dot[at] = b'.';
                assert_eq!(has_dot(head(&with_dot)), at < 8, "{len} {at}");
                assert!(dotted(&with_dot, head(&with_dot)), "{len} {at}");
            }
        }
        // Keys named with and without dots, of every length around a word, reach their paths.
        for len in 1..36 {
            let name = "k".repeat(len);
            let paths = [format!("{name}.{name}"), format!("x{name}")];
            let event = format!(r#"{{"{name}": {{"{name}": 1}}, "{name}.{name}": 2, "x{name}": 3, "y": 4}}"#);
            let got = flatten(&[paths[0].as_str(), paths[1].as_str()], &event);
            let values: Vec<(&str, &str)> =
                got.iter().map(|(path, _, value)| (path.as_str(), value.as_str())).collect();
            assert_eq!(values, [(paths[0].as_str(), "1"), (paths[0].as_str(), "2"), (paths[1].as_str(), "3")]);
        }
    }

    #[test]
    fn an_event_no_path_is_named_in_is_read_once_on_the_fast_path() {
        // With no path named, the root is skipped whole: the fast path answers, and an invalid
        // event still goes to the careful scanner for its message.
        let index = PathIndex::default();
        let mut out = Flattened::default();
        let mut stack = Vec::new();
        for event in [r"{}", r#"{"a": [1, {"b": 2}], "c": "d"}"#] {
            assert_eq!(scan_fast(event.as_bytes(), 0, &index, &mut out, &mut stack), Some(()), "{event}");
            assert!(scan(event.as_bytes(), &index, &mut out).is_ok());
            assert!(out.values.is_empty());
        }
        for event in [r#"{"a": }"#, r#"{"a": 1"#] {
            assert_eq!(scan_fast(event.as_bytes(), 0, &index, &mut out, &mut stack), None, "{event}");
            assert!(matches!(scan(event.as_bytes(), &index, &mut out), Err(ScanError::Syntax(_))), "{event}");
        }
    }

    #[test]
    fn keeps_only_named_paths() {
        let got = flatten(&["a.b", "c"], r#"{"x": {"deep": [1, {"y": 2}]}, "a": {"b": "v", "z": 1}, "c": 3}"#);
        assert_eq!(got, vec![("a.b".into(), 0, "\"v\"".into()), ("c".into(), 0, "3".into())]);
    }

    #[test]
    fn dotted_keys_equal_nesting() {
        let got = flatten(&["a.b"], r#"{"a.b": 1, "a": {"b": 2}}"#);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn arrays_are_crushed_with_element_nodes() {
        let got = flatten(&["a.b"], r#"{"a": [{"b": 1}, {"b": [2, 3]}]}"#);
        let nodes: Vec<u32> = got.iter().map(|g| g.1).collect();
        assert_eq!(got.iter().map(|g| g.2.as_str()).collect::<Vec<_>>(), ["1", "2", "3"]);
        // 1 sits in element 1 of the outer array; 2 and 3 in distinct elements of the inner one.
        assert_eq!(nodes, [1, 3, 4]);
    }

    #[test]
    fn objects_at_leaf_paths_are_not_values() {
        assert!(flatten(&["a"], r#"{"a": {"b": 1}}"#).is_empty());
        assert!(flatten(&["a"], r#"{"a": []}"#).is_empty());
    }

    #[test]
    fn duplicate_keys_keep_both_values() {
        assert_eq!(flatten(&["x"], r#"{"x": "1", "x": "2"}"#).len(), 2);
    }

    #[test]
    fn errors() {
        let index = PathIndex::default();
        let mut out = Flattened::default();
        assert_eq!(scan(b"[1]", &index, &mut out), Err(ScanError::NotAnObject));
        assert!(matches!(scan(b"{\"a\": [1,}", &index, &mut out), Err(ScanError::Syntax(_))));
        assert!(matches!(scan(b"{\"a\": NaN}", &index, &mut out), Err(ScanError::Syntax(_))));
        assert!(matches!(scan(b"{\"a\": \xff}", &index, &mut out), Err(ScanError::Syntax(_))));
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
        assert!(matches!(scan(deep.as_bytes(), &index, &mut out), Err(ScanError::Syntax(_))));
        let ok = format!("{{\"a\": {}{}}}", "[".repeat(900), "]".repeat(900));
        assert!(scan(ok.as_bytes(), &index, &mut out).is_ok());
    }
}
