//! Everything about `SamplingRule`, an AWS X-Ray sampling rule.
//!
//! AWS calls: GetSamplingRules (paged; there is no get-one call, so reconciles share one listing
//! per region through `crate::aws::sampling_rules`), CreateSamplingRule (not an upsert: look up
//! by name first), UpdateSamplingRule, DeleteSamplingRule, and X-Ray's
//! TagResource/UntagResource/ListTagsForResource (`crate::aws::xray_tags`).

pub mod controller;
pub mod desired;
pub mod diff;
pub mod import;
pub mod observed;
pub mod spec;
pub mod status;

pub use spec::*;

use crate::aws::Aws;
use crate::aws::sampling_rules::RuleLister;
use std::sync::Arc;
use std::time::Duration;

/// X-Ray has no get-one call: the reconciles of one region share one GetSamplingRules listing,
/// kept this long only, so that drift is seen.
const LISTING_FRESH_FOR: Duration = Duration::from_secs(3);

/// What every SamplingRule reconcile shares.
pub fn shared(aws: Arc<Aws>) -> Arc<RuleLister> {
    RuleLister::new(aws, LISTING_FRESH_FOR)
}
