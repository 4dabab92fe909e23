//! A server that lies is caught (SECURITY.md, "A malicious server"). The
//! test plays the server's operator: between syncs it rewrites the rows of
//! the single node's vault database directly (serving an old ciphertext as
//! new, marking a live record deleted, corrupting a byte, joining two
//! forked histories) and checks that every device refuses the change,
//! reports it, and keeps showing the newest version it trusted.

use gophkeeper_client::internals::{Cache, NewOp, OpKind, RecordAad, VaultKey};
use gophkeeper_client::item::ItemKind;
use std::collections::BTreeSet;

use gophkeeper_client::vault::{Place, Problem, TamperAlert, TamperKind, Vault};
use uuid::Uuid;

use crate::helpers::{Device, TestServer, note, text_of, vault_key_at};
use crate::operator::Operator;
use crate::pg_local::PgCluster;

/// Each scenario below runs on SQLite as a test of its own, and all of
/// them on PostgreSQL in one test (one PostgreSQL start for all), so the
/// checks hold whatever engine the server's operator edits.
macro_rules! on_both_engines {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            use crate::helpers::TestServer;
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(&TestServer::start().await).await;
                }
            )*
        }

        #[tokio::test]
        async fn every_scenario_on_postgres() {
            let pg = PgCluster::start().await;
            let server = TestServer::start_on_postgres(&pg).await;
            $( $scenario(&server).await; )*
            drop(server);
            pg.stop().await;
        }
    };
}

on_both_engines!(
    an_older_version_served_as_new_is_refused_and_the_newest_stays,
    a_deletion_the_server_made_up_is_refused_and_the_item_stays,
    a_deleted_item_cannot_come_back,
    a_summary_stored_by_a_cut_off_pull_is_checked_by_the_next,
    a_corrupted_record_is_refused_and_the_last_good_one_stays,
    a_fork_then_join_is_refused,
    a_partial_fork_shows_in_the_other_devices_summary,
    a_new_device_finds_withheld_and_rolled_back_records_on_first_sync,
    format_1_records_are_upgraded_and_cannot_come_back,
    a_conflict_cannot_smuggle_in_an_older_version,
    verify_compares_devices_and_names_withheld_and_altered_records,
    a_change_queued_in_format_1_is_resealed_not_lost,
    a_first_seen_record_that_does_not_open_is_reported_and_replaced,
    a_device_from_before_256_buckets_rewrites_its_summaries_once,
);

/// The vault key of a device's profile, derived as the client does.
async fn vault_key_of(device: &Device) -> VaultKey {
    vault_key_at(device.profile()).await
}

/// What the alerts refused, sorted: (record, why).
fn refused(alerts: &[TamperAlert]) -> Vec<(Uuid, TamperKind)> {
    sorted(alerts.iter().map(|t| (t.record_id, t.what)).collect())
}

fn sorted(mut found: Vec<(Uuid, TamperKind)>) -> Vec<(Uuid, TamperKind)> {
    found.sort();
    found
}

async fn text(vault: &Vault, name: &str) -> String {
    text_of(&vault.get(name).await.unwrap().item)
}

async fn kinds(vault: &Vault) -> Vec<TamperKind> {
    vault
        .tamper_alerts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.what)
        .collect()
}

async fn an_older_version_served_as_new_is_refused_and_the_newest_stays(server: &TestServer) {
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(server, "rollback").await;
    let vault_b = b.login(server, "rollback").await;
    let id = vault_a
        .add(&note("bank", "old-pin"))
        .await
        .unwrap()
        .record_id;
    let mut operator = Operator::open(server).await;
    let old = operator.row(id).await;
    vault_a.edit(id, &note("bank", "new-pin")).await.unwrap();
    vault_b.sync().await.unwrap();
    assert_eq!(text(&vault_b, "bank").await, "new-pin");

    operator
        .serve(vault_a.user_id(), id, &old.ciphertext, false)
        .await;
    for vault in [&vault_a, &vault_b] {
        let report = vault.sync().await.unwrap();
        assert_eq!(report.tampered.len(), 1, "{report:?}");
        assert_eq!(report.tampered[0].record_id, id);
        assert_eq!(report.tampered[0].what, TamperKind::Rollback);
        assert_eq!(text(vault, "bank").await, "new-pin");
        assert_eq!(vault.status().await.unwrap().tampered, 1);
    }
    // A later honest edit still gets through.
    vault_a.edit(id, &note("bank", "newest")).await.unwrap();
    let report = vault_b.sync().await.unwrap();
    assert!(report.tampered.is_empty(), "{report:?}");
    assert_eq!(text(&vault_b, "bank").await, "newest");
}

async fn a_deletion_the_server_made_up_is_refused_and_the_item_stays(server: &TestServer) {
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(server, "forged").await;
    let vault_b = b.login(server, "forged").await;
    let first = vault_a.add(&note("first", "1")).await.unwrap().record_id;
    let second = vault_a.add(&note("second", "2")).await.unwrap().record_id;
    vault_b.sync().await.unwrap();
    let mut operator = Operator::open(server).await;
    let user = vault_a.user_id();

    // The deleted flag with an empty ciphertext (what a delete was before
    // tombstones), and the flag on the live ciphertext.
    operator.serve(user, first, &[], true).await;
    let live = operator.row(second).await;
    operator.serve(user, second, &live.ciphertext, true).await;
    let report = vault_b.sync().await.unwrap();
    assert_eq!(
        refused(&report.tampered),
        sorted(vec![
            (first, TamperKind::ForgedDeletion),
            (second, TamperKind::ForgedDeletion),
        ])
    );
    assert_eq!(vault_b.list().await.unwrap().len(), 2);
    assert_eq!(text(&vault_b, "first").await, "1");

    // A real deletion, sealed by a key holder, goes through quietly.
    let third = vault_a.add(&note("third", "3")).await.unwrap().record_id;
    vault_b.sync().await.unwrap();
    vault_a.delete(third).await.unwrap();
    let report = vault_b.sync().await.unwrap();
    assert!(report.tampered.is_empty(), "{report:?}");
    assert!(vault_b.get("third").await.is_err());
    assert_eq!(
        kinds(&vault_b).await,
        [TamperKind::ForgedDeletion, TamperKind::ForgedDeletion]
    );
}

/// A pull cut off after it stored a summary but before its end (where
/// summaries are checked) leaves that summary unchecked; the next complete
/// pull checks every summary stored since in full, so a record withheld
/// meanwhile is still found.
async fn a_summary_stored_by_a_cut_off_pull_is_checked_by_the_next(server: &TestServer) {
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(server, "cut-off").await;
    let vault_b = b.login(server, "cut-off").await;
    vault_a.add(&note("kept", "1")).await.unwrap();
    let hidden = vault_a.add(&note("hidden", "2")).await.unwrap().record_id;
    let mut operator = Operator::open(server).await;
    operator.drop_row(hidden).await;

    // What the cut-off pull stored: every page, no check at the end.
    let engine = vault_b.engine();
    let served = engine.server_view().await.unwrap().unwrap();
    let cursor = served.iter().map(|r| r.revision).max().unwrap();
    let entries: Vec<_> = served.iter().map(|r| r.summary_entry()).collect();
    engine
        .cache()
        .apply_changes(&served, &entries, &[], cursor, None)
        .await
        .unwrap();

    let report = vault_b.sync().await.unwrap();
    assert_eq!(
        refused(&report.tampered),
        vec![(hidden, TamperKind::Withheld)],
        "{report:?}"
    );
    // Checked now: the next pull does not report it again.
    assert!(vault_b.sync().await.unwrap().tampered.is_empty());
}

/// A deleted item cannot come back: its tombstone cannot be swapped for
/// an empty deletion (which would protect nothing), and an older live
/// version served after it is a rollback. Found by the lying-server model.
async fn a_deleted_item_cannot_come_back(server: &TestServer) {
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(server, "resurrect").await;
    let vault_b = b.login(server, "resurrect").await;
    let id = vault_a.add(&note("old", "secret")).await.unwrap().record_id;
    let mut operator = Operator::open(server).await;
    let live = operator.row(id).await;
    vault_a.delete(id).await.unwrap();
    vault_b.sync().await.unwrap();
    assert!(vault_b.list().await.unwrap().is_empty());
    let user = vault_a.user_id();

    operator.serve(user, id, &[], true).await;
    let report = vault_b.sync().await.unwrap();
    assert_eq!(report.tampered.len(), 1, "{report:?}");
    assert_eq!(report.tampered[0].what, TamperKind::ForgedDeletion);
    operator.serve(user, id, &live.ciphertext, false).await;
    let report = vault_b.sync().await.unwrap();
    assert_eq!(report.tampered.len(), 1, "{report:?}");
    assert_eq!(report.tampered[0].what, TamperKind::Rollback);
    assert!(vault_b.list().await.unwrap().is_empty());
}

async fn a_corrupted_record_is_refused_and_the_last_good_one_stays(server: &TestServer) {
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(server, "corrupt").await;
    let vault_b = b.login(server, "corrupt").await;
    let id = vault_a
        .add(&note("wifi", "hunter2"))
        .await
        .unwrap()
        .record_id;
    vault_b.sync().await.unwrap();
    let mut operator = Operator::open(server).await;
    let mut bytes = operator.row(id).await.ciphertext;
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    operator.serve(vault_a.user_id(), id, &bytes, false).await;
    let report = vault_b.sync().await.unwrap();
    assert_eq!(report.tampered.len(), 1);
    assert_eq!(report.tampered[0].what, TamperKind::DoesNotOpen);
    assert_eq!(text(&vault_b, "wifi").await, "hunter2");
}

/// The server keeps two devices apart (each writes its own version 2 of a
/// record from the same version 1, and the server shows each only its
/// own, summaries included) and then joins them: the device that holds one
/// version 2 refuses the other, and the other's summary that lists it.
async fn a_fork_then_join_is_refused(server: &TestServer) {
    let (a, c) = (Device::new(), Device::new());
    let vault_a = a.register(server, "fork").await;
    let vault_c = c.login(server, "fork").await;
    let id = vault_a.add(&note("shared", "v1")).await.unwrap().record_id;
    vault_c.sync().await.unwrap();
    let mut operator = Operator::open(server).await;
    let before = operator.snapshot(vault_a.user_id()).await;

    vault_a.edit(id, &note("shared", "a's v2")).await.unwrap();
    // Hide A's write from C: the vault goes back to where it was, so C's
    // edit from version 1 is accepted as if A's never happened.
    let a_v2 = operator.row(id).await;
    operator.restore_all(vault_a.user_id(), &before).await;
    vault_c.edit(id, &note("shared", "c's v2")).await.unwrap();
    let report = vault_c.sync().await.unwrap();
    assert!(report.conflicts.is_empty() && report.tampered.is_empty());
    assert_eq!(text(&vault_c, "shared").await, "c's v2");

    // Join: A now gets C's version 2 under a new revision, and C's summary.
    let report = vault_a.sync().await.unwrap();
    assert!(!report.tampered.is_empty(), "{report:?}");
    for alert in &report.tampered {
        assert_eq!((alert.record_id, alert.what), (id, TamperKind::Fork));
    }
    assert_eq!(text(&vault_a, "shared").await, "a's v2");
    // And C, served A's version 2 as newer, refuses it too.
    operator
        .serve(vault_a.user_id(), id, &a_v2.ciphertext, false)
        .await;
    let report = vault_c.sync().await.unwrap();
    assert_eq!(report.tampered.len(), 1, "{report:?}");
    assert_eq!(report.tampered[0].what, TamperKind::Fork);
    assert_eq!(text(&vault_c, "shared").await, "c's v2");
}

/// A fork the server does not hide completely shows at once: C, kept from
/// A's version 2 of a record but served A's summary, which lists it, finds
/// the fork on its own next sync, before anything is joined.
async fn a_partial_fork_shows_in_the_other_devices_summary(server: &TestServer) {
    let (a, c) = (Device::new(), Device::new());
    let vault_a = a.register(server, "partial-fork").await;
    let vault_c = c.login(server, "partial-fork").await;
    let id = vault_a.add(&note("shared", "v1")).await.unwrap().record_id;
    vault_c.sync().await.unwrap();
    let mut operator = Operator::open(server).await;
    let before = operator.row(id).await;

    vault_a.edit(id, &note("shared", "a's v2")).await.unwrap();
    operator.restore(id, &before).await;
    vault_c.edit(id, &note("shared", "c's v2")).await.unwrap();
    let report = vault_c.sync().await.unwrap();
    assert_eq!(report.tampered.len(), 1, "{report:?}");
    assert_eq!(
        (report.tampered[0].record_id, report.tampered[0].what),
        (id, TamperKind::Fork)
    );
    assert_eq!(text(&vault_c, "shared").await, "c's v2");
}

/// A new device has nothing of its own to compare with; the summaries the
/// other devices wrote tell it what the server must serve. A record
/// withheld from it, and a record served at an older version than a
/// device wrote, are both reported on its very first sync.
async fn a_new_device_finds_withheld_and_rolled_back_records_on_first_sync(server: &TestServer) {
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(server, "first-sync").await;
    let user = vault_a.user_id();
    let kept = vault_a.add(&note("kept", "1")).await.unwrap().record_id;
    let hidden = vault_a.add(&note("hidden", "2")).await.unwrap().record_id;
    let rotated = vault_a
        .add(&note("rotated", "old"))
        .await
        .unwrap()
        .record_id;
    let mut operator = Operator::open(server).await;
    let old = operator.row(rotated).await;
    vault_a
        .edit(rotated, &note("rotated", "new"))
        .await
        .unwrap();

    operator.drop_row(hidden).await;
    operator.serve(user, rotated, &old.ciphertext, false).await;
    // Logging in runs the first sync.
    let vault_b = b.login(server, "first-sync").await;
    assert_eq!(
        refused(&vault_b.tamper_alerts().await.unwrap()),
        sorted(vec![
            (hidden, TamperKind::Withheld),
            (rotated, TamperKind::Rollback),
        ])
    );
    assert_eq!(vault_b.status().await.unwrap().tampered, 2);
    assert_eq!(text(&vault_b, "kept").await, "1");
    // No summary shows as an item, and verify names both as well.
    assert_eq!(vault_b.list().await.unwrap().len(), 2);
    let findings = vault_b.verify().await.unwrap().findings;
    assert!(
        findings
            .iter()
            .any(|f| f.record_id == hidden && f.problem == Problem::Withheld)
    );
    assert!(findings.iter().any(|f| f.record_id == rotated
        && f.problem == Problem::Tampered(TamperKind::Rollback)
        && f.place == Place::Server));
    let _ = kept;
}

/// Records an older client sealed in format 1 are re-sealed in format 2 by
/// the next device that syncs, read the same everywhere, and from then on
/// the format 1 bytes served again count as a rollback.
async fn format_1_records_are_upgraded_and_cannot_come_back(server: &TestServer) {
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(server, "legacy").await;
    let user = vault_a.user_id();
    // What a client before format 2 would have sealed.
    let key = vault_key_of(&a).await;
    let id = Uuid::new_v4();
    let item = note("old note", "from 2025");
    let format_1 = key.seal_record_v1(&RecordAad::new(user, id, ItemKind::Text), &item.encode());
    let mut operator = Operator::open(server).await;
    operator.insert(user, id, 2, &format_1).await;

    // B's first sync reads it and upgrades it.
    let vault_b = b.login(server, "legacy").await;
    assert_eq!(text(&vault_b, "old note").await, "from 2025");
    let stored = operator.row(id).await.ciphertext;
    assert_eq!(stored[0], 2, "the server now holds format 2");
    let report = vault_a.sync().await.unwrap();
    assert!(report.tampered.is_empty(), "{report:?}");
    assert_eq!(text(&vault_a, "old note").await, "from 2025");
    // Nothing is left to upgrade: another sync sends nothing.
    assert_eq!(vault_b.sync().await.unwrap().applied, 0);

    operator.serve(user, id, &format_1, false).await;
    for vault in [&vault_a, &vault_b] {
        let report = vault.sync().await.unwrap();
        assert_eq!(report.tampered.len(), 1, "{report:?}");
        assert_eq!(report.tampered[0].what, TamperKind::Rollback);
        assert!(vault.tamper_alerts().await.unwrap().len() == 1);
    }
}

/// The server answers a device's edit with a conflict whose "theirs" is an
/// older version: refused like a pulled one, and the conflict shows the
/// version the device trusted instead, so no choice brings the old one
/// back.
async fn a_conflict_cannot_smuggle_in_an_older_version(server: &TestServer) {
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(server, "smuggle").await;
    let vault_b = b.login(server, "smuggle").await;
    let id = vault_a.add(&note("otp", "seed-1")).await.unwrap().record_id;
    let mut operator = Operator::open(server).await;
    let old = operator.row(id).await;
    vault_a.edit(id, &note("otp", "seed-2")).await.unwrap();
    vault_b.sync().await.unwrap();

    operator
        .serve(vault_a.user_id(), id, &old.ciphertext, false)
        .await;
    // B edits from what it holds; the server's current is the old one.
    let saved = vault_b.edit(id, &note("otp", "seed-3")).await.unwrap();
    assert_eq!(saved.report.conflicts, [id]);
    assert_eq!(saved.report.tampered.len(), 1);
    assert_eq!(saved.report.tampered[0].what, TamperKind::Rollback);
    let conflicts = vault_b.conflicts().await.unwrap();
    assert_eq!(text_of(conflicts[0].theirs.as_ref().unwrap()), "seed-2");
    assert_eq!(text_of(conflicts[0].mine.as_ref().unwrap()), "seed-3");
}

/// `verify`: two devices that synced with an honest server show the same
/// fingerprint and no findings; a record the server drops, or corrupts
/// under the revision the devices already have, is named.
async fn verify_compares_devices_and_names_withheld_and_altered_records(server: &TestServer) {
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(server, "verify").await;
    let vault_b = b.login(server, "verify").await;
    let kept = vault_a.add(&note("kept", "1")).await.unwrap().record_id;
    let dropped = vault_a.add(&note("dropped", "2")).await.unwrap().record_id;
    let gone = vault_a.add(&note("gone", "3")).await.unwrap().record_id;
    vault_a.delete(gone).await.unwrap();
    vault_b.sync().await.unwrap();
    let (report_a, report_b) = (
        vault_a.verify().await.unwrap(),
        vault_b.verify().await.unwrap(),
    );
    assert!(report_a.findings.is_empty(), "{report_a:?}");
    assert!(report_b.findings.is_empty(), "{report_b:?}");
    assert_eq!((report_a.records, report_a.server_records), (3, Some(3)));
    assert_eq!(report_a.fingerprint, report_b.fingerprint);
    // Any change moves it, on both devices alike once they synced.
    vault_a.edit(kept, &note("kept", "1b")).await.unwrap();
    vault_b.sync().await.unwrap();
    let after = vault_b.verify().await.unwrap().fingerprint;
    assert_ne!(after, report_b.fingerprint);
    assert_eq!(vault_a.verify().await.unwrap().fingerprint, after);

    // The operator drops one record and alters another in place.
    let mut operator = Operator::open(server).await;
    operator.drop_row(dropped).await;
    let mut bytes = operator.row(kept).await.ciphertext;
    bytes[70] ^= 1;
    operator.overwrite(kept, &bytes).await;
    let report = vault_b.verify().await.unwrap();
    let mut findings: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.record_id, f.problem, f.place))
        .collect();
    findings.sort_by_key(|f| f.0);
    let mut expected = vec![
        (dropped, Problem::Withheld, Place::Server),
        (
            kept,
            Problem::Tampered(TamperKind::DoesNotOpen),
            Place::Server,
        ),
    ];
    expected.sort_by_key(|f| f.0);
    assert_eq!(findings, expected);
    // The device's own copy is still whole: the fingerprint has not moved.
    assert_eq!(report.fingerprint, after);
}

/// A change queued in format 1 before this client was updated, and never
/// sent, is re-sealed in format 2 before it goes out: the server would
/// refuse it for a record already in format 2, and the edit would be lost.
async fn a_change_queued_in_format_1_is_resealed_not_lost(server: &TestServer) {
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(server, "queued").await;
    let id = vault_a.add(&note("plan", "v1")).await.unwrap().record_id;
    drop(b.login(server, "queued").await);
    let key = vault_key_of(&b).await;
    let cache = Cache::open(b.profile()).await.unwrap();
    let mirrored = cache.record(id).await.unwrap().unwrap();
    let old_format = key.seal_record_v1(
        &RecordAad::new(vault_a.user_id(), id, ItemKind::Text),
        &note("plan", "v2 from before the update").encode(),
    );
    cache
        .enqueue(&NewOp {
            record_id: id,
            kind: 2,
            op: OpKind::Update,
            ciphertext: Some(old_format),
            base_revision: Some(mirrored.revision),
        })
        .await
        .unwrap();
    cache.close().await;

    let vault_b = b.unlock().await;
    let report = vault_b.sync().await.unwrap();
    assert!(report.rejected.is_empty(), "{report:?}");
    assert_eq!(report.applied, 1, "{report:?}");
    vault_a.sync().await.unwrap();
    assert_eq!(text(&vault_a, "plan").await, "v2 from before the update");
    let mut operator = Operator::open(server).await;
    assert_eq!(operator.row(id).await.ciphertext[0], 2);
}

/// A record a device sees for the first time is taken as served and opened
/// when shown: one that does not open is reported (by the summary that
/// lists its true bytes, when shown, and by verify), not silently dropped,
/// and it protects nothing, so the next honest version replaces it.
async fn a_first_seen_record_that_does_not_open_is_reported_and_replaced(server: &TestServer) {
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(server, "first-seen").await;
    let vault_b = b.login(server, "first-seen").await;
    let id = vault_a.add(&note("fresh", "v1")).await.unwrap().record_id;
    let mut operator = Operator::open(server).await;
    let mut bytes = operator.row(id).await.ciphertext;
    bytes[70] ^= 1;
    operator.overwrite(id, &bytes).await;

    let report = vault_b.sync().await.unwrap();
    assert_eq!(report.tampered.len(), 1, "{report:?}");
    assert_eq!(
        (report.tampered[0].record_id, report.tampered[0].what),
        (id, TamperKind::DoesNotOpen)
    );
    let listing = vault_b.list_checked().await.unwrap();
    assert!(listing.entries.is_empty());
    assert_eq!(listing.unreadable.len(), 1);
    assert_eq!(listing.unreadable[0].id, id);
    assert_eq!(vault_b.status().await.unwrap().tampered, 1);
    let findings = vault_b.verify().await.unwrap().findings;
    assert!(
        findings.iter().any(|f| f.record_id == id
            && f.problem == Problem::Tampered(TamperKind::DoesNotOpen)
            && f.place == Place::Server),
        "{findings:?}"
    );

    vault_a.edit(id, &note("fresh", "v2")).await.unwrap();
    let report = vault_b.sync().await.unwrap();
    assert!(report.tampered.is_empty(), "{report:?}");
    assert_eq!(text(&vault_b, "fresh").await, "v2");
}

/// A device whose summaries were written under 32 buckets (a record's
/// last id byte modulo 32) rewrites, on its next sync and only then, every
/// bucket an old one covered (b, b + 32, ..., b + 224), and nobody sees an
/// alarm for it.
async fn a_device_from_before_256_buckets_rewrites_its_summaries_once(server: &TestServer) {
    let a = Device::new();
    let vault_a = a.register(server, "old-buckets").await;
    let user = vault_a.user_id();
    // Until one record falls in an old bucket number (below 32), so that
    // this device holds a summary record under an old bucket's id.
    let mut notes = Vec::new();
    while notes.len() < 200 && !notes.iter().any(|id: &Uuid| id.as_bytes()[15] < 32) {
        let name = format!("note {}", notes.len());
        notes.push(vault_a.add(&note(&name, "x")).await.unwrap().record_id);
    }
    let old_buckets: BTreeSet<u8> = notes
        .iter()
        .map(|id| id.as_bytes()[15])
        .filter(|&b| b < 32)
        .collect();
    assert!(!old_buckets.is_empty());
    let mut operator = Operator::open(server).await;
    // The vault's rows are the notes and this device's summaries.
    let rows_before = operator.snapshot(user).await.len();
    assert_eq!(
        rows_before - notes.len(),
        notes
            .iter()
            .map(|id| id.as_bytes()[15])
            .collect::<BTreeSet<_>>()
            .len(),
        "one summary per bucket written"
    );

    // What migration 0004 leaves in a cache from before it.
    let cache = Cache::open(a.profile()).await.unwrap();
    cache.set_own_summary_buckets(32).await.unwrap();
    let report = vault_a.sync().await.unwrap();
    assert!(report.tampered.is_empty(), "{report:?}");
    assert_eq!(cache.own_summary_buckets().await.unwrap(), 256);
    let mut expected: BTreeSet<u8> = notes.iter().map(|id| id.as_bytes()[15]).collect();
    expected.extend(old_buckets.iter().flat_map(|&b| (b..=u8::MAX).step_by(32)));
    let rows_after = operator.snapshot(user).await.len();
    assert_eq!(rows_after - notes.len(), expected.len());
    assert!(rows_after > rows_before);
    // Once only: the next sync writes nothing.
    vault_a.sync().await.unwrap();
    assert_eq!(operator.snapshot(user).await.len(), rows_after);

    let c = Device::new();
    let vault_c = c.login(server, "old-buckets").await;
    assert!(vault_c.tamper_alerts().await.unwrap().is_empty());
    assert_eq!(vault_c.list().await.unwrap().len(), notes.len());
}
