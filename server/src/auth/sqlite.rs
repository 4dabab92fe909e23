//! The auth store on SQLite (single-node mode).

use std::path::Path;

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool, Transaction};
use uuid::Uuid;

use super::rotation::{NextToken, PresentedToken, RotationSteps, rotate_in};
use super::store::{
    AuthStore, AuthStoreError, Credential, NewRefreshToken, NewUser, OtherSessions, PendingLogin,
    PendingLoginStore, Rotation, SessionRow, StoredKdf, TwoFactorRow, TwoFactorStore, UserRow,
};
use crate::ids::{SessionId, UserId};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/auth/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteAuthStore {
    pool: SqlitePool,
}

impl SqliteAuthStore {
    pub async fn open(path: &Path) -> Result<Self, AuthStoreError> {
        let pool = crate::sqlite::open_writer(path, &MIGRATOR).await?;
        Ok(Self { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Statements are written with SQLite's `?` placeholders already.
fn sql(text: &str) -> String {
    text.to_owned()
}

/// Takes SQLite's one write lock up front, so that two writers queue
/// instead of one failing to upgrade its read lock (SQLITE_BUSY).
async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// `begin_write` holds the only write lock, so two presentations of one
/// refresh token take turns without a row lock.
const LOCK_TOKEN: &str = "";

super::sql::auth_store_sql!(SqliteAuthStore, SqliteRow, SqliteConnection);
super::two_factor::two_factor_store_sql!(SqliteAuthStore);
super::opaque::pending_login_store_sql!(SqliteAuthStore);
