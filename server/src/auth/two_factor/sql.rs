//! Two-factor login's statements, written once for both SQL engines like
//! `auth/sql.rs` (whose notes on `sql` and `begin_write` apply). Each
//! "once only" rule is one conditional UPDATE, so two auth processes
//! presenting the same code at once cannot both succeed.

/// Expands to `impl TwoFactorStore for $store`.
macro_rules! two_factor_store_sql {
    ($store:ty) => {
        #[async_trait]
        impl TwoFactorStore for $store {
            async fn two_factor(
                &self,
                user_id: UserId,
            ) -> Result<Option<TwoFactorRow>, AuthStoreError> {
                let row = sqlx::query(sqlx::AssertSqlSafe(sql(
                    "SELECT sealed_secret, enabled_at_ms, last_step FROM two_factor \
                     WHERE user_id = ?",
                )))
                .bind(user_id.0)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|row| {
                    Ok(TwoFactorRow {
                        sealed_secret: row.try_get("sealed_secret")?,
                        enabled_at_ms: row.try_get("enabled_at_ms")?,
                        last_step: row.try_get("last_step")?,
                    })
                })
                .transpose()
            }

            async fn stage_two_factor(
                &self,
                user_id: UserId,
                sealed_secret: &[u8],
                now_ms: i64,
            ) -> Result<bool, AuthStoreError> {
                let result = sqlx::query(sqlx::AssertSqlSafe(sql(
                    "INSERT INTO two_factor (user_id, sealed_secret, created_at_ms) \
                     VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE \
                     SET sealed_secret = excluded.sealed_secret, \
                     created_at_ms = excluded.created_at_ms \
                     WHERE two_factor.enabled_at_ms IS NULL",
                )))
                .bind(user_id.0)
                .bind(sealed_secret)
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
                Ok(result.rows_affected() == 1)
            }

            async fn enable_two_factor(
                &self,
                user_id: UserId,
                step: i64,
                recovery_hashes: &[[u8; 32]],
                now_ms: i64,
            ) -> Result<bool, AuthStoreError> {
                let mut tx = begin_write(&self.pool).await?;
                let enabled = sqlx::query(sqlx::AssertSqlSafe(sql(
                    "UPDATE two_factor SET enabled_at_ms = ?, last_step = ? \
                     WHERE user_id = ? AND enabled_at_ms IS NULL",
                )))
                .bind(now_ms)
                .bind(step)
                .bind(user_id.0)
                .execute(&mut *tx)
                .await?;
                if enabled.rows_affected() != 1 {
                    return Ok(false);
                }
                sqlx::query(sqlx::AssertSqlSafe(sql(
                    "DELETE FROM recovery_codes WHERE user_id = ?",
                )))
                .bind(user_id.0)
                .execute(&mut *tx)
                .await?;
                for hash in recovery_hashes {
                    sqlx::query(sqlx::AssertSqlSafe(sql(
                        "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
                    )))
                    .bind(user_id.0)
                    .bind(hash.as_slice())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn use_totp_step(
                &self,
                user_id: UserId,
                step: i64,
            ) -> Result<bool, AuthStoreError> {
                let result = sqlx::query(sqlx::AssertSqlSafe(sql(
                    "UPDATE two_factor SET last_step = ? WHERE user_id = ? \
                     AND enabled_at_ms IS NOT NULL AND last_step < ?",
                )))
                .bind(step)
                .bind(user_id.0)
                .bind(step)
                .execute(&self.pool)
                .await?;
                Ok(result.rows_affected() == 1)
            }

            async fn use_recovery_code(
                &self,
                user_id: UserId,
                hash: &[u8; 32],
                now_ms: i64,
            ) -> Result<bool, AuthStoreError> {
                let result = sqlx::query(sqlx::AssertSqlSafe(sql(
                    "UPDATE recovery_codes SET used_at_ms = ? \
                     WHERE user_id = ? AND code_hash = ? AND used_at_ms IS NULL",
                )))
                .bind(now_ms)
                .bind(user_id.0)
                .bind(hash.as_slice())
                .execute(&self.pool)
                .await?;
                Ok(result.rows_affected() == 1)
            }

            async fn recovery_codes_left(&self, user_id: UserId) -> Result<u32, AuthStoreError> {
                let left: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql(
                    "SELECT COUNT(*) FROM recovery_codes \
                     WHERE user_id = ? AND used_at_ms IS NULL",
                )))
                .bind(user_id.0)
                .fetch_one(&self.pool)
                .await?;
                u32::try_from(left)
                    .map_err(|_| AuthStoreError::Corrupt(format!("{left} recovery codes")))
            }

            async fn disable_two_factor(&self, user_id: UserId) -> Result<(), AuthStoreError> {
                let mut tx = begin_write(&self.pool).await?;
                for table in ["recovery_codes", "two_factor"] {
                    let text = format!("DELETE FROM {table} WHERE user_id = ?");
                    sqlx::query(sqlx::AssertSqlSafe(sql(&text)))
                        .bind(user_id.0)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use two_factor_store_sql;
