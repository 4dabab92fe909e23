use uuid::Uuid;

use super::*;
use crate::crypto::KdfParams;

async fn cache() -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("profile")).await.unwrap();
    cache
        .save_profile(&Profile {
            server_url: "https://127.0.0.1:1".into(),
            username: "alice".into(),
            user_id: Uuid::new_v4(),
            device_name: "laptop".into(),
            kdf: KdfParams::generate_for("alice"),
            wrapped_vault_key: vec![1; 73],
            trust: Trust::Pinned(Fingerprint::of_der(b"cert")),
        })
        .await
        .unwrap();
    (dir, cache)
}

/// Stores a page as a pull does, without completing the pull.
async fn store(cache: &Cache, records: &[StoredRecord], cursor: u64) {
    let entries: Vec<SummaryEntry> = records.iter().map(StoredRecord::summary_entry).collect();
    cache
        .apply_changes(records, &entries, &[], cursor, None)
        .await
        .unwrap();
}

fn op(record_id: Uuid, op: OpKind, content: &[u8], base: Option<u64>) -> NewOp {
    NewOp {
        record_id,
        kind: 2,
        op,
        ciphertext: (op != OpKind::Delete).then(|| content.to_vec()),
        base_revision: base,
    }
}

#[tokio::test]
async fn profile_round_trips_and_files_are_private() {
    // `dir` is read only where file modes exist, but lives to the end on
    // every platform (it owns the cache's files).
    #[cfg_attr(not(unix), allow(unused_variables))]
    let (dir, cache) = cache().await;
    let profile = cache.profile().await.unwrap().unwrap();
    assert_eq!(profile.username, "alice");
    assert!(matches!(profile.trust, Trust::Pinned(_)));
    cache
        .set_sealed_refresh_token(Some(b"sealed"))
        .await
        .unwrap();
    assert_eq!(
        cache.sealed_refresh_token().await.unwrap().as_deref(),
        Some(&b"sealed"[..])
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let profile_dir = dir.path().join("profile");
        assert_eq!(mode(&profile_dir), 0o700);
        for entry in std::fs::read_dir(&profile_dir).unwrap() {
            let path = entry.unwrap().path();
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
}

#[tokio::test]
async fn unsent_changes_coalesce_and_sent_ones_chain() {
    let (_dir, cache) = cache().await;
    let a = Uuid::new_v4();
    // Create then edit while unsent: one create with the new content.
    assert!(
        cache
            .enqueue(&op(a, OpKind::Create, b"v1", None))
            .await
            .unwrap()
    );
    assert!(
        cache
            .enqueue(&op(a, OpKind::Update, b"v2", Some(9)))
            .await
            .unwrap()
    );
    let queued = cache.pending().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].op, OpKind::Create);
    assert_eq!(queued[0].ciphertext.as_deref(), Some(&b"v2"[..]));
    // Delete of an unsent create: nothing left.
    assert!(
        !cache
            .enqueue(&op(a, OpKind::Delete, b"", Some(9)))
            .await
            .unwrap()
    );
    assert_eq!(cache.pending_count().await.unwrap(), 0);

    // Once sent, the create is frozen; an edit queues behind it and takes
    // its base from the create's outcome.
    let b = Uuid::new_v4();
    cache
        .enqueue(&op(b, OpKind::Create, b"v1", None))
        .await
        .unwrap();
    let create = cache.pending().await.unwrap().remove(0);
    cache.mark_sent(create.seq).await.unwrap();
    cache
        .enqueue(&op(b, OpKind::Update, b"v2", Some(1)))
        .await
        .unwrap();
    let queued = cache.pending().await.unwrap();
    assert_eq!(queued.len(), 2);
    assert_eq!(queued[1].base_revision, None);
    assert_eq!(queued[0].command_id, create.command_id);
    cache.finish_applied(&create, 17).await.unwrap();
    let queued = cache.pending().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].base_revision, Some(17));
    assert_eq!(cache.record(b).await.unwrap().unwrap().revision, 17);
    assert_eq!(cache.sync_state().await.unwrap().seen_revision, 17);

    // An unsent update then a delete: a delete on the same base.
    cache
        .enqueue(&op(b, OpKind::Delete, b"", Some(17)))
        .await
        .unwrap();
    let queued = cache.pending().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].op, OpKind::Delete);
    assert_eq!(queued[0].base_revision, Some(17));
    // Nothing may follow a delete.
    let err = cache.enqueue(&op(b, OpKind::Update, b"v3", Some(17))).await;
    assert!(matches!(err, Err(CacheError::RecordDeleted(id)) if id == b));
}

#[tokio::test]
async fn a_conflict_keeps_the_newest_local_version_and_the_server_one() {
    let (_dir, cache) = cache().await;
    let a = Uuid::new_v4();
    cache
        .enqueue(&op(a, OpKind::Update, b"mine-1", Some(3)))
        .await
        .unwrap();
    let first = cache.pending().await.unwrap().remove(0);
    cache.mark_sent(first.seq).await.unwrap();
    cache
        .enqueue(&op(a, OpKind::Update, b"mine-2", Some(3)))
        .await
        .unwrap();
    let theirs = StoredRecord {
        id: a,
        kind: 2,
        ciphertext: b"theirs".to_vec(),
        revision: 5,
        deleted: false,
        updated_at_ms: 0,
    };
    cache.finish_conflict(&first, &theirs).await.unwrap();
    assert_eq!(cache.pending_count().await.unwrap(), 0);
    let conflict = cache.conflict(a).await.unwrap().unwrap();
    assert_eq!(conflict.mine_ciphertext.as_deref(), Some(&b"mine-2"[..]));
    assert_eq!(
        (
            conflict.theirs.ciphertext.as_slice(),
            conflict.theirs.revision
        ),
        (&b"theirs"[..], 5)
    );
    assert_eq!(cache.record(a).await.unwrap().unwrap().revision, 5);
    // The mirror never moves back.
    let old = StoredRecord {
        revision: 4,
        ..theirs.clone()
    };
    store(&cache, &[old], 4).await;
    assert_eq!(cache.record(a).await.unwrap().unwrap().revision, 5);
}

#[tokio::test]
async fn an_upgrade_that_meets_a_conflict_is_dropped_without_a_conflict() {
    let (_dir, cache) = cache().await;
    let id = Uuid::new_v4();
    let mine = StoredRecord {
        id,
        kind: 2,
        ciphertext: vec![1, 1, 1],
        revision: 4,
        deleted: false,
        updated_at_ms: 0,
    };
    store(&cache, &[mine], 4).await;
    assert!(
        cache
            .enqueue_upgrade(&op(id, OpKind::Update, b"\x02 re-sealed", Some(4)))
            .await
            .unwrap()
    );
    // Not twice, and not over a queued change of the person's.
    assert!(
        !cache
            .enqueue_upgrade(&op(id, OpKind::Update, b"\x02 again", Some(4)))
            .await
            .unwrap()
    );
    let queued = cache.pending().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert!(queued[0].upgrade);
    let theirs = StoredRecord {
        ciphertext: b"\x02 theirs".to_vec(),
        revision: 5,
        ..cache.record(id).await.unwrap().unwrap()
    };
    cache.finish_conflict(&queued[0], &theirs).await.unwrap();
    assert!(cache.conflicts().await.unwrap().is_empty());
    assert_eq!(cache.pending_count().await.unwrap(), 0);
    assert_eq!(cache.record(id).await.unwrap().unwrap(), theirs);
}

/// Rows stored before the summary columns existed get them when the cache
/// next opens; rows stored since carry them from the write. Both agree
/// with what the ciphertext says.
#[tokio::test]
async fn summary_columns_are_filled_for_old_rows_and_kept_for_new_ones() {
    let (dir, cache) = cache().await;
    let old = StoredRecord {
        id: Uuid::new_v4(),
        kind: 2,
        ciphertext: vec![1, 2, 3],
        revision: 4,
        deleted: false,
        updated_at_ms: 0,
    };
    let new = StoredRecord {
        id: Uuid::new_v4(),
        ..old.clone()
    };
    store(&cache, &[old.clone(), new.clone()], 4).await;
    // What a cache from before the migration holds.
    sqlx::query(
        "UPDATE records SET version = NULL, digest = NULL, bucket = NULL WHERE record_id = ?",
    )
    .bind(old.id.to_string())
    .execute(&cache.pool)
    .await
    .unwrap();
    cache.close().await;

    let cache = Cache::open(&dir.path().join("profile")).await.unwrap();
    for record in [&old, &new] {
        let entries = cache
            .bucket_entries(summary_bucket(record.id))
            .await
            .unwrap();
        let entry = entries.iter().find(|e| e.record_id == record.id).unwrap();
        assert_eq!(*entry, record.summary_entry());
    }
    let held = cache.entries_of(&[old.id, new.id]).await.unwrap();
    assert_eq!(held.len(), 2);
    assert_eq!(held[&old.id], old.summary_entry());
}

/// A bucket of this device's summary folds into an unsent one, is not a
/// change of the person's for `status`, and a conflict on it simply
/// takes the server's copy: no conflict to resolve.
#[tokio::test]
async fn a_queued_summary_is_no_pending_change_and_a_conflict_drops_it() {
    let (_dir, cache) = cache().await;
    let id = Uuid::new_v4();
    let summary = |op, content: &[u8]| NewOp {
        record_id: id,
        kind: i32::from(crate::crypto::VAULT_SUMMARY_KIND),
        op,
        ciphertext: Some(content.to_vec()),
        base_revision: None,
    };
    cache
        .enqueue_summary(&summary(OpKind::Create, b"one"))
        .await
        .unwrap();
    cache
        .enqueue_summary(&summary(OpKind::Update, b"two"))
        .await
        .unwrap();
    let queued = cache.pending().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].ciphertext.as_deref(), Some(&b"two"[..]));
    assert!(queued[0].upgrade);
    assert_eq!(cache.pending_count().await.unwrap(), 0);

    let theirs = StoredRecord {
        id,
        kind: queued[0].kind,
        ciphertext: b"theirs".to_vec(),
        revision: 9,
        deleted: false,
        updated_at_ms: 0,
    };
    cache.finish_conflict(&queued[0], &theirs).await.unwrap();
    assert!(cache.pending().await.unwrap().is_empty());
    assert!(cache.conflicts().await.unwrap().is_empty());
    assert_eq!(
        cache.record(id).await.unwrap().unwrap().ciphertext,
        b"theirs"
    );
}

/// A page longer than one `INSERT` lands whole, and within it each record
/// moves forward but never back, as one record at a time would.
#[tokio::test]
async fn a_long_page_moves_each_record_forward_never_back() {
    let (_dir, cache) = cache().await;
    let record = |revision: u64, byte: u8| StoredRecord {
        id: Uuid::new_v4(),
        kind: 2,
        ciphertext: vec![2, byte],
        revision,
        deleted: false,
        updated_at_ms: 0,
    };
    let first: Vec<StoredRecord> = (0..600).map(|_| record(10, 1)).collect();
    store(&cache, &first, 10).await;
    let ids: Vec<Uuid> = first.iter().map(|r| r.id).collect();
    let held = cache.entries_of(&ids).await.unwrap();
    assert!(first.iter().all(|r| held[&r.id] == r.summary_entry()));

    // Even rows come back newer, odd rows older: only the newer replace.
    let second: Vec<StoredRecord> = first
        .iter()
        .enumerate()
        .map(|(i, r)| StoredRecord {
            ciphertext: vec![2, 9],
            revision: if i % 2 == 0 { 20 } else { 5 },
            ..r.clone()
        })
        .collect();
    store(&cache, &second, 20).await;
    let held = cache.all_records().await.unwrap();
    assert_eq!(held.len(), 600);
    for (i, sent) in first.iter().enumerate() {
        let now = held.iter().find(|r| r.id == sent.id).unwrap();
        let expected = if i % 2 == 0 { &second[i] } else { sent };
        assert_eq!(now, expected, "row {i}");
    }
    let state = cache.sync_state().await.unwrap();
    assert_eq!((state.cursor, state.summaries_checked), (20, 0));
    assert_eq!(state.last_sync_ms, None);

    // The page that ends a pull also says when, and that every summary up
    // to the cursor was checked.
    let entries: Vec<SummaryEntry> = Vec::new();
    cache
        .apply_changes(&[], &entries, &[], 25, Some(1234))
        .await
        .unwrap();
    let state = cache.sync_state().await.unwrap();
    assert_eq!((state.cursor, state.summaries_checked), (25, 25));
    assert_eq!(state.last_sync_ms, Some(1234));
}
