//! Everything about `SamplingRule`, an AWS X-Ray sampling rule.
//!
//! AWS calls: GetSamplingRules (paged; there is no get-one call), CreateSamplingRule (not an
//! upsert: look up by name first), UpdateSamplingRule, DeleteSamplingRule,
//! TagResource/UntagResource.

pub mod spec;

pub use spec::*;
