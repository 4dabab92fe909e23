//! Command validation, shared by the producer (to refuse bad input before it
//! reaches the broker) and the consumer (so a message that bypassed the
//! producer still cannot write anything malformed).

use gophkeeper_proto::MAX_RECORD_BYTES;
use gophkeeper_proto::v1;

use crate::ids::{CommandId, RecordId, SessionId, UserId};
use crate::vault::{ApplyCommand, Op};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error(
        "record is {size} bytes after encryption; the limit is {MAX_RECORD_BYTES} bytes (512 KiB)"
    )]
    TooLarge { size: usize },
    /// The cause goes to the server's log (`crate::status`), not to the
    /// client.
    #[error("command broker unavailable, retry")]
    Unavailable(#[source] crate::broker::BrokerError),
}

fn invalid(message: impl Into<String>) -> CommandError {
    CommandError::InvalidArgument(message.into())
}

fn id<T>(
    parse: fn(&'static str, &str) -> Result<T, crate::ids::InvalidId>,
    field: &'static str,
    text: &str,
) -> Result<T, CommandError>
where
    T: Copy + Into<uuid::Uuid>,
{
    let value = parse(field, text).map_err(|e| invalid(e.to_string()))?;
    if value.into().is_nil() {
        return Err(invalid(format!("{field} must not be the nil UUID")));
    }
    Ok(value)
}

fn ciphertext(bytes: Vec<u8>) -> Result<Vec<u8>, CommandError> {
    if bytes.is_empty() {
        return Err(invalid("ciphertext must not be empty"));
    }
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(CommandError::TooLarge { size: bytes.len() });
    }
    Ok(bytes)
}

fn base_revision(value: u64) -> Result<u64, CommandError> {
    if value == 0 || i64::try_from(value).is_err() {
        return Err(invalid(
            "base_revision must be the revision of the record you changed (1 to 2^63-1)",
        ));
    }
    Ok(value)
}

/// Turns a wire command into one the vault can apply, owned by `user`.
pub fn validate(
    user_id: UserId,
    session_id: SessionId,
    command: Option<v1::Command>,
) -> Result<ApplyCommand, CommandError> {
    let command = command.ok_or_else(|| invalid("command is required"))?;
    let command_id = id(CommandId::parse, "command_id", &command.command_id)?;
    let (record_id, op) = match command.op {
        None => return Err(invalid("command must be one of create, update, delete")),
        Some(v1::command::Op::Create(create)) => {
            let kind = v1::RecordKind::try_from(create.kind)
                .ok()
                .filter(|k| *k != v1::RecordKind::Unspecified)
                .ok_or_else(|| invalid("kind must be login, text, binary or card"))?;
            (
                create.record_id,
                Op::Create {
                    kind,
                    ciphertext: ciphertext(create.ciphertext)?,
                },
            )
        }
        Some(v1::command::Op::Update(update)) => (
            update.record_id,
            Op::Update {
                base_revision: base_revision(update.base_revision)?,
                ciphertext: ciphertext(update.ciphertext)?,
            },
        ),
        Some(v1::command::Op::Delete(delete)) => (
            delete.record_id,
            Op::Delete {
                base_revision: base_revision(delete.base_revision)?,
            },
        ),
    };
    let record_id = id(RecordId::parse, "record_id", &record_id)?;
    Ok(ApplyCommand {
        user_id,
        session_id,
        command_id,
        record_id,
        op,
    })
}

/// The wire form of a validated command, for the broker. Built from the
/// checked value (not the request) so that only normalised commands travel.
pub fn to_wire(command: ApplyCommand) -> v1::Command {
    let record_id = command.record_id.to_string();
    let op = match command.op {
        Op::Create { kind, ciphertext } => v1::command::Op::Create(v1::CreateRecord {
            record_id,
            kind: kind as i32,
            ciphertext,
        }),
        Op::Update {
            base_revision,
            ciphertext,
        } => v1::command::Op::Update(v1::UpdateRecord {
            record_id,
            base_revision,
            ciphertext,
        }),
        Op::Delete { base_revision } => v1::command::Op::Delete(v1::DeleteRecord {
            record_id,
            base_revision,
        }),
    };
    v1::Command {
        command_id: command.command_id.to_string(),
        op: Some(op),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(size: usize) -> v1::Command {
        v1::Command {
            command_id: uuid::Uuid::new_v4().to_string(),
            op: Some(v1::command::Op::Create(v1::CreateRecord {
                record_id: uuid::Uuid::new_v4().to_string(),
                kind: v1::RecordKind::Binary as i32,
                ciphertext: vec![0xAB; size],
            })),
        }
    }

    fn check(command: v1::Command) -> Result<ApplyCommand, CommandError> {
        validate(UserId::new_random(), SessionId::new_random(), Some(command))
    }

    #[test]
    fn wire_form_round_trips() {
        let user = UserId::new_random();
        let session = SessionId::new_random();
        let checked = validate(user, session, Some(create(3))).unwrap();
        let again = validate(user, session, Some(to_wire(checked.clone()))).unwrap();
        assert_eq!(checked, again);
    }

    #[test]
    fn accepts_exactly_512_kib_and_refuses_one_byte_more() {
        assert!(check(create(MAX_RECORD_BYTES)).is_ok());
        let err = check(create(MAX_RECORD_BYTES + 1)).unwrap_err();
        assert!(matches!(err, CommandError::TooLarge { size } if size == MAX_RECORD_BYTES + 1));
        assert!(err.to_string().contains("524289 bytes"), "{err}");
    }

    #[test]
    fn refuses_malformed_commands_with_a_message_naming_the_problem() {
        let mut cases: Vec<(v1::Command, &str)> = Vec::new();
        let mut c = create(10);
        c.command_id = "nope".into();
        cases.push((c, "command_id must be a UUID"));
        let mut c = create(10);
        c.command_id = uuid::Uuid::nil().to_string();
        cases.push((c, "nil UUID"));
        let mut c = create(10);
        c.op = None;
        cases.push((c, "one of create, update, delete"));
        let mut c = create(0);
        cases.push((c.clone(), "must not be empty"));
        if let Some(v1::command::Op::Create(ref mut inner)) = c.op {
            inner.ciphertext = vec![1];
            inner.kind = 0;
        }
        cases.push((c.clone(), "kind must be"));
        if let Some(v1::command::Op::Create(ref mut inner)) = c.op {
            inner.kind = 99;
        }
        cases.push((c, "kind must be"));
        let update = |rev: u64, record: &str| v1::Command {
            command_id: uuid::Uuid::new_v4().to_string(),
            op: Some(v1::command::Op::Update(v1::UpdateRecord {
                record_id: record.into(),
                base_revision: rev,
                ciphertext: vec![1],
            })),
        };
        let record = uuid::Uuid::new_v4().to_string();
        cases.push((update(0, &record), "base_revision"));
        cases.push((update(u64::MAX, &record), "base_revision"));
        cases.push((update(1, "x' OR 1=1 --"), "record_id must be a UUID"));
        let delete = v1::Command {
            command_id: uuid::Uuid::new_v4().to_string(),
            op: Some(v1::command::Op::Delete(v1::DeleteRecord {
                record_id: record.clone(),
                base_revision: 0,
            })),
        };
        cases.push((delete, "base_revision"));
        for (command, expected) in cases {
            let err = check(command).unwrap_err();
            assert!(err.to_string().contains(expected), "{err} lacks {expected}");
        }
        assert!(validate(UserId::new_random(), SessionId::new_random(), None).is_err());
    }
}
