//! Everything about `AWSAccount`, the cluster-scoped object through which a cluster admin lets
//! namespaces use AWS accounts other than the operator's own: the IAM role the operator assumes
//! there, and which namespaces and regions may use it.
//!
//! AWS calls: STS AssumeRole (from the operator's own credentials; `crate::aws::accounts` keeps
//! the session and renews it) and GetCallerIdentity with the assumed role. Every other kind's
//! calls in the account are signed with the session's credentials.
//!
//! Who may use an account is decided here ([`access`]) and asked by the runtime ([`Grants`])
//! before anything is called in AWS for an object.

pub mod access;
pub mod controller;
pub mod grants;
pub mod preview;
pub mod spec;
pub mod status;

pub use grants::Grants;
pub use spec::*;
