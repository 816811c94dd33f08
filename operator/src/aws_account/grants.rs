//! The runtime's [`AccountGate`], answered from the cluster's AWSAccounts (the cache the
//! operator keeps of them): what a cluster admin wrote decides, as soon as the cache sees it.

use super::access;
use super::spec::AWSAccount;
use crate::aws::accounts::Role;
use crate::error::Error;
use crate::runtime::accounts::AccountGate;
use kube::runtime::reflector::{ObjectRef, Store};
use std::collections::BTreeMap;

/// Who may use which account, read from the AWSAccounts.
pub struct Grants {
    accounts: Store<AWSAccount>,
}

impl Grants {
    /// The grants the AWSAccounts of `accounts` declare.
    pub fn new(accounts: Store<AWSAccount>) -> Self {
        Grants { accounts }
    }
}

impl AccountGate for Grants {
    fn admit(
        &self,
        account: &str,
        namespace: &str,
        labels: &BTreeMap<String, String>,
        region: &str,
        recorded: bool,
    ) -> Result<Role, Error> {
        let Some(found) = self.accounts.get(&ObjectRef::new(account)) else {
            return Err(Error::dependency(format!(
                "AWSAccount {account} does not exist; nothing was called in AWS"
            )));
        };
        if found.metadata.deletion_timestamp.is_some() && !recorded {
            return Err(Error::dependency(format!(
                "AWSAccount {account} is being deleted: no new object may start using it"
            )));
        }
        access::admit(account, &found.spec, namespace, labels, region)?;
        Ok(access::role(&found.spec))
    }
}
