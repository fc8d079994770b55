//! The keys a field's index files conditions under, and what it files: condition ids (almost
//! always one per key) or conditions whose matcher must confirm a value the key found.

use rustc_hash::FxHashMap;

use crate::value::Matcher;

/// Condition ids that share an index key: almost always one.
#[derive(Debug, Clone)]
pub(super) enum Ids {
    One(u32),
    Many(Vec<u32>),
}

impl Ids {
    pub(super) fn push(&mut self, id: u32) {
        match self {
            Ids::One(first) => *self = Ids::Many(vec![*first, id]),
            Ids::Many(v) => v.push(id),
        }
    }

    /// Removes `id`; true when nothing is left.
    pub(super) fn remove(&mut self, id: u32) -> bool {
        match self {
            Ids::One(x) => *x == id,
            Ids::Many(v) => {
                v.retain(|&x| x != id);
                match v.as_slice() {
                    [] => true,
                    &[only] => {
                        *self = Ids::One(only);
                        false
                    }
                    _ => false,
                }
            }
        }
    }

    pub(super) fn as_slice(&self) -> &[u32] {
        match self {
            Ids::One(x) => std::slice::from_ref(x),
            Ids::Many(v) => v,
        }
    }
}

/// Keys of one kind mapped to the conditions they satisfy.
#[derive(Debug, Clone)]
pub(super) struct KeyMap<K: std::hash::Hash + Eq> {
    map: FxHashMap<K, Ids>,
}

impl<K: std::hash::Hash + Eq> Default for KeyMap<K> {
    fn default() -> Self {
        Self { map: FxHashMap::default() }
    }
}

impl<K: std::hash::Hash + Eq> KeyMap<K> {
    pub(super) fn insert(&mut self, key: K, id: u32) {
        match self.map.get_mut(&key) {
            Some(ids) => ids.push(id),
            None => {
                self.map.insert(key, Ids::One(id));
            }
        }
    }

    pub(super) fn remove<Q: std::hash::Hash + Eq + ?Sized>(&mut self, key: &Q, id: u32)
    where
        K: std::borrow::Borrow<Q>,
    {
        if self.map.get_mut(key).is_some_and(|ids| ids.remove(id)) {
            self.map.remove(key);
        }
    }

    #[inline]
    pub(super) fn get<Q: std::hash::Hash + Eq + ?Sized>(&self, key: &Q) -> &[u32]
    where
        K: std::borrow::Borrow<Q>,
    {
        self.map.get(key).map_or(&[], Ids::as_slice)
    }

    /// How many distinct keys are filed.
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Slots allocated (for memory estimates).
    pub(super) fn capacity(&self) -> usize {
        self.map.capacity()
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &K> {
        self.map.keys()
    }
}

/// A byte string kept inline when short (most field values are), so that looking one up in a
/// map of a hundred thousand does not also chase a pointer to its bytes.
#[derive(Clone)]
pub(super) enum Key {
    Inline { len: u8, bytes: [u8; 22] },
    Heap(Box<[u8]>),
}

impl Key {
    pub(super) fn new(bytes: &[u8]) -> Self {
        if bytes.len() <= 22 {
            let mut inline = [0u8; 22];
            inline[..bytes.len()].copy_from_slice(bytes);
            Key::Inline { len: bytes.len() as u8, bytes: inline }
        } else {
            Key::Heap(bytes.into())
        }
    }

    #[inline]
    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..*len as usize],
            Key::Heap(b) => b,
        }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        String::from_utf8_lossy(self.as_bytes()).fmt(f)
    }
}

// Equality and hashing are the bytes', as `Borrow<[u8]>` requires.
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl std::borrow::Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// A condition that needs its matcher run on the value after the index found it.
#[derive(Debug, Clone)]
pub(super) struct Checked {
    pub(super) id: u32,
    pub(super) matcher: Matcher,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_grow_from_one_and_shrink_back_to_one() {
        let mut ids = Ids::One(7);
        ids.push(9);
        ids.push(11);
        assert_eq!(ids.as_slice(), [7, 9, 11]);
        assert!(!ids.remove(9));
        assert!(!ids.remove(7));
        assert!(matches!(ids, Ids::One(11)));
        assert!(!ids.remove(3), "removing an absent id leaves the rest");
        assert!(ids.remove(11), "nothing left");
    }

    #[test]
    fn a_key_map_files_ids_under_keys_and_forgets_emptied_keys() {
        let mut map: KeyMap<Key> = KeyMap::default();
        map.insert(Key::new(b"red"), 1);
        map.insert(Key::new(b"red"), 2);
        map.insert(Key::new(b"blue"), 3);
        assert_eq!(map.get(b"red".as_slice()), [1, 2]);
        assert_eq!(map.get(b"blue".as_slice()), [3]);
        assert!(map.get(b"green".as_slice()).is_empty());
        map.remove(b"red".as_slice(), 1);
        assert_eq!(map.get(b"red".as_slice()), [2]);
        map.remove(b"red".as_slice(), 2);
        map.remove(b"blue".as_slice(), 3);
        assert!(map.is_empty());
    }

    #[test]
    fn keys_compare_by_their_bytes_inline_or_not() {
        let short = b"0123456789012345678901"; // 22 bytes: the longest kept inline
        let long = b"01234567890123456789012";
        assert!(matches!(Key::new(short), Key::Inline { .. }));
        assert!(matches!(Key::new(long), Key::Heap(_)));
        let mut map: KeyMap<Key> = KeyMap::default();
        for (i, key) in [&short[..], &long[..], b"", &short[..21]].into_iter().enumerate() {
            map.insert(Key::new(key), i as u32);
        }
        assert_eq!(map.len(), 4);
        assert_eq!(map.get(&short[..]), [0]);
        assert_eq!(map.get(&long[..]), [1]);
        assert_eq!(map.get(b"".as_slice()), [2]);
        assert_eq!(map.get(&short[..21]), [3]);
        assert_eq!(Key::new(long).as_bytes(), long);
        assert_eq!(format!("{:?}", Key::new(b"a\"b")), format!("{:?}", "a\"b"));
    }
}
