//! The command consumer: reads the broker, applies each command to the vault
//! primary in one transaction, publishes the outcome, then commits the broker
//! position. A crash between apply and commit means redelivery, which the
//! vault's command-id log turns into a no-op with the first outcome.

use std::sync::Arc;
use std::time::Duration;

use gophkeeper_proto::v1;
use prost::Message;
use tokio_util::sync::CancellationToken;

use super::validate::validate;
use crate::broker::{CommandSubscriber, Delivery};
use crate::events::EventSink;
use crate::ids::{SessionId, UserId, now_ms};
use crate::vault::{ApplyCommand, ApplyResult, VaultWriter};

const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs until the broker is closed and drained, or until `stop` fires while
/// the store is failing (then the current message stays uncommitted and is
/// redelivered on the next start).
pub async fn run(
    mut source: impl CommandSubscriber,
    store: Arc<dyn VaultWriter>,
    events: Arc<dyn EventSink>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        let delivery = tokio::select! {
            next = source.next() => next?,
            () = stop.cancelled() => None,
        };
        let Some(delivery) = delivery else {
            tracing::info!("command consumer drained; stopping");
            return Ok(());
        };
        if let Some(command) = decode(&delivery) {
            let Some(result) = apply_with_retry(store.as_ref(), &command, &stop).await else {
                return Ok(());
            };
            publish(events.as_ref(), &command, result).await;
        }
        source.commit(&delivery).await?;
    }
}

/// A message that cannot be decoded or validated can never apply; it is
/// logged and skipped rather than blocking the user's partition forever.
fn decode(delivery: &Delivery) -> Option<ApplyCommand> {
    let envelope = match v1::CommandEnvelope::decode(delivery.payload.as_slice()) {
        Ok(envelope) => envelope,
        Err(err) => {
            tracing::error!(position = ?delivery.position, %err, "skipping undecodable command");
            return None;
        }
    };
    let parsed = UserId::parse("user_id", &envelope.user_id).and_then(|user| {
        SessionId::parse("session_id", &envelope.session_id).map(|session| (user, session))
    });
    let (user, session) = match parsed {
        Ok(ids) => ids,
        Err(err) => {
            tracing::error!(position = ?delivery.position, %err, "skipping command without owner");
            return None;
        }
    };
    match validate(user, session, envelope.command) {
        Ok(command) => Some(command),
        Err(err) => {
            tracing::error!(position = ?delivery.position, %err, "skipping invalid command");
            None
        }
    }
}

/// Retries while the store is unavailable: the command must not be skipped,
/// or the user's later commands would apply before it.
async fn apply_with_retry(
    store: &dyn VaultWriter,
    command: &ApplyCommand,
    stop: &CancellationToken,
) -> Option<ApplyResult> {
    let mut backoff = Duration::from_millis(50);
    loop {
        match store.apply(command, now_ms()).await {
            Ok(result) => {
                tracing::info!(
                    user_id = %command.user_id,
                    command_id = %command.command_id,
                    op = command.op.name(),
                    duplicate = result.duplicate,
                    revision = result.change.as_ref().map(|c| c.revision),
                    "command handled"
                );
                return Some(result);
            }
            Err(err) => {
                tracing::warn!(command_id = %command.command_id, error = %err, ?backoff, "apply failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = stop.cancelled() => return None,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn publish(events: &dyn EventSink, command: &ApplyCommand, result: ApplyResult) {
    let event = v1::VaultEvent {
        user_id: command.user_id.to_string(),
        origin_session_id: command.session_id.to_string(),
        outcome: Some(result.outcome),
        change: result.change,
    };
    // The outcome is already stored; a lost event only delays other devices
    // until their next sync, so log and go on.
    if let Err(err) = events.publish(event).await {
        tracing::warn!(command_id = %command.command_id, %err, "could not publish event");
    }
}
