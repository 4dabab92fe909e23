//! Command validation, shared by the producer (to refuse bad input before it
//! reaches the broker) and the consumer (so a message that bypassed the
//! producer still cannot write anything malformed).

use gophkeeper_proto::MAX_RECORD_BYTES;
use gophkeeper_proto::v1;

use crate::ids::{CommandId, RecordId, SessionId, UserId};
use crate::vault::{ApplyCommand, Op, RECORD_FORMAT_2 as FORMAT_2};

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

/// The length of a format 2 record's clear header, and the least the
/// record can be: header, nonce, the sealed time and the tag.
const FORMAT_2_HEADER: usize = 38;
const FORMAT_2_MIN_LEN: usize = FORMAT_2_HEADER + 24 + 8 + 16;
const FLAG_TOMBSTONE: u8 = 1;

/// Checks the clear header of a record format 2 envelope
/// (docs/design.md). The server cannot authenticate it, but it refuses what
/// no writer makes, so that a broken client fails here and not on every
/// other device. Other first bytes are format 1 (or opaque data in tests);
/// only a delete's tombstone must be format 2.
fn envelope(bytes: &[u8], tombstone: bool) -> Result<(), CommandError> {
    if bytes.first() != Some(&FORMAT_2) {
        return if tombstone {
            Err(invalid(
                "tombstone must be a sealed record format 2 tombstone",
            ))
        } else {
            Ok(())
        };
    }
    if bytes.len() < FORMAT_2_MIN_LEN {
        return Err(invalid(format!(
            "a record format 2 envelope is at least {FORMAT_2_MIN_LEN} bytes"
        )));
    }
    let u64_at = |at: usize| {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_be_bytes(word)
    };
    let (version, base, flags) = (u64_at(5), u64_at(13), bytes[FORMAT_2_HEADER - 1]);
    if flags & !FLAG_TOMBSTONE != 0 {
        return Err(invalid("the record format 2 header has unknown flags"));
    }
    if (flags & FLAG_TOMBSTONE != 0) != tombstone {
        return Err(invalid(if tombstone {
            "a delete's tombstone must have the tombstone flag"
        } else {
            "a create or update must not have the tombstone flag"
        }));
    }
    if version == 0 || base >= version {
        return Err(invalid(
            "the record format 2 header needs a version of at least 1, above its base version",
        ));
    }
    Ok(())
}

fn sealed(bytes: Vec<u8>) -> Result<Vec<u8>, CommandError> {
    let bytes = ciphertext(bytes)?;
    envelope(&bytes, false)?;
    Ok(bytes)
}

/// A delete's tombstone: empty from clients before format 2.
fn tombstone(bytes: Vec<u8>) -> Result<Vec<u8>, CommandError> {
    if bytes.is_empty() {
        return Ok(bytes);
    }
    let bytes = ciphertext(bytes)?;
    envelope(&bytes, true)?;
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
                .ok_or_else(|| {
                    invalid("kind must be login, text, binary, card or vault-summary")
                })?;
            (
                create.record_id,
                Op::Create {
                    kind,
                    ciphertext: sealed(create.ciphertext)?,
                },
            )
        }
        Some(v1::command::Op::Update(update)) => (
            update.record_id,
            Op::Update {
                base_revision: base_revision(update.base_revision)?,
                ciphertext: sealed(update.ciphertext)?,
            },
        ),
        Some(v1::command::Op::Delete(delete)) => (
            delete.record_id,
            Op::Delete {
                base_revision: base_revision(delete.base_revision)?,
                tombstone: tombstone(delete.tombstone)?,
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
        Op::Delete {
            base_revision,
            tombstone,
        } => v1::command::Op::Delete(v1::DeleteRecord {
            record_id,
            base_revision,
            tombstone,
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
                tombstone: Vec::new(),
            })),
        };
        cases.push((delete, "base_revision"));
        for (command, expected) in cases {
            let err = check(command).unwrap_err();
            assert!(err.to_string().contains(expected), "{err} lacks {expected}");
        }
        assert!(validate(UserId::new_random(), SessionId::new_random(), None).is_err());
    }

    /// A well-formed format 2 envelope of `len` bytes with this header.
    fn format_2(version: u64, base: u64, flags: u8, len: usize) -> Vec<u8> {
        let mut bytes = vec![0x5A; len];
        bytes[0] = FORMAT_2;
        bytes[1..5].copy_from_slice(&1u32.to_be_bytes());
        bytes[5..13].copy_from_slice(&version.to_be_bytes());
        bytes[13..21].copy_from_slice(&base.to_be_bytes());
        bytes[37] = flags;
        bytes
    }

    fn with_op(op: v1::command::Op) -> v1::Command {
        v1::Command {
            command_id: uuid::Uuid::new_v4().to_string(),
            op: Some(op),
        }
    }

    fn update_with(ciphertext: Vec<u8>) -> v1::Command {
        with_op(v1::command::Op::Update(v1::UpdateRecord {
            record_id: uuid::Uuid::new_v4().to_string(),
            base_revision: 3,
            ciphertext,
        }))
    }

    fn delete_with(tombstone: Vec<u8>) -> v1::Command {
        with_op(v1::command::Op::Delete(v1::DeleteRecord {
            record_id: uuid::Uuid::new_v4().to_string(),
            base_revision: 3,
            tombstone,
        }))
    }

    #[test]
    fn format_2_headers_no_writer_makes_are_refused() {
        let min = FORMAT_2_MIN_LEN;
        assert!(check(update_with(format_2(2, 1, 0, min))).is_ok());
        assert!(check(delete_with(format_2(2, 1, FLAG_TOMBSTONE, min))).is_ok());
        // A format 1 delete (no tombstone) still goes through: old clients.
        assert!(check(delete_with(Vec::new())).is_ok());
        let cases: [(v1::Command, &str); 7] = [
            (update_with(format_2(2, 1, 0, min - 1)), "at least 86 bytes"),
            (update_with(format_2(2, 1, 4, min)), "unknown flags"),
            (
                update_with(format_2(2, 1, FLAG_TOMBSTONE, min)),
                "must not have the tombstone flag",
            ),
            (update_with(format_2(0, 0, 0, min)), "version of at least 1"),
            (update_with(format_2(5, 5, 0, min)), "above its base"),
            (
                delete_with(format_2(2, 1, 0, min)),
                "must have the tombstone flag",
            ),
            (
                delete_with(vec![1; min]),
                "tombstone must be a sealed record format 2",
            ),
        ];
        for (command, expected) in cases {
            let err = check(command).unwrap_err();
            assert!(err.to_string().contains(expected), "{err} lacks {expected}");
        }
    }

    #[test]
    fn a_tombstone_travels_to_the_consumer() {
        let user = UserId::new_random();
        let session = SessionId::new_random();
        let tombstone = format_2(4, 3, FLAG_TOMBSTONE, FORMAT_2_MIN_LEN);
        let checked = validate(user, session, Some(delete_with(tombstone.clone()))).unwrap();
        assert!(matches!(&checked.op, Op::Delete { tombstone: t, .. } if *t == tombstone));
        let again = validate(user, session, Some(to_wire(checked.clone()))).unwrap();
        assert_eq!(checked, again);
    }
}
