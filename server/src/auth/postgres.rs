//! The auth store on PostgreSQL (cluster mode): its own server and database,
//! separate from the vault (docs/design.md). Same tables and rules as the SQLite
//! engine; where SQLite takes its one write lock, this takes row locks.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::rotation::{NextToken, PresentedToken, RotationSteps, rotate_in};
use super::store::{
    AuthStore, AuthStoreError, NewRefreshToken, NewUser, Rotation, SessionRow, StoredKdf, UserRow,
};
use crate::ids::{SessionId, UserId};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/auth/postgres");

/// How long a call waits for a pooled connection before it reports the
/// store unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct PgAuthStore {
    pool: PgPool,
}

impl PgAuthStore {
    /// Connects to the auth database and brings its schema up to date.
    pub async fn open(url: &str, pool_size: u32) -> Result<Self, AuthStoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("gophkeeper-auth");
        let pool = crate::postgres::pool(options, pool_size, ACQUIRE_TIMEOUT).await?;
        MIGRATOR.run(&pool).await.map_err(sqlx::Error::from)?;
        Ok(Self { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn user_from_row(row: &PgRow) -> Result<UserRow, AuthStoreError> {
    let number = |column: &str| -> Result<u32, AuthStoreError> {
        let value: i64 = row.try_get(column)?;
        u32::try_from(value).map_err(|_| AuthStoreError::Corrupt(format!("{column} = {value}")))
    };
    Ok(UserRow {
        user_id: UserId(row.try_get::<Uuid, _>("user_id")?),
        username: row.try_get("username")?,
        auth_hash: row.try_get("auth_hash")?,
        kdf: StoredKdf {
            algorithm: row.try_get("kdf_algorithm")?,
            memory_kib: number("kdf_memory_kib")?,
            iterations: number("kdf_iterations")?,
            parallelism: number("kdf_parallelism")?,
            salt: row.try_get("kdf_salt")?,
        },
        wrapped_vault_key: row.try_get("wrapped_vault_key")?,
    })
}

fn session_from_row(row: &PgRow) -> Result<SessionRow, AuthStoreError> {
    Ok(SessionRow {
        session_id: SessionId(row.try_get::<Uuid, _>("session_id")?),
        user_id: UserId(row.try_get::<Uuid, _>("user_id")?),
        device_name: row.try_get("device_name")?,
        created_at_ms: row.try_get("created_at_ms")?,
        last_seen_at_ms: row.try_get("last_seen_at_ms")?,
        revoked_at_ms: row.try_get("revoked_at_ms")?,
    })
}

#[async_trait]
impl AuthStore for PgAuthStore {
    async fn create_user(&self, user: &NewUser, now_ms: i64) -> Result<(), AuthStoreError> {
        let result = sqlx::query(
            "INSERT INTO users (user_id, username, username_key, auth_hash, kdf_algorithm, \
             kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt, wrapped_vault_key, \
             created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(user.user_id.0)
        .bind(&user.username)
        .bind(&user.username_key)
        .bind(&user.auth_hash)
        .bind(&user.kdf.algorithm)
        .bind(i64::from(user.kdf.memory_kib))
        .bind(i64::from(user.kdf.iterations))
        .bind(i64::from(user.kdf.parallelism))
        .bind(user.kdf.salt.as_slice())
        .bind(user.wrapped_vault_key.as_slice())
        .bind(now_ms)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(AuthStoreError::UsernameTaken)
            }
            Err(err) => Err(err.into()),
        }
    }

    async fn find_user_by_key(
        &self,
        username_key: &str,
    ) -> Result<Option<UserRow>, AuthStoreError> {
        let row = sqlx::query(
            "SELECT user_id, username, auth_hash, kdf_algorithm, kdf_memory_kib, \
             kdf_iterations, kdf_parallelism, kdf_salt, wrapped_vault_key \
             FROM users WHERE username_key = $1",
        )
        .bind(username_key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn find_user(&self, user_id: UserId) -> Result<Option<UserRow>, AuthStoreError> {
        let row = sqlx::query(
            "SELECT user_id, username, auth_hash, kdf_algorithm, kdf_memory_kib, \
             kdf_iterations, kdf_parallelism, kdf_salt, wrapped_vault_key \
             FROM users WHERE user_id = $1",
        )
        .bind(user_id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn create_session(
        &self,
        session: &SessionRow,
        token: &NewRefreshToken,
    ) -> Result<(), AuthStoreError> {
        let mut tx = crate::postgres::begin(&self.pool, None).await?;
        sqlx::query(
            "INSERT INTO sessions (session_id, user_id, device_name, created_at_ms, \
             last_seen_at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session.session_id.0)
        .bind(session.user_id.0)
        .bind(&session.device_name)
        .bind(session.created_at_ms)
        .bind(session.last_seen_at_ms)
        .execute(&mut *tx)
        .await?;
        tx.insert_token(token, session.created_at_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_session(
        &self,
        session_id: SessionId,
    ) -> Result<Option<SessionRow>, AuthStoreError> {
        let row = sqlx::query(
            "SELECT session_id, user_id, device_name, created_at_ms, last_seen_at_ms, \
             revoked_at_ms FROM sessions WHERE session_id = $1",
        )
        .bind(session_id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn rotate_refresh_token(
        &self,
        presented: &[u8; 32],
        next_hash: &[u8; 32],
        next_expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<Rotation, AuthStoreError> {
        let mut tx = crate::postgres::begin(&self.pool, None).await?;
        let next = NextToken {
            hash: *next_hash,
            expires_at_ms: next_expires_at_ms,
        };
        let rotation = rotate_in(&mut *tx, presented, &next, now_ms).await?;
        tx.commit().await?;
        Ok(rotation)
    }

    async fn list_sessions(&self, user_id: UserId) -> Result<Vec<SessionRow>, AuthStoreError> {
        let rows = sqlx::query(
            "SELECT session_id, user_id, device_name, created_at_ms, last_seen_at_ms, \
             revoked_at_ms FROM sessions \
             WHERE user_id = $1 AND revoked_at_ms IS NULL ORDER BY created_at_ms, session_id",
        )
        .bind(user_id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    async fn revoke_session(
        &self,
        user_id: UserId,
        session_id: SessionId,
        reason: &str,
        now_ms: i64,
    ) -> Result<bool, AuthStoreError> {
        let result = sqlx::query(
            "UPDATE sessions SET revoked_at_ms = $1, revoke_reason = $2 \
             WHERE session_id = $3 AND user_id = $4 AND revoked_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(reason)
        .bind(session_id.0)
        .bind(user_id.0)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn change_credentials(
        &self,
        user_id: UserId,
        auth_hash: &str,
        kdf: &StoredKdf,
        wrapped_vault_key: &[u8],
        keep: SessionId,
        now_ms: i64,
    ) -> Result<(), AuthStoreError> {
        let mut tx = crate::postgres::begin(&self.pool, None).await?;
        sqlx::query(
            "UPDATE users SET auth_hash = $1, kdf_algorithm = $2, kdf_memory_kib = $3, \
             kdf_iterations = $4, kdf_parallelism = $5, kdf_salt = $6, wrapped_vault_key = $7, \
             updated_at_ms = $8 WHERE user_id = $9",
        )
        .bind(auth_hash)
        .bind(&kdf.algorithm)
        .bind(i64::from(kdf.memory_kib))
        .bind(i64::from(kdf.iterations))
        .bind(i64::from(kdf.parallelism))
        .bind(kdf.salt.as_slice())
        .bind(wrapped_vault_key)
        .bind(now_ms)
        .bind(user_id.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE sessions SET revoked_at_ms = $1, revoke_reason = 'password changed' \
             WHERE user_id = $2 AND session_id <> $3 AND revoked_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(user_id.0)
        .bind(keep.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The refresh-token statements in this engine's dialect; the rules are
/// in [`rotate_in`].
#[async_trait]
impl RotationSteps for PgConnection {
    async fn find_token(
        &mut self,
        hash: &[u8; 32],
    ) -> Result<Option<PresentedToken>, AuthStoreError> {
        // Locking the token and its session makes two presentations of one
        // token take turns: the second sees the first's `used_at_ms` (READ
        // COMMITTED re-reads a locked row once its holder commits) and counts
        // as reuse, and a concurrent revocation cannot slip in between.
        let row = sqlx::query(
            "SELECT t.session_id, t.expires_at_ms, t.used_at_ms, s.user_id, s.revoked_at_ms \
             FROM refresh_tokens t JOIN sessions s ON s.session_id = t.session_id \
             WHERE t.token_hash = $1 FOR UPDATE",
        )
        .bind(hash.as_slice())
        .fetch_optional(&mut *self)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(PresentedToken {
            session_id: SessionId(row.try_get::<Uuid, _>("session_id")?),
            user_id: UserId(row.try_get::<Uuid, _>("user_id")?),
            expires_at_ms: row.try_get("expires_at_ms")?,
            used_at_ms: row.try_get("used_at_ms")?,
            session_revoked_at_ms: row.try_get("revoked_at_ms")?,
        }))
    }

    async fn revoke_session(
        &mut self,
        session_id: SessionId,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), AuthStoreError> {
        sqlx::query(
            "UPDATE sessions SET revoked_at_ms = $1, revoke_reason = $2 \
             WHERE session_id = $3 AND revoked_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(reason)
        .bind(session_id.0)
        .execute(&mut *self)
        .await?;
        Ok(())
    }

    async fn mark_used(
        &mut self,
        hash: &[u8; 32],
        session_id: SessionId,
        now_ms: i64,
    ) -> Result<(), AuthStoreError> {
        sqlx::query("UPDATE refresh_tokens SET used_at_ms = $1 WHERE token_hash = $2")
            .bind(now_ms)
            .bind(hash.as_slice())
            .execute(&mut *self)
            .await?;
        sqlx::query("UPDATE sessions SET last_seen_at_ms = $1 WHERE session_id = $2")
            .bind(now_ms)
            .bind(session_id.0)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn insert_token(
        &mut self,
        token: &NewRefreshToken,
        now_ms: i64,
    ) -> Result<(), AuthStoreError> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, session_id, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token.token_hash.as_slice())
        .bind(token.session_id.0)
        .bind(now_ms)
        .bind(token.expires_at_ms)
        .execute(&mut *self)
        .await?;
        Ok(())
    }
}
