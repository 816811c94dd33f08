//! The closed sets of condition reasons (DESIGN.md, "Custom resources").
//!
//! [`Reason`] says why an object is not Ready. It is what an [`Error`](crate::error::Error)
//! carries, and each one is either terminal — the spec must change before another attempt can
//! succeed, so nothing retries — or recoverable — the controller requeues with backoff and jitter.
//! The reason string doubles as the low-cardinality `reason` label of the error metrics.
//! [`ConditionReason`] is what a condition shows: one of the two Ready reasons, or a [`Reason`].

use std::fmt;

/// Why an object is not Ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The AWS object does not exist (ObserveOnly, or an object that may only be observed), or
    /// AWS answered that something the call names does not exist.
    NotFound,
    /// Something this object needs (a child alarm, a delivery stream, a log group) is missing or
    /// not ready, or something still needs this object (a composite alarm naming it).
    DependencyNotReady,
    /// The AWS object exists and belongs to someone else; `adoption` does not allow taking it over.
    AlreadyExistsUnowned,
    /// The spec is invalid (AWS refused it, or a rule the schema cannot express).
    InvalidSpec,
    /// An AWS limit that retrying cannot lift (filters per log group, sampling rules per region).
    LimitExceeded,
    /// AWS refused the operator's credentials for this call, or refused to let the operator
    /// assume the role of the object's account.
    AccessDenied,
    /// The object's namespace (or region) may not use the AWSAccount it names: a cluster admin
    /// decides that in the AWSAccount. Nothing is called in AWS.
    AccountNotAllowed,
    /// AWS throttled the operator and the SDK's retries ran out.
    Throttled,
    /// AWS answered with a server error, timed out or could not be reached.
    AwsUnavailable,
    /// The Kubernetes API refused or failed a call the operator made.
    KubernetesError,
}

impl Reason {
    /// Every reason, for exhaustive tests and metric initialisation.
    pub const ALL: [Reason; 10] = [
        Reason::NotFound,
        Reason::DependencyNotReady,
        Reason::AlreadyExistsUnowned,
        Reason::InvalidSpec,
        Reason::LimitExceeded,
        Reason::AccessDenied,
        Reason::AccountNotAllowed,
        Reason::Throttled,
        Reason::AwsUnavailable,
        Reason::KubernetesError,
    ];

    /// The reason as it appears in conditions, events and metric labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::NotFound => "NotFound",
            Reason::DependencyNotReady => "DependencyNotReady",
            Reason::AlreadyExistsUnowned => "AlreadyExistsUnowned",
            Reason::InvalidSpec => "InvalidSpec",
            Reason::LimitExceeded => "LimitExceeded",
            Reason::AccessDenied => "AccessDenied",
            Reason::AccountNotAllowed => "AccountNotAllowed",
            Reason::Throttled => "Throttled",
            Reason::AwsUnavailable => "AwsUnavailable",
            Reason::KubernetesError => "KubernetesError",
        }
    }

    /// Terminal reasons wait for the spec to change; everything else is retried.
    ///
    /// `AlreadyExistsUnowned` is terminal: only a spec change (another name, or an `adoption`
    /// that allows taking over) can resolve it. `AccessDenied` is recoverable because it is fixed
    /// in IAM, not in the spec, and the controller must notice when it is. `AccountNotAllowed` is
    /// terminal: it is fixed in the AWSAccount or the namespace's labels, and a change to either
    /// wakes the objects concerned.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Reason::InvalidSpec
                | Reason::LimitExceeded
                | Reason::AlreadyExistsUnowned
                | Reason::AccountNotAllowed
        )
    }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The reason a condition shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionReason {
    /// The AWS object exists and matches the spec.
    Available,
    /// The AWS object was observed (ObserveOnly).
    Observed,
    /// The object is not Ready, for this reason.
    NotReady(Reason),
}

impl ConditionReason {
    /// The reason as it appears in conditions.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConditionReason::Available => "Available",
            ConditionReason::Observed => "Observed",
            ConditionReason::NotReady(reason) => reason.as_str(),
        }
    }

    /// Whether this reason waits for a spec change.
    pub const fn is_terminal(self) -> bool {
        match self {
            ConditionReason::NotReady(reason) => reason.is_terminal(),
            ConditionReason::Available | ConditionReason::Observed => false,
        }
    }
}

impl From<Reason> for ConditionReason {
    fn from(reason: Reason) -> Self {
        ConditionReason::NotReady(reason)
    }
}

impl fmt::Display for ConditionReason {
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
        let mut strings: HashSet<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        strings.insert(ConditionReason::Available.as_str());
        strings.insert(ConditionReason::Observed.as_str());
        assert_eq!(strings.len(), Reason::ALL.len() + 2);
        for s in strings {
            assert!(s.chars().next().unwrap().is_ascii_uppercase(), "{s}");
            assert!(s.chars().all(|c| c.is_ascii_alphanumeric()), "{s}");
        }
    }

    #[test]
    fn only_what_a_spec_or_an_account_grant_must_change_is_terminal() {
        let terminal: Vec<_> = Reason::ALL.iter().filter(|r| r.is_terminal()).collect();
        assert_eq!(
            terminal,
            [
                &Reason::AlreadyExistsUnowned,
                &Reason::InvalidSpec,
                &Reason::LimitExceeded,
                &Reason::AccountNotAllowed
            ]
        );
        assert!(!ConditionReason::Available.is_terminal());
        assert!(ConditionReason::from(Reason::InvalidSpec).is_terminal());
    }
}
