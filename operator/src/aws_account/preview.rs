//! What the AWSAccount controller would find for an account, told instead of recorded (`plan`):
//! its steps 2 to 4 — the spec checked, the role assumed, GetCallerIdentity with the role's
//! credentials. An account holds nothing the operator writes to AWS, so its preview is no
//! change when the role works, or why the account would not be Ready.

use super::access;
use super::spec::AWSAccount;
use crate::aws::Location;
use crate::error::Error;
use crate::preview::Preview;
use crate::runtime::context::Context;
use kube::ResourceExt;

/// The preview of `account` under `ctx` (whose AWS client only reads).
pub async fn preview(account: &AWSAccount, ctx: &Context) -> Preview {
    if let Err(e) = access::validate(&account.spec) {
        return Preview::from_error(&e);
    }
    let name = account.name_any();
    ctx.aws.use_account(&name, &access::role(&account.spec));
    let home = Location::new(Some(&name), ctx.aws.default_region());
    match ctx.aws.identity(&home).await {
        Ok(_) => Preview::update(Vec::new()),
        Err(e) => Preview::from_error(&Error {
            message: format!("AWSAccount {name}: {}", e.message),
            ..e
        }),
    }
}
