//! Resolving `gk://ITEM/FIELD` references for `run` and `inject`: every
//! reference is looked up before anything runs or is written, so a typo
//! fails the command without half a result.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, anyhow, bail};
use gophkeeper_client::item::Payload;
use gophkeeper_client::vault::{Entry, Vault, VaultError};
use zeroize::Zeroizing;

use super::Globals;
use super::context::refresh;
use super::get::field_value;
use crate::reference::Reference;

/// Values by reference. Unlocks (and syncs) only if there is something
/// to resolve.
pub async fn resolve(
    globals: &Globals,
    references: &BTreeSet<Reference>,
) -> anyhow::Result<BTreeMap<Reference, Zeroizing<String>>> {
    let mut values = BTreeMap::new();
    if references.is_empty() {
        return Ok(values);
    }
    let vault = globals.unlock().await?;
    refresh(&vault).await?;
    for reference in references {
        let entry = find(&vault, reference).await?;
        let value =
            value_of(&entry, &reference.field).map_err(|err| anyhow!("{reference}: {err}"))?;
        values.insert(reference.clone(), value);
    }
    Ok(values)
}

async fn find(vault: &Vault, reference: &Reference) -> anyhow::Result<Entry> {
    match vault.get(&reference.item).await {
        Ok(entry) => Ok(entry),
        Err(err @ (VaultError::NotFound(_) | VaultError::Ambiguous { .. })) => {
            bail!("{reference}: {err}")
        }
        Err(err) => Err(err).with_context(|| format!("cannot read {reference}")),
    }
}

/// `get --field`'s value, except `totp`: the current code, which is what
/// a command needs (the secret itself is `get --field totp`).
fn value_of(entry: &Entry, field: &str) -> anyhow::Result<Zeroizing<String>> {
    if field == "totp"
        && let Payload::Login { totp, .. } = &entry.item.payload
    {
        let secret = totp
            .as_deref()
            .with_context(|| format!("{:?} has no TOTP secret", entry.item.name))?;
        let totp = crate::totp::Totp::parse(secret)
            .with_context(|| format!("the TOTP secret of {:?} is unusable", entry.item.name))?;
        return Ok(Zeroizing::new(totp.now().code));
    }
    field_value(&entry.item, field)
}
