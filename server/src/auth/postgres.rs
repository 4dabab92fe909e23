//! The auth store on PostgreSQL (cluster mode): its own server and database,
//! separate from the vault (docs/design.md). Same tables and rules as the SQLite
//! engine; where SQLite takes its one write lock, this takes row locks.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{PgConnection, PgPool, Postgres, Row, Transaction};
use uuid::Uuid;

use super::rotation::{NextToken, PresentedToken, RotationSteps, rotate_in};
use super::store::{
    AuthStore, AuthStoreError, Credential, NewRefreshToken, NewUser, OtherSessions, PendingLogin,
    PendingLoginStore, Rotation, SessionRow, StoredKdf, TwoFactorRow, TwoFactorStore, UserRow,
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

/// The shared statements with numbered placeholders.
fn sql(text: &str) -> String {
    super::sql::numbered(text)
}

/// A transaction begun safely against cancellation (`crate::postgres::begin`).
async fn begin_write(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    crate::postgres::begin(pool, None).await
}

/// Locking the token and its session makes two presentations of one token
/// take turns: the second sees the first's `used_at_ms` (READ COMMITTED
/// re-reads a locked row once its holder commits) and counts as reuse, and
/// a concurrent revocation cannot slip in between.
const LOCK_TOKEN: &str = " FOR UPDATE";

super::sql::auth_store_sql!(PgAuthStore, PgRow, PgConnection);
super::two_factor::two_factor_store_sql!(PgAuthStore);
super::opaque::pending_login_store_sql!(PgAuthStore);
