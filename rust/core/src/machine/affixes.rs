//! Prefixes (or suffixes) of byte strings filed by their bytes: a value is probed once per
//! distinct affix length, however many affixes there are.

use rustc_hash::FxHashMap;

use super::keys::{Checked, KeyMap};
use crate::number::Numbers;
use crate::value::{Matcher, Scalar};

/// Prefixes (or suffixes) of byte strings: a map per affix, probed once per distinct length.
#[derive(Debug, Clone, Default)]
pub(super) struct Affixes {
    exact: KeyMap<Box<[u8]>>,
    checked: FxHashMap<Box<[u8]>, Vec<Checked>>,
    /// Distinct affix lengths, with how many affixes have each.
    lengths: Vec<(usize, u32)>,
}

impl Affixes {
    /// Whether no affix is filed.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// The affixes filed without a matcher to confirm them.
    pub(super) fn exact(&self) -> &KeyMap<Box<[u8]>> {
        &self.exact
    }

    /// How many conditions are filed under `affix` with a matcher to confirm them.
    pub(super) fn checked_len(&self, affix: &[u8]) -> usize {
        self.checked.get(affix).map_or(0, Vec::len)
    }

    fn add_length(&mut self, len: usize) {
        match self.lengths.binary_search_by_key(&len, |&(l, _)| l) {
            Ok(i) => self.lengths[i].1 += 1,
            Err(i) => self.lengths.insert(i, (len, 1)),
        }
    }

    fn remove_length(&mut self, len: usize) {
        if let Ok(i) = self.lengths.binary_search_by_key(&len, |&(l, _)| l) {
            self.lengths[i].1 -= 1;
            if self.lengths[i].1 == 0 {
                self.lengths.remove(i);
            }
        }
    }

    pub(super) fn insert(&mut self, affix: &[u8], id: u32) {
        self.add_length(affix.len());
        self.exact.insert(affix.into(), id);
    }

    pub(super) fn insert_checked(&mut self, affix: &[u8], id: u32, matcher: Matcher) {
        self.add_length(affix.len());
        self.checked.entry(affix.into()).or_default().push(Checked { id, matcher });
    }

    pub(super) fn remove(&mut self, affix: &[u8], id: u32) {
        self.remove_length(affix.len());
        self.exact.remove(affix, id);
    }

    pub(super) fn remove_checked(&mut self, affix: &[u8], id: u32) {
        self.remove_length(affix.len());
        if let Some(list) = self.checked.get_mut(affix) {
            list.retain(|c| c.id != id);
            if list.is_empty() {
                self.checked.remove(affix);
            }
        }
    }

    /// Calls `hit` for each condition whose affix is a prefix (`suffix` false) or a suffix of
    /// `key`; checked conditions are tested on `value` first.
    #[inline]
    pub(super) fn probe(
        &self,
        key: &[u8],
        suffix: bool,
        value: &Scalar<'_>,
        numbers: Numbers,
        hit: &mut impl FnMut(u32),
    ) {
        for &(len, _) in &self.lengths {
            if len > key.len() {
                break;
            }
            let part = if suffix { &key[key.len() - len..] } else { &key[..len] };
            for &id in self.exact.get(part) {
                hit(id);
            }
            if let Some(list) = self.checked.get(part) {
                for c in list {
                    if c.matcher.matches(value, numbers) {
                        hit(c.id);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::matchers_of;

    fn probe(affixes: &Affixes, key: &[u8], suffix: bool) -> Vec<u32> {
        let value = Scalar::String(key.into());
        let mut hits = Vec::new();
        affixes.probe(key, suffix, &value, Numbers::EventBridge, &mut |id| hits.push(id));
        hits.sort_unstable();
        hits
    }

    #[test]
    fn every_filed_prefix_of_a_key_is_found() {
        let mut prefixes = Affixes::default();
        prefixes.insert(b"", 0);
        prefixes.insert(b"ab", 1);
        prefixes.insert(b"abc", 2);
        prefixes.insert(b"abd", 3);
        prefixes.insert(b"abcdef", 4);
        assert_eq!(probe(&prefixes, b"abcde", false), [0, 1, 2]);
        assert_eq!(probe(&prefixes, b"abcdefg", false), [0, 1, 2, 4]);
        assert_eq!(probe(&prefixes, b"a", false), [0]);
        assert_eq!(probe(&prefixes, b"xabc", false), [0]);
    }

    #[test]
    fn suffixes_are_probed_from_the_end() {
        let mut suffixes = Affixes::default();
        suffixes.insert(b".png", 1);
        suffixes.insert(b"g", 2);
        assert_eq!(probe(&suffixes, b"cat.png", true), [1, 2]);
        assert_eq!(probe(&suffixes, b"cat.jpg", true), [2]);
        assert_eq!(probe(&suffixes, b".png.gif", true), Vec::<u32>::new());
    }

    #[test]
    fn checked_affixes_are_confirmed_by_their_matcher() {
        // A wildcard filed under its leading literal: the prefix finds it, the matcher decides.
        let mut prefixes = Affixes::default();
        let wildcard = matchers_of(r#"{"f": [{"wildcard": "ab*z"}]}"#).remove(0);
        prefixes.insert_checked(b"ab", 5, wildcard);
        assert_eq!(prefixes.checked_len(b"ab"), 1);
        assert_eq!(probe(&prefixes, b"abxyz", false), [5]);
        assert!(probe(&prefixes, b"abxy", false).is_empty());
        prefixes.remove_checked(b"ab", 5);
        assert_eq!(prefixes.checked_len(b"ab"), 0);
        assert!(prefixes.is_empty());
    }

    #[test]
    fn removing_the_last_affix_of_a_length_stops_probing_it() {
        let mut prefixes = Affixes::default();
        prefixes.insert(b"ab", 1);
        prefixes.insert(b"cd", 2);
        prefixes.insert(b"abc", 3);
        prefixes.remove(b"ab", 1);
        assert_eq!(prefixes.lengths, [(2, 1), (3, 1)]);
        assert_eq!(probe(&prefixes, b"abcd", false), [3]);
        prefixes.remove(b"cd", 2);
        prefixes.remove(b"abc", 3);
        assert!(prefixes.is_empty());
        assert!(prefixes.exact().is_empty());
    }
}
