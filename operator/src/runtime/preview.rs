//! What each object's reconcile would do, told instead of done (`cloudwatch-operator plan`).
//!
//! A kind implements [`Plannable`] with the read-and-decide part of its own `apply`: the same
//! functions (desired, the AWS reads through the kind's shared batched readers, observed, the
//! ownership decision, the plan), stopping before the first write. [`preview`] runs it for
//! objects read from manifests, every object of a kind at once, so that their reads batch as
//! the concurrent reconciles of a controller do. The [`Context`] it runs under reads only: its
//! AWS client refuses writes before sending them, and its Kubernetes client is the caller's to
//! make read-only.

use super::context::Context;
use super::reconcile::locate;
use super::{ManagedKind, Reconcile};
use crate::error::Result;
use crate::preview::Preview;
use kube::ResourceExt;
use serde::Serialize;
use std::future::Future;

/// A kind `plan` can preview.
pub trait Plannable: ManagedKind {
    /// What taking over an existing AWS object writes, as `plan` tells it.
    const ADOPTION_WRITES: &'static str = "writes only the ownership tags";

    /// What `apply` would do now: its steps up to the first write, and the writes it would then
    /// make, described. An error is what the object's condition would show instead.
    fn preview(&self, r: &Reconcile<'_, Self>) -> impl Future<Output = Result<Preview>> + Send;
}

/// One object's preview, with what identifies it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectPreview {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    /// The region the object would live in (none when it cannot be resolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The AWSAccount it would live in, when it names one (`spec.accountRef` or its namespace's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The id of the AWS account the object would live in, when its credentials work.
    #[serde(skip)]
    pub account_id: Option<String>,
    /// The AWS object in words, for example `alarm "cpu"`.
    pub aws_object: String,
    /// What taking over the AWS object writes (see [`Plannable::ADOPTION_WRITES`]).
    #[serde(skip)]
    pub adoption_writes: &'static str,
    #[serde(flatten)]
    pub preview: Preview,
}

/// Previews every object of kind `K`, concurrently, in the order given.
pub async fn preview<K: Plannable>(
    objects: &[K],
    ctx: &Context,
    shared: &K::Shared,
) -> Vec<ObjectPreview> {
    futures::future::join_all(objects.iter().map(|obj| preview_one(obj, ctx, shared))).await
}

async fn preview_one<K: Plannable>(obj: &K, ctx: &Context, shared: &K::Shared) -> ObjectPreview {
    let located = locate(obj, ctx).await;
    let preview = match &located {
        Err(e) => Preview::from_error(e),
        Ok((location, account_id)) => {
            let mut r = Reconcile::new(obj, ctx, shared, location.clone(), account_id.clone());
            // A plan proves ownership afresh, as a reconcile does on first sight of an AWS
            // object: its tags are read and the ownership decision is made again.
            r.confirmed = false;
            obj.preview(&r)
                .await
                .unwrap_or_else(|e| Preview::from_error(&e))
        }
    };
    ObjectPreview {
        kind: K::KIND,
        namespace: obj.namespace().unwrap_or_default(),
        name: obj.name_any(),
        region: located.as_ref().ok().map(|(l, _)| l.region().to_string()),
        account: located
            .as_ref()
            .ok()
            .and_then(|(l, _)| l.account().map(str::to_string)),
        account_id: located.as_ref().ok().map(|(_, id)| id.clone()),
        aws_object: obj.describe(),
        adoption_writes: K::ADOPTION_WRITES,
        preview,
    }
}
