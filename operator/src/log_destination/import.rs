//! An existing CloudWatch Logs destination as the LogDestination that manages it (`import`):
//! DescribeDestinations (every page) with each destination's tags. An access policy that is the
//! one `senderAccountIds` builds is imported as those account ids; any other as the document.

use super::desired::desired;
use super::policy;
use super::spec::{LogDestination, LogDestinationSpec};
use crate::aws::{Aws, Location, log_destinations, logs_tags};
use crate::common_fields::{CommonSpec, LogsTags, Tags};
use crate::error::Result;
use crate::runtime::import::{Found, ImportNames, Importable, user_tags};
use aws_sdk_cloudwatchlogs::types::Destination;
use kube::ResourceExt;
use std::collections::BTreeMap;

impl Importable for LogDestination {
    type Record = Destination;
    const AWS_NOUN: &'static str = "log destination";

    async fn list(aws: &Aws, region: &str, prefix: &str) -> Result<Vec<Destination>> {
        log_destinations::list_all(aws, &Location::of(region), prefix).await
    }

    async fn tags(
        aws: &Aws,
        region: &str,
        record: &Destination,
    ) -> Result<BTreeMap<String, String>> {
        logs_tags::list(aws, &Location::of(region), record.arn().unwrap_or_default()).await
    }

    fn record_name(record: &Destination) -> &str {
        record.destination_name().unwrap_or_default()
    }

    fn manifest(
        found: &Found<Destination>,
        name: &str,
        common: CommonSpec,
        _names: &ImportNames,
    ) -> LogDestination {
        let r = &found.record;
        let document = r.access_policy().unwrap_or_default();
        let senders = policy::senders_of(document, r.arn().unwrap_or_default());
        let spec = LogDestinationSpec {
            common,
            destination_name: Some(Self::record_name(r).to_string()),
            target_arn: r.target_arn().unwrap_or_default().to_string(),
            role_arn: r.role_arn().unwrap_or_default().to_string(),
            access_policy: match (&senders, document) {
                (None, document) if !document.is_empty() => Some(document.to_string()),
                _ => None,
            },
            sender_account_ids: senders,
            tags: LogsTags(Tags(user_tags(&found.tags))),
        };
        LogDestination::new(name, spec)
    }

    /// senderAccountIds or accessPolicy: the schema requires one.
    const ALWAYS_WRITTEN: &'static [&'static str] = &["senderAccountIds", "accessPolicy"];

    fn same_request(a: &LogDestination, b: &LogDestination, _names: &ImportNames) -> bool {
        let (Ok(da), Ok(db)) = (
            desired(&a.spec, &a.name_any()),
            desired(&b.spec, &b.name_any()),
        ) else {
            return false;
        };
        da.name == db.name
            && da.config == db.config
            && policy::same(&da.access.document("arn"), &db.access.document("arn"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::import::import_one;

    const ARN: &str = "arn:aws:logs:us-east-1:123456789012:destination:central-logs";

    fn cli_destination(policy: &str) -> Destination {
        Destination::builder()
            .destination_name("central-logs")
            .target_arn("arn:aws:firehose:us-east-1:123456789012:deliverystream/central-logs")
            .role_arn("arn:aws:iam::123456789012:role/logs-to-firehose")
            .access_policy(policy)
            .arn(ARN)
            .creation_time(1_700_000_000_000)
            .build()
    }

    /// The imported manifest, and the object it makes once applied.
    fn import(record: Destination) -> (String, LogDestination) {
        let f = Found {
            record,
            tags: BTreeMap::from([("team".to_string(), "observability".to_string())]),
        };
        let imported = import_one::<LogDestination>(f, &mut ImportNames::default()).unwrap();
        let yaml = serde_yaml::to_string(&imported.manifest).unwrap();
        (yaml.clone(), serde_yaml::from_str(&yaml).unwrap())
    }

    #[test]
    fn a_sender_policy_is_imported_as_the_sender_accounts() {
        let written = policy::for_senders(&["210987654321".into(), "123456789012".into()], ARN);
        let (yaml, obj) = import(cli_destination(&written));
        assert_eq!(
            yaml,
            "apiVersion: cwo.dev/v1alpha1
kind: LogDestination
metadata:
  name: central-logs
spec:
  region: us-east-1
  deletionPolicy: Retain
  adoption: IfUnowned
  targetArn: arn:aws:firehose:us-east-1:123456789012:deliverystream/central-logs
  roleArn: arn:aws:iam::123456789012:role/logs-to-firehose
  senderAccountIds:
  - '123456789012'
  - '210987654321'
  tags:
    team: observability
"
        );
        let d = desired(&obj.spec, "central-logs").unwrap();
        assert!(policy::same(&d.access.document(ARN), &written));
    }

    #[test]
    fn any_other_policy_is_imported_as_the_document() {
        let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"logs:PutSubscriptionFilter","Resource":"*"}]}"#;
        let (yaml, obj) = import(cli_destination(document));
        assert!(yaml.contains("accessPolicy:"), "{yaml}");
        assert!(!yaml.contains("senderAccountIds"), "{yaml}");
        let d = desired(&obj.spec, "central-logs").unwrap();
        assert!(policy::same(&d.access.document(ARN), document));
    }
}
