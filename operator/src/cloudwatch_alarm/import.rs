//! What `import` reads the same way for metric and composite alarms: DescribeAlarms by name
//! prefix (100 per page), then each alarm's tags (DescribeAlarms reports none).

use crate::alarm::Alarm;
use crate::aws::alarm_reader::{self, AlarmRecord};
use crate::aws::cloudwatch_tags;
use crate::aws::{Aws, Location};
use crate::error::Result;
use crate::runtime::ManagedKind;
use crate::runtime::import::Found;
use aws_sdk_cloudwatch::types::AlarmType;

/// The kind of the objects a composite's rule names by `alarmRef`.
pub const ALARM_KIND: &str = <Alarm as ManagedKind>::KIND;

/// Every alarm of `alarm_type` in `region` whose name starts with `prefix`, with its tags.
pub async fn find(
    aws: &Aws,
    region: &str,
    prefix: &str,
    alarm_type: AlarmType,
) -> Result<Vec<Found<AlarmRecord>>> {
    let location = Location::of(region);
    let records = alarm_reader::list(aws, &location, prefix, alarm_type).await?;
    let tags = futures::future::join_all(records.iter().map(|r| {
        let arn = match r {
            AlarmRecord::Metric(m) => m.alarm_arn(),
            AlarmRecord::Composite(c) => c.alarm_arn(),
        };
        cloudwatch_tags::list(aws, &location, arn.unwrap_or_default())
    }))
    .await;
    records
        .into_iter()
        .zip(tags)
        .map(|(record, tags)| {
            Ok(Found {
                record,
                tags: tags?,
            })
        })
        .collect()
}
