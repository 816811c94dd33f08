//! Resource tags in the `[{"Key": ..., "Value": ...}]` form CloudWatch, Firehose and X-Ray use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::validation::{Violations, element_path};

/// AWS's per-resource tag limit for CloudWatch, Firehose and X-Ray user tags.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The model constraints on a tag list: key 1–128 characters, value 0–256, both required.
pub fn check_tags(v: &mut Violations, path: &str, tags: Option<&[Tag]>) {
    for (i, tag) in tags.unwrap_or_default().iter().enumerate() {
        let at = element_path(path, i);
        v.required(&format!("{at}.key"), tag.key.as_ref())
            .length(&format!("{at}.key"), tag.key.as_deref(), 1, Some(128))
            .required(&format!("{at}.value"), tag.value.as_ref())
            .length(&format!("{at}.value"), tag.value.as_deref(), 0, Some(256));
    }
}

/// Tag keys under the `aws:` prefix are reserved for AWS.
pub fn reserved_key(tags: &[Tag]) -> Option<&str> {
    tags.iter()
        .filter_map(|t| t.key.as_deref())
        .find(|k| k.to_ascii_lowercase().starts_with("aws:"))
}

/// A validated tag list as a map (later duplicates win, as AWS applies them in order).
pub fn to_map(tags: Option<&[Tag]>) -> BTreeMap<String, String> {
    tags.unwrap_or_default()
        .iter()
        .map(|t| {
            (
                t.key.clone().unwrap_or_default(),
                t.value.clone().unwrap_or_default(),
            )
        })
        .collect()
}

pub fn to_list(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag {
            key: Some(k.clone()),
            value: Some(v.clone()),
        })
        .collect()
}
