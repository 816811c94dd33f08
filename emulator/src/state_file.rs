//! Saving and loading the state file (`--state FILE`), so a local demo survives restarts.

use std::path::Path;

use crate::store::{STATE_FORMAT, SavedState};

#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    #[error("cannot read or write the state file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the state file {path} is not a valid emulator state: {source}")]
    Format {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("the state file {path} has format {found}, this emulator reads format {STATE_FORMAT}")]
    Version { path: String, found: u32 },
}

/// Reads the state file; `None` when it does not exist yet.
pub fn load(path: &Path) -> Result<Option<SavedState>, StateFileError> {
    let shown = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateFileError::Io {
                path: shown,
                source,
            });
        }
    };
    let saved: SavedState =
        serde_json::from_slice(&bytes).map_err(|source| StateFileError::Format {
            path: shown.clone(),
            source,
        })?;
    if saved.format != STATE_FORMAT {
        return Err(StateFileError::Version {
            path: shown,
            found: saved.format,
        });
    }
    Ok(Some(saved))
}

/// Writes the state file atomically (a temporary file renamed over the old one), so a crash
/// mid-write leaves the previous state intact.
pub fn save(path: &Path, state: &SavedState) -> Result<(), StateFileError> {
    let shown = path.display().to_string();
    let io = |source| StateFileError::Io {
        path: shown.clone(),
        source,
    };
    let bytes = serde_json::to_vec(state).map_err(|source| StateFileError::Format {
        path: shown.clone(),
        source,
    })?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(&temporary, bytes).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}
