//! What a reconcile would do to one object, told instead of done: the verdict `plan` reports for
//! each object. A kind's preview runs the steps its `apply` runs (desired, the AWS reads,
//! observed, the ownership decision and the plan), stops before the first write, and describes
//! the writes it would have made.

use crate::error::Error;
use crate::field_diff::FieldChange;
use crate::reason::Reason;
use serde::Serialize;
use std::fmt;

/// What the operator would do with the AWS object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// The AWS object does not exist: it would be created.
    Create,
    /// The AWS object exists and would be changed in place.
    Update,
    /// The AWS object would be deleted and created again, because AWS cannot make the change in
    /// place (a subscription filter moving to another log group, a sampling rule losing its
    /// rate boost).
    Replace,
    /// The AWS object matches the spec: nothing would be written (but for the ownership tags of
    /// an object taken over, see [`Preview::adopts`]).
    NoChange,
    /// `managementPolicy: ObserveOnly`: the AWS object is only read, never written; the changes
    /// are the differences a managed object would put right.
    Observe,
    /// The operator would refuse to write until the spec changes (a terminal reason: the AWS
    /// object belongs to someone else, or the spec cannot work).
    Refused,
    /// The operator would wait for something the object needs before it can decide anything.
    Waiting,
    /// AWS could not be read (access denied, throttled, unavailable): nothing can be said.
    Failed,
}

impl Action {
    /// Whether AWS would be written (the ownership tags of an adoption aside).
    pub fn writes(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Replace)
    }

    /// Whether the object cannot be carried out as written, or could not be planned.
    pub fn is_problem(self) -> bool {
        matches!(self, Action::Refused | Action::Waiting | Action::Failed)
    }

    /// The action as `plan` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::NoChange => "no change",
            Action::Observe => "observe",
            Action::Refused => "refused",
            Action::Waiting => "waiting",
            Action::Failed => "failed",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a reconcile of one object would do now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub action: Action,
    /// Update and replace: what changes, field by field, in the spec's field names (tags as
    /// `tags.<key>`). Observe: how AWS differs from the spec.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// The existing AWS object is taken over (`adoption`): the Event note the operator would
    /// publish. Taking over writes the operator's ownership tags and nothing else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adopts: Option<String>,
    /// The write would wait for this first (the `DependencyNotReady` message the object's
    /// condition would show meanwhile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<String>,
    /// Refused, waiting or failed: the reason the object's condition would show.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Refused, waiting or failed: the condition's message. Replace: why AWS needs it. Observe:
    /// what was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Preview {
    fn of(action: Action) -> Self {
        Preview {
            action,
            changes: Vec::new(),
            adopts: None,
            waits_for: None,
            reason: None,
            message: None,
        }
    }

    /// The AWS object would be created.
    pub fn create() -> Self {
        Self::of(Action::Create)
    }

    /// The existing AWS object would get `changes` (nothing to write when there are none).
    pub fn update(changes: Vec<FieldChange>) -> Self {
        let action = if changes.is_empty() {
            Action::NoChange
        } else {
            Action::Update
        };
        Preview {
            changes,
            ..Self::of(action)
        }
    }

    /// The AWS object would be deleted and created again with `changes`, because of `why`.
    pub fn replace(changes: Vec<FieldChange>, why: impl Into<String>) -> Self {
        Preview {
            changes,
            message: Some(why.into()),
            ..Self::of(Action::Replace)
        }
    }

    /// ObserveOnly: the AWS object was read and differs from the spec in `differences`.
    pub fn observe(differences: Vec<FieldChange>) -> Self {
        Preview {
            changes: differences,
            ..Self::of(Action::Observe)
        }
    }

    /// ObserveOnly (or X-Ray's Default rule): there is nothing to observe; `message` says so.
    pub fn observe_missing(message: impl Into<String>) -> Self {
        Preview {
            message: Some(message.into()),
            ..Self::of(Action::Observe)
        }
    }

    /// What the object's condition would show instead of a write: refused for a terminal reason,
    /// waiting for a dependency, failed for anything else.
    pub fn from_error(error: &Error) -> Self {
        let action = if error.is_terminal() {
            Action::Refused
        } else if error.reason == Reason::DependencyNotReady {
            Action::Waiting
        } else {
            Action::Failed
        };
        Preview {
            reason: Some(error.reason),
            message: Some(error.message.clone()),
            ..Self::of(action)
        }
    }

    /// The object takes over the existing AWS object; `note` is the Event it would publish.
    pub fn adopting(mut self, note: Option<String>) -> Self {
        self.adopts = note;
        self
    }

    /// The write would first wait for what `blocked` says (a `DependencyNotReady` error).
    pub fn waiting_for(mut self, blocked: Option<&Error>) -> Self {
        self.waits_for = blocked.map(|e| e.message.clone());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(field: &str) -> FieldChange {
        FieldChange {
            field: field.into(),
            old: Some(json!(1)),
            new: Some(json!(2)),
        }
    }

    #[test]
    fn an_update_without_changes_is_no_change() {
        assert_eq!(Preview::update(vec![]).action, Action::NoChange);
        assert_eq!(
            Preview::update(vec![change("threshold")]).action,
            Action::Update
        );
    }

    #[test]
    fn errors_become_refused_waiting_or_failed_by_their_reason() {
        let refused = Preview::from_error(&Error::invalid_spec("bad"));
        assert_eq!(refused.action, Action::Refused);
        assert_eq!(refused.reason, Some(Reason::InvalidSpec));
        assert_eq!(refused.message.as_deref(), Some("bad"));
        let waiting = Preview::from_error(&Error::dependency("log group"));
        assert_eq!(waiting.action, Action::Waiting);
        let failed = Preview::from_error(&Error::new(Reason::AccessDenied, "no"));
        assert_eq!(failed.action, Action::Failed);
        for p in [refused, waiting, failed] {
            assert!(p.action.is_problem() && !p.action.writes());
        }
    }

    #[test]
    fn only_create_update_and_replace_write() {
        let writes: Vec<Action> = [
            Action::Create,
            Action::Update,
            Action::Replace,
            Action::NoChange,
            Action::Observe,
            Action::Refused,
            Action::Waiting,
            Action::Failed,
        ]
        .into_iter()
        .filter(|a| a.writes())
        .collect();
        assert_eq!(writes, [Action::Create, Action::Update, Action::Replace]);
    }

    #[test]
    fn json_names_the_action_and_reason_as_printed() {
        let p = Preview::from_error(&Error::dependency("waiting for x"));
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"action": "waiting", "reason": "DependencyNotReady", "message": "waiting for x"})
        );
        assert_eq!(
            serde_json::to_value(Preview::update(vec![])).unwrap(),
            json!({"action": "noChange"})
        );
    }
}
