//! Numbers as event-ruler compares them.
//!
//! A JSON number takes part in numeric comparison only when its decimal value survives the
//! round trip text -> double -> shortest decimal (event-ruler's `ComparableNumber` rejects the
//! rest, which then match only by their exact text). So `300`, `300.0` and `3e2` are equal,
//! while `0.10000000000000001`, `9007199254740993`, `1e-400` and `1e400` are not comparable.

/// How a dialect compares numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Numbers {
    /// event-ruler: full double range, only exactly representable values compare.
    #[default]
    EventBridge,
    /// SNS: five digits of accuracy after the decimal point.
    Sns,
}

impl Numbers {
    /// The value a number lexeme compares as, if it takes part in numeric comparison.
    #[inline]
    pub fn value(self, lexeme: &str) -> Option<f64> {
        match self {
            Numbers::EventBridge => comparable(lexeme),
            Numbers::Sns => sns_value(lexeme),
        }
    }
}

/// SNS compares numbers to five decimal places: the value shifted into the positive range
/// and truncated to a multiple of 10^-5 (an integer below 2^53, so exact as a double).
fn sns_value(lexeme: &str) -> Option<f64> {
    let x: f64 = lexeme.parse().ok().filter(|x: &f64| x.is_finite())?;
    Some(((x + 1e9) * 1e5).floor())
}

/// The double a number lexeme compares as, or `None` when it is not exactly representable.
pub fn comparable(lexeme: &str) -> Option<f64> {
    let value: f64 = lexeme.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    if value == 0.0 {
        // Zero is exact when every digit of the text is zero (the text may be `-0.0`, which
        // BigDecimal reads as plain zero); otherwise the text underflowed.
        let mantissa = lexeme.split(['e', 'E']).next().unwrap_or("");
        return mantissa.bytes().all(|b| matches!(b, b'0' | b'-' | b'+' | b'.')).then_some(0.0);
    }
    // Fifteen significant digits always survive the round trip (DBL_DIG): two decimals that
    // short cannot round to the same double, so the double's shortest form is the decimal
    // itself. Only subnormal doubles, with fewer bits, break that. A text of fifteen bytes has
    // fifteen digits at most, so most numbers need no more than this.
    let normal = value.abs() >= f64::MIN_POSITIVE;
    if normal && lexeme.len() <= 15 {
        return Some(value);
    }
    // The text a serialiser writing shortest forms made (most do): the same bytes as ryu's.
    let mut buffer = ryu::Buffer::new();
    let shortest = buffer.format_finite(value);
    if shortest == lexeme {
        return Some(value);
    }
    // Otherwise the two compared in normal form. More significant digits than any double's
    // shortest form has: not that form.
    let decimal = Decimal::of(lexeme)?;
    if normal && decimal.len <= 15 {
        return Some(value);
    }
    (Decimal::of(shortest) == Some(decimal)).then_some(value)
}

/// The most significant digits a double's shortest decimal form has.
const SHORTEST_DIGITS: usize = 17;

/// A decimal in normal form, held without allocating: sign, significant digits without leading
/// or trailing zeros, and the power of ten of the first digit's position (value = 0.d1d2... x
/// 10^point). Only decimals of up to `SHORTEST_DIGITS` digits are held: a longer one equals no
/// double's shortest form.
#[derive(PartialEq, Eq, Debug)]
struct Decimal {
    negative: bool,
    digits: [u8; SHORTEST_DIGITS],
    len: usize,
    point: i64,
}

impl Decimal {
    /// `text` (a JSON number, or ryu's shortest form of a double) in normal form; `None` when it
    /// has more than `SHORTEST_DIGITS` significant digits or an exponent out of range.
    fn of(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let (negative, mut i) = match bytes.first()? {
            b'-' => (true, 1),
            b'+' => (false, 1),
            _ => (false, 0),
        };
        // Digits past `len` stay `0`: zeros between two others are counted in, not written.
        let mut decimal = Decimal { negative, digits: [b'0'; SHORTEST_DIGITS], len: 0, point: 0 };
        let mut integer_digits: i64 = 0;
        let mut fraction = false;
        // Zeros met since the last other digit: trailing unless another digit follows.
        let mut zeros = 0usize;
        while let Some(&c) = bytes.get(i) {
            match c {
                b'0'..=b'9' => {
                    integer_digits += i64::from(!fraction);
                    if c == b'0' {
                        if decimal.len == 0 {
                            decimal.point -= 1; // a leading zero
                        } else {
                            zeros += 1;
                        }
                    } else {
                        if decimal.len + zeros >= SHORTEST_DIGITS {
                            return None;
                        }
                        decimal.len += zeros; // the zeros in between are significant
                        zeros = 0;
                        decimal.digits[decimal.len] = c;
                        decimal.len += 1;
                    }
                }
                b'.' => fraction = true,
                b'e' | b'E' => {
                    let exponent: i64 = text[i + 1..].parse().ok()?;
                    decimal.point = decimal.point.checked_add(exponent)?;
                    break;
                }
                _ => return None,
            }
            i += 1;
        }
        decimal.point = decimal.point.checked_add(integer_digits)?;
        Some(decimal)
    }
}

#[cfg(test)]
mod tests {
    use super::comparable;

    #[test]
    fn equal_values_in_other_lexemes() {
        assert_eq!(comparable("300"), Some(300.0));
        assert_eq!(comparable("300.0"), Some(300.0));
        assert_eq!(comparable("3.0e2"), Some(300.0));
        assert_eq!(comparable("3.018e2"), Some(301.8));
        assert_eq!(comparable("1e0"), Some(1.0));
        assert_eq!(comparable("-0.0"), Some(0.0));
        assert!(comparable("-0.0").unwrap().is_sign_positive());
        assert_eq!(comparable("1e308"), Some(1e308));
        assert_eq!(comparable("-122.4194"), Some(-122.4194));
    }

    #[test]
    fn sns_compares_five_decimals() {
        use super::Numbers;
        assert_eq!(Numbers::Sns.value("100.123456789"), Numbers::Sns.value("100.1234567"));
        assert_ne!(Numbers::Sns.value("100.12345"), Numbers::Sns.value("100.12346"));
        assert_eq!(Numbers::Sns.value("3.015e2"), Numbers::Sns.value("301.5"));
        assert_eq!(Numbers::Sns.value("-5.000001"), Numbers::Sns.value("-5.000009"));
        assert_eq!(Numbers::Sns.value("NaN"), None);
    }

    /// The normal form the old way, with a vector: the reference `Decimal::of` is held to.
    fn reference(text: &str) -> Option<(bool, Vec<u8>, i64)> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
        let mut point = (int.len() as i64).checked_add(exponent)?;
        let leading = digits.iter().take_while(|&&d| d == b'0').count();
        digits.drain(..leading);
        point -= leading as i64;
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        Some((negative, digits, point))
    }

    #[test]
    fn normal_forms_agree_with_the_reference() {
        use proptest::prelude::*;
        let number = "-?(0|[1-9][0-9]{0,22})(\\.[0-9]{1,22})?([eE][+-]?[0-9]{1,3})?";
        proptest!(ProptestConfig::with_cases(20_000), |(text in number, shift in 0usize..3)| {
            let text = if shift == 1 { text.replace('1', "0") } else { text };
            let expected = reference(&text).filter(|(_, digits, _)| digits.len() <= super::SHORTEST_DIGITS);
            let got = super::Decimal::of(&text).map(|d| (d.negative, d.digits[..d.len].to_vec(), d.point));
            // A zero has no digits; its point is of no use and differs in the two.
            if expected.as_ref().is_some_and(|(_, digits, _)| digits.is_empty()) {
                prop_assert_eq!(got.map(|(_, digits, _)| digits.len()), Some(0));
            } else {
                prop_assert_eq!(got, expected, "{}", text);
            }
        });
        for value in [-122.437_174_801_989_34, 37.822_926_703_751, 1e-7, 1.5e300, 5e-324, 0.1, 123_456_789.0] {
            let mut buffer = ryu::Buffer::new();
            let text = buffer.format_finite(value);
            let got = super::Decimal::of(text).map(|d| (d.negative, d.digits[..d.len].to_vec(), d.point));
            assert_eq!(got, reference(text), "{text}");
        }
    }

    /// `comparable` as it was before its shortcuts (both sides in normal form, by `reference`).
    fn reference_comparable(lexeme: &str) -> Option<f64> {
        let value: f64 = lexeme.parse().ok().filter(|v: &f64| v.is_finite())?;
        if value == 0.0 {
            return comparable(lexeme);
        }
        let decimal = reference(lexeme).filter(|(_, digits, _)| digits.len() <= super::SHORTEST_DIGITS)?;
        if value.abs() >= f64::MIN_POSITIVE && decimal.1.len() <= 15 {
            return Some(value);
        }
        let mut buffer = ryu::Buffer::new();
        (reference(buffer.format_finite(value)) == Some(decimal)).then_some(value)
    }

    #[test]
    fn shortcuts_agree_with_the_normal_forms() {
        use proptest::prelude::*;
        // Doubles of every magnitude written as ryu, as Rust's Display and in scientific
        // notation, and each text with a digit changed or a zero added (no longer shortest).
        proptest!(ProptestConfig::with_cases(20_000), |(bits in any::<u64>(), edit in 0usize..4, at in 0usize..24)| {
            let value = f64::from_bits(bits);
            prop_assume!(value.is_finite());
            let mut buffer = ryu::Buffer::new();
            for text in [buffer.format_finite(value).to_owned(), format!("{value}"), format!("{value:e}")] {
                let text = match edit {
                    1 => format!("{text}0"),
                    2 if !text.contains(['e', 'E']) => format!("{text}1"),
                    3 => {
                        let mut bytes = text.clone().into_bytes();
                        if let Some(b) = bytes.iter_mut().filter(|b| b.is_ascii_digit()).nth(at) {
                            *b = if *b == b'9' { b'0' } else { *b + 1 };
                        }
                        String::from_utf8(bytes).unwrap_or_default()
                    }
                    _ => text,
                };
                prop_assert_eq!(comparable(&text), reference_comparable(&text), "{}", text);
            }
        });
        let number = "-?(0|[1-9][0-9]{0,22})(\\.[0-9]{1,22})?([eE][+-]?[0-9]{1,3})?";
        proptest!(ProptestConfig::with_cases(20_000), |(text in number)| {
            prop_assert_eq!(comparable(&text), reference_comparable(&text), "{}", text);
        });
    }

    #[test]
    fn inexact_values_are_not_comparable() {
        assert_eq!(comparable("37.807807921694092"), None);
        assert_eq!(comparable("37.80780792169409"), Some(37.807_807_921_694_09));
        assert_eq!(comparable("0.10000000000000001"), None);
        assert_eq!(comparable("9007199254740993"), None);
        assert_eq!(comparable("9007199254740992"), Some(9_007_199_254_740_992.0));
        assert_eq!(comparable("1e-400"), None);
        assert_eq!(comparable("1e400"), None);
        assert_eq!(comparable("123456789012345678901"), None);
        assert_eq!(comparable("0.10000000000000000001"), None);
        assert_eq!(comparable("123456789012345"), Some(123_456_789_012_345.0));
        assert_eq!(comparable("0.000123456789012345"), Some(0.000_123_456_789_012_345));
        // Seventeen digits, the most a shortest form has: exact, and one digit more or changed.
        assert_eq!(comparable("-122.43717480198934"), Some(-122.437_174_801_989_34));
        assert_eq!(comparable("-122.437174801989340000"), Some(-122.437_174_801_989_34));
        assert_eq!(comparable("-122.437174801989341"), None);
        assert_eq!(comparable("-122.43717480198935"), None);
        assert_eq!(comparable("1.0000000000000002"), Some(1.000_000_000_000_000_2));
        assert_eq!(comparable("1.0000000000000001"), None);
        assert_eq!(comparable("5e-324"), Some(5e-324));
        assert_eq!(comparable("4.9406564584124654e-324"), None);
    }
}
