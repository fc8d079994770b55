//! The Python exceptions the binding raises. The classes are defined once, in `rulebus._errors`
//! (they carry `.reason` and `.code` and subclass `ValueError`); each is imported the first time
//! it is raised and kept.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use rulebus_core::{Dialect, Error};

/// One exception class of `rulebus._errors`, imported once.
struct ErrorClass {
    name: &'static str,
    class: PyOnceLock<Py<PyType>>,
}

impl ErrorClass {
    const fn new(name: &'static str) -> Self {
        Self { name, class: PyOnceLock::new() }
    }

    fn get<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyType>> {
        self.class
            .get_or_try_init(py, || {
                Ok(py.import("rulebus._errors")?.getattr(self.name)?.cast_into::<PyType>()?.unbind())
            })
            .map(|class| class.bind(py))
    }

    /// An instance of the class made with `args`, as a Python exception.
    #[cold]
    fn raise<'py>(&self, py: Python<'py>, args: impl pyo3::call::PyCallArgs<'py>) -> PyErr {
        match self.get(py).and_then(|class| class.call1(args)) {
            Ok(instance) => PyErr::from_value(instance),
            Err(e) => e,
        }
    }
}

static RULEBUS_ERROR: ErrorClass = ErrorClass::new("RulebusError");
static INVALID_PATTERN: ErrorClass = ErrorClass::new("InvalidPatternError");
static INVALID_FILTER_POLICY: ErrorClass = ErrorClass::new("InvalidFilterPolicyError");
static INVALID_EVENT: ErrorClass = ErrorClass::new("InvalidEventError");

/// The Python exception for a core error: the one place the core's errors meet Python's.
#[cold]
pub(crate) fn to_py(py: Python<'_>, error: &Error) -> PyErr {
    let class = match error {
        Error::InvalidPattern { dialect: Dialect::EventBridge, .. } => &INVALID_PATTERN,
        Error::InvalidPattern { dialect: Dialect::Sns, .. } | Error::InvalidPolicyParameter { .. } => {
            &INVALID_FILTER_POLICY
        }
        Error::InvalidEvent { .. } => &INVALID_EVENT,
    };
    class.raise(py, (error.message(), error.reason()))
}

/// Runs core code, turning a panic (a bug) into a Python exception rather than an abort.
pub(crate) fn guard<T>(py: Python<'_>, f: impl FnOnce() -> Result<T, Error>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(to_py(py, &error)),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(RULEBUS_ERROR.raise(py, (format!("internal error in rulebus: {detail}"),)))
        }
    }
}

static PARAMETER_TYPE: ErrorClass = ErrorClass::new("ParameterTypeError");
static NOT_FOUND: ErrorClass = ErrorClass::new("NotFound");

/// A rule name a RuleSet does not hold: `NotFound`, a `RulebusError` that is also a `KeyError`.
#[cold]
pub(crate) fn rule_not_found(py: Python<'_>, name: &str) -> PyErr {
    NOT_FOUND.raise(py, ("rule", name))
}

/// A parameter of the wrong Python type: `ParameterTypeError`, a `RulebusError` (with
/// EventBridge's ValidationException code) that is also the `TypeError` Python code expects.
#[cold]
pub(crate) fn type_error(py: Python<'_>, message: impl Into<String>) -> PyErr {
    PARAMETER_TYPE.raise(py, ("ValidationException", message.into()))
}

/// `error` as `type_error` when it is Python's own `TypeError` (from an argument's conversion) or
/// `UnicodeEncodeError` (a str with lone surrogates, which has no UTF-8 form), unchanged otherwise.
#[cold]
pub(crate) fn retyped(py: Python<'_>, error: PyErr) -> PyErr {
    let kind = error.get_type(py);
    if kind.is(py.get_type::<pyo3::exceptions::PyTypeError>()) {
        type_error(py, error.value(py).to_string())
    } else if kind.is(py.get_type::<pyo3::exceptions::PyUnicodeEncodeError>()) {
        type_error(py, format!("text must be valid Unicode: {}", error.value(py)))
    } else {
        error
    }
}

/// A `str` argument as UTF-8 text: a `type_error` for another type or a str holding lone
/// surrogates (which no AWS API accepts as text).
pub(crate) fn text_argument<'a>(py: Python<'_>, value: &'a Bound<'_, PyAny>, parameter: &str) -> PyResult<&'a str> {
    let Ok(text) = value.cast::<pyo3::types::PyString>() else {
        return Err(type_error(py, format!("{parameter} must be str, not {}", value.get_type().name()?)));
    };
    crate::strings::utf8(text)
        .map_err(|_| type_error(py, format!("{parameter} must be valid Unicode text (it holds a lone surrogate)")))
}
