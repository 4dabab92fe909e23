//! Concurrent edits of one record on two devices: the conflict is reported,
//! no version is lost, and each way of resolving it works.

use gophkeeper_client::item::{CustomField, Item, Payload};
use gophkeeper_client::vault::{EntryState, Resolution, Vault, VaultError};
use uuid::Uuid;

use crate::helpers::{Device, TestServer, note, text_of};

/// Both devices edit `id` from the same base; B's edit conflicts.
async fn clash(a: &Vault, b: &Vault, id: Uuid, name: &str, round: u32) {
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let mine = format!("B's version {round}");
    let theirs = format!("A's version {round}");
    let saved = a.edit(id, &note(name, &theirs)).await.unwrap();
    assert_eq!(saved.report.applied, 1);
    let saved = b.edit(id, &note(name, &mine)).await.unwrap();
    assert_eq!(saved.report.conflicts, vec![id], "{:?}", saved.report);
    // Both versions are there to see.
    let conflicts = b.conflicts().await.unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(text_of(conflicts[0].mine.as_ref().unwrap()), mine);
    assert_eq!(text_of(conflicts[0].theirs.as_ref().unwrap()), theirs);
    assert_eq!(
        b.get(&id.to_string()).await.unwrap().state,
        EntryState::Conflict
    );
    // A record in conflict cannot be edited until resolved.
    assert!(matches!(
        b.edit(id, &note(name, "third")).await,
        Err(VaultError::InConflict(_))
    ));
}

fn texts(list: &[gophkeeper_client::vault::Entry]) -> Vec<String> {
    let mut texts: Vec<String> = list.iter().map(|e| text_of(&e.item)).collect();
    texts.sort();
    texts
}

#[tokio::test]
async fn each_resolution_keeps_what_was_chosen_and_loses_nothing_else() {
    let server = TestServer::start().await;
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(&server, "alice").await;
    let vault_b = b.login(&server, "alice").await;
    let id = vault_a.add(&note("doc", "base")).await.unwrap().record_id;

    // Keep theirs: B ends up with A's version.
    clash(&vault_a, &vault_b, id, "doc", 1).await;
    let resolved = vault_b.resolve(id, Resolution::KeepTheirs).await.unwrap();
    assert_eq!(resolved.new_record_id, None);
    assert_eq!(texts(&vault_b.list().await.unwrap()), ["A's version 1"]);
    assert_eq!(vault_b.get("doc").await.unwrap().state, EntryState::Synced);

    // Keep mine: B's version replaces A's everywhere.
    clash(&vault_a, &vault_b, id, "doc", 2).await;
    let resolved = vault_b.resolve(id, Resolution::KeepMine).await.unwrap();
    assert_eq!(resolved.report.applied, 1, "{:?}", resolved.report);
    vault_a.sync().await.unwrap();
    assert_eq!(texts(&vault_a.list().await.unwrap()), ["B's version 2"]);

    // Keep both: B's version becomes a second record.
    clash(&vault_a, &vault_b, id, "doc", 3).await;
    let resolved = vault_b.resolve(id, Resolution::KeepBoth).await.unwrap();
    let copy = resolved.new_record_id.unwrap();
    assert_ne!(copy, id);
    vault_a.sync().await.unwrap();
    let both = ["A's version 3", "B's version 3"];
    assert_eq!(texts(&vault_a.list().await.unwrap()), both);
    assert_eq!(texts(&vault_b.list().await.unwrap()), both);
    assert!(vault_b.conflicts().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_edit_of_a_record_deleted_elsewhere_can_come_back_under_a_new_id() {
    let server = TestServer::start().await;
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(&server, "bob").await;
    let vault_b = b.login(&server, "bob").await;
    let id = vault_a.add(&note("gone", "v1")).await.unwrap().record_id;
    vault_b.sync().await.unwrap();

    vault_a.delete(id).await.unwrap();
    let saved = vault_b.edit(id, &note("gone", "still mine")).await.unwrap();
    assert_eq!(saved.report.conflicts, vec![id]);
    let conflict = vault_b.conflicts().await.unwrap().remove(0);
    assert!(conflict.theirs.is_none(), "theirs is a deletion");
    // Mine stays visible while the conflict is open.
    assert_eq!(
        text_of(&vault_b.get("gone").await.unwrap().item),
        "still mine"
    );

    let resolved = vault_b.resolve(id, Resolution::KeepMine).await.unwrap();
    let new_id = resolved.new_record_id.unwrap();
    assert_ne!(new_id, id, "a deleted id cannot live again");
    vault_a.sync().await.unwrap();
    let entry = vault_a.get("gone").await.unwrap();
    assert_eq!(
        (entry.id, text_of(&entry.item)),
        (new_id, "still mine".into())
    );

    // A delete that meets an edit: keep theirs brings the edit back.
    vault_b.sync().await.unwrap();
    vault_a
        .edit(new_id, &note("gone", "edited by A"))
        .await
        .unwrap();
    let saved = vault_b.delete(new_id).await.unwrap();
    assert_eq!(saved.report.conflicts, vec![new_id]);
    assert!(vault_b.conflicts().await.unwrap()[0].mine.is_none());
    vault_b
        .resolve(new_id, Resolution::KeepTheirs)
        .await
        .unwrap();
    assert_eq!(
        text_of(&vault_b.get("gone").await.unwrap().item),
        "edited by A"
    );
}

#[tokio::test]
async fn an_edit_based_on_what_the_person_saw_conflicts_with_a_change_pulled_since() {
    let server = TestServer::start().await;
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(&server, "erin").await;
    let vault_b = b.login(&server, "erin").await;
    let id = vault_a.add(&note("plan", "v1")).await.unwrap().record_id;
    vault_b.sync().await.unwrap();
    // B shows the item; meanwhile A changes it and B pulls that change.
    let seen = vault_b.get("plan").await.unwrap();
    vault_a.edit(id, &note("plan", "A's v2")).await.unwrap();
    vault_b.sync().await.unwrap();
    assert_eq!(text_of(&vault_b.get("plan").await.unwrap().item), "A's v2");

    // B's edit of what it showed must not silently replace A's version.
    let saved = vault_b
        .edit_from(id, seen.revision, &note("plan", "B's v2"))
        .await
        .unwrap();
    assert_eq!(saved.report.conflicts, vec![id], "{:?}", saved.report);
    let conflict = vault_b.conflicts().await.unwrap().remove(0);
    assert_eq!(text_of(conflict.mine.as_ref().unwrap()), "B's v2");
    assert_eq!(text_of(conflict.theirs.as_ref().unwrap()), "A's v2");
    vault_b.resolve(id, Resolution::KeepMine).await.unwrap();
    vault_a.sync().await.unwrap();
    assert_eq!(text_of(&vault_a.get("plan").await.unwrap().item), "B's v2");

    // Based on the current revision it simply applies.
    let current = vault_a.get("plan").await.unwrap();
    let saved = vault_a
        .edit_from(id, current.revision, &note("plan", "v3"))
        .await
        .unwrap();
    assert_eq!(saved.report.applied, 1, "{:?}", saved.report);

    // Deleted elsewhere after it was shown: a conflict too, mine kept.
    vault_b.sync().await.unwrap();
    let seen = vault_b.get("plan").await.unwrap();
    vault_a.delete(id).await.unwrap();
    vault_b.sync().await.unwrap();
    assert!(matches!(
        vault_b.get("plan").await,
        Err(VaultError::NotFound(_))
    ));
    let saved = vault_b
        .edit_from(id, seen.revision, &note("plan", "B keeps it"))
        .await
        .unwrap();
    assert_eq!(saved.report.conflicts, vec![id]);
    assert!(vault_b.conflicts().await.unwrap()[0].theirs.is_none());
    assert!(matches!(
        vault_b.edit_from(Uuid::new_v4(), 1, &note("x", "y")).await,
        Err(VaultError::NotFound(_))
    ));
}

fn login(name: &str, password: &str) -> Item {
    Item::new(
        name,
        Payload::Login {
            username: "alice".into(),
            password: password.into(),
            urls: vec!["bank.example".into()],
            totp: None,
        },
    )
}

fn set_password(item: &mut Item, value: &str) {
    let Payload::Login { password, .. } = &mut item.payload else {
        panic!("not a login");
    };
    *password = value.into();
}

#[tokio::test]
async fn edits_of_different_fields_merge_and_the_same_field_conflicts() {
    let server = TestServer::start().await;
    let (a, b) = (Device::new(), Device::new());
    let vault_a = a.register(&server, "alice").await;
    let vault_b = b.login(&server, "alice").await;
    let id = vault_a.add(&login("bank", "old")).await.unwrap().record_id;
    vault_a.sync().await.unwrap();
    vault_b.sync().await.unwrap();

    // From the same base, A changes the password and B the notes and a
    // custom field; B pushes second and meets A's version.
    let mut on_a = vault_a.get("bank").await.unwrap().item;
    set_password(&mut on_a, "new");
    assert_eq!(vault_a.edit(id, &on_a).await.unwrap().report.applied, 1);
    let mut on_b = vault_b.get("bank").await.unwrap().item;
    on_b.notes = "call first".into();
    on_b.fields.push(CustomField::new("pin", "1234"));
    let saved = vault_b.edit(id, &on_b).await.unwrap();
    assert!(saved.report.conflicts.is_empty(), "{:?}", saved.report);
    assert!(vault_b.conflicts().await.unwrap().is_empty());

    // Both devices end with both changes, as one record.
    vault_a.sync().await.unwrap();
    vault_b.sync().await.unwrap();
    for vault in [&vault_a, &vault_b] {
        let list = vault.list().await.unwrap();
        assert_eq!(list.len(), 1);
        let entry = vault.get("bank").await.unwrap();
        assert_eq!(entry.state, EntryState::Synced);
        assert_eq!(text_of(&entry.item), "new");
        assert_eq!(entry.item.notes, "call first");
        assert_eq!(entry.item.fields, [CustomField::new("pin", "1234")]);
    }

    // The same field changed differently on both sides still conflicts.
    let mut on_a = vault_a.get("bank").await.unwrap().item;
    set_password(&mut on_a, "A's");
    assert_eq!(vault_a.edit(id, &on_a).await.unwrap().report.applied, 1);
    let mut on_b = vault_b.get("bank").await.unwrap().item;
    set_password(&mut on_b, "B's");
    on_b.notes = "B's notes".into();
    let saved = vault_b.edit(id, &on_b).await.unwrap();
    assert_eq!(saved.report.conflicts, vec![id], "{:?}", saved.report);
    let conflict = vault_b.conflicts().await.unwrap().remove(0);
    assert_eq!(text_of(conflict.mine.as_ref().unwrap()), "B's");
    assert_eq!(text_of(conflict.theirs.as_ref().unwrap()), "A's");
}
