//! Applying one command, the same on every engine: look its id up in the
//! applied-command log, decide against the stored record, write, log the
//! outcome. Each engine supplies only the statements ([`ApplySteps`]), in its
//! own SQL dialect, run inside the transaction it holds, so SQLite and
//! PostgreSQL cannot drift apart on the order of steps or on what a repeat,
//! a conflict or a rejection returns.

use async_trait::async_trait;
use gophkeeper_proto::v1;
use prost::Message;

use gophkeeper_proto::v1::command_outcome::Result as Outcome;

use super::{
    ApplyCommand, ApplyResult, Decision, Op, StoreError, StoredRecord, decide, revision_from_sql,
};
use crate::ids::{CommandId, RecordId, UserId};

/// The statements [`apply_in`] needs, each run on the engine's connection
/// inside the caller's transaction.
#[async_trait]
pub(crate) trait ApplySteps: Send {
    /// The stored outcome (encoded) if `command` was applied before.
    async fn applied_outcome(
        &mut self,
        user: UserId,
        command: CommandId,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    async fn find_record(
        &mut self,
        user: UserId,
        record: RecordId,
    ) -> Result<Option<StoredRecord>, StoreError>;

    /// Raises the user's revision counter by one; the new value.
    async fn next_revision(&mut self, user: UserId) -> Result<i64, StoreError>;

    /// Makes `write` to the command's record, stamped `revision`.
    async fn write_record(
        &mut self,
        command: &ApplyCommand,
        write: Write<'_>,
        revision: i64,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    async fn log_applied(
        &mut self,
        command: &ApplyCommand,
        outcome: &[u8],
        now_ms: i64,
    ) -> Result<(), StoreError>;
}

/// The change a command makes to its record's row.
pub(crate) enum Write<'a> {
    Insert {
        kind: v1::RecordKind,
        ciphertext: &'a [u8],
    },
    Replace {
        ciphertext: &'a [u8],
    },
    /// Mark the record deleted; its ciphertext becomes the client's sealed
    /// tombstone (empty from clients before record format 2).
    Tombstone {
        tombstone: &'a [u8],
    },
}

/// Applies one command inside the caller's transaction. Commands earlier in
/// the same transaction are visible to it, so a batch behaves exactly like
/// the same commands applied one after another.
pub(crate) async fn apply_in<S: ApplySteps + ?Sized>(
    steps: &mut S,
    command: &ApplyCommand,
    now_ms: i64,
) -> Result<ApplyResult, StoreError> {
    if let Some(bytes) = steps
        .applied_outcome(command.user_id, command.command_id)
        .await?
    {
        let outcome = v1::CommandOutcome::decode(bytes.as_slice())
            .map_err(|e| StoreError::Corrupt(format!("stored outcome: {e}")))?;
        return Ok(ApplyResult {
            outcome,
            change: None,
            duplicate: true,
        });
    }

    let existing = steps
        .find_record(command.user_id, command.record_id)
        .await?;
    let mut change = None;
    let result = match decide(existing.as_ref(), &command.op) {
        Decision::Conflict(current) => Outcome::Conflict(v1::Conflict {
            current: Some(current.into_proto()),
        }),
        Decision::Rejected(reason, message) => Outcome::Rejected(v1::Rejected {
            reason: reason as i32,
            message,
        }),
        write => {
            let revision = steps.next_revision(command.user_id).await?;
            let kind =
                write_record(steps, command, existing.as_ref(), &write, revision, now_ms).await?;
            let revision = revision_from_sql(revision)?;
            change = Some(v1::RecordChange {
                record_id: command.record_id.to_string(),
                kind: kind as i32,
                revision,
                deleted: write == Decision::Tombstone,
            });
            Outcome::Applied(v1::Applied { revision })
        }
    };
    let outcome = v1::CommandOutcome {
        command_id: command.command_id.to_string(),
        record_id: command.record_id.to_string(),
        result: Some(result),
    };
    steps
        .log_applied(command, &outcome.encode_to_vec(), now_ms)
        .await?;
    Ok(ApplyResult {
        outcome,
        change,
        duplicate: false,
    })
}

/// Writes the record for an `Insert`, `Replace` or `Tombstone` decision and
/// returns its kind.
async fn write_record<S: ApplySteps + ?Sized>(
    steps: &mut S,
    command: &ApplyCommand,
    existing: Option<&StoredRecord>,
    decision: &Decision,
    revision: i64,
    now_ms: i64,
) -> Result<v1::RecordKind, StoreError> {
    let (write, kind) = match (&command.op, decision, existing) {
        (Op::Create { kind, ciphertext }, Decision::Insert, None) => (
            Write::Insert {
                kind: *kind,
                ciphertext,
            },
            *kind,
        ),
        (Op::Update { ciphertext, .. }, Decision::Replace, Some(current)) => {
            (Write::Replace { ciphertext }, current.kind)
        }
        (Op::Delete { tombstone, .. }, Decision::Tombstone, Some(current)) => {
            (Write::Tombstone { tombstone }, current.kind)
        }
        _ => {
            return Err(StoreError::Corrupt(format!(
                "decision {decision:?} does not fit a {} command",
                command.op.name()
            )));
        }
    };
    steps.write_record(command, write, revision, now_ms).await?;
    Ok(kind)
}
