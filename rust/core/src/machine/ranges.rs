//! Numeric ranges filed so that a lookup scans little beyond the ranges that hold the value.

use crate::value::Range;

/// A numeric range as the index keeps it: compact, so that scans stay in cache.
#[derive(Debug, Clone, Copy)]
struct Span {
    low: f64,
    high: f64,
    id: u32,
    low_inclusive: bool,
    high_inclusive: bool,
}

impl Span {
    fn new(range: Range, id: u32) -> Self {
        let (low, low_inclusive) = range.low.map_or((f64::NEG_INFINITY, true), |b| (b.value, b.inclusive));
        let (high, high_inclusive) = range.high.map_or((f64::INFINITY, true), |b| (b.value, b.inclusive));
        Self { low, high, id, low_inclusive, high_inclusive }
    }

    #[inline]
    fn contains(&self, x: f64) -> bool {
        (x > self.low || (self.low_inclusive && x >= self.low))
            && (x < self.high || (self.high_inclusive && x <= self.high))
    }
}

/// Numeric ranges, grouped so that a lookup scans little beyond the ranges that hold the value:
/// ranges open above (all ranges starting at or below x hold it), ranges open below (all ending
/// at or above x), and bounded ranges by width class (those starting within one class width
/// below x, of which at least half hold it). Sorted lazily after changes.
#[derive(Debug, Clone, Default)]
pub(super) struct Ranges {
    /// Sorted by lower bound.
    open_above: Vec<Span>,
    /// Sorted by upper bound.
    open_below: Vec<Span>,
    /// Width class (a power of two) and its ranges, sorted by lower bound.
    bounded: Vec<(f64, Vec<Span>)>,
    len: usize,
    dirty: bool,
}

impl Ranges {
    /// How many ranges are filed.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Whether `build` must run before probing.
    pub(super) fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// The smallest power of two at or above the width.
    fn class_width(width: f64) -> f64 {
        if width <= f64::MIN_POSITIVE {
            return f64::MIN_POSITIVE;
        }
        let w = 2f64.powi(width.log2().ceil() as i32);
        if w < width {
            w * 2.0
        } else {
            w
        }
    }

    pub(super) fn insert(&mut self, range: Range, id: u32) {
        let span = Span::new(range, id);
        match (range.low, range.high) {
            (Some(_), Some(_)) => {
                // A probe reaches back from x by the class width, as floating point computes
                // x - width; the width must reach the lower bound from the upper one that way,
                // which the rounded difference of the bounds alone does not ensure (1.1 - 0.1
                // rounds to 1, and 1.1 - 1 is above 0.1).
                let mut width = Self::class_width(span.high - span.low);
                while span.high - width > span.low {
                    width *= 2.0;
                }
                // Class widths are exact powers of two, so comparing their bits is exact.
                match self.bounded.iter_mut().find(|(w, _)| w.to_bits() == width.to_bits()) {
                    Some((_, spans)) => spans.push(span),
                    None => self.bounded.push((width, vec![span])),
                }
            }
            (None, Some(_)) => self.open_below.push(span),
            _ => self.open_above.push(span),
        }
        self.len += 1;
        self.dirty = true;
    }

    pub(super) fn remove(&mut self, id: u32) {
        let before = self.open_above.len() + self.open_below.len();
        self.open_above.retain(|s| s.id != id);
        self.open_below.retain(|s| s.id != id);
        let mut removed = before - self.open_above.len() - self.open_below.len();
        for (_, spans) in &mut self.bounded {
            let n = spans.len();
            spans.retain(|s| s.id != id);
            removed += n - spans.len();
        }
        self.bounded.retain(|(_, spans)| !spans.is_empty());
        self.len -= removed;
    }

    pub(super) fn build(&mut self) {
        self.open_above.sort_by(|a, b| a.low.total_cmp(&b.low));
        self.open_below.sort_by(|a, b| a.high.total_cmp(&b.high));
        for (_, spans) in &mut self.bounded {
            spans.sort_by(|a, b| a.low.total_cmp(&b.low));
        }
        self.dirty = false;
    }

    #[inline]
    pub(super) fn probe(&self, x: f64, hit: &mut impl FnMut(u32)) {
        let end = self.open_above.partition_point(|s| s.low <= x);
        for span in &self.open_above[..end] {
            if span.contains(x) {
                hit(span.id);
            }
        }
        let start = self.open_below.partition_point(|s| s.high < x);
        for span in &self.open_below[start..] {
            if span.contains(x) {
                hit(span.id);
            }
        }
        for (width, spans) in &self.bounded {
            let from = x - width;
            let start = spans.partition_point(|s| s.low < from);
            for span in &spans[start..] {
                if span.low > x {
                    break;
                }
                if span.contains(x) {
                    hit(span.id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Bound;

    fn range(low: Option<(f64, bool)>, high: Option<(f64, bool)>) -> Range {
        let bound = |(value, inclusive)| Bound { value, inclusive };
        Range { low: low.map(bound), high: high.map(bound) }
    }

    fn probe(ranges: &Ranges, x: f64) -> Vec<u32> {
        let mut hits = Vec::new();
        ranges.probe(x, &mut |id| hits.push(id));
        hits.sort_unstable();
        hits
    }

    #[test]
    #[allow(clippy::float_cmp)] // powers of two are exact
    fn class_widths_are_the_powers_of_two_at_or_above_a_width() {
        assert_eq!(Ranges::class_width(1.0), 1.0);
        assert_eq!(Ranges::class_width(3.0), 4.0);
        assert_eq!(Ranges::class_width(4.5), 8.0);
        assert_eq!(Ranges::class_width(0.3), 0.5);
        assert_eq!(Ranges::class_width(0.0), f64::MIN_POSITIVE);
    }

    #[test]
    fn open_and_bounded_ranges_hold_what_their_bounds_say() {
        let mut ranges = Ranges::default();
        ranges.insert(range(Some((0.0, false)), None), 1); // > 0
        ranges.insert(range(None, Some((10.0, true))), 2); // <= 10
        ranges.insert(range(Some((5.0, true)), Some((6.0, false))), 3); // [5, 6)
        ranges.insert(range(Some((-100.0, false)), Some((100.0, true))), 4); // (-100, 100]
        ranges.insert(range(Some((5.5, true)), Some((5.5, true))), 5); // = 5.5
        assert!(ranges.is_dirty());
        ranges.build();
        assert!(!ranges.is_dirty());
        assert_eq!(ranges.len(), 5);
        assert_eq!(probe(&ranges, 0.0), [2, 4]);
        assert_eq!(probe(&ranges, 5.0), [1, 2, 3, 4]);
        assert_eq!(probe(&ranges, 5.5), [1, 2, 3, 4, 5]);
        assert_eq!(probe(&ranges, 6.0), [1, 2, 4]);
        assert_eq!(probe(&ranges, 10.0), [1, 2, 4]);
        assert_eq!(probe(&ranges, 100.0), [1, 4]);
        assert_eq!(probe(&ranges, 100.5), [1]);
        assert_eq!(probe(&ranges, -100.0), [2]);
    }

    #[test]
    fn many_bounded_ranges_of_one_class_are_found_by_their_lower_bounds() {
        let mut ranges = Ranges::default();
        for i in 0..100 {
            let low = f64::from(i);
            ranges.insert(range(Some((low, true)), Some((low + 1.0, false))), i as u32);
        }
        ranges.build();
        assert_eq!(probe(&ranges, 42.0), [42]);
        assert_eq!(probe(&ranges, 42.5), [42]);
        assert_eq!(probe(&ranges, 99.999), [99]);
        assert!(probe(&ranges, 100.0).is_empty());
    }

    #[test]
    fn bounds_whose_difference_rounds_down_are_still_reached() {
        // Decimal bounds (tenths and thousandths) whose difference rounds below the true width;
        // every probe is held to the ranges' own test.
        let mut spans = Vec::new();
        let mut ranges = Ranges::default();
        let mut id = 0;
        for a in 0..40 {
            for b in a + 1..45 {
                for scale in [0.1, 0.001, 1.1] {
                    let r = range(Some((f64::from(a) * scale, a % 2 == 0)), Some((f64::from(b) * scale, b % 3 != 0)));
                    ranges.insert(r, id);
                    spans.push((r, id));
                    id += 1;
                }
            }
        }
        ranges.build();
        for k in 0..50 {
            for scale in [0.1, 0.001, 1.1, 0.05] {
                let x = f64::from(k) * scale;
                let mut expected: Vec<u32> = spans.iter().filter(|(r, _)| r.contains(x)).map(|&(_, id)| id).collect();
                expected.sort_unstable();
                assert_eq!(probe(&ranges, x), expected, "{x}");
            }
        }
        // The case that found it: (0.1, 1.1] holds 1.1.
        let mut one = Ranges::default();
        one.insert(range(Some((0.1, false)), Some((1.1, true))), 7);
        one.build();
        assert_eq!(probe(&one, 1.1), [7]);
    }

    #[test]
    fn removed_ranges_are_gone_and_classes_emptied_are_dropped() {
        let mut ranges = Ranges::default();
        ranges.insert(range(Some((0.0, true)), Some((1.0, true))), 1);
        ranges.insert(range(Some((0.0, true)), Some((1000.0, true))), 2);
        ranges.insert(range(None, Some((3.0, true))), 3);
        ranges.build();
        ranges.remove(2);
        ranges.remove(3);
        assert_eq!(ranges.len(), 1);
        assert_eq!(ranges.bounded.len(), 1);
        assert_eq!(probe(&ranges, 0.5), [1]);
        assert!(probe(&ranges, 500.0).is_empty());
    }
}
