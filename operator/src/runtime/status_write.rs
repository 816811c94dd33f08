//! Writes an object's status with server-side apply, under the operator's one field manager, and
//! only when it differs from what the object already shows: a reconcile with nothing new makes no
//! write at all. The version the write produced is noted (see [`super::versions`]), so the next
//! reconcile can tell a cached copy that does not have it yet.

use super::Reported;
use super::context::Context;
use crate::error::{Error, Result};
use crate::metrics::KubeWrite;
use crate::vocabulary::FIELD_MANAGER;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};

/// Whether a status write happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    Yes,
    Unchanged,
    /// The object is gone (deleted and its finalizer removed while the reconcile worked).
    Gone,
}

/// Applies `status` to `obj` unless `shown`, the status the object shows now (its status when
/// the reconcile began, or what the reconcile wrote since), already is it.
pub async fn write_status<K: Reported>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    shown: Option<&K::Status>,
    status: &K::Status,
) -> Result<Written> {
    if shown == Some(status) {
        return Ok(Written::Unchanged);
    }
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    ctx.metrics.kube_write(K::LABEL, KubeWrite::Status);
    match api
        .patch_status(&obj.name_any(), &params, &Patch::Apply(&patch))
        .await
    {
        Ok(written) => {
            ctx.versions.saw(
                &obj.uid().unwrap_or_default(),
                written.resource_version().as_deref(),
            );
            Ok(Written::Yes)
        }
        // The object was deleted while we worked on it: nothing to report on.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(Written::Gone),
        Err(e) => Err(Error::from(e)),
    }
}
