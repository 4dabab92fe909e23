//! The local cache of one profile: a SQLite file in the profile directory
//! holding the server's records (as ciphertext), the sync cursor, the queue
//! of commands made offline, unresolved conflicts, and the profile itself
//! (server, user, KDF parameters, wrapped vault key, how the server is
//! trusted, and the refresh token sealed under a key derived from the vault
//! key). It is what lets the vault unlock and read with the server down.
//!
//! Nothing secret is stored in the clear: item contents live only inside
//! record ciphertext. The directory is 0700 and the files 0600 on Unix.

mod integrity;
mod queue;
mod records;
mod summary;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

pub(crate) use self::integrity::stored_version;
pub use self::integrity::{TamperAlert, TamperKind, Versions};
pub use self::queue::{Conflict, NewOp, OpKind, PendingOp};
pub use self::records::StoredRecord;
pub use self::summary::{
    DIGEST_LEN, OLD_SUMMARY_BUCKETS, SUMMARY_BUCKETS, SummaryEntry, is_summary_kind, summary_bucket,
};
use crate::crypto::{KdfParams, SALT_LEN};
use crate::transport::{Fingerprint, Trust};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/client-cache/sqlite");

/// The cache file inside a profile directory.
pub const CACHE_FILE: &str = "cache.db";

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot create or restrict the profile directory {path}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("this platform has no data directory; pass a profile directory explicitly")]
    NoDataDir,
    #[error("the local cache failed")]
    Db(#[from] sqlx::Error),
    #[error("cannot update the local cache's schema")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the local cache holds a value it cannot read: {0}")]
    Corrupt(String),
    #[error("record {0} was deleted on this device; it cannot be changed")]
    RecordDeleted(Uuid),
}

/// Who a profile is and how it reaches its server.
#[derive(Clone, PartialEq, Eq)]
pub struct Profile {
    pub server_url: String,
    pub username: String,
    pub user_id: Uuid,
    pub device_name: String,
    pub kdf: KdfParams,
    pub wrapped_vault_key: Vec<u8>,
    pub trust: Trust,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("server_url", &self.server_url)
            .field("username", &self.username)
            .field("user_id", &self.user_id)
            .field("device_name", &self.device_name)
            .field("trust", &self.trust)
            .finish_non_exhaustive()
    }
}

/// Where sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncState {
    pub cursor: u64,
    pub seen_revision: u64,
    pub last_sync_ms: Option<i64>,
    /// The cursor up to which every vault summary stored has been checked.
    pub summaries_checked: u64,
    /// Changes of the person's still queued (as `Cache::pending_count`).
    pub pending: usize,
}

#[derive(Debug, Clone)]
pub struct Cache {
    pool: SqlitePool,
    dir: PathBuf,
}

/// The platform's place for a named profile, e.g.
/// `~/.local/share/gophkeeper/profiles/default` on Linux.
pub fn default_profile_dir(name: &str) -> Result<PathBuf, CacheError> {
    directories::ProjectDirs::from("", "", "gophkeeper")
        .map(|dirs| dirs.data_dir().join("profiles").join(name))
        .ok_or(CacheError::NoDataDir)
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Revisions are u64 on the wire, i64 in SQLite.
pub(crate) fn to_sql(revision: u64) -> i64 {
    i64::try_from(revision).unwrap_or(i64::MAX)
}

pub(crate) fn from_sql(value: i64) -> Result<u64, CacheError> {
    u64::try_from(value).map_err(|_| CacheError::Corrupt(format!("negative revision {value}")))
}

pub(crate) fn uuid_column(row: &SqliteRow, column: &str) -> Result<Uuid, CacheError> {
    let text: String = row.try_get(column)?;
    Uuid::try_parse(&text).map_err(|_| CacheError::Corrupt(format!("{column} is not a UUID")))
}

impl Cache {
    /// Opens (creating if needed) the cache in `dir`.
    pub async fn open(dir: &Path) -> Result<Self, CacheError> {
        private_dir(dir)?;
        let path = dir.join(CACHE_FILE);
        private_file(&path).map_err(|source| CacheError::Dir {
            path: path.clone(),
            source,
        })?;
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A queued offline edit must survive a crash or power cut.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // One connection: a client has one writer anyway, and it makes the
        // order of writes plain.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            // No reaper task: see server/src/sqlite.rs.
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let cache = Self {
            pool,
            dir: dir.to_owned(),
        };
        cache.fill_summary_columns().await?;
        Ok(cache)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn profile(&self) -> Result<Option<Profile>, CacheError> {
        let row = sqlx::query(
            "SELECT server_url, username, user_id, device_name, kdf_algorithm, kdf_memory_kib, \
             kdf_iterations, kdf_parallelism, kdf_salt, wrapped_vault_key, trust_kind, \
             trust_value FROM profile WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(profile_from_row).transpose()
    }

    /// Writes the profile, keeping the sync state and the sealed token.
    pub async fn save_profile(&self, profile: &Profile) -> Result<(), CacheError> {
        let (trust_kind, trust_value) = match &profile.trust {
            Trust::SystemRoots => ("system", String::new()),
            Trust::CaFile(path) => ("ca-file", path.to_string_lossy().into_owned()),
            Trust::Pinned(fingerprint) => ("pinned", fingerprint.to_string()),
        };
        sqlx::query(
            "INSERT INTO profile (id, server_url, username, user_id, device_name, kdf_algorithm, \
             kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt, wrapped_vault_key, \
             trust_kind, trust_value) \
             VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET server_url = excluded.server_url, \
             username = excluded.username, user_id = excluded.user_id, \
             device_name = excluded.device_name, kdf_algorithm = excluded.kdf_algorithm, \
             kdf_memory_kib = excluded.kdf_memory_kib, \
             kdf_iterations = excluded.kdf_iterations, kdf_parallelism = excluded.kdf_parallelism, \
             kdf_salt = excluded.kdf_salt, wrapped_vault_key = excluded.wrapped_vault_key, \
             trust_kind = excluded.trust_kind, trust_value = excluded.trust_value",
        )
        .bind(&profile.server_url)
        .bind(&profile.username)
        .bind(profile.user_id.to_string())
        .bind(&profile.device_name)
        .bind(profile.kdf.algorithm())
        .bind(i64::from(profile.kdf.memory_kib))
        .bind(i64::from(profile.kdf.iterations))
        .bind(i64::from(profile.kdf.parallelism))
        .bind(profile.kdf.salt.to_vec())
        .bind(&profile.wrapped_vault_key)
        .bind(trust_kind)
        .bind(trust_value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The refresh token, sealed by the caller; `None` forgets it.
    pub async fn set_sealed_refresh_token(&self, sealed: Option<&[u8]>) -> Result<(), CacheError> {
        sqlx::query("UPDATE profile SET sealed_refresh_token = ? WHERE id = 1")
            .bind(sealed)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn sealed_refresh_token(&self) -> Result<Option<Vec<u8>>, CacheError> {
        let value: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT sealed_refresh_token FROM profile WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(value.flatten())
    }

    /// The keys of a rotation this device started and has not seen the
    /// server take, wrapped by the caller; `None` forgets them.
    pub async fn set_pending_vault_keys(&self, wrapped: Option<&[u8]>) -> Result<(), CacheError> {
        sqlx::query("UPDATE profile SET pending_vault_keys = ? WHERE id = 1")
            .bind(wrapped)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn pending_vault_keys(&self) -> Result<Option<Vec<u8>>, CacheError> {
        let value: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT pending_vault_keys FROM profile WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(value.flatten())
    }

    pub async fn sync_state(&self) -> Result<SyncState, CacheError> {
        // The queue's count in the same statement: a pull reads both, and
        // each statement is a round trip to SQLite's thread.
        let row = sqlx::query(
            "SELECT sync_cursor, seen_revision, last_sync_ms, summaries_checked, \
             (SELECT count(*) FROM pending WHERE kind <> ?) AS pending FROM profile WHERE id = 1",
        )
        .bind(i32::from(crate::crypto::VAULT_SUMMARY_KIND))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(SyncState::default());
        };
        Ok(SyncState {
            cursor: from_sql(row.try_get("sync_cursor")?)?,
            seen_revision: from_sql(row.try_get("seen_revision")?)?,
            last_sync_ms: row.try_get("last_sync_ms")?,
            summaries_checked: from_sql(row.try_get("summaries_checked")?)?,
            pending: usize::try_from(row.try_get::<i64, _>("pending")?).unwrap_or(0),
        })
    }
}

fn profile_from_row(row: &SqliteRow) -> Result<Profile, CacheError> {
    let u32_column = |column: &str| -> Result<u32, CacheError> {
        let value: i64 = row.try_get(column)?;
        u32::try_from(value).map_err(|_| CacheError::Corrupt(format!("{column} is {value}")))
    };
    let salt: Vec<u8> = row.try_get("kdf_salt")?;
    let salt = <[u8; SALT_LEN]>::try_from(salt.as_slice())
        .map_err(|_| CacheError::Corrupt("the KDF salt has the wrong length".into()))?;
    let username: String = row.try_get("username")?;
    let algorithm: String = row.try_get("kdf_algorithm")?;
    let (binding, secret_key) = KdfParams::scheme(&algorithm, &username)
        .ok_or_else(|| CacheError::Corrupt(format!("KDF algorithm {algorithm:?}")))?;
    let trust_kind: String = row.try_get("trust_kind")?;
    let trust_value: String = row.try_get("trust_value")?;
    let trust = match trust_kind.as_str() {
        "system" => Trust::SystemRoots,
        "ca-file" => Trust::CaFile(PathBuf::from(trust_value)),
        "pinned" => Trust::Pinned(
            Fingerprint::parse(&trust_value)
                .map_err(|_| CacheError::Corrupt("the pinned fingerprint is malformed".into()))?,
        ),
        other => return Err(CacheError::Corrupt(format!("trust kind {other:?}"))),
    };
    Ok(Profile {
        server_url: row.try_get("server_url")?,
        username,
        user_id: uuid_column(row, "user_id")?,
        device_name: row.try_get("device_name")?,
        kdf: KdfParams {
            memory_kib: u32_column("kdf_memory_kib")?,
            iterations: u32_column("kdf_iterations")?,
            parallelism: u32_column("kdf_parallelism")?,
            salt,
            binding,
            secret_key,
        },
        wrapped_vault_key: row.try_get("wrapped_vault_key")?,
        trust,
    })
}

/// Creates the directory owner-only (0700) on Unix.
fn private_dir(dir: &Path) -> Result<(), CacheError> {
    let fail = |source| CacheError::Dir {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
    }
    Ok(())
}

/// Creates the database file owner-only (0600) before SQLite opens it;
/// SQLite gives its `-wal` and `-shm` files the same mode.
fn private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
