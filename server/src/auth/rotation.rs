//! Presenting a refresh token, the same on every engine: an unknown token
//! is refused; a token of a revoked session is refused; a token used before
//! means someone replays a stolen one, so the whole session (the token
//! family) is revoked; an expired token, or any token of a session past its
//! absolute lifetime, is refused; a live one is marked used and the next
//! token of the session replaces it, expiring no later than the session.
//! Each engine supplies only the statements ([`RotationSteps`]), run inside
//! the transaction it holds (SQLite's write lock, PostgreSQL's row locks),
//! so the engines cannot drift apart on these rules. `crate::vault::apply` is the model.

use async_trait::async_trait;

use super::store::{AuthStoreError, NewRefreshToken, Rotation};
use crate::ids::{SessionId, UserId};

/// A stored refresh token and the state of its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PresentedToken {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
    pub session_created_at_ms: i64,
    pub session_revoked_at_ms: Option<i64>,
}

/// The statements [`rotate_in`] needs, each run on the engine's connection
/// inside the caller's transaction.
#[async_trait]
pub(crate) trait RotationSteps: Send {
    /// The token whose hash is `hash`, locked against a concurrent
    /// presentation until the transaction ends.
    async fn find_token(
        &mut self,
        hash: &[u8; 32],
    ) -> Result<Option<PresentedToken>, AuthStoreError>;

    /// Revokes the session unless it is revoked already.
    async fn revoke_session(
        &mut self,
        session_id: SessionId,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), AuthStoreError>;

    /// Marks the token used and the session seen at `now_ms`.
    async fn mark_used(
        &mut self,
        hash: &[u8; 32],
        session_id: SessionId,
        now_ms: i64,
    ) -> Result<(), AuthStoreError>;

    async fn insert_token(
        &mut self,
        token: &NewRefreshToken,
        now_ms: i64,
    ) -> Result<(), AuthStoreError>;
}

/// Applies the rules to the token whose hash is `presented`; the caller
/// commits the transaction `steps` runs in.
pub(crate) async fn rotate_in<S: RotationSteps + ?Sized>(
    steps: &mut S,
    presented: &[u8; 32],
    next: &NextToken,
    now_ms: i64,
) -> Result<Rotation, AuthStoreError> {
    let Some(token) = steps.find_token(presented).await? else {
        return Ok(Rotation::Unknown);
    };
    let session_ends_at_ms = token
        .session_created_at_ms
        .saturating_add(next.session_lifetime_ms);
    match decide(&token, session_ends_at_ms, now_ms) {
        Decision::Refuse(rotation) => Ok(rotation),
        Decision::RevokeFamily => {
            steps
                .revoke_session(token.session_id, "refresh token reused", now_ms)
                .await?;
            Ok(Rotation::Reused {
                session_id: token.session_id,
            })
        }
        Decision::Rotate => {
            steps.mark_used(presented, token.session_id, now_ms).await?;
            let next = NewRefreshToken {
                token_hash: next.hash,
                session_id: token.session_id,
                expires_at_ms: next.expires_at_ms.min(session_ends_at_ms),
            };
            steps.insert_token(&next, now_ms).await?;
            Ok(Rotation::Rotated {
                user_id: token.user_id,
                session_id: token.session_id,
                expires_at_ms: next.expires_at_ms,
            })
        }
    }
}

/// The token that replaces a live one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NextToken {
    pub hash: [u8; 32],
    pub expires_at_ms: i64,
    /// How long a session lives after its login, however often it refreshes.
    pub session_lifetime_ms: i64,
}

#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Refuse(Rotation),
    RevokeFamily,
    Rotate,
}

/// The rules, in the order they apply: a revoked session outranks reuse
/// (nothing left to revoke), reuse outranks expiry (a replayed old token is
/// still a theft signal).
fn decide(token: &PresentedToken, session_ends_at_ms: i64, now_ms: i64) -> Decision {
    if token.session_revoked_at_ms.is_some() {
        Decision::Refuse(Rotation::Revoked)
    } else if token.used_at_ms.is_some() {
        Decision::RevokeFamily
    } else if token.expires_at_ms.min(session_ends_at_ms) <= now_ms {
        Decision::Refuse(Rotation::Expired)
    } else {
        Decision::Rotate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> PresentedToken {
        PresentedToken {
            session_id: SessionId::new_random(),
            user_id: UserId::new_random(),
            expires_at_ms: 1_000,
            used_at_ms: None,
            session_created_at_ms: 0,
            session_revoked_at_ms: None,
        }
    }

    /// Far beyond every time below: only the token's own expiry counts.
    const FOREVER: i64 = i64::MAX;

    #[test]
    fn a_live_token_rotates_until_it_expires() {
        assert_eq!(decide(&token(), FOREVER, 999), Decision::Rotate);
        assert_eq!(
            decide(&token(), FOREVER, 1_000),
            Decision::Refuse(Rotation::Expired)
        );
    }

    #[test]
    fn no_token_outlives_its_sessions_end() {
        assert_eq!(decide(&token(), 500, 499), Decision::Rotate);
        assert_eq!(
            decide(&token(), 500, 500),
            Decision::Refuse(Rotation::Expired)
        );
    }

    #[test]
    fn a_used_token_revokes_its_family_even_when_expired() {
        let used = PresentedToken {
            used_at_ms: Some(10),
            ..token()
        };
        assert_eq!(decide(&used, FOREVER, 5), Decision::RevokeFamily);
        assert_eq!(decide(&used, FOREVER, 5_000), Decision::RevokeFamily);
    }

    #[test]
    fn a_revoked_session_refuses_every_token() {
        let revoked = PresentedToken {
            session_revoked_at_ms: Some(10),
            used_at_ms: Some(5),
            ..token()
        };
        assert_eq!(
            decide(&revoked, FOREVER, 5),
            Decision::Refuse(Rotation::Revoked)
        );
    }
}
