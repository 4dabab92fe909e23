//! Three-way merge of two edits of one item made from the same base.
//!
//! Each named field is merged on its own: a field changed on one side only
//! takes that side's value, a field changed on both sides to the same value
//! takes it, and only a field changed on both sides differently is a
//! conflict. Custom fields are merged one key at a time. A change of kind
//! is always a conflict: the fields of two kinds cannot be lined up.

use std::collections::BTreeSet;

use super::{CustomField, Extensions, Item, Payload};

/// Why two edits could not be merged: the fields that both sides changed
/// differently. Names only, never values; a custom field's key is item
/// content, though, so this is shown to the person, never logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("both sides changed: {}", .fields.join(", "))]
pub struct MergeConflict {
    /// Field names (e.g. "password", "field:pin"); "kind" when the item's
    /// kind changed.
    pub fields: Vec<String>,
}

/// Merges `mine` and `theirs`, both edits of `base`.
pub fn merge(base: &Item, mine: &Item, theirs: &Item) -> Result<Item, MergeConflict> {
    let mut m = Merger::default();
    let name = m.pick("name", &base.name, &mine.name, &theirs.name);
    let notes = m.pick("notes", &base.notes, &mine.notes, &theirs.notes);
    let fields = m.fields(&base.fields, &mine.fields, &theirs.fields);
    let item_ext = m.pick(
        "unknown fields",
        &base.extensions.item,
        &mine.extensions.item,
        &theirs.extensions.item,
    );
    let (payload, password_changed_ms) = m.payload(base, mine, theirs);
    let payload_ext = m.pick(
        "unknown payload fields",
        &(base.extensions.payload_kind, &base.extensions.payload),
        &(mine.extensions.payload_kind, &mine.extensions.payload),
        &(theirs.extensions.payload_kind, &theirs.extensions.payload),
    );
    if !m.conflicts.is_empty() {
        return Err(MergeConflict {
            fields: m.conflicts,
        });
    }
    Ok(Item {
        name,
        notes,
        fields,
        payload,
        password_changed_ms,
        extensions: Extensions {
            item: item_ext,
            payload_kind: payload_ext.0,
            payload: payload_ext.1.clone(),
        },
    })
}

#[derive(Default)]
struct Merger {
    conflicts: Vec<String>,
}

impl Merger {
    /// The merged value of one field; on a conflict, records it and
    /// returns mine (the caller discards the result then).
    fn pick<T: PartialEq + Clone>(&mut self, field: &str, base: &T, mine: &T, theirs: &T) -> T {
        if mine == theirs || theirs == base {
            mine.clone()
        } else if mine == base {
            theirs.clone()
        } else {
            self.conflicts.push(field.to_owned());
            mine.clone()
        }
    }

    /// Custom fields merged by key, in mine's order, then theirs' new keys.
    /// Duplicate keys cannot be lined up, so then the list is one field.
    fn fields(
        &mut self,
        base: &[CustomField],
        mine: &[CustomField],
        theirs: &[CustomField],
    ) -> Vec<CustomField> {
        if [base, mine, theirs].iter().any(|f| has_duplicate_keys(f)) {
            return self.pick("fields", &base.to_vec(), &mine.to_vec(), &theirs.to_vec());
        }
        let find = |list: &[CustomField], key: &str| list.iter().find(|f| f.key == key).cloned();
        let keys = mine
            .iter()
            .chain(theirs)
            .chain(base)
            .map(|f| f.key.as_str());
        let mut seen = BTreeSet::new();
        let mut merged = Vec::new();
        for key in keys {
            if !seen.insert(key) {
                continue;
            }
            let label = format!("field:{key}");
            let (b, m, t) = (find(base, key), find(mine, key), find(theirs, key));
            if let Some(field) = self.pick(&label, &b, &m, &t) {
                merged.push(field);
            }
        }
        merged
    }

    /// The merged payload and the password stamp, which moves with the
    /// password it dates.
    fn payload(&mut self, base: &Item, mine: &Item, theirs: &Item) -> (Payload, Option<i64>) {
        use Payload::*;
        let stamp = mine.password_changed_ms;
        match (&base.payload, &mine.payload, &theirs.payload) {
            (
                Login {
                    username: bu,
                    password: bp,
                    urls: bl,
                    totp: bt,
                },
                Login {
                    username: mu,
                    password: mp,
                    urls: ml,
                    totp: mt,
                },
                Login {
                    username: tu,
                    password: tp,
                    urls: tl,
                    totp: tt,
                },
            ) => {
                let username = self.pick("username", bu, mu, tu);
                let (password, stamp) = self.pick(
                    "password",
                    &(bp, base.password_changed_ms),
                    &(mp, mine.password_changed_ms),
                    &(tp, theirs.password_changed_ms),
                );
                let payload = Login {
                    username,
                    password: password.clone(),
                    urls: self.pick("urls", bl, ml, tl),
                    totp: self.pick("totp", bt, mt, tt),
                };
                (payload, stamp)
            }
            (Text { text: b }, Text { text: m }, Text { text: t }) => {
                let text = self.pick("text", b, m, t);
                (Text { text }, stamp)
            }
            (
                Binary {
                    file_name: bf,
                    bytes: bb,
                },
                Binary {
                    file_name: mf,
                    bytes: mb,
                },
                Binary {
                    file_name: tf,
                    bytes: tb,
                },
            ) => {
                let payload = Binary {
                    file_name: self.pick("file name", bf, mf, tf),
                    bytes: self.pick("content", bb, mb, tb),
                };
                (payload, stamp)
            }
            (
                Card {
                    holder: bh,
                    number: bn,
                    expiry: be,
                    cvv: bc,
                },
                Card {
                    holder: mh,
                    number: mn,
                    expiry: me,
                    cvv: mc,
                },
                Card {
                    holder: th,
                    number: tn,
                    expiry: te,
                    cvv: tc,
                },
            ) => {
                let payload = Card {
                    holder: self.pick("holder", bh, mh, th),
                    number: self.pick("number", bn, mn, tn),
                    expiry: self.pick("expiry", be, me, te),
                    cvv: self.pick("cvv", bc, mc, tc),
                };
                (payload, stamp)
            }
            _ => {
                self.conflicts.push("kind".to_owned());
                (mine.payload.clone(), stamp)
            }
        }
    }
}

fn has_duplicate_keys(fields: &[CustomField]) -> bool {
    let mut seen = BTreeSet::new();
    fields.iter().any(|f| !seen.insert(f.key.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(password: &str) -> Item {
        let mut item = Item::new(
            "bank",
            Payload::Login {
                username: "alice".into(),
                password: password.into(),
                urls: vec!["bank.example".into()],
                totp: None,
            },
        );
        item.fields = vec![CustomField::new("pin", "1234")];
        item
    }

    fn set_username(item: &mut Item, value: &str) {
        if let Payload::Login { username, .. } = &mut item.payload {
            *username = value.into();
        }
    }

    fn set_password(item: &mut Item, value: &str, at: i64) {
        if let Payload::Login { password, .. } = &mut item.payload {
            *password = value.into();
        }
        item.password_changed_ms = Some(at);
    }

    fn conflicts(base: &Item, mine: &Item, theirs: &Item) -> Vec<String> {
        merge(base, mine, theirs).unwrap_err().fields
    }

    #[test]
    fn different_fields_merge_both_ways() {
        let base = login("old");
        let mut mine = base.clone();
        set_password(&mut mine, "new", 7);
        let mut theirs = base.clone();
        theirs.notes = "call first".into();
        set_username(&mut theirs, "bob");

        let mut want = base.clone();
        set_password(&mut want, "new", 7);
        want.notes = "call first".into();
        set_username(&mut want, "bob");
        assert_eq!(merge(&base, &mine, &theirs).unwrap(), want);
        assert_eq!(merge(&base, &theirs, &mine).unwrap(), want);
    }

    #[test]
    fn unchanged_sides_merge_to_the_other() {
        let base = login("old");
        let mut theirs = base.clone();
        theirs.name = "bank (home)".into();
        assert_eq!(merge(&base, &base, &theirs).unwrap(), theirs);
        assert_eq!(merge(&base, &theirs, &base).unwrap(), theirs);
        assert_eq!(merge(&base, &base, &base).unwrap(), base);
    }

    #[test]
    fn same_field_same_value_merges() {
        let base = login("old");
        let mut mine = base.clone();
        set_password(&mut mine, "new", 7);
        mine.notes = "mine".into();
        let mut theirs = base.clone();
        set_password(&mut theirs, "new", 7);
        let merged = merge(&base, &mine, &theirs).unwrap();
        assert_eq!(merged, mine);
    }

    #[test]
    fn same_field_different_values_conflict_naming_the_field() {
        let base = login("old");
        let mut mine = base.clone();
        set_password(&mut mine, "mine", 7);
        mine.notes = "only mine".into();
        let mut theirs = base.clone();
        set_password(&mut theirs, "theirs", 8);
        assert_eq!(conflicts(&base, &mine, &theirs), ["password"]);

        set_username(&mut mine, "m");
        set_username(&mut theirs, "t");
        theirs.name = "other".into();
        assert_eq!(conflicts(&base, &mine, &theirs), ["username", "password"]);
    }

    #[test]
    fn a_conflict_shows_no_values() {
        let base = login("old");
        let mut mine = base.clone();
        set_password(&mut mine, "secret-mine", 7);
        let mut theirs = base.clone();
        set_password(&mut theirs, "secret-theirs", 8);
        let err = merge(&base, &mine, &theirs).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn custom_fields_merge_by_key() {
        let mut base = login("pw");
        base.fields.push(CustomField::new("team", "blue"));
        // Mine adds a key and changes pin; theirs removes team and adds
        // another key.
        let mut mine = base.clone();
        mine.fields[0].value = "9999".into();
        mine.fields.push(CustomField::hidden("recovery", "abcd"));
        let mut theirs = base.clone();
        theirs.fields.remove(1);
        theirs.fields.push(CustomField::new("floor", "3"));

        let merged = merge(&base, &mine, &theirs).unwrap();
        let keys: Vec<_> = merged.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["pin", "recovery", "floor"]);
        assert_eq!(merged.fields[0].value, "9999");
        assert!(merged.fields[1].hidden);
    }

    #[test]
    fn custom_field_changed_and_removed_conflicts() {
        let base = login("pw");
        let mut mine = base.clone();
        mine.fields[0].value = "9999".into();
        let mut theirs = base.clone();
        theirs.fields.clear();
        assert_eq!(conflicts(&base, &mine, &theirs), ["field:pin"]);

        // Added on both sides under one key with different values.
        let mut mine = base.clone();
        mine.fields.push(CustomField::new("new", "a"));
        let mut theirs = base.clone();
        theirs.fields.push(CustomField::new("new", "b"));
        assert_eq!(conflicts(&base, &mine, &theirs), ["field:new"]);

        // Hiding a field is a change of that field too.
        let mut theirs = base.clone();
        theirs.fields[0].hidden = true;
        let mut mine = base.clone();
        mine.fields[0].value = "0000".into();
        assert_eq!(conflicts(&base, &mine, &theirs), ["field:pin"]);
    }

    #[test]
    fn duplicate_keys_make_the_list_one_field() {
        let base = login("pw");
        let mut mine = base.clone();
        mine.fields.push(CustomField::new("pin", "again"));
        let mut theirs = base.clone();
        theirs.fields[0].value = "0000".into();
        assert_eq!(conflicts(&base, &mine, &theirs), ["fields"]);
        // One side only: still merges.
        assert_eq!(merge(&base, &mine, &base).unwrap(), mine);
    }

    #[test]
    fn kind_change_conflicts() {
        let base = login("pw");
        let mut mine = base.clone();
        mine.payload = Payload::Text { text: "t".into() };
        let mut theirs = base.clone();
        theirs.notes = "n".into();
        assert_eq!(conflicts(&base, &mine, &theirs), ["kind"]);
        assert_eq!(conflicts(&base, &theirs, &mine), ["kind"]);
    }

    #[test]
    fn card_text_and_binary_fields_merge_separately() {
        let card = |holder: &str, cvv: &str| {
            Item::new(
                "visa",
                Payload::Card {
                    holder: holder.into(),
                    number: "4111 1111 1111 1111".into(),
                    expiry: crate::item::CardExpiry {
                        month: 8,
                        year: 2027,
                    },
                    cvv: cvv.into(),
                },
            )
        };
        let merged = merge(&card("A", "1"), &card("B", "1"), &card("A", "2")).unwrap();
        assert_eq!(merged, card("B", "2"));
        assert_eq!(
            conflicts(&card("A", "1"), &card("A", "2"), &card("A", "3")),
            ["cvv"]
        );

        let text = |t: &str| Item::new("diary", Payload::Text { text: t.into() });
        let mut renamed = text("a");
        renamed.name = "journal".into();
        let mut want = text("b");
        want.name = "journal".into();
        assert_eq!(merge(&text("a"), &text("b"), &renamed).unwrap(), want);
        assert_eq!(conflicts(&text("a"), &text("b"), &text("c")), ["text"]);

        let bin = |name: &str, bytes: &[u8]| {
            Item::new(
                "key",
                Payload::Binary {
                    file_name: name.into(),
                    bytes: bytes.to_vec(),
                },
            )
        };
        let merged = merge(&bin("a", b"1"), &bin("b", b"1"), &bin("a", b"2")).unwrap();
        assert_eq!(merged, bin("b", b"2"));
        assert_eq!(
            conflicts(&bin("a", b"1"), &bin("a", b"2"), &bin("a", b"3")),
            ["content"]
        );
    }
}
