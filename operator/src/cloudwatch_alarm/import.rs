//! What `import` reads the same way for metric and composite alarms: DescribeAlarms of the
//! kind's alarm type by name prefix (100 per page), then each alarm's tags (DescribeAlarms
//! reports none).

use super::AlarmKind;
use super::delete::AlarmType;
use crate::alarm::Alarm;
use crate::aws::alarm_reader;
use crate::aws::cloudwatch_tags;
use crate::aws::{Aws, Location};
use crate::error::Result;
use crate::runtime::ManagedKind;
use aws_sdk_cloudwatch::types::AlarmType as SdkAlarmType;
use std::collections::BTreeMap;

/// The kind of the objects a composite's rule names by `alarmRef`.
pub const ALARM_KIND: &str = <Alarm as ManagedKind>::KIND;

/// Every alarm of kind `K` in `region` whose name starts with `prefix`.
pub async fn list<K: AlarmKind>(aws: &Aws, region: &str, prefix: &str) -> Result<Vec<K::Record>> {
    let alarm_type = match K::TYPE {
        AlarmType::Metric => SdkAlarmType::MetricAlarm,
        AlarmType::Composite => SdkAlarmType::CompositeAlarm,
    };
    let records = alarm_reader::list(aws, &Location::of(region), prefix, alarm_type).await?;
    Ok(records.into_iter().filter_map(|r| K::own(r).ok()).collect())
}

/// The tags of the alarm `record` in `region`.
pub async fn tags<K: AlarmKind>(
    aws: &Aws,
    region: &str,
    record: &K::Record,
) -> Result<BTreeMap<String, String>> {
    let arn = K::arn(record).unwrap_or_default();
    cloudwatch_tags::list(aws, &Location::of(region), arn).await
}
