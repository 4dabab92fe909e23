//! Command envelopes are authenticated between producer and consumer
//! (docs/design.md, "Signed commands"): whoever can write to the commands
//! topic without the cluster's command key cannot make a consumer apply
//! anything, for any user.
//!
//! The producer wraps each encoded [`v1::CommandEnvelope`] in a
//! [`v1::SignedCommand`] with HMAC-SHA256 over a label, the key's id, the
//! broker message key (the hash of the user id that picks the partition)
//! and the envelope. The consumer checks, in order: that the message
//! decodes, carries a MAC, names a key it accepts, that the MAC verifies,
//! and that the message key is the hash of the envelope's user; anything
//! else is rejected, logged and skipped. Keys rotate by listing the old
//! one as `broker.previous_command_keys` on the consumers while the
//! producers sign with the new one.

use gophkeeper_proto::v1;
use hmac::{Hmac, Mac};
use prost::Message;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::broker::{Delivery, partition_key};
use crate::ids::UserId;
use crate::secrets::ServerSecret;

const MAC_LABEL: &[u8] = b"gophkeeper/v1/command-mac";
const ID_LABEL: &[u8] = b"gophkeeper/v1/command-key-id";
/// The purpose under which role `all` derives its key from the server
/// secret when none is configured.
const SECRET_PURPOSE: &str = "command-mac";

/// One command key and its public id.
struct CommandKey {
    id: String,
    key: Zeroizing<[u8; 32]>,
}

impl CommandKey {
    fn new(key: Zeroizing<[u8; 32]>) -> Self {
        let mut hash = Sha256::new();
        hash.update(ID_LABEL);
        hash.update(key.as_ref());
        let id = hex::encode(&hash.finalize()[..8]);
        Self { id, key }
    }

    fn from_hex(text: &SecretString) -> Result<Self, KeyError> {
        let mut key = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.expose_secret().trim(), key.as_mut())
            .map_err(|_| KeyError::Malformed)?;
        Ok(Self::new(key))
    }

    fn mac(&self, message_key: &[u8; 16], envelope: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(MAC_LABEL);
        mac.update(self.id.as_bytes());
        mac.update(message_key);
        mac.update(envelope);
        mac
    }
}

/// The key producers sign with, and every key consumers accept.
pub struct CommandKeys {
    current: CommandKey,
    previous: Vec<CommandKey>,
}

impl std::fmt::Debug for CommandKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandKeys")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("broker.command_key and each of broker.previous_command_keys must be 64 hex digits")]
    Malformed,
    #[error(
        "broker.command_key is required for this role: producers and consumers must share it \
         (64 hex digits; GOPHKEEPER__BROKER__COMMAND_KEY)"
    )]
    Missing,
}

/// Why a message on the commands topic was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("not a signed command")]
    Undecodable,
    #[error("unsigned")]
    Unsigned,
    #[error("signed with a key this consumer does not accept (id {0})")]
    UnknownKey(String),
    #[error("the MAC does not verify (forged or altered)")]
    BadMac,
    #[error("the envelope names no valid user")]
    NoOwner,
    #[error("the message key is not its user's (moved to another user's partition)")]
    WrongPartition,
}

impl Rejected {
    /// The reason as a metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Undecodable => "undecodable",
            Self::Unsigned => "unsigned",
            Self::UnknownKey(_) => "unknown_key",
            Self::BadMac => "bad_mac",
            Self::NoOwner => "no_owner",
            Self::WrongPartition => "wrong_partition",
        }
    }
}

impl CommandKeys {
    /// The configured keys; with none configured, role `all` passes its
    /// server secret (`fallback`) and the key comes from it, while the
    /// split roles, which have none, must be configured.
    pub fn from_settings(
        current: &SecretString,
        previous: &[SecretString],
        fallback: Option<&ServerSecret>,
    ) -> Result<Self, KeyError> {
        let current = if current.expose_secret().is_empty() {
            let secret = fallback.ok_or(KeyError::Missing)?;
            CommandKey::new(secret.derive(SECRET_PURPOSE))
        } else {
            CommandKey::from_hex(current)?
        };
        let previous = previous
            .iter()
            .map(CommandKey::from_hex)
            .collect::<Result<_, _>>()?;
        Ok(Self { current, previous })
    }

    /// The id of the key producers sign with (logged at start).
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// The message to publish for `envelope`.
    pub fn sign(&self, message_key: &[u8; 16], envelope: &v1::CommandEnvelope) -> Vec<u8> {
        let envelope = envelope.encode_to_vec();
        let mac = self
            .current
            .mac(message_key, &envelope)
            .finalize()
            .into_bytes()
            .to_vec();
        v1::SignedCommand {
            key_id: self.current.id.clone(),
            envelope,
            mac,
        }
        .encode_to_vec()
    }

    /// The envelope of a delivery that passes every check, with its user.
    pub fn open(&self, delivery: &Delivery) -> Result<(UserId, v1::CommandEnvelope), Rejected> {
        let signed = v1::SignedCommand::decode(delivery.payload.as_slice())
            .map_err(|_| Rejected::Undecodable)?;
        if signed.mac.is_empty() || signed.key_id.is_empty() {
            return Err(Rejected::Unsigned);
        }
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id == signed.key_id)
            .ok_or_else(|| Rejected::UnknownKey(signed.key_id.chars().take(16).collect()))?;
        key.mac(&delivery.key, &signed.envelope)
            .verify_slice(&signed.mac)
            .map_err(|_| Rejected::BadMac)?;
        let envelope = v1::CommandEnvelope::decode(signed.envelope.as_slice())
            .map_err(|_| Rejected::Undecodable)?;
        let user = UserId::parse("user_id", &envelope.user_id).map_err(|_| Rejected::NoOwner)?;
        if partition_key(user) != delivery.key {
            return Err(Rejected::WrongPartition);
        }
        Ok((user, envelope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_key(byte: u8) -> SecretString {
        SecretString::from(hex::encode([byte; 32]))
    }

    fn keys(current: u8, previous: &[u8]) -> CommandKeys {
        let previous: Vec<SecretString> = previous.iter().map(|b| hex_key(*b)).collect();
        CommandKeys::from_settings(&hex_key(current), &previous, None).unwrap()
    }

    fn envelope(user: UserId) -> v1::CommandEnvelope {
        v1::CommandEnvelope {
            user_id: user.to_string(),
            session_id: uuid::Uuid::new_v4().to_string(),
            command: None,
            accepted_at_ms: 1,
        }
    }

    fn delivery(key: [u8; 16], payload: Vec<u8>) -> Delivery {
        Delivery {
            key,
            payload,
            position: (0, 0),
        }
    }

    /// What the producer signs opens; everything the topic may otherwise
    /// carry is rejected, each for its own reason.
    #[test]
    fn only_what_a_producer_signed_opens() {
        let keys = keys(1, &[]);
        let (alice, bob) = (UserId::new_random(), UserId::new_random());
        let signed = keys.sign(&partition_key(alice), &envelope(alice));
        let (user, opened) = keys
            .open(&delivery(partition_key(alice), signed.clone()))
            .unwrap();
        assert_eq!((user, opened.user_id), (alice, alice.to_string()));

        let reject = |key, payload| keys.open(&delivery(key, payload)).unwrap_err();
        // Not a signed command at all.
        assert_eq!(
            reject(partition_key(alice), vec![0xff; 9]),
            Rejected::Undecodable
        );
        // An envelope as it went on the topic before commands were signed.
        let unsigned = v1::SignedCommand {
            key_id: String::new(),
            envelope: envelope(bob).encode_to_vec(),
            mac: Vec::new(),
        };
        assert_eq!(
            reject(partition_key(bob), unsigned.encode_to_vec()),
            Rejected::Unsigned
        );
        // Signed by someone with another key.
        let forged = self::keys(2, &[]).sign(&partition_key(bob), &envelope(bob));
        assert!(matches!(
            reject(partition_key(bob), forged),
            Rejected::UnknownKey(_)
        ));
        // Alice's command with Bob's name in it, MAC kept.
        let mut altered = v1::SignedCommand::decode(signed.as_slice()).unwrap();
        altered.envelope = envelope(bob).encode_to_vec();
        assert_eq!(
            reject(partition_key(bob), altered.encode_to_vec()),
            Rejected::BadMac
        );
        // Alice's command, untouched, under Bob's message key.
        assert_eq!(reject(partition_key(bob), signed), Rejected::BadMac);
        // Signed for the wrong partition by the key holder: still refused.
        let moved = keys.sign(&partition_key(bob), &envelope(alice));
        assert_eq!(reject(partition_key(bob), moved), Rejected::WrongPartition);
    }

    /// Rotation: consumers accept the old key while it is listed as
    /// previous, and refuse it once it is not.
    #[test]
    fn a_previous_key_is_accepted_until_it_is_dropped() {
        let user = UserId::new_random();
        let old = keys(1, &[]);
        let signed = old.sign(&partition_key(user), &envelope(user));
        let rotating = keys(2, &[1]);
        rotating
            .open(&delivery(partition_key(user), signed.clone()))
            .unwrap();
        assert_ne!(rotating.current_id(), old.current_id());
        let rotated = keys(2, &[]);
        assert!(matches!(
            rotated.open(&delivery(partition_key(user), signed)),
            Err(Rejected::UnknownKey(_))
        ));
    }

    #[test]
    fn every_reason_has_a_metric_series() {
        let reasons = [
            Rejected::Undecodable,
            Rejected::Unsigned,
            Rejected::UnknownKey(String::new()),
            Rejected::BadMac,
            Rejected::NoOwner,
            Rejected::WrongPartition,
        ];
        for reason in reasons {
            assert!(
                crate::metrics::REJECTION_REASONS.contains(&reason.label()),
                "{reason}"
            );
        }
    }

    #[test]
    fn keys_must_be_configured_and_well_formed_and_never_shown() {
        let empty = SecretString::from("");
        assert_eq!(
            CommandKeys::from_settings(&empty, &[], None).unwrap_err(),
            KeyError::Missing
        );
        assert_eq!(
            CommandKeys::from_settings(&SecretString::from("abcd"), &[], None).unwrap_err(),
            KeyError::Malformed
        );
        assert_eq!(
            CommandKeys::from_settings(&hex_key(1), &[SecretString::from("zz")], None).unwrap_err(),
            KeyError::Malformed
        );
        let dir = tempfile::tempdir().unwrap();
        let secret = ServerSecret::load_or_create(&empty, dir.path()).unwrap();
        let derived = CommandKeys::from_settings(&empty, &[], Some(&secret)).unwrap();
        let debug = format!("{derived:?}");
        assert!(debug.contains(derived.current_id()), "{debug}");
        assert!(!debug.contains(&hex::encode([1u8; 32])));
    }
}
