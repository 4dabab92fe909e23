//! The statements of OPAQUE logins in flight, written once for both SQL
//! engines like `auth/sql.rs` (whose notes on `sql` apply). Taking a login
//! is one `DELETE ... RETURNING`, so two auth processes finishing the same
//! login cannot both get it.

/// Expands to `impl PendingLoginStore for $store`.
macro_rules! pending_login_store_sql {
    ($store:ty) => {
        #[async_trait]
        impl PendingLoginStore for $store {
            async fn put_login(&self, login: &PendingLogin) -> Result<(), AuthStoreError> {
                sqlx::query(sqlx::AssertSqlSafe(sql(
                    "INSERT INTO opaque_logins (login_id, user_id, sealed_state, \
                     password_verified_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?)",
                )))
                .bind(login.login_id.as_slice())
                .bind(login.user_id.map(|id| id.0))
                .bind(login.sealed_state.as_slice())
                .bind(login.password_verified_at_ms)
                .bind(login.expires_at_ms)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_login(
                &self,
                login_id: &[u8; 16],
                now_ms: i64,
            ) -> Result<Option<PendingLogin>, AuthStoreError> {
                let row = sqlx::query(sqlx::AssertSqlSafe(sql(
                    "DELETE FROM opaque_logins WHERE login_id = ? RETURNING user_id, \
                     sealed_state, password_verified_at_ms, expires_at_ms",
                )))
                .bind(login_id.as_slice())
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let login = PendingLogin {
                    login_id: *login_id,
                    user_id: row.try_get::<Option<Uuid>, _>("user_id")?.map(UserId),
                    sealed_state: row.try_get("sealed_state")?,
                    password_verified_at_ms: row.try_get("password_verified_at_ms")?,
                    expires_at_ms: row.try_get("expires_at_ms")?,
                };
                Ok((login.expires_at_ms > now_ms).then_some(login))
            }

            async fn forget_expired_logins(&self, now_ms: i64) -> Result<u64, AuthStoreError> {
                let result = sqlx::query(sqlx::AssertSqlSafe(sql(
                    "DELETE FROM opaque_logins WHERE expires_at_ms <= ?",
                )))
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
                Ok(result.rows_affected())
            }
        }
    };
}

pub(crate) use pending_login_store_sql;
