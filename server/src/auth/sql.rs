//! The auth store's statements and row mapping, written once for both SQL
//! engines. `auth/sqlite.rs` and `auth/postgres.rs` each expand
//! [`auth_store_sql!`] for their own pool, row and connection types, and
//! supply only what differs between the engines:
//!
//! - `sql(text)`: the statement in the engine's dialect (written here with
//!   `?` placeholders; PostgreSQL numbers them);
//! - `begin_write(pool)`: how a writing transaction starts (SQLite takes
//!   its one write lock up front with `BEGIN IMMEDIATE`);
//! - `LOCK_TOKEN`: what locks a presented refresh token and its session
//!   until the transaction ends (PostgreSQL `FOR UPDATE`; nothing under
//!   SQLite's write lock).
//!
//! A macro rather than code generic over `sqlx::Database`: the generic
//! version needs a bound per bound type and lifetime, longer than the code
//! it would share. The rules of refresh tokens are not here but in
//! `auth/rotation.rs`; these are only statements.

/// Expands to the row mappers, `impl AuthStore for $store` and
/// `impl RotationSteps for $conn`.
macro_rules! auth_store_sql {
    ($store:ty, $row:ty, $conn:ty) => {
        const USER_COLUMNS: &str = "user_id, username, auth_hash, opaque_record, \
             kdf_algorithm, kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt, wrapped_vault_key";

        const SESSION_COLUMNS: &str =
            "session_id, user_id, device_name, created_at_ms, last_seen_at_ms, revoked_at_ms";

        fn user_from_row(row: &$row) -> Result<UserRow, AuthStoreError> {
            let number = |column: &str| -> Result<u32, AuthStoreError> {
                let value: i64 = row.try_get(column)?;
                u32::try_from(value)
                    .map_err(|_| AuthStoreError::Corrupt(format!("{column} = {value}")))
            };
            Ok(UserRow {
                user_id: UserId(row.try_get::<Uuid, _>("user_id")?),
                username: row.try_get("username")?,
                credential: match row.try_get::<Option<Vec<u8>>, _>("opaque_record")? {
                    Some(record) => Credential::Opaque(record),
                    None => Credential::Legacy(row.try_get("auth_hash")?),
                },
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

        fn session_from_row(row: &$row) -> Result<SessionRow, AuthStoreError> {
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
        impl AuthStore for $store {
            async fn create_user(&self, user: &NewUser, now_ms: i64) -> Result<(), AuthStoreError> {
                let result = sqlx::query(sqlx::AssertSqlSafe(sql(
                    "INSERT INTO users (user_id, username, username_key, auth_hash, \
                     opaque_record, kdf_algorithm, kdf_memory_kib, kdf_iterations, \
                     kdf_parallelism, kdf_salt, wrapped_vault_key, created_at_ms, updated_at_ms) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )))
                .bind(user.user_id.0)
                .bind(&user.username)
                .bind(&user.username_key)
                .bind(match &user.credential {
                    Credential::Legacy(hash) => hash.as_str(),
                    Credential::Opaque(_) => "",
                })
                .bind(match &user.credential {
                    Credential::Opaque(record) => Some(record.as_slice()),
                    Credential::Legacy(_) => None,
                })
                .bind(&user.kdf.algorithm)
                .bind(i64::from(user.kdf.memory_kib))
                .bind(i64::from(user.kdf.iterations))
                .bind(i64::from(user.kdf.parallelism))
                .bind(user.kdf.salt.as_slice())
                .bind(user.wrapped_vault_key.as_slice())
                .bind(now_ms)
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
                let text = format!("SELECT {USER_COLUMNS} FROM users WHERE username_key = ?");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql(&text)))
                    .bind(username_key)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(user_from_row).transpose()
            }

            async fn find_user(&self, user_id: UserId) -> Result<Option<UserRow>, AuthStoreError> {
                let text = format!("SELECT {USER_COLUMNS} FROM users WHERE user_id = ?");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql(&text)))
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
                let mut tx = begin_write(&self.pool).await?;
                sqlx::query(sqlx::AssertSqlSafe(sql(
                    "INSERT INTO sessions (session_id, user_id, device_name, created_at_ms, \
                     last_seen_at_ms) VALUES (?, ?, ?, ?, ?)",
                )))
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
                let text = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE session_id = ?");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql(&text)))
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
                session_lifetime_ms: i64,
                now_ms: i64,
            ) -> Result<Rotation, AuthStoreError> {
                let mut tx = begin_write(&self.pool).await?;
                let next = NextToken {
                    hash: *next_hash,
                    expires_at_ms: next_expires_at_ms,
                    session_lifetime_ms,
                };
                let rotation = rotate_in(&mut *tx, presented, &next, now_ms).await?;
                tx.commit().await?;
                Ok(rotation)
            }

            async fn list_sessions(
                &self,
                user_id: UserId,
            ) -> Result<Vec<SessionRow>, AuthStoreError> {
                let text = format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = ? \
                     AND revoked_at_ms IS NULL ORDER BY created_at_ms, session_id"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql(&text)))
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
                let result = sqlx::query(sqlx::AssertSqlSafe(sql(
                    "UPDATE sessions SET revoked_at_ms = ?, revoke_reason = ? \
                     WHERE session_id = ? AND user_id = ? AND revoked_at_ms IS NULL",
                )))
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
                opaque_record: &[u8],
                kdf: &StoredKdf,
                wrapped_vault_key: &[u8],
                others: OtherSessions,
                now_ms: i64,
            ) -> Result<(), AuthStoreError> {
                let mut tx = begin_write(&self.pool).await?;
                sqlx::query(sqlx::AssertSqlSafe(sql(
                    "UPDATE users SET auth_hash = '', opaque_record = ?, kdf_algorithm = ?, \
                     kdf_memory_kib = ?, kdf_iterations = ?, kdf_parallelism = ?, kdf_salt = ?, \
                     wrapped_vault_key = ?, updated_at_ms = ? WHERE user_id = ?",
                )))
                .bind(opaque_record)
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
                if let OtherSessions::RevokeAllBut(keep) = others {
                    sqlx::query(sqlx::AssertSqlSafe(sql(
                        "UPDATE sessions SET revoked_at_ms = ?, \
                         revoke_reason = 'password changed' \
                         WHERE user_id = ? AND session_id <> ? AND revoked_at_ms IS NULL",
                    )))
                    .bind(now_ms)
                    .bind(user_id.0)
                    .bind(keep.0)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }

        /// The refresh-token statements; the rules are in [`rotate_in`].
        #[async_trait]
        impl RotationSteps for $conn {
            async fn find_token(
                &mut self,
                hash: &[u8; 32],
            ) -> Result<Option<PresentedToken>, AuthStoreError> {
                let text = format!(
                    "SELECT t.session_id, t.expires_at_ms, t.used_at_ms, s.user_id, \
                     s.created_at_ms, s.revoked_at_ms FROM refresh_tokens t \
                     JOIN sessions s ON s.session_id = t.session_id \
                     WHERE t.token_hash = ?{LOCK_TOKEN}"
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql(&text)))
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
                    session_created_at_ms: row.try_get("created_at_ms")?,
                    session_revoked_at_ms: row.try_get("revoked_at_ms")?,
                }))
            }

            async fn revoke_session(
                &mut self,
                session_id: SessionId,
                reason: &str,
                now_ms: i64,
            ) -> Result<(), AuthStoreError> {
                sqlx::query(sqlx::AssertSqlSafe(sql(
                    "UPDATE sessions SET revoked_at_ms = ?, revoke_reason = ? \
                     WHERE session_id = ? AND revoked_at_ms IS NULL",
                )))
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
                sqlx::query(sqlx::AssertSqlSafe(sql(
                    "UPDATE refresh_tokens SET used_at_ms = ? WHERE token_hash = ?",
                )))
                .bind(now_ms)
                .bind(hash.as_slice())
                .execute(&mut *self)
                .await?;
                sqlx::query(sqlx::AssertSqlSafe(sql(
                    "UPDATE sessions SET last_seen_at_ms = ? WHERE session_id = ?",
                )))
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
                sqlx::query(sqlx::AssertSqlSafe(sql(
                    "INSERT INTO refresh_tokens (token_hash, session_id, created_at_ms, \
                     expires_at_ms) VALUES (?, ?, ?, ?)",
                )))
                .bind(token.token_hash.as_slice())
                .bind(token.session_id.0)
                .bind(now_ms)
                .bind(token.expires_at_ms)
                .execute(&mut *self)
                .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use auth_store_sql;

/// `?` placeholders numbered `$1`, `$2`, ... for PostgreSQL.
pub(crate) fn numbered(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut next = 1;
    for c in text.chars() {
        if c == '?' {
            out.push('$');
            out.push_str(&next.to_string());
            next += 1;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            super::numbered("UPDATE t SET a = ?, b = ? WHERE c = ?"),
            "UPDATE t SET a = $1, b = $2 WHERE c = $3"
        );
        assert_eq!(super::numbered("SELECT 1"), "SELECT 1");
    }
}
