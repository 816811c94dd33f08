//! The operator's error type. Every error carries its [`Reason`], which decides its policy:
//! terminal errors wait for the spec to change (no retry loop), recoverable ones requeue with
//! backoff and jitter. The message is for people (conditions, events, logs), never for metric
//! labels; metrics use the reason.

use crate::reason::Reason;
use std::fmt;
use std::time::Duration;

/// An error from a reconcile step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Fixed, low-cardinality classification.
    pub reason: Reason,
    /// What happened, in words a user can act on; AWS's own message where AWS refused a call.
    pub message: String,
    /// The AWS error code, when AWS answered (for logs).
    pub aws_code: Option<String>,
    /// A wait with nothing to report: what the object waits for is already on its way (the
    /// composites that still name an alarm are being deleted themselves). The object is looked
    /// at again later, without a status write, an event or a longer backoff.
    pub quiet: bool,
    /// For a quiet wait that ends by itself (see [`Error::quietly_for`]): how long until the
    /// object is looked at again. `None`: when what it waits for changes (a watch event, a
    /// wake-up).
    pub retry_in: Option<Duration>,
}

/// Result of a reconcile step.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error AWS answered with the error code `code`, for tests of how answers are judged.
    #[cfg(test)]
    pub fn answered(reason: Reason, code: &str) -> Error {
        Error {
            aws_code: Some(code.into()),
            ..Error::new(reason, "from AWS")
        }
    }

    /// An error with this reason and message.
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Error {
            reason,
            message: message.into(),
            aws_code: None,
            quiet: false,
            retry_in: None,
        }
    }

    /// The spec cannot work as written; the user must change it.
    pub fn invalid_spec(message: impl Into<String>) -> Self {
        Self::new(Reason::InvalidSpec, message)
    }

    /// Something this object needs is not there yet (or something still needs this object).
    pub fn dependency(message: impl Into<String>) -> Self {
        Self::new(Reason::DependencyNotReady, message)
    }

    /// This error as a wait with nothing to report (see [`Error::quiet`]).
    pub fn quietly(self) -> Self {
        Error {
            quiet: true,
            ..self
        }
    }

    /// This error as a wait with nothing to report that is over after `wait`: the object is
    /// looked at again then, out of the controller's reconcile slots in the meantime.
    pub fn quietly_for(self, wait: Duration) -> Self {
        Error {
            retry_in: Some(wait),
            ..self.quietly()
        }
    }

    /// True when retrying cannot help until the spec changes.
    pub fn is_terminal(&self) -> bool {
        self.reason.is_terminal()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.aws_code {
            Some(code) => write!(f, "{}: {} ({code})", self.reason, self.message),
            None => write!(f, "{}: {}", self.reason, self.message),
        }
    }
}

impl std::error::Error for Error {}

impl From<kube::Error> for Error {
    fn from(e: kube::Error) -> Self {
        Error::new(Reason::KubernetesError, e.to_string())
    }
}
