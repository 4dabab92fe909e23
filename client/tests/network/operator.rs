//! The server's operator turned hostile: direct access to the vault
//! database of a running server, on either engine, to rewrite what it
//! serves between syncs (SECURITY.md, "A malicious server").
//!
//! Statements are written once in PostgreSQL's dialect, with `uuid($n)`
//! marking an id passed as its 16 bytes; [`Operator::dialect`] turns them
//! into each engine's form (SQLite stores ids as those bytes). They are
//! this file's constants, so asserting them safe for sqlx is true.

use sqlx::{Connection, PgConnection, Row, SqliteConnection};
use uuid::Uuid;

use crate::helpers::TestServer;

enum Db {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// A bound parameter.
enum Arg {
    Bytes(Vec<u8>),
    Int(i64),
    Bool(bool),
}

fn id(id: Uuid) -> Arg {
    Arg::Bytes(id.as_bytes().to_vec())
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Bytes(bytes) => query.bind(bytes),
                Arg::Int(int) => query.bind(int),
                Arg::Bool(flag) => query.bind(flag),
            };
        }
        query
    }};
}

/// Runs a query on either engine and maps each row with `$map` (written
/// once, compiled per engine).
macro_rules! fetch_all {
    ($operator:expr, $sql:expr, $args:expr, |$row:ident| $map:expr) => {{
        let sql = $operator.dialect($sql);
        match &mut $operator.db {
            Db::Sqlite(db) => bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), $args)
                .fetch_all(db)
                .await
                .unwrap()
                .iter()
                .map(|$row| $map)
                .collect::<Vec<_>>(),
            Db::Postgres(db) => bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), $args)
                .fetch_all(db)
                .await
                .unwrap()
                .iter()
                .map(|$row| $map)
                .collect::<Vec<_>>(),
        }
    }};
}

/// The operator's handle on the server's vault database.
pub struct Operator {
    db: Db,
}

/// One stored row as the server holds it.
#[derive(Clone)]
pub struct StoredRow {
    pub ciphertext: Vec<u8>,
    pub revision: i64,
}

impl Operator {
    pub async fn open(server: &TestServer) -> Self {
        let db = match server.vault_url() {
            Some(url) => Db::Postgres(PgConnection::connect(&url).await.unwrap()),
            None => {
                let path = server.data.path().join("vault.db");
                let url = format!("sqlite://{}", path.display());
                Db::Sqlite(SqliteConnection::connect(&url).await.unwrap())
            }
        };
        Self { db }
    }

    fn dialect(&self, sql: &str) -> String {
        match self.db {
            Db::Sqlite(_) => sql.replace("uuid($", "($").replace('$', "?"),
            Db::Postgres(_) => {
                let mut out = sql.to_owned();
                for n in 1..=9 {
                    out = out.replace(
                        &format!("uuid(${n})"),
                        &format!("encode(${n}, 'hex')::uuid"),
                    );
                }
                out
            }
        }
    }

    /// A record id column as its 16 bytes.
    fn id_column(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "record_id",
            Db::Postgres(_) => "decode(replace(record_id::text, '-', ''), 'hex') AS record_id",
        }
    }

    async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> u64 {
        let sql = self.dialect(sql);
        match &mut self.db {
            Db::Sqlite(db) => bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), args)
                .execute(db)
                .await
                .unwrap()
                .rows_affected(),
            Db::Postgres(db) => bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), args)
                .execute(db)
                .await
                .unwrap()
                .rows_affected(),
        }
    }

    pub async fn row(&mut self, record: Uuid) -> StoredRow {
        let rows = fetch_all!(
            self,
            "SELECT ciphertext, revision FROM records WHERE record_id = uuid($1)",
            [id(record)],
            |row| StoredRow {
                ciphertext: row.get("ciphertext"),
                revision: row.get("revision"),
            }
        );
        rows.into_iter().next().expect("no such row")
    }

    /// Serves `ciphertext` (and `deleted`) as the record's newest change,
    /// under the user's next revision, as an honest write would be.
    pub async fn serve(&mut self, user: Uuid, record: Uuid, ciphertext: &[u8], deleted: bool) {
        let next = self.next_revision(user).await;
        let changed = self
            .execute(
                "UPDATE records SET ciphertext = $1, deleted = $2, revision = $3 \
                 WHERE user_id = uuid($4) AND record_id = uuid($5)",
                vec![
                    Arg::Bytes(ciphertext.to_vec()),
                    Arg::Bool(deleted),
                    Arg::Int(next),
                    id(user),
                    id(record),
                ],
            )
            .await;
        assert_eq!(changed, 1);
    }

    /// Takes the user's next revision, as every write does.
    async fn next_revision(&mut self, user: Uuid) -> i64 {
        let next = fetch_all!(
            self,
            "INSERT INTO user_revisions (user_id, revision) VALUES (uuid($1), 1) \
             ON CONFLICT (user_id) DO UPDATE SET revision = user_revisions.revision + 1 \
             RETURNING revision",
            [id(user)],
            |row| row.get::<i64, _>("revision")
        );
        next[0]
    }

    /// Adds a record as a client from before record format 2 wrote it.
    pub async fn insert(&mut self, user: Uuid, record: Uuid, kind: i64, ciphertext: &[u8]) {
        let next = self.next_revision(user).await;
        self.execute(
            "INSERT INTO records (user_id, record_id, kind, ciphertext, revision, deleted, \
             created_at_ms, updated_at_ms) VALUES (uuid($1), uuid($2), $3, $4, $5, $6, 0, 0)",
            vec![
                id(user),
                id(record),
                Arg::Int(kind),
                Arg::Bytes(ciphertext.to_vec()),
                Arg::Int(next),
                Arg::Bool(false),
            ],
        )
        .await;
    }

    /// Changes a row's bytes in place, revision and all: what a device that
    /// already pulled it never sees again, and one that did not gets.
    pub async fn overwrite(&mut self, record: Uuid, ciphertext: &[u8]) {
        let changed = self
            .execute(
                "UPDATE records SET ciphertext = $1 WHERE record_id = uuid($2)",
                vec![Arg::Bytes(ciphertext.to_vec()), id(record)],
            )
            .await;
        assert_eq!(changed, 1);
    }

    /// Puts a row back exactly as it was (ciphertext and revision): to the
    /// devices that have not seen what came after, nothing happened.
    pub async fn restore(&mut self, record: Uuid, row: &StoredRow) {
        self.execute(
            "UPDATE records SET ciphertext = $1, revision = $2 WHERE record_id = uuid($3)",
            vec![
                Arg::Bytes(row.ciphertext.clone()),
                Arg::Int(row.revision),
                id(record),
            ],
        )
        .await;
    }

    /// Every row of the vault as it stands: what a server that forks its
    /// devices keeps showing some of them.
    pub async fn snapshot(&mut self, user: Uuid) -> Vec<(Uuid, StoredRow)> {
        let sql = format!(
            "SELECT {}, ciphertext, revision FROM records WHERE user_id = uuid($1)",
            self.id_column()
        );
        fetch_all!(self, &sql, [id(user)], |row| {
            let stored = StoredRow {
                ciphertext: row.get("ciphertext"),
                revision: row.get("revision"),
            };
            let id: Vec<u8> = row.get("record_id");
            (Uuid::from_slice(&id).unwrap(), stored)
        })
    }

    /// Puts the whole vault back as in `snapshot`, dropping rows made
    /// since: a consistent older state, summaries included.
    pub async fn restore_all(&mut self, user: Uuid, snapshot: &[(Uuid, StoredRow)]) {
        for (record, row) in snapshot {
            self.restore(*record, row).await;
        }
        for (record, _) in self.snapshot(user).await {
            if !snapshot.iter().any(|(kept, _)| *kept == record) {
                self.drop_row(record).await;
            }
        }
    }

    /// Withholds a record: its row is gone.
    pub async fn drop_row(&mut self, record: Uuid) {
        let changed = self
            .execute(
                "DELETE FROM records WHERE record_id = uuid($1)",
                vec![id(record)],
            )
            .await;
        assert_eq!(changed, 1);
    }
}
