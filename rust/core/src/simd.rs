//! Byte classification many bytes at a time: the scanner's only `unsafe` code.
//!
//! Two questions are asked of event bytes in bulk. Where does a string's plain content end (the
//! next quote, backslash or control character)? And, for a 64-byte block, which bytes are
//! quotes, backslashes, control characters, whitespace and the structural characters
//! `{ } [ ] : ,`, as one bit per byte? The first runs wherever the scanner reads a string; the
//! second is the first stage of the structural skipper (`structural.rs`), as simdjson's first
//! stage classifies its input.
//!
//! The instruction set is chosen once per process: AVX2 when the processor has it (checked at
//! run time), else SSE2, which every x86-64 processor has; on aarch64 NEON, part of its baseline
//! (`simd/neon.rs`); elsewhere portable code, eight bytes to a word. Every path answers exactly as
//! the portable one does (property tests hold them together).

use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction set the classifiers can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Portable code, a byte or a word at a time.
    Portable,
    /// SSE2, 16 bytes at a time (the x86-64 baseline).
    Sse2,
    /// AVX2, 32 bytes at a time, when the processor has it.
    Avx2,
    /// NEON, 16 bytes at a time (the aarch64 baseline).
    Neon,
}

/// The detected level plus one; 0 until first asked.
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// The best level this processor runs, detected on first use and then cached.
#[inline]
pub fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        1 => Level::Portable,
        2 => Level::Sse2,
        3 => Level::Avx2,
        4 => Level::Neon,
        _ => {
            let detected = detect();
            LEVEL.store(detected as u8 + 1, Ordering::Relaxed);
            detected
        }
    }
}

#[cold]
fn detect() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            Level::Avx2
        } else {
            Level::Sse2
        }
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    {
        Level::Neon
    }
    #[cfg(not(any(target_arch = "x86_64", all(target_arch = "aarch64", target_feature = "neon"))))]
    {
        Level::Portable
    }
}

/// Every level this processor can run, the portable one first (for tests that hold them
/// together).
pub fn levels() -> Vec<Level> {
    let mut all = vec![Level::Portable];
    if cfg!(target_arch = "x86_64") {
        all.push(Level::Sse2);
    }
    if level() == Level::Avx2 {
        all.push(Level::Avx2);
    }
    if level() == Level::Neon {
        all.push(Level::Neon);
    }
    all
}

/// One bit per byte of a 64-byte block (bit `k` for byte `k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Masks {
    pub quote: u64,
    pub backslash: u64,
    /// Bytes below 0x20 (whitespace other than the space included).
    pub control: u64,
    /// The space, tab, line feed and carriage return.
    pub whitespace: u64,
    /// `{`, `}`, `[`, `]`, `:` and `,`.
    pub structural: u64,
    /// `0` to `9`.
    pub digit: u64,
}

/// Classifies the 64 bytes of `block` at `level` (which must be one this processor runs:
/// `level()` or below).
#[inline(always)]
pub fn classify(level: Level, block: &[u8; 64]) -> Masks {
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level is AVX2 only when `detect` found the processor has it.
        Level::Avx2 => unsafe { x86::classify_avx2(block) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE2 is part of the x86-64 baseline.
        Level::Sse2 => unsafe { x86::classify_sse2(block) },
        #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
        Level::Neon => neon::classify_neon(block),
        _ => classify_portable(block),
    }
}

/// The portable classifier, a byte at a time.
pub fn classify_portable(block: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (k, &c) in block.iter().enumerate() {
        let bit = 1u64 << k;
        let set = |mask: &mut u64, yes: bool| {
            if yes {
                *mask |= bit;
            }
        };
        set(&mut m.quote, c == b'"');
        set(&mut m.backslash, c == b'\\');
        set(&mut m.control, c < 0x20);
        set(&mut m.whitespace, matches!(c, b' ' | b'\t' | b'\n' | b'\r'));
        set(&mut m.structural, matches!(c, b'{' | b'}' | b'[' | b']' | b':' | b','));
        set(&mut m.digit, c.is_ascii_digit());
    }
    m
}

/// The offset of the first byte at or after `i` that ends a run of plain string content: a
/// quote, a backslash or a control character (or `b.len()`).
#[inline(always)]
pub fn special_byte(b: &[u8], i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        // Most strings (keys, short values) end within 16 bytes: one SSE2 step, no dispatch.
        if i + 16 <= b.len() {
            // SAFETY: SSE2 is part of the x86-64 baseline, and the 16 bytes from `i` are in bounds.
            let mask = unsafe { x86::special16(b, i) };
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            return special_byte_at(level(), b, i + 16);
        }
        special_byte_swar(b, i)
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    {
        // NEON is always there: no dispatch to skip.
        neon::special_byte_neon(b, i)
    }
    #[cfg(not(any(target_arch = "x86_64", all(target_arch = "aarch64", target_feature = "neon"))))]
    {
        special_byte_swar(b, i)
    }
}

/// `special_byte` at a given level (which must be one this processor runs).
#[inline]
pub fn special_byte_at(level: Level, b: &[u8], i: usize) -> usize {
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level is AVX2 only when `detect` found the processor has it.
        Level::Avx2 => unsafe { x86::special_byte_avx2(b, i) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE2 is part of the x86-64 baseline.
        Level::Sse2 => unsafe { x86::special_byte_sse2(b, i) },
        #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
        Level::Neon => neon::special_byte_neon(b, i),
        _ => special_byte_swar(b, i),
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` below `limit` (at most 0x80), read little-endian. Exact
/// up to the lowest flagged byte; a byte above it may be flagged wrongly by the borrow, so only
/// the lowest bit, or whether any is set, means anything.
#[inline(always)]
pub fn bytes_below(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGHS
}

/// `bytes_below` for the bytes equal to `byte`.
#[inline(always)]
pub fn bytes_equal(word: u64, byte: u8) -> u64 {
    bytes_below(word ^ (ONES * u64::from(byte)), 1)
}

/// Eight bytes at a time in a word.
#[inline]
pub fn special_byte_swar(b: &[u8], mut i: usize) -> usize {
    while i + 8 <= b.len() {
        let word = u64::from_le_bytes(b[i..i + 8].try_into().expect("eight bytes"));
        // A byte is flagged when it is below 0x20, equal to '"' or equal to '\\'.
        let flags = bytes_below(word, 0x20) | bytes_equal(word, b'"') | bytes_equal(word, b'\\');
        if flags != 0 {
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && b[i] >= 0x20 && b[i] != b'"' && b[i] != b'\\' {
        i += 1;
    }
    i
}

/// The ASCII digits among the 32 bytes from `i`, one bit each (bit k for byte `i + k`), or
/// `None` where fewer than 32 bytes are left or no vector instructions are at hand.
#[inline(always)]
pub fn digits32(b: &[u8], i: usize) -> Option<u32> {
    #[cfg(target_arch = "x86_64")]
    {
        if i + 32 <= b.len() {
            // SAFETY: SSE2 is part of the x86-64 baseline, and the 32 bytes from `i` are in bounds.
            return Some(unsafe { x86::digits16(b, i) | x86::digits16(b, i + 16) << 16 });
        }
    }
    let _ = (b, i);
    None
}

/// How many of the 64 bytes from `i` are a space or below it (whitespace, in valid JSON), or
/// `None` where fewer than 64 bytes are left or no vector instructions are at hand. A cheaper
/// question than `classify`'s, for deciding how to skip a container.
#[inline(always)]
pub fn blanks64(b: &[u8], i: usize) -> Option<u32> {
    #[cfg(target_arch = "x86_64")]
    {
        if i + 64 <= b.len() {
            // SAFETY: SSE2 is part of the x86-64 baseline, and the 64 bytes from `i` are in bounds.
            let mask = unsafe {
                u64::from(x86::blanks16(b, i))
                    | u64::from(x86::blanks16(b, i + 16)) << 16
                    | u64::from(x86::blanks16(b, i + 32)) << 32
                    | u64::from(x86::blanks16(b, i + 48)) << 48
            };
            return Some(mask.count_ones());
        }
    }
    let _ = (b, i);
    None
}

#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod neon;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm256_andnot_si256, _mm256_broadcastsi128_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256,
        _mm256_max_epu8, _mm256_min_epu8, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_shuffle_epi8,
        _mm256_sub_epi8, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_sub_epi8,
    };

    use super::{special_byte_swar, Masks};

    /// A table of bytes by low nibble: each of `bytes` at the index of its own low nibble (no two
    /// may share one). Other entries hold a byte whose low nibble is not their index, which no
    /// byte looking it up can equal.
    const fn by_nibble(bytes: [u8; 4]) -> [u8; 16] {
        let mut table = [0x80; 16];
        let mut k = 0;
        while k < bytes.len() {
            table[(bytes[k] & 0x0f) as usize] = bytes[k];
            k += 1;
        }
        table
    }

    /// JSON's whitespace: the space, tab, line feed and carriage return have four different
    /// low nibbles.
    const WHITESPACE_BY_NIBBLE: [u8; 16] = by_nibble(*b" \t\n\r");

    /// `{`, `}`, `:` and `,` (`[` and `]` are found folded onto `{` and `}`).
    const STRUCTURAL_BY_NIBBLE: [u8; 16] = by_nibble(*b"{}:,");

    /// The ASCII digits of the 16 bytes at `i`, one bit each.
    ///
    /// # Safety
    /// `i + 16 <= b.len()`.
    #[inline(always)]
    pub unsafe fn digits16(b: &[u8], i: usize) -> u32 {
        debug_assert!(i + 16 <= b.len());
        // SAFETY: the caller keeps the 16 bytes in bounds; the load has no alignment requirement
        // and SSE2 is part of the x86-64 baseline.
        unsafe {
            let chunk = _mm_loadu_si128(b.as_ptr().add(i).cast());
            // A digit is 0..=9 once '0' is taken away (as bytes, wrapping): min(x, 9) == x.
            let offset = _mm_sub_epi8(chunk, _mm_set1_epi8(b'0' as i8));
            let digit = _mm_cmpeq_epi8(_mm_min_epu8(offset, _mm_set1_epi8(9)), offset);
            _mm_movemask_epi8(digit) as u32
        }
    }

    /// The bytes of the 16 at `i` that are a space or below it, one bit each.
    ///
    /// # Safety
    /// `i + 16 <= b.len()`.
    #[inline(always)]
    pub unsafe fn blanks16(b: &[u8], i: usize) -> u16 {
        debug_assert!(i + 16 <= b.len());
        // SAFETY: the caller keeps the 16 bytes in bounds; the load has no alignment requirement
        // and SSE2 is part of the x86-64 baseline.
        unsafe {
            let chunk = _mm_loadu_si128(b.as_ptr().add(i).cast());
            // Unsigned x <= 0x20 exactly when min(x, 0x20) == x.
            let blank = _mm_cmpeq_epi8(_mm_min_epu8(chunk, _mm_set1_epi8(0x20)), chunk);
            _mm_movemask_epi8(blank) as u16
        }
    }

    /// The special bytes of the 16 bytes at `i`, one bit each.
    ///
    /// # Safety
    /// `i + 16 <= b.len()`.
    #[inline(always)]
    pub unsafe fn special16(b: &[u8], i: usize) -> u32 {
        debug_assert!(i + 16 <= b.len());
        // SAFETY: the caller keeps the 16 bytes in bounds; the load has no alignment requirement
        // and SSE2 is part of the x86-64 baseline.
        unsafe {
            let chunk = _mm_loadu_si128(b.as_ptr().add(i).cast());
            let quote = _mm_cmpeq_epi8(chunk, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(chunk, _mm_set1_epi8(b'\\' as i8));
            // Unsigned x <= 0x1f exactly when max(x, 0x1f) == 0x1f.
            let low = _mm_set1_epi8(0x1f);
            let control = _mm_cmpeq_epi8(_mm_max_epu8(chunk, low), low);
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
        }
    }

    /// # Safety
    /// None beyond SSE2, which every x86-64 processor has.
    #[inline]
    pub unsafe fn special_byte_sse2(b: &[u8], mut i: usize) -> usize {
        while i + 16 <= b.len() {
            // SAFETY: the 16 bytes from `i` are in bounds by the loop condition.
            let mask = unsafe { special16(b, i) };
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 16;
        }
        special_byte_swar(b, i)
    }

    /// # Safety
    /// The processor must have AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn special_byte_avx2(b: &[u8], mut i: usize) -> usize {
        while i + 32 <= b.len() {
            // SAFETY: the 32 bytes read from `i` are in bounds by the loop condition; the load has
            // no alignment requirement; the caller guarantees AVX2.
            let mask = unsafe {
                let chunk = _mm256_loadu_si256(b.as_ptr().add(i).cast());
                let quote = _mm256_cmpeq_epi8(chunk, _mm256_set1_epi8(b'"' as i8));
                let backslash = _mm256_cmpeq_epi8(chunk, _mm256_set1_epi8(b'\\' as i8));
                let low = _mm256_set1_epi8(0x1f);
                let control = _mm256_cmpeq_epi8(_mm256_max_epu8(chunk, low), low);
                _mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(quote, backslash), control)) as u32
            };
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 32;
        }
        // SAFETY: SSE2 is part of the x86-64 baseline.
        unsafe { special_byte_sse2(b, i) }
    }

    /// The masks of 16 bytes, in the low 16 bits of each field.
    #[inline(always)]
    unsafe fn masks16(chunk: __m128i) -> [u64; 6] {
        // SAFETY: SSE2 register operations only, part of the x86-64 baseline.
        unsafe {
            let eq = |c: u8| _mm_cmpeq_epi8(chunk, _mm_set1_epi8(c as i8));
            let bits = |v: __m128i| u64::from(_mm_movemask_epi8(v) as u16);
            let low = _mm_set1_epi8(0x1f);
            let control = _mm_cmpeq_epi8(_mm_max_epu8(chunk, low), low);
            // '[' and ']' differ from '{' and '}' only in bit 5.
            let folded = _mm_or_si128(chunk, _mm_set1_epi8(0x20));
            let brackets = _mm_or_si128(
                _mm_cmpeq_epi8(folded, _mm_set1_epi8(b'{' as i8)),
                _mm_cmpeq_epi8(folded, _mm_set1_epi8(b'}' as i8)),
            );
            let structural = _mm_or_si128(brackets, _mm_or_si128(eq(b':'), eq(b',')));
            let whitespace = _mm_or_si128(_mm_or_si128(eq(b' '), eq(b'\t')), _mm_or_si128(eq(b'\n'), eq(b'\r')));
            // x is a digit exactly when clamping it to '0'..='9' leaves it unchanged.
            let clamped = _mm_min_epu8(_mm_max_epu8(chunk, _mm_set1_epi8(b'0' as i8)), _mm_set1_epi8(b'9' as i8));
            let digit = _mm_cmpeq_epi8(clamped, chunk);
            [bits(eq(b'"')), bits(eq(b'\\')), bits(control), bits(whitespace), bits(structural), bits(digit)]
        }
    }

    /// # Safety
    /// None beyond SSE2, which every x86-64 processor has.
    #[inline]
    pub unsafe fn classify_sse2(block: &[u8; 64]) -> Masks {
        let mut m = [0u64; 6];
        for part in 0..4 {
            // SAFETY: bytes 16 * part .. 16 * part + 16 lie within the 64-byte block.
            let bits = unsafe { masks16(_mm_loadu_si128(block.as_ptr().add(16 * part).cast())) };
            for (field, b) in m.iter_mut().zip(bits) {
                *field |= b << (16 * part);
            }
        }
        Masks { quote: m[0], backslash: m[1], control: m[2], whitespace: m[3], structural: m[4], digit: m[5] }
    }

    /// The masks of 32 bytes, in the low 32 bits of each field.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn masks32(chunk: __m256i) -> [u64; 6] {
        let eq = |c: u8| _mm256_cmpeq_epi8(chunk, _mm256_set1_epi8(c as i8));
        let bits = |v: __m256i| u64::from(_mm256_movemask_epi8(v) as u32);
        // x < 0x20 exactly when min(x, 0x1f) == x.
        let control = _mm256_cmpeq_epi8(_mm256_min_epu8(chunk, _mm256_set1_epi8(0x1f)), chunk);
        // A byte is in a class of at most one byte per low nibble when it equals the class's
        // byte for its low nibble (looked up in a table; bytes with the high bit set look up 0).
        let table = |t: [u8; 16]| _mm256_broadcastsi128_si256(_mm_loadu_si128(t.as_ptr().cast()));
        let whitespace = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(table(WHITESPACE_BY_NIBBLE), chunk), chunk);
        // '[' and ']' differ from '{' and '}' only in bit 5, and so do ':' and ',' from the
        // control bytes 0x1a and 0x0c, which are taken out again.
        let folded = _mm256_or_si256(chunk, _mm256_set1_epi8(0x20));
        let structural = _mm256_andnot_si256(
            control,
            _mm256_cmpeq_epi8(_mm256_shuffle_epi8(table(STRUCTURAL_BY_NIBBLE), folded), folded),
        );
        // A digit is 0..=9 once '0' is taken away (as bytes, wrapping): min(x, 9) == x.
        let offset = _mm256_sub_epi8(chunk, _mm256_set1_epi8(b'0' as i8));
        let digit = _mm256_cmpeq_epi8(_mm256_min_epu8(offset, _mm256_set1_epi8(9)), offset);
        [bits(eq(b'"')), bits(eq(b'\\')), bits(control), bits(whitespace), bits(structural), bits(digit)]
    }

    /// # Safety
    /// The processor must have AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn classify_avx2(block: &[u8; 64]) -> Masks {
        // SAFETY: both 32-byte loads lie within the 64-byte block; the caller guarantees AVX2.
        let (low, high) = unsafe {
            (
                masks32(_mm256_loadu_si256(block.as_ptr().cast())),
                masks32(_mm256_loadu_si256(block.as_ptr().add(32).cast())),
            )
        };
        let m = |k: usize| low[k] | high[k] << 32;
        Masks { quote: m(0), backslash: m(1), control: m(2), whitespace: m(3), structural: m(4), digit: m(5) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The processor's own SIMD level is detected and tested: a build that fell back to the
    /// portable code would pass every other test here without running a vector instruction.
    #[test]
    fn the_processors_vector_level_is_among_those_tested() {
        #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
        {
            assert_eq!(level(), Level::Neon);
            assert_eq!(levels(), [Level::Portable, Level::Neon]);
        }
        #[cfg(target_arch = "x86_64")]
        {
            assert!(matches!(level(), Level::Sse2 | Level::Avx2), "{:?}", level());
            assert_eq!(&levels()[..2], [Level::Portable, Level::Sse2]);
            assert_eq!(levels().contains(&Level::Avx2), level() == Level::Avx2);
        }
        assert!(!levels().contains(&Level::Neon) || cfg!(target_arch = "aarch64"));
    }

    /// Each byte value alone in each position, among bytes of another class: every bit of every
    /// mask lands where the portable classifier puts it.
    #[test]
    fn every_byte_is_classified_alike_in_every_position() {
        for background in [b'a', b' ', b'"'] {
            for k in 0..64 {
                for c in 0..=255u8 {
                    let mut block = [background; 64];
                    block[k] = c;
                    let expected = classify_portable(&block);
                    for level in levels() {
                        assert_eq!(
                            classify(level, &block),
                            expected,
                            "{level:?}: {c:#04x} at {k} among {background:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_level_classifies_every_byte_alike() {
        for start in (0..=255u8).step_by(64) {
            let block: [u8; 64] = std::array::from_fn(|k| start.wrapping_add(k as u8));
            let expected = classify_portable(&block);
            for level in levels() {
                assert_eq!(classify(level, &block), expected, "{level:?} from {start}");
            }
        }
    }

    #[test]
    fn special_bytes_are_found_in_every_position_at_every_level() {
        for len in 0..80 {
            for at in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1f] {
                    let mut text = vec![b'x'; len];
                    text[at] = special;
                    assert_eq!(special_byte(&text, 0), at);
                    for level in levels() {
                        assert_eq!(special_byte_at(level, &text, 0), at, "{level:?} {text:?}");
                    }
                }
            }
            assert_eq!(special_byte(&vec![b'x'; len], 0), len);
            for level in levels() {
                assert_eq!(special_byte_at(level, &vec![0xe9; len], 0), len);
            }
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Bytes that are mostly plain content, with every class the scanners look for.
        fn text() -> impl Strategy<Value = Vec<u8>> {
            let byte = prop_oneof![
                8 => Just(b'x'),
                1 => Just(b'"'),
                1 => Just(b'\\'),
                1 => 0..0x20u8,
                1 => any::<u8>(),
            ];
            prop::collection::vec(byte, 0..200)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            #[test]
            fn random_blocks_are_classified_alike(block in any::<[u8; 64]>()) {
                let expected = classify_portable(&block);
                for level in levels() {
                    prop_assert_eq!(classify(level, &block), expected, "{:?}", level);
                }
            }

            #[test]
            fn blanks_are_counted_as_bytes_up_to_the_space(text in text(), start in 0..200usize) {
                let start = start.min(text.len());
                let expected = text.get(start..start + 64).map(|block| block.iter().filter(|&&c| c <= b' ').count() as u32);
                let got = blanks64(&text, start);
                if cfg!(target_arch = "x86_64") {
                    prop_assert_eq!(got, expected);
                } else {
                    prop_assert!(got.is_none() || got == expected);
                }
            }

            #[test]
            fn the_first_special_byte_is_found_at_every_level(text in text(), start in 0..200usize) {
                let start = start.min(text.len());
                let expected = text[start..]
                    .iter()
                    .position(|&c| c < 0x20 || c == b'"' || c == b'\\')
                    .map_or(text.len(), |k| start + k);
                prop_assert_eq!(special_byte(&text, start), expected);
                for level in levels() {
                    prop_assert_eq!(special_byte_at(level, &text, start), expected, "{:?}", level);
                }
            }
        }
    }
}
