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
    // itself. Only subnormal doubles, with fewer bits, break that.
    if value.abs() >= f64::MIN_POSITIVE && significant_digits(lexeme) <= 15 {
        return Some(value);
    }
    let mut buffer = ryu::Buffer::new();
    let shortest = buffer.format_finite(value);
    (Decimal::of(lexeme)? == Decimal::of(shortest)?).then_some(value)
}

/// The digits of a number's mantissa after its leading zeros (trailing zeros included, which
/// only over-counts).
fn significant_digits(lexeme: &str) -> usize {
    let mantissa = lexeme.split(['e', 'E']).next().unwrap_or("");
    mantissa.bytes().filter(u8::is_ascii_digit).skip_while(|&d| d == b'0').count()
}

/// A decimal in normal form: sign, significant digits without leading or trailing zeros, and
/// the power of ten of the first digit's position (value = 0.d1d2... x 10^point).
#[derive(PartialEq, Eq, Debug)]
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    point: i64,
}

impl Decimal {
    fn of(text: &str) -> Option<Self> {
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
        Some(Decimal { negative, digits, point })
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
    }
}
