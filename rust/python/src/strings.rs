//! A Python `str`'s UTF-8, borrowed, with the stable ABI (the module is built `abi3`, one build
//! for every later CPython; see Cargo.toml's features).
//!
//! pyo3 offers `PyString::to_str` under the stable ABI from 3.10 only, because
//! `PyUnicode_AsUTF8AndSize` joined the limited API in 3.10. The function itself is exported by
//! every CPython 3 with the same signature, and it is what `to_str` calls on a full-API build:
//! so the 3.9 build calls it too, declared here, and keeps `to_str`'s speed (no copy: CPython
//! caches a str's UTF-8, and an ASCII str's UTF-8 is its own data) on 3.9 as on 3.14.

use pyo3::exceptions::PyUnicodeEncodeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

#[cfg(all(Py_LIMITED_API, not(Py_3_10)))]
unsafe extern "C" {
    fn PyUnicode_AsUTF8AndSize(unicode: *mut ffi::PyObject, size: *mut ffi::Py_ssize_t) -> *const std::os::raw::c_char;
}

#[cfg(not(all(Py_LIMITED_API, not(Py_3_10))))]
use ffi::PyUnicode_AsUTF8AndSize;

/// The str's UTF-8, borrowed from the str (as long as it lives); a `UnicodeEncodeError` for a
/// str holding a lone surrogate, which has none.
pub fn utf8<'a>(s: &'a Bound<'_, PyString>) -> PyResult<&'a str> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live str and the GIL is held (its token); the buffer CPython returns is
    // owned by the str and lives as long as it does, which `'a` ties the slice to.
    let data = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &raw mut size) };
    if data.is_null() {
        return Err(PyErr::take(s.py()).unwrap_or_else(|| PyUnicodeEncodeError::new_err("str has no UTF-8 form")));
    }
    let length = usize::try_from(size).unwrap_or(0);
    // SAFETY: CPython gives `size` bytes of valid UTF-8 at `data` (it refuses lone surrogates).
    Ok(unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(data.cast::<u8>(), length)) })
}

/// Whether the str is all ASCII, without asking for its UTF-8 (which CPython would then keep in
/// a non-ASCII str for as long as it lives): `str.isascii`, which reads the str's kind, not its
/// text (the stable ABI has no other way to that flag).
pub fn is_ascii(s: &Bound<'_, PyString>) -> PyResult<bool> {
    s.call_method0(pyo3::intern!(s.py(), "isascii"))?.is_truthy()
}
