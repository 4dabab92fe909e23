//! Cases only PostgreSQL has: parallel writers, the streaming replica and
//! the read-only query role.

use std::collections::HashSet;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::command_outcome::Result as Outcome;
use gophkeeper_server::auth::postgres::PgAuthStore;
use gophkeeper_server::auth::store::AuthStoreError;
use gophkeeper_server::ids::{RecordId, UserId};
use gophkeeper_server::vault::{StoreError, postgres};
use sqlx::{Connection, PgConnection};
use tokio::sync::Barrier;

use crate::engines::{Case, Stores, case};
use crate::vault_cases::{ALL, apply_ok, command, create, new_record, revision_of, update};

pub fn cases() -> Vec<Case> {
    vec![
        case!(parallel_commands_of_one_user_take_revisions_1_to_n),
        case!(parallel_updates_of_one_record_lose_nothing),
        case!(parallel_redeliveries_apply_once),
        case!(many_users_apply_in_parallel),
        case!(primary_writes_reach_the_replica_reader),
        case!(a_read_dropped_mid_begin_leaves_no_transaction_open),
        case!(query_role_cannot_write_through_the_reader),
        case!(query_role_cannot_write_on_the_primary),
        case!(migrations_run_again_harmlessly),
        case!(unreachable_server_is_unavailable),
    ]
}

async fn parallel_commands_of_one_user_take_revisions_1_to_n(stores: Stores) {
    const N: u64 = 24;
    let user = UserId::new_random();
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let stores = stores.clone();
            tokio::spawn(async move {
                let id = RecordId::new_random();
                let op = create(v1::RecordKind::Login, &i.to_be_bytes());
                (id, apply_ok(&stores, &command(user, id, op)).await)
            })
        })
        .collect();
    let mut applied = Vec::new();
    for task in tasks {
        applied.push(task.await.unwrap());
    }
    let mut revisions: Vec<_> = applied.iter().map(|(_, revision)| *revision).collect();
    revisions.sort_unstable();
    assert_eq!(revisions, (1..=N).collect::<Vec<_>>(), "no gap, no repeat");

    stores.settle().await;
    assert_eq!(stores.reader.head_revision(user).await.unwrap(), N);
    let page = stores.reader.changes_since(user, 0, ALL).await.unwrap();
    let stored: HashSet<_> = page
        .records
        .iter()
        .map(|r| (r.record_id, r.revision))
        .collect();
    assert_eq!(stored, applied.into_iter().collect::<HashSet<_>>());
}

async fn parallel_updates_of_one_record_lose_nothing(stores: Stores) {
    const ROUNDS: u64 = 10;
    const WRITERS: usize = 8;
    let user = UserId::new_random();
    let (id, _) = new_record(&stores, user, b"v1").await;
    // Each round, every writer holds the current revision and all try at
    // once: exactly one may win, or an update was lost.
    for round in 1..=ROUNDS {
        let barrier = Arc::new(Barrier::new(WRITERS));
        let tasks: Vec<_> = (0..WRITERS)
            .map(|i| {
                let stores = stores.clone();
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    let cmd = command(user, id, update(round, &[i as u8 + 16; 4]));
                    barrier.wait().await;
                    (i, stores.writer.apply(&cmd, 2_000).await.unwrap())
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            let (i, result) = task.await.unwrap();
            match result.outcome.result {
                Some(Outcome::Applied(applied)) => winners.push((i, applied.revision)),
                Some(Outcome::Conflict(conflict)) => {
                    assert_eq!(conflict.current.unwrap().revision, round + 1);
                }
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one update of base {round} wins, not {winners:?}"
        );
        let (winner, revision) = winners[0];
        assert_eq!(revision, round + 1);

        stores.settle().await;
        let (records, head) = stores.reader.get_records(user, &[id]).await.unwrap();
        assert_eq!(head, round + 1);
        assert_eq!(records[0].ciphertext, vec![winner as u8 + 16; 4]);
    }
}

async fn parallel_redeliveries_apply_once(stores: Stores) {
    let user = UserId::new_random();
    let cmd = command(
        user,
        RecordId::new_random(),
        create(v1::RecordKind::Card, b"card"),
    );
    let barrier = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let stores = stores.clone();
            let cmd = cmd.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                stores.writer.apply(&cmd, 1_000).await.unwrap()
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let firsts: Vec<_> = results.iter().filter(|r| !r.duplicate).collect();
    assert_eq!(firsts.len(), 1, "one delivery applies, the rest repeat it");
    assert!(results.iter().all(|r| r.outcome == firsts[0].outcome));
    assert_eq!(revision_of(firsts[0]), 1);

    stores.settle().await;
    assert_eq!(stores.reader.head_revision(user).await.unwrap(), 1);
}

async fn many_users_apply_in_parallel(stores: Stores) {
    const USERS: usize = 6;
    const EACH: u64 = 5;
    let users: Vec<_> = (0..USERS).map(|_| UserId::new_random()).collect();
    let tasks: Vec<_> = users
        .iter()
        .flat_map(|user| (0..EACH).map(move |_| *user))
        .map(|user| {
            let stores = stores.clone();
            tokio::spawn(async move { (user, new_record(&stores, user, b"x").await.1) })
        })
        .collect();
    let mut by_user = std::collections::HashMap::<UserId, Vec<u64>>::new();
    for task in tasks {
        let (user, revision) = task.await.unwrap();
        by_user.entry(user).or_default().push(revision);
    }
    for user in &users {
        let revisions = by_user.get_mut(user).unwrap();
        revisions.sort_unstable();
        assert_eq!(*revisions, (1..=EACH).collect::<Vec<_>>());
    }
}

async fn primary_writes_reach_the_replica_reader(stores: Stores) {
    let pg = stores.pg();
    let on_replica: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(pg.reader.pool())
        .await
        .unwrap();
    assert!(on_replica, "the reader is connected to the standby");

    let user = UserId::new_random();
    let (id, revision) = new_record(&stores, user, b"replicated").await;
    // No settle(): poll through the reader the way the query service waits
    // for min_revision.
    let deadline = Instant::now() + Duration::from_secs(10);
    while stores.reader.head_revision(user).await.unwrap() < revision {
        assert!(
            Instant::now() < deadline,
            "revision {revision} did not reach the replica in 10 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (records, head) = stores.reader.get_records(user, &[id]).await.unwrap();
    assert_eq!(head, revision);
    assert_eq!(records[0].ciphertext, b"replicated");
}

/// A read dropped inside its `BEGIN` round trip (a client that hung up)
/// must not hand the pool a connection stuck in a transaction nobody ends:
/// the next read on it would answer from an old snapshot (sqlx#4393; the
/// chaos drill caught one). Drops reads after 1, 2, ... polls, so some land
/// between sending `BEGIN` and reading its answer, and after each checks
/// every connection of the pool.
async fn a_read_dropped_mid_begin_leaves_no_transaction_open(stores: Stores) {
    let pool = stores.pg().reader.pool();
    let user = UserId::new_random();
    let (id, _) = new_record(&stores, user, b"x").await;
    stores.settle().await;
    let (mut dropped, mut stuck) = (0, 0);
    for _ in 0..10 {
        for polls in 1..=8 {
            if !finished_within_polls(stores.reader.get_records(user, &[id]), polls).await {
                dropped += 1;
            }
            let mut held = Vec::new();
            for _ in 0..pool.options().get_max_connections() {
                let mut conn = pool.acquire().await.unwrap();
                // A savepoint outside a transaction block is refused with
                // 25P01 (no_active_sql_transaction).
                let probe = sqlx::raw_sql("SAVEPOINT probe").execute(&mut *conn).await;
                if let Err(err) = &probe {
                    assert_eq!(sql_state(err), "25P01", "{err}");
                } else {
                    stuck += 1;
                    sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
                }
                held.push(conn);
            }
        }
    }
    assert!(dropped > 0, "every read finished: none was dropped mid-way");
    assert_eq!(
        stuck, 0,
        "{stuck} times a pooled connection was left inside a transaction ({dropped} reads dropped)"
    );
}

/// Polls `future` until it finishes or has answered `Pending` `polls`
/// times, then drops it; whether it finished.
async fn finished_within_polls<F: Future>(future: F, polls: usize) -> bool {
    let mut future = std::pin::pin!(future);
    let mut pending = 0;
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(_) => Poll::Ready(true),
        Poll::Pending => {
            pending += 1;
            if pending >= polls {
                Poll::Ready(false)
            } else {
                Poll::Pending
            }
        }
    })
    .await
}

fn sql_state(err: &sqlx::Error) -> String {
    err.as_database_error()
        .and_then(|db| db.code())
        .map(|code| code.into_owned())
        .unwrap_or_else(|| panic!("not a database error: {err:?}"))
}

/// SQLSTATE 25006: read_only_sql_transaction.
const READ_ONLY: &str = "25006";
/// SQLSTATE 42501: insufficient_privilege.
const NO_PRIVILEGE: &str = "42501";

const WRITES: [&str; 4] = [
    "INSERT INTO records (user_id, record_id, kind, ciphertext, revision, deleted, \
     created_at_ms, updated_at_ms) VALUES (gen_random_uuid(), gen_random_uuid(), 1, '\\x00', \
     1, false, 0, 0)",
    "UPDATE user_revisions SET revision = revision + 1",
    "DELETE FROM records",
    "INSERT INTO applied_commands VALUES (gen_random_uuid(), gen_random_uuid(), '\\x00', 0)",
];

async fn query_role_cannot_write_through_the_reader(stores: Stores) {
    let pool = stores.pg().reader.pool();
    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(role, "gophkeeper_query");
    for sql in WRITES {
        let err = sqlx::query(sql).execute(pool).await.unwrap_err();
        assert_eq!(sql_state(&err), READ_ONLY, "{sql}: {err}");
    }
    // Switching the session to read-write does not help on the standby.
    // (A detached connection, so the pool never gets it back changed.)
    let mut conn = pool.acquire().await.unwrap().detach();
    sqlx::query("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
        .execute(&mut conn)
        .await
        .unwrap();
    for sql in WRITES {
        let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert_eq!(sql_state(&err), READ_ONLY, "{sql}: {err}");
    }
    conn.close().await.unwrap();
}

async fn query_role_cannot_write_on_the_primary(stores: Stores) {
    let pg = stores.pg();
    let url = &pg.urls["PG_LOCAL_QUERY_ON_PRIMARY_URL"];
    let mut conn = PgConnection::connect(url).await.unwrap();
    let in_recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(!in_recovery, "this connection is to the primary");

    // The role's default makes every transaction read-only...
    for sql in WRITES {
        let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert_eq!(sql_state(&err), READ_ONLY, "{sql}: {err}");
    }
    // ...and once the default is switched off, the privileges still refuse.
    sqlx::query("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
        .execute(&mut conn)
        .await
        .unwrap();
    for sql in WRITES {
        let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert_eq!(sql_state(&err), NO_PRIVILEGE, "{sql}: {err}");
    }
    for sql in [
        "CREATE TABLE sneaky (x int)",
        "SELECT count(*) FROM applied_commands",
        "TRUNCATE records",
    ] {
        let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert_eq!(sql_state(&err), NO_PRIVILEGE, "{sql}: {err}");
    }
    // What it may do, it can: read records and revisions.
    let _: i64 = sqlx::query_scalar("SELECT count(*) FROM records")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

async fn migrations_run_again_harmlessly(stores: Stores) {
    let pg = stores.pg();
    let writer = postgres::open_writer(&pg.urls["GOPHKEEPER__POSTGRES__VAULT_PRIMARY_URL"], 1)
        .await
        .unwrap();
    let user = UserId::new_random();
    let cmd = command(
        user,
        RecordId::new_random(),
        create(v1::RecordKind::Text, b"t"),
    );
    use gophkeeper_server::vault::VaultWriter;
    assert_eq!(revision_of(&writer.apply(&cmd, 1).await.unwrap()), 1);
    writer.close().await;
    let auth = PgAuthStore::open(&pg.urls["GOPHKEEPER__POSTGRES__AUTH_URL"], 1)
        .await
        .unwrap();
    auth.close().await;
}

async fn unreachable_server_is_unavailable(_stores: Stores) {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("postgres://nobody:secret@127.0.0.1:{port}/nothing");
    // Each keeps retrying until its acquire timeout; wait for them together.
    let (writer, reader, auth) = futures::join!(
        postgres::open_writer(&url, 1),
        postgres::open_reader(&url, 1),
        PgAuthStore::open(&url, 1),
    );
    let err = writer.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = reader.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = auth.unwrap_err();
    assert!(matches!(err, AuthStoreError::Unavailable(_)), "{err:?}");
}
