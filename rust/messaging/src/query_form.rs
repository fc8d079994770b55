//! The query protocol's form (`Action=Publish&TopicArn=arn%3Aaws...&Message=hi+there`): its
//! pairs decoded, and its keys read as a tree (`A.member.1.B=v` is A -> member -> 1 -> B).
//!
//! This is the fast reading of the forms AWS's SDKs send, which are ASCII (every other byte is
//! `%XX`-escaped). It reads them exactly as the Python reader (`rulebus.aws.dispatch`, after
//! `urllib.parse.parse_qsl(text, keep_blank_values=True, errors="strict")`) does, and declines
//! (`None`) every form it cannot read that way: text that is not ASCII, too many fields, or
//! escapes whose bytes are not UTF-8. The Python reader then reads it, or says what is wrong.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

/// A form's `(name, value)` pairs in order, with `+` read as a space and `%XX` as the byte XX;
/// a `%` not followed by two hex digits is itself; empty pieces (`a=1&&b=`) are passed over and
/// a piece without `=` is a name with an empty value. `None`: the form is left to the Python
/// reader (see the module's text); `max_fields` is its limit on `&`s.
pub fn pairs(raw: &[u8], max_fields: usize) -> Option<Vec<(Cow<'_, str>, Cow<'_, str>)>> {
    if !raw.is_ascii() {
        return None;
    }
    let text = std::str::from_utf8(raw).ok()?; // (ASCII is UTF-8)
    let mut pairs = Vec::with_capacity(text.len() / 16 + 1);
    for (index, piece) in text.split('&').enumerate() {
        if index >= max_fields {
            return None; // max_fields `&`s at least
        }
        if piece.is_empty() {
            continue;
        }
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        pairs.push((unescape(name)?, unescape(value)?));
    }
    Some(pairs)
}

/// `part` with `+` as a space and `%XX` as its byte; `None` when the bytes are not UTF-8.
/// (Python replaces `+` first and then unescapes: the same, since `+` is no hex digit.)
fn unescape(part: &str) -> Option<Cow<'_, str>> {
    let bytes = part.as_bytes();
    if !bytes.iter().any(|&b| b == b'+' || b == b'%') {
        return Some(Cow::Borrowed(part));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                if let (Some(high), Some(low)) =
                    (bytes.get(i + 1).and_then(|&b| hex_digit(b)), bytes.get(i + 2).and_then(|&b| hex_digit(b)))
                {
                    out.push((high << 4 | low) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

fn hex_digit(byte: u8) -> Option<u32> {
    char::from(byte).to_digit(16)
}

/// A node of a [`Tree`]: its value (the last pair whose key ends here) and its children, in the
/// order their keys first appeared.
#[derive(Debug, Default)]
pub struct Node<'a> {
    pub value: Option<&'a str>,
    pub children: Vec<(&'a str, usize)>,
}

/// A form's keys as a tree: node 0 is the root; `A.B=v` makes A a child of the root, B a child
/// of A, and gives B the value v (the last of repeated keys wins).
#[derive(Debug)]
pub struct Tree<'a> {
    nodes: Vec<Node<'a>>,
    /// (parent, key) -> child, for every child of every node.
    index: FxHashMap<(usize, &'a str), usize>,
}

/// The root of every [`Tree`].
pub const ROOT: usize = 0;

impl<'a> Tree<'a> {
    pub fn new(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut tree = Self { nodes: vec![Node::default()], index: FxHashMap::default() };
        for (key, value) in pairs {
            let mut node = ROOT;
            for part in key.split('.') {
                let nodes = &mut tree.nodes;
                node = *tree.index.entry((node, part)).or_insert_with(|| {
                    let child = nodes.len();
                    nodes.push(Node::default());
                    nodes[node].children.push((part, child));
                    child
                });
            }
            tree.nodes[node].value = Some(value);
        }
        tree
    }

    pub fn node(&self, node: usize) -> &Node<'a> {
        &self.nodes[node]
    }

    /// The child of `node` named `key`.
    pub fn child(&self, node: usize, key: &str) -> Option<usize> {
        self.index.get(&(node, key)).copied()
    }

    /// The children of `node` named 1, 2, ... (ASCII digits; AWS numbers from 1, so 0 is passed
    /// over) in numeric order, those of equal number ("1" and "01") in the order they came;
    /// `None` when a number has more digits than this reads (the Python reader takes it).
    pub fn numbered(&self, node: usize) -> Option<Vec<usize>> {
        let mut indexed = Vec::new();
        for &(key, child) in &self.nodes[node].children {
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if key.len() > 18 {
                return None;
            }
            let number: u64 = key.parse().ok()?;
            if number > 0 {
                indexed.push((number, child));
            }
        }
        indexed.sort_by_key(|&(number, _)| number); // stable: equal numbers keep their order
        Some(indexed.into_iter().map(|(_, child)| child).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(raw: &str) -> Option<Vec<(String, String)>> {
        pairs(raw.as_bytes(), 10_000)
            .map(|pairs| pairs.into_iter().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn reads_the_sdks_forms() {
        assert_eq!(
            decoded("Action=Publish&TopicArn=arn%3Aaws%3Asns&Message=hi+there%21").unwrap(),
            vec![pair("Action", "Publish"), pair("TopicArn", "arn:aws:sns"), pair("Message", "hi there!")]
        );
    }

    #[test]
    fn layout_as_parse_qsl_takes_it() {
        assert_eq!(decoded("a=1&&b=&c").unwrap(), vec![pair("a", "1"), pair("b", ""), pair("c", "")]);
        assert_eq!(decoded("a=b=c").unwrap(), vec![pair("a", "b=c")]);
        assert_eq!(decoded("").unwrap(), vec![]);
        assert_eq!(decoded("&&").unwrap(), vec![]);
    }

    #[test]
    fn a_percent_without_two_hex_digits_is_itself() {
        assert_eq!(decoded("a=%zz%4&b=%").unwrap(), vec![pair("a", "%zz%4"), pair("b", "%")]);
        assert_eq!(decoded("a=%+1%2B").unwrap(), vec![pair("a", "% 1+")]);
        assert_eq!(decoded("a=%c3%A9").unwrap(), vec![pair("a", "é")]);
    }

    #[test]
    fn declines_what_the_python_reader_must_judge() {
        assert_eq!(decoded("a=%FF"), None); // not UTF-8
        assert_eq!(decoded("a=%ED%A0%80"), None); // a surrogate's bytes
        assert_eq!(pairs("a=é".as_bytes(), 10), None); // not ASCII
        assert_eq!(pairs(b"a&b&c", 2), None); // too many fields
        assert!(pairs(b"a&b", 2).is_some());
    }

    #[test]
    fn tree_keeps_the_last_value_and_the_first_order() {
        let tree = Tree::new([("A.member.2", "x"), ("A.member.1", "y"), ("B", "1"), ("B", "2")]);
        let a = tree.child(ROOT, "A").unwrap();
        let member = tree.child(a, "member").unwrap();
        let items: Vec<_> = tree.numbered(member).unwrap().into_iter().map(|n| tree.node(n).value).collect();
        assert_eq!(items, vec![Some("y"), Some("x")]);
        assert_eq!(tree.node(tree.child(ROOT, "B").unwrap()).value, Some("2"));
        assert_eq!(tree.node(a).value, None);
    }

    #[test]
    fn numbered_children_skip_zero_and_names_and_keep_ties_in_order() {
        let tree = Tree::new([("L.01", "a"), ("L.0", "z"), ("L.x", "n"), ("L.1", "b"), ("L.", "e")]);
        let list = tree.child(ROOT, "L").unwrap();
        let items: Vec<_> = tree.numbered(list).unwrap().into_iter().map(|n| tree.node(n).value).collect();
        assert_eq!(items, vec![Some("a"), Some("b")]);
        let long = Tree::new([("L.1234567890123456789", "a")]);
        assert_eq!(long.numbered(long.child(ROOT, "L").unwrap()), None);
    }
}
