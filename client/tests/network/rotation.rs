//! Vault-key rotation (issue 16, item 5; docs/design.md, "Vault-key
//! rotation"): every live record re-sealed under the new key epoch, older
//! epochs still readable, every other session ended, a rotation cut off
//! at either side of the server's write resumed with the same key, and
//! edits queued offline re-sealed when their device comes back.

use std::collections::HashSet;

use gophkeeper_client::internals::RecordHeader;
use gophkeeper_client::vault::{RotationStop, Vault, VaultError};
use uuid::Uuid;

use crate::helpers::{Device, TestServer, item_names, note, password, text_of};
use crate::operator::Operator;

async fn text(vault: &Vault, name: &str) -> String {
    text_of(&vault.get(name).await.unwrap().item)
}

/// The key epoch of each of `ids` as the server holds it.
async fn epochs_on_server(server: &TestServer, user: Uuid, ids: &[Uuid]) -> Vec<u32> {
    let rows = Operator::open(server).await.snapshot(user).await;
    ids.iter()
        .map(|id| {
            let (_, row) = rows.iter().find(|(r, _)| r == id).expect("on the server");
            RecordHeader::peek(&row.ciphertext)
                .unwrap()
                .map_or(1, |h| h.key_epoch)
        })
        .collect()
}

/// Registers `user` on `device` with one note, and rotates until `stop`,
/// where the process "crashes": nothing of it survives but its files.
/// Returns the user id and the note's id.
async fn rotate_and_crash(
    server: &TestServer,
    device: &Device,
    user: &str,
    stop: RotationStop,
) -> (Uuid, Uuid) {
    let mut vault = device.register(server, user).await;
    let id = vault
        .add(&note("bank", "pin 1234"))
        .await
        .unwrap()
        .record_id;
    vault.rotate_key_until(&password(), stop).await.unwrap();
    (vault.user_id(), id)
}

fn assert_signed_out(result: Result<impl std::fmt::Debug, VaultError>) {
    match result {
        Err(err) => assert!(err.needs_login(), "{err}"),
        Ok(ok) => panic!("still signed in: {ok:?}"),
    }
}

#[tokio::test]
async fn rotation_reseals_every_record_keeps_older_epochs_readable_and_signs_others_out() {
    let server = TestServer::start().await;
    let (a, b, c) = (Device::new(), Device::new(), Device::new());
    let mut vault_a = a.register(&server, "rotate").await;
    let user = vault_a.user_id();
    let mut ids = Vec::new();
    for (name, body) in [("bank", "pin 1234"), ("mail", "hunter2"), ("gone", "x")] {
        ids.push(vault_a.add(&note(name, body)).await.unwrap().record_id);
    }
    // A deletion sealed under the first key stays as it was sealed.
    vault_a.delete(ids[2]).await.unwrap();
    let vault_b = b.login(&server, "rotate").await;
    assert_eq!(text(&vault_b, "bank").await, "pin 1234");
    let wrapped_before = vault_a.profile().wrapped_vault_key.clone();

    let rotated = vault_a.rotate_key(&password()).await.unwrap();
    assert_eq!((rotated.epoch, rotated.left), (2, 0), "{rotated:?}");
    assert_eq!(rotated.sync.applied, 2, "{rotated:?}");
    assert!(rotated.sync.conflicts.is_empty() && rotated.sync.tampered.is_empty());
    assert_eq!(vault_a.key_epoch(), 2);
    assert_ne!(vault_a.profile().wrapped_vault_key, wrapped_before);
    assert_eq!(epochs_on_server(&server, user, &ids).await, [2, 2, 1]);
    // Nothing is left: another sync sends nothing.
    assert_eq!(vault_a.sync().await.unwrap().applied, 0);
    assert_eq!(text(&vault_a, "mail").await, "hunter2");

    // Every other session ended; a login brings the new key.
    assert_signed_out(vault_b.sync().await);
    drop(vault_b);
    let vault_b = b.login(&server, "rotate").await;
    assert_eq!(vault_b.key_epoch(), 2);
    assert!(vault_b.login_tampered().is_empty());
    assert_eq!(text(&vault_b, "bank").await, "pin 1234");
    assert!(vault_b.get("gone").await.is_err(), "the deletion stands");

    // A new device reads everything, the first epoch's tombstone included,
    // and finds nothing withheld or altered.
    let vault_c = c.login(&server, "rotate").await;
    assert!(vault_c.login_tampered().is_empty());
    let names: HashSet<String> = item_names(&vault_c).await.into_iter().collect();
    assert_eq!(names, HashSet::from(["bank".into(), "mail".into()]));

    // The offline copy unlocks with the new key, and rotating again keeps
    // both older epochs.
    drop(vault_a);
    let mut vault_a = a.unlock().await;
    assert_eq!(vault_a.key_epoch(), 2);
    assert_eq!(text(&vault_a, "bank").await, "pin 1234");
    let again = vault_a.rotate_key(&password()).await.unwrap();
    assert_eq!((again.epoch, again.left), (3, 0));
    assert_eq!(epochs_on_server(&server, user, &ids).await, [3, 3, 1]);
    let vault_b = b.login(&server, "rotate").await;
    assert_eq!(text(&vault_b, "mail").await, "hunter2");
}

/// Cut off after the server took the new key and before this device knew:
/// another device logs in meanwhile and re-seals under that key; the next
/// run finishes with the very same key, so everything opens everywhere.
#[tokio::test]
async fn a_rotation_cut_off_after_the_server_took_it_finishes_with_the_same_key() {
    let server = TestServer::start().await;
    let (a, b) = (Device::new(), Device::new());
    let (user, id) = rotate_and_crash(&server, &a, "cut-after", RotationStop::AfterServer).await;

    let vault_b = b.login(&server, "cut-after").await;
    assert_eq!(vault_b.key_epoch(), 2);
    assert_eq!(epochs_on_server(&server, user, &[id]).await, [2]);
    vault_b.edit(id, &note("bank", "pin 5678")).await.unwrap();

    let mut vault_a = a.unlock().await;
    assert!(vault_a.rotation_pending().await.unwrap());
    assert_eq!(vault_a.key_epoch(), 1);
    // Until it finishes, nothing re-wraps the keys or pulls.
    assert!(matches!(
        vault_a.change_password(&password(), &password()).await,
        Err(VaultError::RotationPending)
    ));
    assert!(matches!(
        vault_a.sync().await,
        Err(VaultError::RotationPending)
    ));
    let finished = vault_a.rotate_key(&password()).await.unwrap();
    assert_eq!(finished.epoch, 2, "the same epoch, not a third");
    assert!(!vault_a.rotation_pending().await.unwrap());
    assert!(finished.sync.tampered.is_empty(), "{finished:?}");
    assert_eq!(text(&vault_a, "bank").await, "pin 5678");
    let mine = vault_a.add(&note("after", "sealed by a")).await.unwrap();
    assert!(mine.report.rejected.is_empty());

    // B's session ended with the finish; logged in again, it opens A's.
    assert_signed_out(vault_b.sync().await);
    let vault_b = b.login(&server, "cut-after").await;
    assert!(vault_b.login_tampered().is_empty());
    assert_eq!(text(&vault_b, "after").await, "sealed by a");
}

/// Cut off before the server heard: the pending key goes to the server at
/// the next run; or, if a login comes first, the server's keys win and
/// the pending one is forgotten (nothing was ever sealed under it).
#[tokio::test]
async fn a_rotation_cut_off_before_the_server_heard_resumes_or_yields_to_a_login() {
    let server = TestServer::start().await;
    let a = Device::new();
    let (user, id) = rotate_and_crash(&server, &a, "cut-before", RotationStop::BeforeServer).await;

    let mut vault_a = a.unlock().await;
    assert!(vault_a.rotation_pending().await.unwrap());
    assert_eq!(epochs_on_server(&server, user, &[id]).await, [1]);
    let finished = vault_a.rotate_key(&password()).await.unwrap();
    assert_eq!((finished.epoch, finished.left), (2, 0));
    assert_eq!(epochs_on_server(&server, user, &[id]).await, [2]);

    vault_a
        .rotate_key_until(&password(), RotationStop::BeforeServer)
        .await
        .unwrap();
    drop(vault_a);
    let vault_a = a.login(&server, "cut-before").await;
    assert!(!vault_a.rotation_pending().await.unwrap());
    assert_eq!(vault_a.key_epoch(), 2, "the server's keys");
    assert_eq!(text(&vault_a, "bank").await, "pin 1234");
}

/// A device offline during the rotation kept an edit and a new item
/// queued under the old key: after it logs in again both go out sealed
/// under the new one, and the edit lands on top of the re-sealed record
/// without a conflict (the re-seal changed nothing it edited).
#[tokio::test]
async fn edits_queued_offline_during_a_rotation_are_resealed_when_the_device_syncs() {
    let mut server = TestServer::start().await;
    let (a, b) = (Device::new(), Device::new());
    let mut vault_a = a.register(&server, "offline").await;
    let user = vault_a.user_id();
    let id = vault_a
        .add(&note("bank", "pin 1234"))
        .await
        .unwrap()
        .record_id;
    let vault_b = b.login(&server, "offline").await;

    server.stop().await;
    let edited = vault_b.edit(id, &note("bank", "pin 9999")).await.unwrap();
    assert!(edited.report.offline.is_some());
    let created = vault_b.add(&note("wifi", "offline pass")).await.unwrap();
    assert!(created.report.offline.is_some());
    drop(vault_b);
    server.restart().await;

    let rotated = vault_a.rotate_key(&password()).await.unwrap();
    assert_eq!(rotated.epoch, 2);
    assert_eq!(epochs_on_server(&server, user, &[id]).await, [2]);

    let vault_b = b.login(&server, "offline").await;
    let status = vault_b.status().await.unwrap();
    assert_eq!((status.pending, status.conflicts), (0, 0), "{status:?}");
    assert!(vault_b.login_tampered().is_empty());
    assert_eq!(
        epochs_on_server(&server, user, &[id, created.record_id]).await,
        [2, 2]
    );
    vault_a.sync().await.unwrap();
    assert_eq!(text(&vault_a, "bank").await, "pin 9999");
    assert_eq!(text(&vault_a, "wifi").await, "offline pass");
}
