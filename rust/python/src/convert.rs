//! A Python mapping given as a pattern or an event, written as the JSON text the core reads.
//!
//! The text is byte for byte what `rulebus._convert.to_json` (`json.dumps` with its default
//! separators and ASCII output) writes, so results, errors and a pattern's `.text` are the same
//! whichever way the mapping is read. The walk here handles the plain shapes natively: `dict`,
//! `list` and `tuple` (their exact types), `str`, `int` and `float` (subclasses too: `json.dumps`
//! reads their values, not their methods), `bool` and `None`, and the keys `json.dumps` accepts.
//! For anything else (other mappings, container subclasses, strings with lone surrogates, ints
//! past 64 bits, nesting deeper than the engine reads, cycles) it gives up and the Python
//! converter writes the whole text, raising what it raises.

use std::io::Write as _;

use pyo3::exceptions::PyRecursionError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// The deepest nesting the engine reads (`rulebus_core::json::MAX_DEPTH`); a deeper mapping is
/// refused whichever way it is written, so the Python converter may word it.
const MAX_DEPTH: usize = rulebus_core::json::MAX_DEPTH;

/// The native walk met something it leaves to the Python converter.
struct Unsupported;

/// The JSON text of a mapping, as `rulebus._convert.to_json` writes it. `too_deep` is the error
/// for a mapping nested too deeply to write.
pub(crate) fn mapping_json(obj: &Bound<'_, PyAny>, too_deep: impl FnOnce() -> PyErr) -> PyResult<Vec<u8>> {
    if let Ok(dict) = obj.cast_exact::<PyDict>() {
        let mut out = Vec::with_capacity(64 + 32 * dict.len());
        if write_dict(&mut out, dict, 1).is_ok() {
            return Ok(out);
        }
    }
    python_json(obj, too_deep)
}

/// The Python converter's text (`json.dumps` with a default for other mappings).
#[cold]
fn python_json(obj: &Bound<'_, PyAny>, too_deep: impl FnOnce() -> PyErr) -> PyResult<Vec<u8>> {
    static TO_JSON: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let py = obj.py();
    let to_json =
        TO_JSON.get_or_try_init(py, || PyResult::Ok(py.import("rulebus._convert")?.getattr("to_json")?.unbind()))?;
    match to_json.bind(py).call1((obj,)) {
        Ok(dumped) => Ok(crate::strings::utf8(dumped.cast::<PyString>()?)?.as_bytes().to_vec()),
        Err(e) if e.is_instance_of::<PyRecursionError>(py) => Err(too_deep()),
        Err(e) => Err(e),
    }
}

/// Writes a value; `depth` counts the containers open around it.
fn write_value(out: &mut Vec<u8>, obj: &Bound<'_, PyAny>, depth: usize) -> Result<(), Unsupported> {
    // Most common first; `bool` before `int`, of which it is a subclass.
    if let Ok(s) = obj.cast::<PyString>() {
        write_string(out, s)
    } else if let Ok(dict) = obj.cast_exact::<PyDict>() {
        write_dict(out, dict, depth + 1)
    } else if let Ok(b) = obj.cast_exact::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
        Ok(())
    } else if let Ok(int) = obj.cast::<PyInt>() {
        write_int(out, int)
    } else if let Ok(list) = obj.cast_exact::<PyList>() {
        write_array(out, list.iter(), depth + 1)
    } else if obj.is_none() {
        out.extend_from_slice(b"null");
        Ok(())
    } else if let Ok(float) = obj.cast::<PyFloat>() {
        write_float(out, float.value());
        Ok(())
    } else if let Ok(tuple) = obj.cast_exact::<PyTuple>() {
        write_array(out, tuple.iter(), depth + 1)
    } else {
        Err(Unsupported)
    }
}

fn write_dict(out: &mut Vec<u8>, dict: &Bound<'_, PyDict>, depth: usize) -> Result<(), Unsupported> {
    if depth > MAX_DEPTH {
        return Err(Unsupported);
    }
    out.push(b'{');
    for (i, (key, value)) in dict.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        write_key(out, &key)?;
        out.extend_from_slice(b": ");
        write_value(out, &value, depth)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_array<'py>(
    out: &mut Vec<u8>,
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    depth: usize,
) -> Result<(), Unsupported> {
    if depth > MAX_DEPTH {
        return Err(Unsupported);
    }
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        write_value(out, &item, depth)?;
    }
    out.push(b']');
    Ok(())
}

/// A key as `json.dumps` writes it: strings as they are, floats, ints, booleans and `None` as
/// the text of their value, quoted.
fn write_key(out: &mut Vec<u8>, key: &Bound<'_, PyAny>) -> Result<(), Unsupported> {
    if let Ok(s) = key.cast::<PyString>() {
        return write_string(out, s);
    }
    out.push(b'"');
    if let Ok(float) = key.cast::<PyFloat>() {
        write_float(out, float.value());
    } else if let Ok(b) = key.cast_exact::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
    } else if key.is_none() {
        out.extend_from_slice(b"null");
    } else if let Ok(int) = key.cast::<PyInt>() {
        write_int(out, int)?;
    } else {
        return Err(Unsupported);
    }
    out.push(b'"');
    Ok(())
}

fn write_int(out: &mut Vec<u8>, int: &Bound<'_, PyInt>) -> Result<(), Unsupported> {
    let value: i64 = int.extract().map_err(|_| Unsupported)?;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{value}");
    Ok(())
}

/// A str as `json.dumps` writes it with ASCII output: `"`, `\` and control characters escaped
/// (short forms where JSON has them), DEL and everything past ASCII as `\uXXXX` (UTF-16).
fn write_string(out: &mut Vec<u8>, s: &Bound<'_, PyString>) -> Result<(), Unsupported> {
    // A str with lone surrogates has no UTF-8 form.
    let text = crate::strings::utf8(s).map_err(|_| Unsupported)?;
    out.push(b'"');
    // Most strings need no escape: one scan that vectorises (no early exit), then one copy.
    if text.bytes().fold(0u8, |escape, b| escape | u8::from(!(b' '..=b'~').contains(&b) || b == b'"' || b == b'\\'))
        != 0
    {
        escape_ascii(out, text);
    } else {
        out.extend_from_slice(text.as_bytes());
    }
    out.push(b'"');
    Ok(())
}

#[cold]
fn escape_ascii(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let unit = |out: &mut Vec<u8>, u: u16| {
        out.extend_from_slice(b"\\u");
        out.extend([u >> 12, u >> 8, u >> 4, u].map(|nibble| HEX[usize::from(nibble & 0xf)]));
    };
    let mut units = [0u16; 2];
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            ' '..='~' => out.push(c as u8),
            _ => {
                for &mut u in c.encode_utf16(&mut units) {
                    unit(out, u);
                }
            }
        }
    }
}

/// A float as `json.dumps` writes it: `repr`'s text (the shortest digits that read back as the
/// same float, positional from 1e-4 up to below 1e16, else with an exponent of at least two
/// digits), and `NaN`, `Infinity`, `-Infinity` for the values JSON has no number for.
fn write_float(out: &mut Vec<u8>, value: f64) {
    if !value.is_finite() {
        out.extend_from_slice(if value.is_nan() {
            b"NaN"
        } else if value > 0.0 {
            b"Infinity"
        } else {
            b"-Infinity"
        });
        return;
    }
    let mut buffer = ryu::Buffer::new();
    let (negative, digits, point) = shortest_digits(buffer.format_finite(value));
    if negative {
        out.push(b'-');
    }
    let digits = digits.as_slice();
    if point <= -4 || point > 16 {
        // d.ddde+XX: the exponent of the first digit.
        let exponent = point - 1;
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.unsigned_abs());
    } else if point <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', point.unsigned_abs() as usize));
        out.extend_from_slice(digits);
    } else {
        let point = point as usize;
        if point >= digits.len() {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', point - digits.len()));
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..point]);
            out.push(b'.');
            out.extend_from_slice(&digits[point..]);
        }
    }
}

/// Ryu's text of a finite float as (negative, significant digits, decimal point position): the
/// value is `0.DIGITS` times ten to the `point`. Zero has the digit `0` and point 1.
fn shortest_digits(text: &str) -> (bool, Vec<u8>, i32) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: Vec<u8> = whole.bytes().chain(fraction.bytes()).collect();
    let mut point = whole.len() as i32 + exponent;
    let leading = digits.iter().take_while(|&&d| d == b'0').count();
    if leading == digits.len() {
        return (negative, vec![b'0'], 1);
    }
    digits.drain(..leading);
    point -= leading as i32;
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    (negative, digits, point)
}
