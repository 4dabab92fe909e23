//! The four kinds of item, numbered as on the wire.

use std::fmt;

use gophkeeper_proto::v1::RecordKind;

/// What an item holds. Visible to the server (it filters by kind) and bound
/// into each record's associated data, so the server cannot relabel a record.
///
/// The numbers equal [`RecordKind`]'s, and never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ItemKind {
    Login = 1,
    Text = 2,
    Binary = 3,
    Card = 4,
}

/// A kind number this client does not know (0 = unspecified, or a kind added
/// by a newer client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown record kind {0}")]
pub struct UnknownKind(pub i32);

impl ItemKind {
    pub const ALL: [ItemKind; 4] = [Self::Login, Self::Text, Self::Binary, Self::Card];

    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Short lower-case name, as used on command lines.
    pub fn name(self) -> &'static str {
        RecordKind::from(self).short_name()
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<ItemKind> for RecordKind {
    fn from(kind: ItemKind) -> Self {
        match kind {
            ItemKind::Login => Self::Login,
            ItemKind::Text => Self::Text,
            ItemKind::Binary => Self::Binary,
            ItemKind::Card => Self::Card,
        }
    }
}

impl TryFrom<RecordKind> for ItemKind {
    type Error = UnknownKind;

    fn try_from(kind: RecordKind) -> Result<Self, UnknownKind> {
        match kind {
            RecordKind::Login => Ok(Self::Login),
            RecordKind::Text => Ok(Self::Text),
            RecordKind::Binary => Ok(Self::Binary),
            RecordKind::Card => Ok(Self::Card),
            RecordKind::Unspecified | RecordKind::VaultSummary => Err(UnknownKind(kind as i32)),
        }
    }
}

/// For the raw `kind` field of a prost message, which is an `i32`.
impl TryFrom<i32> for ItemKind {
    type Error = UnknownKind;

    fn try_from(value: i32) -> Result<Self, UnknownKind> {
        RecordKind::try_from(value)
            .map_err(|_| UnknownKind(value))
            .and_then(Self::try_from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_protocol() {
        for kind in ItemKind::ALL {
            let wire = RecordKind::from(kind);
            assert_eq!(wire as i32, i32::from(kind.as_u8()));
            assert_eq!(ItemKind::try_from(wire), Ok(kind));
            assert_eq!(ItemKind::try_from(wire as i32), Ok(kind));
        }
        assert_eq!(ItemKind::try_from(0), Err(UnknownKind(0)));
        assert_eq!(ItemKind::try_from(5), Err(UnknownKind(5)));
        assert_eq!(ItemKind::Card.to_string(), "card");
    }
}
