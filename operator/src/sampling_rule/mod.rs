//! Everything about `SamplingRule`, an AWS X-Ray sampling rule.
//!
//! AWS calls: GetSamplingRules (paged; there is no get-one call, so reconciles share one listing
//! per region through `crate::aws::sampling_rules`), CreateSamplingRule (not an upsert: look up
//! by name first), UpdateSamplingRule, DeleteSamplingRule, and X-Ray's
//! TagResource/UntagResource/ListTagsForResource (`crate::aws::xray_tags`).

pub mod controller;
pub mod desired;
pub mod diff;
pub mod observed;
pub mod spec;
pub mod status;

pub use spec::*;
