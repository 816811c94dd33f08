//! AWS X-Ray (restJson 1): sampling rules and their tags.

mod sampling_rules;
pub mod state;
mod tagging;

use crate::call::{Call, reply};
use crate::error::{AwsError, AwsResult};
use crate::tags::Tag;
use crate::validation::{Violations, element_path};
use crate::wire::{Encoded, Protocol};

pub use state::XrayState;

pub fn dispatch(
    call: &mut Call<'_>,
    operation: &str,
    protocol: Protocol,
    body: &[u8],
) -> AwsResult<Encoded> {
    match operation {
        "CreateSamplingRule" => reply(protocol, body, |i| sampling_rules::create(call, i)),
        "GetSamplingRules" => reply(protocol, body, |i| sampling_rules::get(call, i)),
        "UpdateSamplingRule" => reply(protocol, body, |i| sampling_rules::update(call, i)),
        "DeleteSamplingRule" => reply(protocol, body, |i| sampling_rules::delete(call, i)),
        "TagResource" => reply(protocol, body, |i| tagging::tag_resource(call, i)),
        "UntagResource" => reply(protocol, body, |i| tagging::untag_resource(call, i)),
        "ListTagsForResource" => {
            reply(protocol, body, |i| tagging::list_tags_for_resource(call, i))
        }
        other => Err(AwsError::unknown_operation(other)),
    }
}

/// X-Ray answers every malformed or refused request with `InvalidRequestException` (400).
pub fn invalid_request(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidRequestException", message)
}

/// AWS (X-Ray `Tag`): keys and values "can contain only Unicode letters, numbers, or
/// separators, or the following special characters: + - = . _ : /" (and `@`, which
/// TagResource lists too).
pub const TAG_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";

/// The X-Ray character set of each tag key and value.
pub fn check_tag_characters(v: &mut Violations, path: &str, tags: Option<&[Tag]>) {
    for (i, tag) in tags.unwrap_or_default().iter().enumerate() {
        let at = element_path(path, i);
        v.model_pattern(&format!("{at}.key"), tag.key.as_deref(), TAG_PATTERN)
            .model_pattern(&format!("{at}.value"), tag.value.as_deref(), TAG_PATTERN);
    }
}
