//! Vault cases for every engine: the invariants of docs/design.md (exactly
//! once, no lost update, one order per user) and the read side's paging.

use std::collections::HashSet;

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::command_outcome::Result as Outcome;
use gophkeeper_proto::v1::rejected::Reason;
use gophkeeper_server::ids::{CommandId, RecordId, SessionId, UserId};
use gophkeeper_server::vault::{ApplyCommand, ApplyResult, Op, PageLimit, StoredRecord};

use crate::engines::{Case, Stores, case};

pub fn cases() -> Vec<Case> {
    vec![
        case!(create_update_delete_take_revisions_1_2_3),
        case!(duplicate_command_returns_the_first_outcome),
        case!(a_batch_applies_in_order_and_sees_its_own_writes),
        case!(stale_base_conflicts_and_overwrites_nothing),
        case!(deleted_record_rejects_changes),
        case!(other_users_record_is_not_found),
        case!(tombstones_are_in_changes),
        case!(a_sealed_tombstone_is_stored_and_format_2_is_never_downgraded),
        case!(paging_by_count_never_skips_or_repeats),
        case!(paging_by_bytes_never_skips_or_repeats),
        case!(list_by_kind_orders_by_id_and_pages),
        case!(get_records_ignores_other_users_and_unknown_ids),
        case!(unknown_user_is_at_revision_zero),
    ]
}

pub const ALL: PageLimit = PageLimit {
    max_records: 1000,
    max_bytes: 64 << 20,
};

pub fn command(user: UserId, record: RecordId, op: Op) -> ApplyCommand {
    ApplyCommand {
        user_id: user,
        session_id: SessionId::new_random(),
        command_id: CommandId::new_random(),
        record_id: record,
        op,
    }
}

pub fn create(kind: v1::RecordKind, ciphertext: &[u8]) -> Op {
    Op::Create {
        kind,
        ciphertext: ciphertext.to_vec(),
    }
}

pub fn update(base_revision: u64, ciphertext: &[u8]) -> Op {
    Op::Update {
        base_revision,
        ciphertext: ciphertext.to_vec(),
    }
}

pub fn revision_of(result: &ApplyResult) -> u64 {
    match &result.outcome.result {
        Some(Outcome::Applied(applied)) => applied.revision,
        other => panic!("expected applied, got {other:?}"),
    }
}

/// Applies a command that must succeed and returns its revision.
pub async fn apply_ok(stores: &Stores, command: &ApplyCommand) -> u64 {
    let result = stores.writer.apply(command, 1_000).await.unwrap();
    assert!(!result.duplicate);
    revision_of(&result)
}

/// Creates a login record with the given ciphertext; returns id and revision.
pub async fn new_record(stores: &Stores, user: UserId, ciphertext: &[u8]) -> (RecordId, u64) {
    let id = RecordId::new_random();
    let revision = apply_ok(
        stores,
        &command(user, id, create(v1::RecordKind::Login, ciphertext)),
    )
    .await;
    (id, revision)
}

fn conflict_with(result: &ApplyResult) -> v1::Record {
    match &result.outcome.result {
        Some(Outcome::Conflict(conflict)) => conflict.current.clone().unwrap(),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn rejected_for(result: &ApplyResult) -> Reason {
    match &result.outcome.result {
        Some(Outcome::Rejected(rejected)) => Reason::try_from(rejected.reason).unwrap(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

async fn only_record(stores: &Stores, user: UserId, id: RecordId) -> StoredRecord {
    let (records, _) = stores.reader.get_records(user, &[id]).await.unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    records.into_iter().next().unwrap()
}

async fn create_update_delete_take_revisions_1_2_3(stores: Stores) {
    let user = UserId::new_random();
    let id = RecordId::new_random();

    let created = command(user, id, create(v1::RecordKind::Login, b"v1"));
    let result = stores.writer.apply(&created, 1_000).await.unwrap();
    assert!(!result.duplicate);
    assert_eq!(revision_of(&result), 1);
    assert_eq!(result.outcome.command_id, created.command_id.to_string());
    assert_eq!(result.outcome.record_id, id.to_string());
    assert_eq!(
        result.change,
        Some(v1::RecordChange {
            record_id: id.to_string(),
            kind: v1::RecordKind::Login as i32,
            revision: 1,
            deleted: false,
        })
    );
    stores.settle().await;
    let record = only_record(&stores, user, id).await;
    assert_eq!(
        (
            record.revision,
            record.ciphertext.as_slice(),
            record.created_at_ms
        ),
        (1, &b"v1"[..], 1_000)
    );

    let result = stores
        .writer
        .apply(&command(user, id, update(1, b"v2")), 2_000)
        .await
        .unwrap();
    assert_eq!(revision_of(&result), 2);
    assert!(!result.change.unwrap().deleted);
    stores.settle().await;
    let record = only_record(&stores, user, id).await;
    assert_eq!(
        (
            record.revision,
            record.ciphertext.as_slice(),
            record.created_at_ms,
            record.updated_at_ms
        ),
        (2, &b"v2"[..], 1_000, 2_000)
    );

    let result = stores
        .writer
        .apply(
            &command(
                user,
                id,
                Op::Delete {
                    base_revision: 2,
                    tombstone: Vec::new(),
                },
            ),
            3_000,
        )
        .await
        .unwrap();
    assert_eq!(revision_of(&result), 3);
    assert_eq!(
        result.change,
        Some(v1::RecordChange {
            record_id: id.to_string(),
            kind: v1::RecordKind::Login as i32,
            revision: 3,
            deleted: true,
        })
    );
    stores.settle().await;
    assert_eq!(stores.reader.head_revision(user).await.unwrap(), 3);
    let page = stores.reader.changes_since(user, 0, ALL).await.unwrap();
    assert_eq!((page.current_revision, page.has_more), (3, false));
    assert_eq!(page.records.len(), 1);
    let tombstone = &page.records[0];
    assert!(tombstone.deleted);
    assert!(tombstone.ciphertext.is_empty(), "a tombstone keeps no data");
    assert_eq!(
        (
            tombstone.record_id,
            tombstone.kind,
            tombstone.revision,
            tombstone.updated_at_ms
        ),
        (id, v1::RecordKind::Login, 3, 3_000)
    );
    let live = stores
        .reader
        .list_by_kind(user, v1::RecordKind::Login, None, ALL)
        .await
        .unwrap();
    assert!(live.records.is_empty());
}

async fn duplicate_command_returns_the_first_outcome(stores: Stores) {
    let user = UserId::new_random();
    let id = RecordId::new_random();
    let created = command(user, id, create(v1::RecordKind::Text, b"first"));
    let first = stores.writer.apply(&created, 1_000).await.unwrap();
    assert_eq!(revision_of(&first), 1);

    let again = stores.writer.apply(&created, 2_000).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.outcome, first.outcome);
    assert_eq!(again.change, None);

    // The command id is the identity: whatever a redelivery carries, the
    // first outcome stands and nothing is applied.
    let mut altered = created.clone();
    altered.op = update(1, b"sneaky");
    let again = stores.writer.apply(&altered, 3_000).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.outcome, first.outcome);

    // A conflict is an outcome too, and is kept as first given.
    let updated = apply_ok(&stores, &command(user, id, update(1, b"second"))).await;
    assert_eq!(updated, 2);
    let stale = command(user, id, update(1, b"stale"));
    let conflict = stores.writer.apply(&stale, 4_000).await.unwrap();
    assert_eq!(conflict_with(&conflict).revision, 2);
    let again = stores.writer.apply(&stale, 5_000).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.outcome, conflict.outcome);

    stores.settle().await;
    assert_eq!(stores.reader.head_revision(user).await.unwrap(), 2);
    let record = only_record(&stores, user, id).await;
    assert_eq!(
        (record.revision, record.ciphertext.as_slice()),
        (2, &b"second"[..])
    );
}

/// The consumer's batches: one transaction, but each command sees the ones
/// before it, exactly as if they had been applied one by one.
async fn a_batch_applies_in_order_and_sees_its_own_writes(stores: Stores) {
    let (alice, bob) = (UserId::new_random(), UserId::new_random());
    let id = RecordId::new_random();
    let created = command(alice, id, create(v1::RecordKind::Login, b"v1"));
    let batch = vec![
        created.clone(),
        command(
            bob,
            RecordId::new_random(),
            create(v1::RecordKind::Text, b"b"),
        ),
        command(alice, id, update(1, b"v2")),
        created.clone(),
        command(alice, id, update(1, b"stale")),
        command(
            alice,
            id,
            Op::Delete {
                base_revision: 2,
                tombstone: Vec::new(),
            },
        ),
        command(alice, RecordId::new_random(), update(1, b"nothing there")),
    ];
    let results = stores.writer.apply_batch(&batch, 1_000).await.unwrap();
    assert_eq!(results.len(), batch.len());
    for (result, command) in results.iter().zip(&batch) {
        assert_eq!(result.outcome.command_id, command.command_id.to_string());
    }
    assert_eq!(revision_of(&results[0]), 1);
    assert_eq!(revision_of(&results[1]), 1, "bob has his own counter");
    assert_eq!(revision_of(&results[2]), 2);
    assert!(
        results[3].duplicate,
        "a repeat inside the batch is a repeat"
    );
    assert_eq!(results[3].outcome, results[0].outcome);
    assert_eq!(conflict_with(&results[4]).revision, 2);
    assert_eq!(revision_of(&results[5]), 3);
    assert_eq!(rejected_for(&results[6]), Reason::NotFound);

    stores.settle().await;
    assert_eq!(stores.reader.head_revision(alice).await.unwrap(), 3);
    assert_eq!(stores.reader.head_revision(bob).await.unwrap(), 1);
    let record = only_record(&stores, alice, id).await;
    assert!(record.deleted);
    assert_eq!(record.revision, 3);
    // Every outcome was logged: the batch's commands are repeats now.
    let again = stores.writer.apply_batch(&batch, 2_000).await.unwrap();
    assert!(again.iter().all(|r| r.duplicate));
    let outcomes = |rs: &[ApplyResult]| rs.iter().map(|r| r.outcome.clone()).collect::<Vec<_>>();
    // The in-batch repeat of `created` answers like the first copy.
    assert_eq!(outcomes(&again), outcomes(&results));
}

async fn stale_base_conflicts_and_overwrites_nothing(stores: Stores) {
    let user = UserId::new_random();
    let (id, _) = new_record(&stores, user, b"v1").await;
    assert_eq!(
        apply_ok(&stores, &command(user, id, update(1, b"v2"))).await,
        2
    );

    for op in [
        update(1, b"stale"),
        update(3, b"from the future"),
        Op::Delete {
            base_revision: 1,
            tombstone: Vec::new(),
        },
        create(v1::RecordKind::Login, b"same id again"),
    ] {
        let name = op.name();
        let result = stores
            .writer
            .apply(&command(user, id, op), 2_000)
            .await
            .unwrap();
        assert!(!result.duplicate);
        assert_eq!(result.change, None, "{name}");
        let current = conflict_with(&result);
        assert_eq!(
            (current.revision, current.ciphertext.as_slice()),
            (2, &b"v2"[..]),
            "{name}: the conflict shows the stored version"
        );
    }

    stores.settle().await;
    assert_eq!(stores.reader.head_revision(user).await.unwrap(), 2);
    let record = only_record(&stores, user, id).await;
    assert_eq!(
        (
            record.revision,
            record.ciphertext.as_slice(),
            record.deleted
        ),
        (2, &b"v2"[..], false)
    );
}

async fn deleted_record_rejects_changes(stores: Stores) {
    let user = UserId::new_random();
    let (id, _) = new_record(&stores, user, b"v1").await;
    apply_ok(
        &stores,
        &command(
            user,
            id,
            Op::Delete {
                base_revision: 1,
                tombstone: Vec::new(),
            },
        ),
    )
    .await;
    for op in [
        update(2, b"revive"),
        Op::Delete {
            base_revision: 2,
            tombstone: Vec::new(),
        },
    ] {
        let result = stores
            .writer
            .apply(&command(user, id, op), 2_000)
            .await
            .unwrap();
        assert_eq!(rejected_for(&result), Reason::Deleted);
        assert_eq!(result.change, None);
    }
    stores.settle().await;
    assert_eq!(stores.reader.head_revision(user).await.unwrap(), 2);
}

async fn other_users_record_is_not_found(stores: Stores) {
    let owner = UserId::new_random();
    let intruder = UserId::new_random();
    let (id, _) = new_record(&stores, owner, b"mine").await;

    for op in [
        update(1, b"theirs"),
        Op::Delete {
            base_revision: 1,
            tombstone: Vec::new(),
        },
    ] {
        let result = stores
            .writer
            .apply(&command(intruder, id, op), 2_000)
            .await
            .unwrap();
        assert_eq!(rejected_for(&result), Reason::NotFound);
        assert_eq!(result.change, None);
    }

    stores.settle().await;
    let (records, head) = stores.reader.get_records(intruder, &[id]).await.unwrap();
    assert!(records.is_empty());
    assert_eq!(head, 0);
    let page = stores.reader.changes_since(intruder, 0, ALL).await.unwrap();
    assert!(page.records.is_empty());
    let record = only_record(&stores, owner, id).await;
    assert_eq!(
        (record.revision, record.ciphertext.as_slice()),
        (1, &b"mine"[..])
    );
}

async fn tombstones_are_in_changes(stores: Stores) {
    let user = UserId::new_random();
    let (a, _) = new_record(&stores, user, b"a").await;
    let (b, _) = new_record(&stores, user, b"b").await;
    apply_ok(
        &stores,
        &command(
            user,
            a,
            Op::Delete {
                base_revision: 1,
                tombstone: Vec::new(),
            },
        ),
    )
    .await;
    stores.settle().await;

    let page = stores.reader.changes_since(user, 0, ALL).await.unwrap();
    let seen: Vec<_> = page
        .records
        .iter()
        .map(|r| (r.record_id, r.revision, r.deleted))
        .collect();
    assert_eq!(seen, vec![(b, 2, false), (a, 3, true)]);

    let page = stores.reader.changes_since(user, 2, ALL).await.unwrap();
    let seen: Vec<_> = page
        .records
        .iter()
        .map(|r| (r.record_id, r.revision, r.deleted))
        .collect();
    assert_eq!(seen, vec![(a, 3, true)]);

    let page = stores.reader.changes_since(user, 3, ALL).await.unwrap();
    assert!(page.records.is_empty());
    assert_eq!((page.current_revision, page.has_more), (3, false));
}

/// Record format 2 (docs/design.md): a delete's sealed tombstone becomes
/// the record's ciphertext, and a record in format 2 refuses a format 1
/// update or a delete without a tombstone, changing nothing.
async fn a_sealed_tombstone_is_stored_and_format_2_is_never_downgraded(stores: Stores) {
    let user = UserId::new_random();
    let (id, _) = new_record(&stores, user, b"\x02 version 1").await;
    let older = [
        update(1, b"\x01 format 1"),
        Op::Delete {
            base_revision: 1,
            tombstone: Vec::new(),
        },
    ];
    for op in older {
        let result = stores
            .writer
            .apply(&command(user, id, op), 2_000)
            .await
            .unwrap();
        assert!(
            matches!(
                &result.outcome.result,
                Some(Outcome::Rejected(r)) if r.reason == Reason::OlderFormat as i32
            ),
            "{result:?}"
        );
        assert!(result.change.is_none());
    }
    let tombstone = b"\x02 sealed tombstone".to_vec();
    let delete = Op::Delete {
        base_revision: 1,
        tombstone: tombstone.clone(),
    };
    assert_eq!(apply_ok(&stores, &command(user, id, delete)).await, 2);
    stores.settle().await;
    let page = stores.reader.changes_since(user, 0, ALL).await.unwrap();
    let seen: Vec<_> = page
        .records
        .iter()
        .map(|r| (r.record_id, r.revision, r.deleted, r.ciphertext.clone()))
        .collect();
    assert_eq!(seen, vec![(id, 2, true, tombstone)]);
}

/// Follows `changes_since` page by page the way a client does and returns
/// the pages; checks that the cursor only moves forward.
async fn drain_changes(stores: &Stores, user: UserId, limit: PageLimit) -> Vec<Vec<StoredRecord>> {
    let mut pages = Vec::new();
    let mut cursor = 0;
    loop {
        let page = stores
            .reader
            .changes_since(user, cursor, limit)
            .await
            .unwrap();
        assert!(pages.len() < 1000, "paging does not end");
        let last = page.records.last().map(|r| r.revision);
        let has_more = page.has_more;
        pages.push(page.records);
        if !has_more {
            return pages;
        }
        cursor = last.expect("a page with more to come is not empty");
    }
}

/// Every record exactly once, in revision order, each at its newest revision.
fn assert_complete(pages: &[Vec<StoredRecord>], expected: &HashSet<(RecordId, u64)>) {
    let all: Vec<_> = pages.iter().flatten().collect();
    assert!(
        all.windows(2).all(|w| w[0].revision < w[1].revision),
        "revisions go up across pages"
    );
    let seen: HashSet<_> = all.iter().map(|r| (r.record_id, r.revision)).collect();
    assert_eq!(seen.len(), all.len(), "no record is repeated");
    assert_eq!(&seen, expected, "no record is skipped");
}

async fn paging_by_count_never_skips_or_repeats(stores: Stores) {
    let user = UserId::new_random();
    let mut ids = Vec::new();
    for i in 0..10u8 {
        ids.push(new_record(&stores, user, &[i; 10]).await.0);
    }
    // Move two records to the end of the order.
    apply_ok(&stores, &command(user, ids[0], update(1, b"x"))).await;
    apply_ok(&stores, &command(user, ids[3], update(4, b"y"))).await;
    let expected: HashSet<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let revision = match i {
                0 => 11,
                3 => 12,
                i => i as u64 + 1,
            };
            (*id, revision)
        })
        .collect();
    stores.settle().await;

    for (max_records, pages) in [(3, 4), (5, 2), (10, 1), (1, 10)] {
        let limit = PageLimit {
            max_records,
            max_bytes: 1 << 20,
        };
        let got = drain_changes(&stores, user, limit).await;
        assert_eq!(got.len(), pages, "pages of {max_records}");
        assert!(got.iter().all(|page| page.len() <= max_records as usize));
        assert_complete(&got, &expected);
    }
}

async fn paging_by_bytes_never_skips_or_repeats(stores: Stores) {
    let user = UserId::new_random();
    let mut expected = HashSet::new();
    for _ in 0..6 {
        let (id, revision) = new_record(&stores, user, &[7; 100]).await;
        expected.insert((id, revision));
    }
    stores.settle().await;

    // The page stops after the record that passes the limit: 3 × 100 ≥ 250.
    let limit = PageLimit {
        max_records: 1000,
        max_bytes: 250,
    };
    let pages = drain_changes(&stores, user, limit).await;
    let sizes: Vec<_> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![3, 3]);
    assert_complete(&pages, &expected);

    // A record bigger than the limit still comes, alone, so paging always
    // moves on.
    let limit = PageLimit {
        max_records: 1000,
        max_bytes: 10,
    };
    let pages = drain_changes(&stores, user, limit).await;
    assert_eq!(pages.len(), 6);
    assert!(pages.iter().all(|page| page.len() == 1));
    assert_complete(&pages, &expected);
}

async fn list_by_kind_orders_by_id_and_pages(stores: Stores) {
    let user = UserId::new_random();
    let mut logins = Vec::new();
    for _ in 0..7 {
        logins.push(new_record(&stores, user, b"login").await);
    }
    let mut texts = Vec::new();
    for _ in 0..2 {
        let id = RecordId::new_random();
        apply_ok(
            &stores,
            &command(user, id, create(v1::RecordKind::Text, b"note")),
        )
        .await;
        texts.push(id);
    }
    let (gone, gone_revision) = logins.remove(2);
    apply_ok(
        &stores,
        &command(
            user,
            gone,
            Op::Delete {
                base_revision: gone_revision,
                tombstone: Vec::new(),
            },
        ),
    )
    .await;
    stores.settle().await;
    let head = stores.reader.head_revision(user).await.unwrap();
    assert_eq!(head, 10);

    let mut expected: Vec<_> = logins.iter().map(|(id, _)| *id).collect();
    expected.sort();
    let limit = PageLimit {
        max_records: 4,
        max_bytes: 1 << 20,
    };
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = stores
            .reader
            .list_by_kind(user, v1::RecordKind::Login, after, limit)
            .await
            .unwrap();
        pages += 1;
        assert_eq!(page.current_revision, head);
        assert!(page.records.iter().all(|r| !r.deleted));
        assert!(page.records.iter().all(|r| r.kind == v1::RecordKind::Login));
        seen.extend(page.records.iter().map(|r| r.record_id));
        if !page.has_more {
            break;
        }
        after = page.records.last().map(|r| r.record_id);
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, expected, "live logins, by id, each once");

    let page = stores
        .reader
        .list_by_kind(user, v1::RecordKind::Text, None, ALL)
        .await
        .unwrap();
    texts.sort();
    let got: Vec<_> = page.records.iter().map(|r| r.record_id).collect();
    assert_eq!(got, texts);
    let page = stores
        .reader
        .list_by_kind(user, v1::RecordKind::Card, None, ALL)
        .await
        .unwrap();
    assert!(page.records.is_empty());
    assert!(!page.has_more);
}

async fn get_records_ignores_other_users_and_unknown_ids(stores: Stores) {
    let alice = UserId::new_random();
    let bob = UserId::new_random();
    let (a1, _) = new_record(&stores, alice, b"a1").await;
    let (a2, _) = new_record(&stores, alice, b"a2").await;
    let (b1, _) = new_record(&stores, bob, b"b1").await;
    stores.settle().await;

    let (records, head) = stores
        .reader
        .get_records(alice, &[b1, a2, RecordId::new_random(), a1])
        .await
        .unwrap();
    let got: Vec<_> = records.iter().map(|r| r.record_id).collect();
    assert_eq!(got, vec![a2, a1], "alice's records, in the order asked for");
    assert_eq!(head, 2);

    let (records, head) = stores.reader.get_records(bob, &[a1, a2]).await.unwrap();
    assert!(records.is_empty());
    assert_eq!(head, 1);

    let (records, _) = stores.reader.get_records(bob, &[]).await.unwrap();
    assert!(records.is_empty());
}

async fn unknown_user_is_at_revision_zero(stores: Stores) {
    let user = UserId::new_random();
    assert_eq!(stores.reader.head_revision(user).await.unwrap(), 0);
    // A rejected first command leaves the user at revision 0 too.
    let result = stores
        .writer
        .apply(
            &command(user, RecordId::new_random(), update(1, b"x")),
            1_000,
        )
        .await
        .unwrap();
    assert_eq!(rejected_for(&result), Reason::NotFound);
    stores.settle().await;
    assert_eq!(stores.reader.head_revision(user).await.unwrap(), 0);
    let page = stores.reader.changes_since(user, 0, ALL).await.unwrap();
    assert!(page.records.is_empty());
    assert_eq!((page.current_revision, page.has_more), (0, false));
}
