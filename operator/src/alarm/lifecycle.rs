//! Steps metric alarms and composite alarms share, because both are CloudWatch alarms: the same
//! DescribeAlarms, the same tag APIs, the same DeleteAlarms with its silent "unknown names are
//! ignored" that needs a describe to confirm.

use crate::aws::alarm_reader::AlarmRecord;
use crate::aws::api::Api;
use crate::aws::cloudwatch_tags;
use crate::common_fields::CommonStatus;
use crate::conditions::status_of;
use crate::error::{Error, Result};
use crate::reason::Reason;
use crate::runtime::Notice;
use crate::runtime::context::Context;
use crate::vocabulary::{OWNER_TAG, condition};
use std::collections::BTreeMap;

/// Whether an earlier reconcile already established that this object manages the AWS object
/// `aws_name`: it reported it Ready as managed (not merely observed).
pub fn ownership_confirmed(status: Option<&CommonStatus>, aws_name: &str) -> bool {
    status.is_some_and(|s| {
        s.aws_name.as_deref() == Some(aws_name)
            && status_of(&s.conditions, condition::READY)
                .is_some_and(|c| c.status == "True" && c.reason == Reason::Available.as_str())
    })
}

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

/// The Event for a Put that changed `fields`: drift put back when the spec did not change and
/// the object was already in sync, otherwise an update.
pub fn change_notice(drift: bool, action: &'static str, fields: &[String]) -> Notice {
    if drift {
        Notice::warning(
            "DriftCorrected",
            action,
            format!(
                "put back {} changed outside the operator",
                fields.join(", ")
            ),
        )
    } else {
        Notice::normal("Updated", action, format!("updated {}", fields.join(", ")))
    }
}

/// The Ready message under ObserveOnly.
pub fn observed_message(what: &str, differences: &[String]) -> String {
    if differences.is_empty() {
        format!("observed {what}; it matches the spec")
    } else {
        format!(
            "observed {what}; it differs from the spec in: {}",
            differences.join(", ")
        )
    }
}

/// Deletes the alarm `name` if `owner_tag` owns it (checked through its tags unless ownership is
/// already `confirmed`), then confirms it is gone. A missing alarm counts as deleted; an alarm of
/// the other type (metric vs composite) was never this object's.
pub async fn delete(
    ctx: &Context,
    region: &str,
    name: &str,
    composite: bool,
    owner_tag: &str,
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
        if tags.get(OWNER_TAG).map(String::as_str) != Some(owner_tag) {
            tracing::info!(alarm = %name, "not deleting an alarm this object does not own");
            return Ok(());
        }
    }
    let client = &ctx.aws.clients(region).cloudwatch;
    // One name per call: DeleteAlarms takes at most one composite alarm at a time.
    let request = client.delete_alarms().alarm_names(name).send();
    match ctx.aws.call(region, Api::DeleteAlarms, request).await {
        Ok(_) => {}
        // AWS refuses to delete an alarm that a composite alarm's rule still names.
        Err(e) if e.reason == Reason::InvalidSpec => {
            return Err(Error::dependency(format!(
                "alarm {name:?} cannot be deleted yet because a composite alarm still uses it: {}",
                e.message
            )));
        }
        Err(e) => return Err(e),
    }
    match ctx.alarm_reader.describe(region, name).await? {
        None => Ok(()),
        Some(_) => Err(Error::new(
            Reason::AwsUnavailable,
            format!("alarm {name:?} is still listed after DeleteAlarms; checking again"),
        )),
    }
}
