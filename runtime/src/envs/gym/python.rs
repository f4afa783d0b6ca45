//! The embedded Python interpreter: started once per process, pointed at the active virtual
//! environment, with rlc's bridge module loaded; and Python errors turned into [`EnvError`]s
//! that say what to install.

use std::ffi::CString;
use std::sync::OnceLock;

use pyo3::prelude::*;
use pyo3::types::PyModule;

use super::super::env::EnvError;

/// The bridge module, loaded once (or why it could not be).
static BRIDGE: OnceLock<Result<Py<PyModule>, String>> = OnceLock::new();

/// rlc's bridge module (`bridge.py`), importing Gymnasium on first use.
///
/// Call it *before* attaching to the interpreter: its first call attaches by itself, and a
/// thread already attached could otherwise wait on another thread's first call while holding
/// the interpreter that call needs.
///
/// # Errors
/// [`EnvError::Python`] when the interpreter cannot be started, the virtual environment does
/// not fit, or Gymnasium (or numpy) is not installed — naming the `pip install` that fixes it.
pub(super) fn bridge() -> Result<&'static Py<PyModule>, EnvError> {
    BRIDGE
        .get_or_init(load)
        .as_ref()
        .map_err(|msg| EnvError::Python(msg.clone()))
}

fn load() -> Result<Py<PyModule>, String> {
    // Inside a Python process (the `rlc` package) the interpreter is the user's, with its own
    // paths: leave them alone. Embedded in the `rlc` binary, point it at the active venv.
    // SAFETY: a read of the interpreter's global state, valid before and after initialisation.
    let hosted = unsafe { pyo3::ffi::Py_IsInitialized() } != 0;
    Python::initialize();
    Python::attach(|py| {
        let location = if hosted {
            "this Python".to_string()
        } else {
            let venv = module(py, include_str!("venv.py"), c"rlc_venv.py", c"rlc_venv")
                .map_err(|e| format!("cannot set up Python's paths: {e}"))?;
            match venv.getattr("where").and_then(|w| w.extract::<String>()) {
                Ok(w) if !w.is_empty() => format!("the virtual environment {w}"),
                _ => "the system's Python (no virtual environment is active: VIRTUAL_ENV is not set)".into(),
            }
        };
        module(
            py,
            include_str!("bridge.py"),
            c"rlc_gym_bridge.py",
            c"rlc_gym_bridge",
        )
        .map(Bound::unbind)
        .map_err(|e| missing_package(py, &e, &location).unwrap_or_else(|| e.to_string()))
    })
}

fn module<'py>(
    py: Python<'py>,
    code: &str,
    file: &std::ffi::CStr,
    name: &std::ffi::CStr,
) -> PyResult<Bound<'py, PyModule>> {
    let code = CString::new(code).expect("the embedded Python sources contain no NUL byte");
    PyModule::from_code(py, &code, file, name)
}

/// The message for a package that is not installed, naming the `pip install` that fixes it.
fn missing_package(py: Python<'_>, e: &PyErr, location: &str) -> Option<String> {
    if !e.is_instance_of::<pyo3::exceptions::PyModuleNotFoundError>(py) {
        return None;
    }
    let name: String = e.value(py).getattr("name").ok()?.extract().ok()?;
    let package = name.split('.').next().unwrap_or(&name).to_string();
    Some(format!(
        "the Python package `{package}` is not installed in {location}: run `pip install gymnasium` \
         there (for MuJoCo environments `pip install \"gymnasium[mujoco]\"`), with the virtual \
         environment active when rlc runs"
    ))
}

/// A Python exception raised while making or stepping `id`, as an [`EnvError`]: Gymnasium's
/// own messages already say what is wrong (a misspelt id with a suggestion, a missing extra
/// with its `pip install`); a space rlc cannot map says which.
pub(super) fn env_error(py: Python<'_>, id: &str, e: PyErr) -> EnvError {
    let value = e.value(py);
    let kind = value
        .get_type()
        .qualname()
        .map(|q| q.to_string())
        .unwrap_or_else(|_| "Exception".into());
    let message = value.str().map(|s| s.to_string()).unwrap_or_default();
    let message = match kind.as_str() {
        "SpaceError" => message,
        "DependencyNotInstalled" => format!("`{id}` needs a package that is not installed: {message}"),
        _ => {
            // Where the exception was raised, so a bug in the user's environment is found.
            let at = e
                .traceback(py)
                .zip(bridge().ok())
                .and_then(|(tb, b)| b.bind(py).getattr("where").ok()?.call1((tb,)).ok())
                .and_then(|s| s.extract::<String>().ok())
                .filter(|s| !s.is_empty())
                .map(|s| format!(" (raised at {s})"))
                .unwrap_or_default();
            format!("`{id}`: {kind}: {message}{at}")
        }
    };
    EnvError::Python(message)
}

/// Loads the bridge now, from the thread that imports the `rlc` package (which holds the
/// interpreter, alone: no other thread can be in a first call yet), so that no later call
/// initialises it while another thread holds the interpreter. The outcome is kept either way.
pub fn preload() {
    let _ = bridge();
}

/// Registers a Python environment object — a `gymnasium.Env` instance (copied for each copy
/// rlc makes) or a function that makes one — and returns the `gym:` id that names it in this
/// process.
///
/// # Errors
/// [`EnvError::Python`] as for [`bridge`].
pub fn register_object(env: &Bound<'_, PyAny>) -> Result<String, EnvError> {
    let b = bridge()?;
    let py = env.py();
    let key: String = b
        .bind(py)
        .getattr("register")
        .and_then(|f| f.call1((env,)))
        .and_then(|k| k.extract())
        .map_err(|e| EnvError::Python(format!("cannot register the environment object: {e}")))?;
    Ok(format!("{}{key}", super::GYM_PREFIX))
}

/// Puts `dir` first on the embedded interpreter's module path, so `gym:MODULE:ID` can import a
/// module that lives there (the command line relies on the working directory or `PYTHONPATH`).
///
/// # Errors
/// [`EnvError::Python`] as for [`bridge`].
pub fn add_python_path(dir: &std::path::Path) -> Result<(), EnvError> {
    bridge()?;
    Python::attach(|py| {
        let sys = py.import("sys")?;
        sys.getattr("path")?
            .call_method1("insert", (0, dir.to_string_lossy().into_owned()))?;
        Ok::<_, PyErr>(())
    })
    .map_err(|e| EnvError::Python(format!("cannot add {} to Python's path: {e}", dir.display())))
}

/// Item `i` of a Python tuple the bridge returned, converted to `T`.
pub(super) fn item<'py, T>(py: Python<'py>, id: &str, t: &Bound<'py, PyAny>, i: usize) -> Result<T, EnvError>
where
    T: pyo3::conversion::FromPyObjectOwned<'py>,
{
    t.get_item(i)
        .and_then(|x| x.extract::<T>().map_err(Into::into))
        .map_err(|e| env_error(py, id, e))
}
