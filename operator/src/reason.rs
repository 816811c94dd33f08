//! The closed set of condition reasons (DESIGN.md, "Custom resources"). Every reason is either
//! terminal — the spec must change before another attempt can succeed, so nothing retries — or
//! recoverable — the controller requeues with backoff and jitter. The reason string doubles as
//! the low-cardinality `reason` label of the error metrics.

use std::fmt;

/// Why a condition has its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The AWS object is being created.
    Creating,
    /// The AWS object exists and matches the spec.
    Available,
    /// The AWS object was observed (ObserveOnly).
    Observed,
    /// The AWS object is being changed to match the spec.
    Updating,
    /// The AWS object is being deleted.
    Deleting,
    /// Something this object needs (a child alarm, a delivery stream, a log group) is missing or
    /// not ready, or something still needs this object (a composite alarm naming it).
    DependencyNotReady,
    /// The AWS object exists and belongs to someone else; `adoption` does not allow taking it over.
    AlreadyExistsUnowned,
    /// The AWS object does not exist (ObserveOnly, or an object that may only be observed).
    NotFound,
    /// The spec is invalid (AWS refused it, or a rule the schema cannot express).
    InvalidSpec,
    /// An AWS limit that retrying cannot lift (filters per log group, sampling rules per region).
    LimitExceeded,
    /// AWS refused the operator's credentials for this call.
    AccessDenied,
    /// AWS throttled the operator and the SDK's retries ran out.
    Throttled,
    /// AWS answered with a server error, timed out or could not be reached.
    AwsUnavailable,
    /// The Kubernetes API refused or failed a call the operator made.
    KubernetesError,
}

impl Reason {
    /// Every reason, for exhaustive tests and metric initialisation.
    pub const ALL: [Reason; 14] = [
        Reason::Creating,
        Reason::Available,
        Reason::Observed,
        Reason::Updating,
        Reason::Deleting,
        Reason::DependencyNotReady,
        Reason::AlreadyExistsUnowned,
        Reason::NotFound,
        Reason::InvalidSpec,
        Reason::LimitExceeded,
        Reason::AccessDenied,
        Reason::Throttled,
        Reason::AwsUnavailable,
        Reason::KubernetesError,
    ];

    /// The reason as it appears in conditions, events and metric labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Creating => "Creating",
            Reason::Available => "Available",
            Reason::Observed => "Observed",
            Reason::Updating => "Updating",
            Reason::Deleting => "Deleting",
            Reason::DependencyNotReady => "DependencyNotReady",
            Reason::AlreadyExistsUnowned => "AlreadyExistsUnowned",
            Reason::NotFound => "NotFound",
            Reason::InvalidSpec => "InvalidSpec",
            Reason::LimitExceeded => "LimitExceeded",
            Reason::AccessDenied => "AccessDenied",
            Reason::Throttled => "Throttled",
            Reason::AwsUnavailable => "AwsUnavailable",
            Reason::KubernetesError => "KubernetesError",
        }
    }

    /// Terminal reasons wait for the spec to change; everything else is retried.
    ///
    /// `AlreadyExistsUnowned` is terminal: only a spec change (another name, or an `adoption`
    /// that allows taking over) can resolve it. `AccessDenied` is recoverable because it is fixed
    /// in IAM, not in the spec, and the controller must notice when it is.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Reason::InvalidSpec | Reason::LimitExceeded | Reason::AlreadyExistsUnowned
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn reason_strings_are_unique_pascal_case() {
        let strings: HashSet<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(strings.len(), Reason::ALL.len());
        for s in strings {
            assert!(s.chars().next().unwrap().is_ascii_uppercase(), "{s}");
            assert!(s.chars().all(|c| c.is_ascii_alphanumeric()), "{s}");
        }
    }

    #[test]
    fn only_spec_problems_are_terminal() {
        let terminal: Vec<_> = Reason::ALL.iter().filter(|r| r.is_terminal()).collect();
        assert_eq!(
            terminal,
            [
                &Reason::AlreadyExistsUnowned,
                &Reason::InvalidSpec,
                &Reason::LimitExceeded
            ]
        );
    }
}
