//! Step 1 of the LogDestination reconcile: the spec as the exact PutDestination request and the
//! access policy to put with PutDestinationPolicy. The policy names the destination's ARN, which
//! AWS assigns, so it is built once the ARN is known.

use super::policy;
use super::spec::LogDestinationSpec;
use crate::error::Error;
use aws_sdk_cloudwatchlogs::operation::put_destination::builders::PutDestinationFluentBuilder;
use serde::Serialize;
use std::collections::BTreeMap;

/// Everything PutDestination sets besides the name and the tags, in a normal form both the spec
/// and AWS's answer map to. Serialized with the spec's field names, so differences are reported
/// as the user writes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationConfig {
    pub target_arn: String,
    pub role_arn: String,
}

/// Who may subscribe: the accounts to build the policy for, or the document itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessPolicy {
    Senders(Vec<String>),
    Document(String),
}

impl AccessPolicy {
    /// The policy document for the destination `arn`.
    pub fn document(&self, arn: &str) -> String {
        match self {
            AccessPolicy::Senders(senders) => policy::for_senders(senders, arn),
            AccessPolicy::Document(document) => document.clone(),
        }
    }
}

/// The desired destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    pub config: DestinationConfig,
    pub access: AccessPolicy,
}

/// The destination's name: `spec.destinationName`, else the object's name.
pub fn aws_name(spec: &LogDestinationSpec, object_name: &str) -> String {
    spec.destination_name
        .clone()
        .unwrap_or_else(|| object_name.to_string())
}

/// The desired destination for `spec`; an access policy that is not a JSON object is refused.
pub fn desired(spec: &LogDestinationSpec, object_name: &str) -> Result<Desired, Error> {
    let access = match (&spec.sender_account_ids, &spec.access_policy) {
        (_, Some(document)) => {
            policy::check(document)?;
            AccessPolicy::Document(document.clone())
        }
        (Some(senders), None) => AccessPolicy::Senders(senders.clone()),
        // The schema requires one of the two; without either, nobody may subscribe.
        (None, None) => AccessPolicy::Senders(Vec::new()),
    };
    Ok(Desired {
        name: aws_name(spec, object_name),
        config: DestinationConfig {
            target_arn: spec.target_arn.clone(),
            role_arn: spec.role_arn.clone(),
        },
        access,
    })
}

/// Fills a PutDestination request. `tags` only on create: the destination's tags are changed
/// with TagResource and UntagResource afterwards.
pub fn put_request(
    b: PutDestinationFluentBuilder,
    d: &Desired,
    tags: Option<&BTreeMap<String, String>>,
) -> PutDestinationFluentBuilder {
    b.destination_name(&d.name)
        .target_arn(&d.config.target_arn)
        .role_arn(&d.config.role_arn)
        .set_tags(tags.map(crate::aws::logs_tags::sdk_tags))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn central_spec() -> LogDestinationSpec {
        LogDestinationSpec {
            target_arn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/central-logs"
                .into(),
            role_arn: "arn:aws:iam::123456789012:role/logs-to-firehose".into(),
            sender_account_ids: Some(vec!["123456789012".into()]),
            ..Default::default()
        }
    }

    #[test]
    fn the_name_defaults_to_the_object_name() {
        let mut spec = central_spec();
        assert_eq!(desired(&spec, "central").unwrap().name, "central");
        spec.destination_name = Some("org-logs".into());
        assert_eq!(desired(&spec, "central").unwrap().name, "org-logs");
    }

    #[test]
    fn an_explicit_document_is_used_as_given_and_must_be_json() {
        let mut spec = central_spec();
        spec.sender_account_ids = None;
        spec.access_policy = Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into());
        let d = desired(&spec, "x").unwrap();
        assert_eq!(
            d.access.document("arn"),
            r#"{"Version":"2012-10-17","Statement":[]}"#
        );
        spec.access_policy = Some("Allow everyone".into());
        assert!(desired(&spec, "x").unwrap_err().is_terminal());
    }

    #[test]
    fn tags_go_only_with_a_create() {
        let client = aws_sdk_cloudwatchlogs::Client::from_conf(
            aws_sdk_cloudwatchlogs::Config::builder()
                .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
                .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
                .build(),
        );
        let d = desired(&central_spec(), "x").unwrap();
        let tags = BTreeMap::from([("team".to_string(), "logs".to_string())]);
        let create = put_request(client.put_destination(), &d, Some(&tags));
        assert_eq!(create.get_tags().as_ref().map(|t| t.len()), Some(1));
        let update = put_request(client.put_destination(), &d, None);
        assert_eq!(update.get_tags(), &None);
        assert_eq!(
            update.get_target_arn().as_deref(),
            Some(d.config.target_arn.as_str())
        );
    }
}
