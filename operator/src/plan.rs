//! The plan shape every kind shares: create, or update the fields that differ, plus tag
//! changes. Kinds whose AWS API replaces the whole configuration on every write (PutMetricAlarm,
//! PutCompositeAlarm, PutMetricStream, PutSubscriptionFilter) turn an update into one full write;
//! the field names are for Events and messages.

use crate::field_diff::{FieldChange, changes, top_level_fields};
use crate::tags::{self, TagDiff};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the configuration write must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The AWS object does not exist: create it (with its tags).
    Create,
    /// The AWS object exists and these fields differ.
    Update { fields: Vec<String> },
}

/// Every AWS write one reconcile needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The configuration write, if any.
    pub change: Option<Change>,
    /// Tag changes for an existing object.
    pub tags: TagDiff,
    /// The differences behind an update, field by field (none for a create).
    pub changes: Vec<FieldChange>,
}

impl Plan {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.change.is_none() && self.tags.is_empty()
    }
}

/// Plans the writes that make `observed` match `desired` (both in the kind's normal form).
/// `observed_tags` is `None` when the tags were not read this time; tags are then left alone.
pub fn plan<F: Serialize>(
    desired: &F,
    observed: Option<&F>,
    desired_tags: &BTreeMap<String, String>,
    observed_tags: Option<&BTreeMap<String, String>>,
) -> Plan {
    let Some(observed) = observed else {
        return Plan {
            change: Some(Change::Create),
            tags: TagDiff::default(),
            changes: Vec::new(),
        };
    };
    let update = update(desired, observed, desired_tags, observed_tags);
    Plan {
        change: (!update.fields.is_empty()).then_some(Change::Update {
            fields: update.fields,
        }),
        tags: update.tags,
        changes: update.changes,
    }
}

/// What an existing AWS object needs to match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Update {
    /// The configuration fields that differ (none: no configuration write).
    pub fields: Vec<String>,
    /// The same differences field by field, with the value on each side.
    pub changes: Vec<FieldChange>,
    /// Tag changes.
    pub tags: TagDiff,
}

/// Plans the writes that make the existing `observed` match `desired`, as [`plan`] does.
pub fn update<F: Serialize>(
    desired: &F,
    observed: &F,
    desired_tags: &BTreeMap<String, String>,
    observed_tags: Option<&BTreeMap<String, String>>,
) -> Update {
    let changes = changes(desired, observed);
    Update {
        fields: top_level_fields(&changes),
        changes,
        tags: observed_tags
            .map(|o| tags::diff(desired_tags, o))
            .unwrap_or_default(),
    }
}
