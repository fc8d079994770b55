//! The classifiers on aarch64's NEON, 16 bytes to a register.
//!
//! NEON is part of the aarch64 baseline (this module is compiled only when the target has it), so
//! nothing is detected at run time and the functions here are safe to call.
//!
//! NEON has no `movemask` (x86's one bit per byte from a comparison), so each comparison result
//! (0xff or 0x00 per byte) is narrowed in one of two ways, each the cheaper for its use:
//! - `special_byte` wants only the first flagged byte of 16. `vshrn_n_u16` shifts each 16-bit
//!   lane right by 4 and keeps its low byte: one instruction turns the 16 bytes into 64 bits, four
//!   per byte in order, so the first flagged byte is `trailing_zeros / 4`.
//! - The block classifier wants one bit per byte over 64 bytes. Each byte is ANDed with its bit's
//!   weight within its group of eight (1, 2, 4 ... 128), and three rounds of pairwise adds
//!   (`vpaddq_u8`) sum each group of eight into one byte, the four registers of the block at once:
//!   nine instructions per 64-bit mask, where narrowing to nibbles would leave 256 bits to
//!   compress.

use std::arch::aarch64::{
    uint8x16_t, vandq_u8, vceqq_u8, vcleq_u8, vcltq_u8, vdupq_n_u8, vget_lane_u64, vgetq_lane_u64, vld1q_u8, vorrq_u8,
    vpaddq_u8, vqtbl1q_u8, vreinterpret_u64_u8, vreinterpretq_u16_u8, vreinterpretq_u64_u8, vshrn_n_u16, vshrq_n_u8,
    vsubq_u8, vtstq_u8,
};

use super::{special_byte_swar, Masks};

/// The 16 bytes of `b` from `i`.
///
/// # Safety
/// `i + 16 <= b.len()`.
#[inline(always)]
unsafe fn load16(b: &[u8], i: usize) -> uint8x16_t {
    debug_assert!(i + 16 <= b.len());
    // SAFETY: the caller keeps the 16 bytes in bounds; `vld1q_u8` has no alignment requirement and
    // NEON is enabled for this module's target.
    unsafe { vld1q_u8(b.as_ptr().add(i)) }
}

/// The quotes, backslashes and control characters of `chunk`, four bits per byte in byte order
/// (all four set for a flagged byte, none for another).
#[inline(always)]
fn special_nibbles(chunk: uint8x16_t) -> u64 {
    // SAFETY: NEON register operations only, enabled for this module's target.
    unsafe {
        let quote = vceqq_u8(chunk, vdupq_n_u8(b'"'));
        let backslash = vceqq_u8(chunk, vdupq_n_u8(b'\\'));
        let control = vcltq_u8(chunk, vdupq_n_u8(0x20));
        let flags = vorrq_u8(vorrq_u8(quote, backslash), control);
        vget_lane_u64::<0>(vreinterpret_u64_u8(vshrn_n_u16::<4>(vreinterpretq_u16_u8(flags))))
    }
}

/// The offset of the first quote, backslash or control character at or after `i` (or `b.len()`).
#[inline]
pub fn special_byte_neon(b: &[u8], mut i: usize) -> usize {
    while i + 16 <= b.len() {
        // SAFETY: the 16 bytes from `i` are in bounds by the loop condition.
        let nibbles = special_nibbles(unsafe { load16(b, i) });
        if nibbles != 0 {
            return i + (nibbles.trailing_zeros() / 4) as usize;
        }
        i += 16;
    }
    special_byte_swar(b, i)
}

/// One bit per byte of the four registers' comparison results (bit `k` for byte `k` of the
/// 64), by bit weights and pairwise adds (see the module's notes).
#[inline(always)]
fn bits(v: [uint8x16_t; 4]) -> u64 {
    const WEIGHTS: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];
    // SAFETY: the load reads the 16 bytes of a 16-byte array, with no alignment requirement; the
    // rest are NEON register operations, enabled for this module's target.
    unsafe {
        let weights = vld1q_u8(WEIGHTS.as_ptr());
        // Each round sums neighbouring bytes: pairs, then fours, then eights, each register's
        // share staying in order after the previous register's.
        let pairs01 = vpaddq_u8(vandq_u8(v[0], weights), vandq_u8(v[1], weights));
        let pairs23 = vpaddq_u8(vandq_u8(v[2], weights), vandq_u8(v[3], weights));
        let fours = vpaddq_u8(pairs01, pairs23);
        let eights = vpaddq_u8(fours, fours);
        vgetq_lane_u64::<0>(vreinterpretq_u64_u8(eights))
    }
}

/// Whitespace and structural characters by their two nibbles: a byte is in a class when the
/// class's bit is set both in `LOW_NIBBLE[x & 0xf]` and in `HIGH_NIBBLE[x >> 4]`. Each bit is one
/// rectangle of (low nibble, high nibble) pairs holding only members, so the two table lookups
/// and an AND answer for both classes at once (7 instructions where 15 compares and ORs did).
const SPACE: u8 = 1; // 0x20
const TAB_LF_CR: u8 = 2; // 0x09 0x0a 0x0d: low 9, a or d, high 0
const BRACKETS: u8 = 4; // 0x5b 0x5d 0x7b 0x7d: low b or d, high 5 or 7
const COLON: u8 = 8; // 0x3a
const COMMA: u8 = 16; // 0x2c
const WHITESPACE: u8 = SPACE | TAB_LF_CR;
const STRUCTURAL: u8 = BRACKETS | COLON | COMMA;
const LOW_NIBBLE: [u8; 16] = {
    let mut t = [0; 16];
    t[0x0] = SPACE;
    t[0x9] = TAB_LF_CR;
    t[0xa] = TAB_LF_CR | COLON;
    t[0xb] = BRACKETS;
    t[0xc] = COMMA;
    t[0xd] = TAB_LF_CR | BRACKETS;
    t
};
const HIGH_NIBBLE: [u8; 16] = {
    let mut t = [0; 16];
    t[0x0] = TAB_LF_CR;
    t[0x2] = SPACE | COMMA;
    t[0x3] = COLON;
    t[0x5] = BRACKETS;
    t[0x7] = BRACKETS;
    t
};

/// The comparisons of 16 bytes (0xff where a byte is in the class): quote, backslash, control,
/// whitespace, structural and digit, in `Masks`'s order.
#[inline(always)]
fn compare16(chunk: uint8x16_t) -> [uint8x16_t; 6] {
    // SAFETY: the table loads read the 16 bytes of 16-byte arrays, with no alignment requirement;
    // the rest are NEON register operations, enabled for this module's target.
    unsafe {
        let eq = |c: u8| vceqq_u8(chunk, vdupq_n_u8(c));
        let control = vcltq_u8(chunk, vdupq_n_u8(0x20));
        // `vqtbl1q_u8` takes indexes 0 to 15 here: both nibbles are below 16.
        let low = vqtbl1q_u8(vld1q_u8(LOW_NIBBLE.as_ptr()), vandq_u8(chunk, vdupq_n_u8(0x0f)));
        let high = vqtbl1q_u8(vld1q_u8(HIGH_NIBBLE.as_ptr()), vshrq_n_u8::<4>(chunk));
        let classes = vandq_u8(low, high);
        let whitespace = vtstq_u8(classes, vdupq_n_u8(WHITESPACE));
        let structural = vtstq_u8(classes, vdupq_n_u8(STRUCTURAL));
        // x is a digit exactly when x - '0' (wrapping) is at most 9.
        let digit = vcleq_u8(vsubq_u8(chunk, vdupq_n_u8(b'0')), vdupq_n_u8(9));
        [eq(b'"'), eq(b'\\'), control, whitespace, structural, digit]
    }
}

/// Classifies the 64 bytes of `block`.
#[inline]
pub fn classify_neon(block: &[u8; 64]) -> Masks {
    // SAFETY: bytes 16 * k .. 16 * k + 16 lie within the 64-byte block for k < 4.
    let parts: [[uint8x16_t; 6]; 4] = std::array::from_fn(|k| compare16(unsafe { load16(block, 16 * k) }));
    let m = |field: usize| bits(parts.map(|part| part[field]));
    Masks { quote: m(0), backslash: m(1), control: m(2), whitespace: m(3), structural: m(4), digit: m(5) }
}
