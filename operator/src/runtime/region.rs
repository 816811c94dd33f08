//! Which AWS region an object lives in. The region is resolved once — `spec.region`, else the
//! namespace's `cwo.dev/region` annotation, else the operator's default — and recorded in
//! `status.region`; after that it never changes silently, even if the annotation or the default
//! does.

use crate::error::Error;

/// Resolves the region for an object.
pub fn resolve(
    spec_region: Option<&str>,
    status_region: Option<&str>,
    namespace_region: Option<&str>,
    default_region: &str,
) -> Result<String, Error> {
    match (status_region, spec_region) {
        (Some(recorded), Some(wanted)) if recorded != wanted => Err(Error::invalid_spec(format!(
            "spec.region is {wanted} but this object's AWS resource lives in {recorded}; the \
             region cannot change. Set spec.region back to {recorded}, or create a new object \
             for {wanted}"
        ))),
        (Some(recorded), _) => Ok(recorded.to_string()),
        (None, Some(wanted)) => Ok(wanted.to_string()),
        (None, None) => Ok(namespace_region
            .filter(|r| !r.is_empty())
            .unwrap_or(default_region)
            .to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_then_namespace_then_default() {
        assert_eq!(
            resolve(Some("eu-west-1"), None, Some("us-west-2"), "us-east-1").unwrap(),
            "eu-west-1"
        );
        assert_eq!(
            resolve(None, None, Some("us-west-2"), "us-east-1").unwrap(),
            "us-west-2"
        );
        assert_eq!(resolve(None, None, None, "us-east-1").unwrap(), "us-east-1");
    }

    #[test]
    fn recorded_region_never_changes_silently() {
        // The namespace annotation or the operator default changed after creation.
        assert_eq!(
            resolve(None, Some("eu-west-1"), Some("us-west-2"), "us-east-1").unwrap(),
            "eu-west-1"
        );
    }

    #[test]
    fn a_spec_region_that_contradicts_the_recorded_one_is_a_spec_error() {
        let err = resolve(Some("us-west-2"), Some("eu-west-1"), None, "us-east-1").unwrap_err();
        assert!(err.is_terminal());
        assert!(err.message.contains("eu-west-1") && err.message.contains("us-west-2"));
    }
}
