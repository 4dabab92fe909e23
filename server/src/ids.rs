//! Typed ids parsed from the wire. Every id on the wire is a UUID in text
//! form; parsing once at the edge means the rest of the server cannot mix a
//! record id up with a user id.

use std::fmt;

use uuid::Uuid;

macro_rules! id_type {
    ($name:ident, $what:literal) => {
        #[doc = concat!("A ", $what, " id.")]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            /// Parses the text form, naming the field in the error.
            pub fn parse(field: &'static str, text: &str) -> Result<Self, InvalidId> {
                Uuid::try_parse(text)
                    .map(Self)
                    .map_err(|_| InvalidId { field })
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

id_type!(UserId, "user");
id_type!(SessionId, "device session");
id_type!(RecordId, "record");
id_type!(CommandId, "command");

/// A field that should hold a UUID does not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} must be a UUID")]
pub struct InvalidId {
    pub field: &'static str,
}

/// Milliseconds since the Unix epoch, the unit every timestamp on the wire uses.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uuid_and_names_the_field_on_error() {
        let id = RecordId::new_random();
        assert_eq!(RecordId::parse("record_id", &id.to_string()).unwrap(), id);
        for bad in [
            "",
            "abc",
            "'; DROP TABLE records; --",
            "00000000-0000-0000-0000",
        ] {
            let err = RecordId::parse("record_id", bad).unwrap_err();
            assert_eq!(err.to_string(), "record_id must be a UUID");
        }
    }
}
