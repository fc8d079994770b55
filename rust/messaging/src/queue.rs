//! An SQS queue's messages held in memory, arranged so that a receive touches only what it takes.
//!
//! The queue does not know what a message is: it keeps an opaque payload `M` beside the four facts
//! its ordering needs (the message id, when it was sent, when it is visible, whether it was ever
//! received). The Python memory store keeps its `StoredMessage` objects here; the SQS rules
//! (redrive, FIFO groups, deduplication) stay with the store, which asks for messages in the
//! orders those rules need:
//!
//! - **send order**, for FIFO receives, counts and move tasks (`iter`);
//! - **the oldest visible first**, for standard receives (`take`): visible messages in a set
//!   ordered by send order, hidden ones (delayed or in flight) in a set ordered by the time they
//!   become visible, moved back by `promote` when that time comes. A backlog costs O(log n) per
//!   message received, however many messages are hidden.
//!
//! A message is found by id through a hash table whose entries keep the id's hash beside its seq.
//! Growing the table re-files entries by the stored hashes and never reads an id again (re-hashing
//! each id was a cache miss), and a lookup reads an id only for an entry whose whole 64-bit hash
//! matches: the id in the message's slot (`id::Id`, in place), found by its seq in one step
//! (`slots`), and read by what comes next anyway.
//!
//! Times are seconds (any epoch) as `f64`; a NaN time is treated as the largest.

mod id;
mod slots;

use std::collections::BTreeSet;
use std::hash::BuildHasher;

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use id::Id;
use slots::{Renumbered, Slots, DEFAULT_SLACK};

/// A visibility deadline, totally ordered (NaN last), so hidden messages can sit in a set.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Deadline(f64);

impl Eq for Deadline {}

impl PartialOrd for Deadline {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Deadline {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Where a message is filed for receiving.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    /// In `Filing::visible`: receivable.
    Visible,
    /// In `Filing::hidden` under its `visible_at` (which changes only while the message is not
    /// filed, so it need not be kept twice): delayed (never received) or in flight.
    Hidden,
    /// Handed out by `take`, filed again by `update` (or gone by `remove`).
    Taken,
}

/// One message and what the queue needs to order it.
#[derive(Debug)]
struct Slot<M> {
    message: M,
    id: Id,
    sent: f64,
    visible_at: f64,
    received: bool,
    place: Place,
}

impl<M> Slot<M> {
    fn held(&mut self) -> Held<'_, M> {
        Held { id: self.id.as_str(), sent: self.sent, visible_at: self.visible_at, message: &mut self.message }
    }
}

/// A message handed out (`take_held`, `get_held`, `iter_held`) with what the queue keeps beside
/// it, which the payload then need not hold again (the id, when it was sent, when it is visible).
#[derive(Debug)]
pub struct Held<'a, M> {
    pub id: &'a str,
    pub sent: f64,
    pub visible_at: f64,
    pub message: &'a mut M,
}

/// The messages filed for receiving, by their place in send order.
#[derive(Debug)]
struct Filing {
    visible: BTreeSet<u64>,
    hidden: BTreeSet<(Deadline, u64)>,
    /// Hidden messages that were received at least once: the queue's messages in flight.
    in_flight: usize,
    /// The latest instant a message was filed or promoted at: while the clock has not gone back
    /// before it, the filing alone tells what is visible (see `MessageQueue::settled_counts`).
    latest: f64,
}

impl Default for Filing {
    fn default() -> Self {
        Self { visible: BTreeSet::new(), hidden: BTreeSet::new(), in_flight: 0, latest: f64::NEG_INFINITY }
    }
}

impl Filing {
    /// Files message `seq` by its visibility at `now`. It is given the slot rather than finding
    /// it, so that `add` files a message before storing it and the others file the slot they
    /// already hold: one walk down `slots` each.
    fn file<M>(&mut self, seq: u64, slot: &mut Slot<M>, now: f64) {
        self.latest = self.latest.max(now);
        if slot.visible_at <= now {
            slot.place = Place::Visible;
            self.visible.insert(seq);
        } else {
            slot.place = Place::Hidden;
            self.hidden.insert((Deadline(slot.visible_at), seq));
            if slot.received {
                self.in_flight += 1;
            }
        }
    }

    /// Takes message `seq` out of the filing (a taken message is in none).
    fn unfile<M>(&mut self, seq: u64, slot: &mut Slot<M>) {
        match std::mem::replace(&mut slot.place, Place::Taken) {
            Place::Visible => {
                self.visible.remove(&seq);
            }
            Place::Hidden => {
                self.hidden.remove(&(Deadline(slot.visible_at), seq));
                if slot.received {
                    self.in_flight -= 1;
                }
            }
            Place::Taken => {}
        }
    }
}

/// An entry of `MessageQueue::seqs`: a message's place in send order, under its id's hash.
#[derive(Debug)]
struct IdEntry {
    /// `hash_id` of the id, which the table files the entry by.
    hash: u64,
    seq: u64,
}

/// The hash a message id is filed under in `MessageQueue::seqs`.
fn hash_id(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

/// How `MessageQueue::seqs` finds the entry of `id`: by the stored hash, then (only when that
/// matches) by the id in the entry's slot.
fn is_id<'a, M>(slots: &'a Slots<Slot<M>>, id: &'a str, hash: u64) -> impl Fn(&IdEntry) -> bool + 'a {
    move |entry| entry.hash == hash && slots.get(entry.seq).is_some_and(|slot| slot.id.is(id))
}

/// What `MessageQueue::seqs` files an entry by when it grows: the stored hash, so that the id's
/// text is not read again.
fn stored_hash(entry: &IdEntry) -> u64 {
    entry.hash
}

/// The messages of one queue. See the module documentation.
#[derive(Debug)]
pub struct MessageQueue<M> {
    /// Every message, by its place in send order (its seq).
    slots: Slots<Slot<M>>,
    /// Message id -> place in send order, filed by the id's hash (see the module documentation).
    seqs: HashTable<IdEntry>,
    filing: Filing,
    /// Expiry bookkeeping: no message was sent before `oldest_sent` (a lower bound).
    oldest_sent: f64,
    newest_sent: f64,
    /// Once send order is not sent-time order (an older message arrived, as a dead-letter move
    /// brings one with its original time): every message by (sent, seq), so that expiry takes
    /// the oldest without a scan. None while send order is sent-time order: an ordinary queue
    /// (every one but a dead-letter queue) pays nothing for it.
    by_sent: Option<BTreeSet<(Deadline, u64)>>,
}

impl<M> Default for MessageQueue<M> {
    fn default() -> Self {
        Self {
            slots: Slots::new(DEFAULT_SLACK),
            seqs: HashTable::new(),
            filing: Filing::default(),
            oldest_sent: f64::INFINITY,
            newest_sent: f64::NEG_INFINITY,
            by_sent: None,
        }
    }
}

/// The counts GetQueueAttributes reports: visible, in flight (hidden after a receive), delayed
/// (hidden, never received).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub visible: usize,
    pub in_flight: usize,
    pub delayed: usize,
}

impl<M> MessageQueue<M> {
    pub fn new() -> Self {
        Self::default()
    }

    /// A queue that closes up the empty cells of its send order (see `slots`) sooner: after
    /// `slack` of them beyond one per message. For tests, which then renumber often.
    #[doc(hidden)]
    pub fn with_slack(slack: usize) -> Self {
        Self { slots: Slots::new(slack), ..Self::default() }
    }

    /// How many messages the queue holds (expired ones too, until `drop_expired`).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.len() == 0
    }

    /// Hidden messages that were received: exact after `promote(now)` as long as the clock has not
    /// gone back (a message filed as visible stays so; `take` hides it again if asked too early).
    pub fn in_flight(&self) -> usize {
        self.filing.in_flight
    }

    pub fn contains(&self, id: &str) -> bool {
        self.seq_of(id).is_some()
    }

    pub fn get(&self, id: &str) -> Option<&M> {
        self.seq_of(id).map(|seq| &self.slot(seq).message)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut M> {
        self.get_held(id).map(|held| held.message)
    }

    /// `get_mut`, with the facts the queue keeps beside the message.
    pub fn get_held(&mut self, id: &str) -> Option<Held<'_, M>> {
        let seq = self.seq_of(id)?;
        Some(self.slot_mut(seq).held())
    }

    /// The messages in send order.
    pub fn iter(&self) -> impl Iterator<Item = &M> {
        self.slots.iter().map(|slot| &slot.message)
    }

    /// The messages in send order, to change their payloads (not what the queue orders them by).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut M> {
        self.iter_held().map(|held| held.message)
    }

    /// `iter_mut`, with the facts the queue keeps beside each message.
    pub fn iter_held(&mut self) -> impl Iterator<Item = Held<'_, M>> {
        self.slots.iter_mut().map(Slot::held)
    }

    /// A new message, last in send order (an `Arc` id is shared, not copied). A message with an
    /// id already here replaces it (and takes the last place), which the store never asks for.
    pub fn add(&mut self, id: &str, message: M, sent: f64, visible_at: f64, received: bool, now: f64) {
        let hash = hash_id(id);
        match self.seqs.entry(hash, is_id(&self.slots, id, hash), stored_hash) {
            Entry::Occupied(entry) => {
                let (IdEntry { seq: old, .. }, _) = entry.remove();
                self.drop_slot(old);
                let seq = self.slots.next_seq();
                self.seqs.insert_unique(hash, IdEntry { hash, seq }, stored_hash);
            }
            Entry::Vacant(entry) => {
                entry.insert(IdEntry { hash, seq: self.slots.next_seq() });
            }
        }
        if sent < self.newest_sent {
            if self.by_sent.is_none() {
                // From now on every message is indexed by its sent time (once, O(n log n)).
                self.by_sent = Some(self.slots.iter_seq().map(|(seq, slot)| (Deadline(slot.sent), seq)).collect());
            }
        } else {
            self.newest_sent = sent;
        }
        self.oldest_sent = self.oldest_sent.min(sent);
        let seq = self.slots.next_seq();
        if let Some(by_sent) = &mut self.by_sent {
            by_sent.insert((Deadline(sent), seq));
        }
        let mut slot = Slot { message, id: Id::new(id), sent, visible_at, received, place: Place::Taken };
        self.filing.file(seq, &mut slot, now);
        self.slots.push(slot);
    }

    /// A message already here changed (its visibility, its receive count): it keeps its place in
    /// send order and is filed again by its new visibility. False when no such message is here.
    pub fn update(&mut self, id: &str, message: M, visible_at: f64, received: bool, now: f64) -> bool {
        let Some(seq) = self.seq_of(id) else { return false };
        let slot = self.slots.get_mut(seq).expect("every id has its slot");
        self.filing.unfile(seq, slot);
        slot.message = message;
        slot.visible_at = visible_at;
        slot.received = received;
        self.filing.file(seq, slot, now);
        true
    }

    /// Removes a message; returns it, or None when it was not here.
    pub fn remove(&mut self, id: &str) -> Option<M> {
        let hash = hash_id(id);
        let (IdEntry { seq, .. }, _) = self.seqs.find_entry(hash, is_id(&self.slots, id, hash)).ok()?.remove();
        let slot = self.drop_slot(seq);
        if self.is_empty() {
            self.clear();
        }
        Some(slot.message)
    }

    pub fn clear(&mut self) {
        *self = Self { slots: Slots::new(self.slots.slack()), ..Self::default() };
    }

    /// Hidden messages whose time has come become visible.
    pub fn promote(&mut self, now: f64) {
        self.filing.latest = self.filing.latest.max(now);
        while let Some(&(deadline, seq)) = self.filing.hidden.first() {
            if deadline.0 > now || deadline.0.is_nan() {
                break;
            }
            let slot = self.slots.get_mut(seq).expect("every filed seq has its slot");
            self.filing.unfile(seq, slot);
            slot.place = Place::Visible;
            self.filing.visible.insert(seq);
        }
    }

    /// The oldest visible message in send order, handed out: it has no place until the caller
    /// files it again with `update` (or drops it with `remove`), so one receive never returns a
    /// message twice. None when nothing is visible. Call `promote` first.
    pub fn take(&mut self, now: f64) -> Option<&mut M> {
        self.take_held(now).map(|held| held.message)
    }

    /// `take`, with the facts the queue keeps beside the message.
    pub fn take_held(&mut self, now: f64) -> Option<Held<'_, M>> {
        while let Some(seq) = self.filing.visible.pop_first() {
            let slot = self.slots.get_mut(seq).expect("every filed seq has its slot");
            slot.place = Place::Taken;
            if slot.visible_at > now {
                // Only if the clock went back since it was filed: hide it again.
                self.filing.file(seq, slot, now);
                continue;
            }
            return self.slots.get_mut(seq).map(Slot::held);
        }
        None
    }

    /// Removes the messages sent at or before `cutoff` (now minus the retention period), without
    /// looking at any message unless one may have expired; returns how many went.
    pub fn drop_expired(&mut self, cutoff: f64) -> usize {
        if cutoff < self.oldest_sent {
            return 0;
        }
        // The oldest come first, in send order or in the sent-time index: stop at the first one
        // still kept.
        let expired: Vec<String> = match &self.by_sent {
            None => self
                .slots
                .iter()
                .take_while(|slot| slot.sent <= cutoff)
                .map(|slot| slot.id.as_str().to_owned())
                .collect(),
            Some(by_sent) => by_sent
                .iter()
                .take_while(|(sent, _)| sent.0 <= cutoff)
                .map(|&(_, seq)| self.slot(seq).id.as_str().to_owned())
                .collect(),
        };
        for id in &expired {
            self.remove(id);
        }
        self.oldest_sent = match &self.by_sent {
            None => self.slots.iter().next().map_or(f64::INFINITY, |slot| slot.sent),
            Some(by_sent) => by_sent.first().map_or(f64::INFINITY, |(sent, _)| sent.0),
        };
        expired.len()
    }

    /// `counts`, after dropping the expired messages and promoting the due ones (what a receive
    /// does first): then, unless the clock went back or a message is taken, the filing's sizes
    /// are the counts, read without looking at a message (a scan otherwise).
    pub fn settled_counts(&mut self, now: f64, cutoff: f64) -> Counts {
        self.drop_expired(cutoff);
        self.promote(now);
        let filing = &self.filing;
        let filed = filing.visible.len() + filing.hidden.len();
        if now < filing.latest || filed != self.slots.len() {
            return self.counts(now, cutoff);
        }
        let hidden = filing.hidden.len();
        Counts { visible: filing.visible.len(), in_flight: filing.in_flight, delayed: hidden - filing.in_flight }
    }

    /// The counts at `now`, leaving out messages sent at or before `cutoff` (expired, not yet
    /// dropped).
    pub fn counts(&self, now: f64, cutoff: f64) -> Counts {
        let mut counts = Counts::default();
        for slot in self.slots.iter().filter(|slot| slot.sent > cutoff) {
            if slot.visible_at <= now {
                counts.visible += 1;
            } else if slot.received {
                counts.in_flight += 1;
            } else {
                counts.delayed += 1;
            }
        }
        counts
    }

    /// The place in send order of the message `id`.
    fn seq_of(&self, id: &str) -> Option<u64> {
        let hash = hash_id(id);
        self.seqs.find(hash, is_id(&self.slots, id, hash)).map(|entry| entry.seq)
    }

    fn slot(&self, seq: u64) -> &Slot<M> {
        self.slots.get(seq).expect("every id has its slot")
    }

    fn slot_mut(&mut self, seq: u64) -> &mut Slot<M> {
        self.slots.get_mut(seq).expect("every id has its slot")
    }

    /// Takes the slot at `seq` out of the filing and the send order (its id entry is the
    /// caller's to remove), applying any renumbering that closing up the send order made.
    fn drop_slot(&mut self, seq: u64) -> Slot<M> {
        let slot = self.slots.get_mut(seq).expect("every id has its slot");
        self.filing.unfile(seq, slot);
        if let Some(by_sent) = &mut self.by_sent {
            by_sent.remove(&(Deadline(slot.sent), seq));
        }
        let (slot, renumbered) = self.slots.remove(seq).expect("every id has its slot");
        if let Some(renumbered) = renumbered {
            self.renumber(&renumbered);
        }
        slot
    }

    /// The send order was closed up: what is kept by seq follows (the order is unchanged, so
    /// the sets are rebuilt from sorted sequences).
    fn renumber(&mut self, renumbered: &Renumbered) {
        for entry in &mut self.seqs {
            entry.seq = renumbered.seq(entry.seq);
        }
        let filing = &mut self.filing;
        filing.visible = filing.visible.iter().map(|&seq| renumbered.seq(seq)).collect();
        filing.hidden = filing.hidden.iter().map(|&(deadline, seq)| (deadline, renumbered.seq(seq))).collect();
        if let Some(by_sent) = &mut self.by_sent {
            *by_sent = by_sent.iter().map(|&(sent, seq)| (sent, renumbered.seq(seq))).collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue_of(messages: &[(&str, f64, f64)], now: f64) -> MessageQueue<String> {
        let mut queue = MessageQueue::new();
        for &(id, sent, visible_at) in messages {
            queue.add(id, id.to_string(), sent, visible_at, false, now);
        }
        queue
    }

    fn take_all(queue: &mut MessageQueue<String>, now: f64) -> Vec<String> {
        queue.promote(now);
        let mut taken = Vec::new();
        while let Some(message) = queue.take(now) {
            taken.push(message.clone());
        }
        taken
    }

    #[test]
    fn takes_visible_messages_in_send_order_and_skips_hidden_ones() {
        let mut queue = queue_of(&[("a", 0.0, 0.0), ("b", 0.0, 5.0), ("c", 0.0, 0.0)], 0.0);
        assert_eq!(take_all(&mut queue, 0.0), ["a", "c"]);
        // Taken messages have no place until filed again: they are not taken twice.
        assert_eq!(take_all(&mut queue, 10.0), ["b"]);
        assert_eq!(queue.len(), 3);
    }

    #[test]
    fn a_message_back_from_flight_keeps_its_send_order_place() {
        let mut queue = queue_of(&[("a", 0.0, 0.0), ("b", 0.0, 0.0), ("c", 0.0, 0.0)], 0.0);
        queue.promote(0.0);
        assert_eq!(queue.take(0.0).cloned().as_deref(), Some("a"));
        assert!(queue.update("a", "a".into(), 2.0, true, 0.0));
        assert_eq!(queue.in_flight(), 1);
        assert_eq!(queue.counts(0.0, -1.0), Counts { visible: 2, in_flight: 1, delayed: 0 });
        // At t=2 "a" is visible again, ahead of "b" and "c" that were sent after it.
        assert_eq!(take_all(&mut queue, 2.0), ["a", "b", "c"]);
        assert_eq!(queue.in_flight(), 0);
    }

    #[test]
    fn remove_and_update_report_missing_ids() {
        let mut queue = queue_of(&[("a", 0.0, 0.0)], 0.0);
        queue.add("a", "again".into(), 0.0, 0.0, false, 0.0); // the same id replaces
        assert_eq!(queue.len(), 1);
        *queue.get_mut("a").unwrap() = "a".into();
        assert_eq!(queue.remove("a").as_deref(), Some("a"));
        assert_eq!(queue.remove("a"), None);
        assert!(!queue.update("a", "a".into(), 0.0, false, 0.0));
        assert!(queue.is_empty());
    }

    #[test]
    fn an_id_added_again_replaces_its_message_and_goes_last() {
        let mut queue = queue_of(&[("a", 0.0, 5.0), ("b", 0.0, 0.0)], 0.0);
        queue.add("a", "a2".into(), 0.0, 0.0, false, 0.0);
        assert_eq!(queue.iter().cloned().collect::<Vec<_>>(), ["b", "a2"]);
        assert_eq!(queue.get("a").map(String::as_str), Some("a2"));
        // The first "a" (hidden until t=5) left the filing with its slot.
        assert_eq!(queue.counts(10.0, -1.0), Counts { visible: 2, in_flight: 0, delayed: 0 });
        assert_eq!(take_all(&mut queue, 10.0), ["b", "a2"]);
    }

    #[test]
    fn a_clock_gone_back_hides_a_message_again() {
        let mut queue = queue_of(&[("a", 0.0, 0.0)], 0.0);
        assert!(queue.update("a", "a".into(), 5.0, true, 6.0)); // filed as visible at t=6
        assert_eq!(take_all(&mut queue, 3.0), Vec::<String>::new());
        assert_eq!(queue.counts(3.0, -1.0), Counts { visible: 0, in_flight: 1, delayed: 0 });
        assert_eq!(take_all(&mut queue, 5.0), ["a"]);
    }

    #[test]
    fn expiry_drops_the_old_in_either_order() {
        let mut queue = queue_of(&[("a", 1.0, 0.0), ("b", 2.0, 0.0), ("c", 3.0, 0.0)], 0.0);
        assert_eq!(queue.drop_expired(0.5), 0);
        assert_eq!(queue.drop_expired(2.0), 2);
        assert_eq!(take_all(&mut queue, 0.0), ["c"]);
        // An older message arriving later (a dead-letter move) is found by the sent-time index.
        queue.add("old", "old".into(), 0.5, 0.0, false, 0.0);
        assert_eq!(queue.drop_expired(1.0), 1);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.counts(0.0, 2.5), Counts { visible: 1, in_flight: 0, delayed: 0 });
        assert_eq!(queue.counts(0.0, 3.0), Counts::default());
    }

    proptest::proptest! {
        /// Sends in any sent-time order (dead-letter moves bring older messages), deletes, and
        /// expiry with renumbering going on (a tiny slack): what expiry drops, and what it
        /// leaves, is what a list of the messages says.
        #[test]
        fn expiry_drops_what_a_list_says_in_any_order(
            steps in proptest::collection::vec((0u8..4, 0u16..64), 1..200),
        ) {
            let mut queue = MessageQueue::with_slack(2);
            let mut model: Vec<(String, f64)> = Vec::new();
            let mut next = 0u32;
            for (action, value) in steps {
                let value = f64::from(value);
                match action {
                    0 | 1 => {
                        let id = format!("m{next}");
                        next += 1;
                        queue.add(&id, id.clone(), value, 0.0, false, 0.0);
                        model.push((id, value));
                    }
                    2 => {
                        if !model.is_empty() {
                            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                            let (id, _) = model.remove(value as usize % model.len());
                            proptest::prop_assert!(queue.remove(&id).is_some());
                        }
                    }
                    _ => {
                        let cutoff = value / 2.0;
                        let before = model.len();
                        model.retain(|&(_, sent)| sent > cutoff);
                        proptest::prop_assert_eq!(queue.drop_expired(cutoff), before - model.len());
                    }
                }
                proptest::prop_assert_eq!(queue.len(), model.len());
                let kept: Vec<&String> = queue.iter().collect();
                let modeled: Vec<&String> = model.iter().map(|(id, _)| id).collect();
                proptest::prop_assert_eq!(kept, modeled);
            }
        }
    }

    #[test]
    fn settled_counts_agree_with_a_scan() {
        let mut queue = queue_of(&[("a", 0.0, 9.0), ("b", 1.0, 0.0), ("c", 2.0, 0.0), ("d", 3.0, 0.0)], 0.0);
        queue.promote(0.0);
        queue.take(0.0);
        queue.update("b", "b".into(), 5.0, true, 0.0);
        for now in [0.0, 5.0, 9.0, 10.0] {
            let scanned = queue.counts(now, -1.0);
            assert_eq!(queue.settled_counts(now, -1.0), scanned, "at {now}");
        }
        // Gone back before the latest filing: "b" is filed visible at 10 but hidden at 4.
        queue.update("b", "b".into(), 5.0, true, 10.0);
        assert_eq!(queue.settled_counts(4.0, -1.0), Counts { visible: 2, in_flight: 1, delayed: 1 });
        // Expired ones are dropped first: "a" and "b" were sent at or before 1.
        assert_eq!(queue.settled_counts(10.0, 1.0), Counts { visible: 2, in_flight: 0, delayed: 0 });
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn counts_tell_delayed_from_in_flight() {
        let mut queue = queue_of(&[("a", 0.0, 9.0), ("b", 0.0, 0.0)], 0.0);
        queue.promote(0.0);
        queue.take(0.0);
        queue.update("b", "b".into(), 9.0, true, 0.0);
        assert_eq!(queue.counts(0.0, -1.0), Counts { visible: 0, in_flight: 1, delayed: 1 });
        assert_eq!(queue.iter().cloned().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn a_long_backlog_drains_completely_with_interleaved_returns() {
        let mut queue = MessageQueue::new();
        for i in 0..1000 {
            let id = i.to_string();
            queue.add(id.as_str(), id.clone(), 0.0, 0.0, false, 0.0);
        }
        let mut seen = 0;
        let mut now = 0.0;
        while !queue.is_empty() {
            queue.promote(now);
            let Some(message) = queue.take(now).cloned() else {
                now += 1.0;
                continue;
            };
            seen += 1;
            if seen % 3 == 0 {
                // Every third one comes back after a second, as an unfinished receive's would.
                queue.update(&message, message.clone(), now + 1.0, true, now);
            } else {
                queue.remove(&message);
            }
        }
        assert!(seen > 1000);
        assert_eq!(queue.in_flight(), 0);
    }
}
