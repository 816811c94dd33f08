//! Steps metric alarms and composite alarms share, because both are CloudWatch alarms: the same
//! DescribeAlarms, the same tag APIs, the same DeleteAlarms with its silent "unknown names are
//! ignored" that needs a describe to confirm. The lifecycle decisions every kind shares are in
//! `crate::runtime::lifecycle`.

use crate::aws::alarm_reader::AlarmRecord;
use crate::aws::cloudwatch_tags;
use crate::error::{Error, Result};
use crate::ownership::Owner;
use crate::reason::Reason;
use crate::runtime::context::Context;
use std::collections::BTreeMap;

/// Reads the tags of `arn` when they are needed or due (see `runtime::tag_reads`).
pub async fn tags_if_due(
    ctx: &Context,
    key: &str,
    needed: bool,
    region: &str,
    arn: &str,
) -> Result<Option<BTreeMap<String, String>>> {
    if ctx.tag_reads.due(key, needed) {
        Ok(Some(cloudwatch_tags::list(&ctx.aws, region, arn).await?))
    } else {
        Ok(None)
    }
}

/// Deletes the alarm `name` if `owner` owns it (checked through its tags unless ownership is
/// already `confirmed`), then confirms it is gone. A missing alarm counts as deleted; an alarm of
/// the other type (metric vs composite) was never this object's.
pub async fn delete(
    ctx: &Context,
    region: &str,
    name: &str,
    composite: bool,
    owner: &Owner,
    confirmed: bool,
) -> Result<()> {
    let arn = match ctx.alarm_reader.describe(region, name).await? {
        Some(AlarmRecord::Metric(m)) if !composite => m.alarm_arn.clone(),
        Some(AlarmRecord::Composite(c)) if composite => c.alarm_arn.clone(),
        _ => return Ok(()),
    };
    if !confirmed {
        let tags =
            cloudwatch_tags::list(&ctx.aws, region, arn.as_deref().unwrap_or_default()).await?;
        if !owner.owns(&tags) {
            tracing::info!(alarm = %name, "not deleting an alarm this object does not own");
            return Ok(());
        }
    }
    let deleted = if composite {
        ctx.alarm_deleter.delete_composite_alarm(region, name).await
    } else {
        ctx.alarm_deleter.delete_metric_alarm(region, name).await
    };
    match deleted {
        Ok(()) => {}
        // AWS refuses to delete an alarm that a composite alarm's rule still names.
        Err(e) if e.reason == Reason::InvalidSpec => {
            return Err(Error::dependency(format!(
                "alarm {name:?} cannot be deleted yet because a composite alarm still uses it: {}",
                e.message
            )));
        }
        Err(e) => return Err(e),
    }
    match ctx.alarm_reader.describe_after_write(region, name).await? {
        None => Ok(()),
        Some(_) => Err(Error::new(
            Reason::AwsUnavailable,
            format!("alarm {name:?} is still listed after DeleteAlarms; checking again"),
        )),
    }
}
