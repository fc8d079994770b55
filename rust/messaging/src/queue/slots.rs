//! A queue's messages in send order, by their place in it (`seq`): a ring of cells where cell `i`
//! holds seq `base + i`, so finding a message by its place is arithmetic, and a message sent is
//! a push at the back.
//!
//! Why not a `BTreeMap<u64, _>`: messages arrive in seq order, and a B-tree filled in order
//! splits every leaf in half and leaves it so; each message cost about twice its size, and on a
//! fan-out the fresh memory (page faults) was a large part of the cost of storing it.
//!
//! A message removed leaves an empty cell until every older cell is empty too (SQS consumers
//! delete roughly in send order, so cells are mostly freed from the front). Should one old message
//! stay while many after it come and go, the empty cells would pile up behind it: when they
//! outnumber the messages (and `slack`), the cells are closed up and the messages get new,
//! consecutive seqs (`Renumbered`, which the caller applies to what it keeps by seq).

use std::collections::VecDeque;

/// Empty cells allowed beyond one per message before `remove` closes them up.
pub const DEFAULT_SLACK: usize = 1024;

#[derive(Debug)]
pub struct Slots<T> {
    base: u64,
    cells: VecDeque<Option<T>>,
    live: usize,
    slack: usize,
}

/// How seqs changed when `Slots::remove` closed up the empty cells: each old seq of a message
/// still here maps to a new one, in the same order.
pub struct Renumbered {
    base: u64,
    /// `new[i]`: the new seq of the message that was in cell `i` (meaningless for empty cells).
    new: Vec<u64>,
}

impl Renumbered {
    pub fn seq(&self, old: u64) -> u64 {
        self.new[usize::try_from(old - self.base).expect("a seq of these cells")]
    }
}

impl<T> Slots<T> {
    pub fn new(slack: usize) -> Self {
        Self { base: 1, cells: VecDeque::new(), live: 0, slack }
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn slack(&self) -> usize {
        self.slack
    }

    /// The seq the next `push` takes.
    pub fn next_seq(&self) -> u64 {
        self.base + self.cells.len() as u64
    }

    fn index(&self, seq: u64) -> Option<usize> {
        usize::try_from(seq.checked_sub(self.base)?).ok()
    }

    pub fn get(&self, seq: u64) -> Option<&T> {
        self.cells.get(self.index(seq)?)?.as_ref()
    }

    pub fn get_mut(&mut self, seq: u64) -> Option<&mut T> {
        let index = self.index(seq)?;
        self.cells.get_mut(index)?.as_mut()
    }

    /// Adds a message last in send order; returns its seq.
    pub fn push(&mut self, item: T) -> u64 {
        let seq = self.next_seq();
        self.cells.push_back(Some(item));
        self.live += 1;
        seq
    }

    /// Removes the message at `seq`, and what closing up the cells renumbered, if it did.
    pub fn remove(&mut self, seq: u64) -> Option<(T, Option<Renumbered>)> {
        let index = self.index(seq)?;
        let item = self.cells.get_mut(index)?.take()?;
        self.live -= 1;
        while let Some(None) = self.cells.front() {
            self.cells.pop_front();
            self.base += 1;
        }
        if self.cells.is_empty() {
            // An empty queue gives its memory back (a drained backlog may have been large).
            self.cells = VecDeque::new();
            return Some((item, None));
        }
        let renumbered = (self.cells.len() > 2 * self.live + self.slack).then(|| self.close_up());
        if self.cells.capacity() > 4 * self.cells.len() + self.slack {
            self.cells.shrink_to(2 * self.cells.len());
        }
        Some((item, renumbered))
    }

    /// Drops the empty cells; the messages keep their order and take consecutive seqs from `base`.
    fn close_up(&mut self) -> Renumbered {
        let mut new = Vec::with_capacity(self.cells.len());
        let mut next = self.base;
        for cell in &self.cells {
            new.push(next);
            if cell.is_some() {
                next += 1;
            }
        }
        self.cells.retain(Option::is_some);
        Renumbered { base: self.base, new }
    }

    /// The messages in send order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.cells.iter().flatten()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.cells.iter_mut().flatten()
    }

    /// Every message with its seq, in send order.
    pub fn iter_seq(&self) -> impl Iterator<Item = (u64, &T)> {
        let base = self.base;
        self.cells.iter().zip(base..).filter_map(|(cell, seq)| cell.as_ref().map(|item| (seq, item)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seqs_are_places_and_empty_cells_close_up_from_the_front() {
        let mut slots = Slots::new(0);
        let seqs: Vec<u64> = ["a", "b", "c"].into_iter().map(|s| slots.push(s)).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert!(matches!(slots.remove(2), Some(("b", None))));
        assert_eq!(slots.get(2), None);
        assert!(matches!(slots.remove(1), Some(("a", None))));
        assert_eq!(slots.cells.len(), 1); // the front was closed up to "c"
        assert_eq!((slots.get(3), slots.next_seq()), (Some(&"c"), 4));
        assert!(slots.remove(3).is_some());
        assert_eq!((slots.len(), slots.next_seq()), (0, 4));
        assert_eq!(slots.remove(3).map(|(item, _)| item), None);
    }

    #[test]
    fn holes_behind_an_old_message_are_closed_up_by_renumbering() {
        let mut slots = Slots::new(2);
        let old = slots.push(0);
        let mut renumbered = None;
        for n in 1..=5 {
            let seq = slots.push(n);
            if let Some((_, again)) = slots.remove(seq) {
                renumbered = renumbered.or(again);
            }
        }
        let kept = slots.push(6);
        // 1 message and 5 empty cells behind it: more than 2 * 1 + 2, so they were closed up.
        let renumbered = renumbered.expect("the cells were closed up");
        assert_eq!(renumbered.seq(old), old);
        assert_eq!(slots.iter_seq().collect::<Vec<_>>(), [(old, &0), (kept, &6)]);
        assert!(kept < 7);
    }
}
