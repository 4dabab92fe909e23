//! `update` without a terminal: search, forms, dialogs, the idle lock
//! (on tokio's paused clock) and what arrives from the worker.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gophkeeper_client::item::{CardExpiry, Item, ItemKind, Payload};
use gophkeeper_client::vault::{Entry, EntryState, VaultStatus};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::event::{Effect, Event};
use super::screens::form::Role;
use super::state::{Config, Confirm, Overlay, ProfileInfo, Screen, State};
use super::update::{apply, update};

pub fn status() -> VaultStatus {
    VaultStatus {
        server: "https://127.0.0.1:50051".into(),
        username: "ann".into(),
        user_id: Uuid::nil(),
        online: true,
        logged_in: true,
        pending: 0,
        conflicts: 0,
        tampered: 0,
        last_sync_ms: Some(1_764_095_400_000),
        watching: true,
    }
}

pub fn entry(item: Item) -> Entry {
    Entry {
        id: Uuid::new_v4(),
        revision: 3,
        state: EntryState::Synced,
        updated_at_ms: 1_700_000_000_000,
        item,
    }
}

pub fn login(name: &str, user: &str, password: &str) -> Entry {
    entry(Item::new(
        name,
        Payload::Login {
            username: user.into(),
            password: password.into(),
            urls: vec![format!("https://{}.example", name.to_lowercase())],
            totp: None,
        },
    ))
}

pub fn sample() -> Vec<Entry> {
    let mut github = login("GitHub", "octocat", "gh-password-1");
    if let Payload::Login { totp, .. } = &mut github.item.payload {
        *totp = Some("JBSWY3DPEHPK3PXP".into());
    }
    github.item.notes = "recovery codes in the safe".into();
    github
        .item
        .fields
        .push(gophkeeper_client::item::CustomField::hidden("pin", "4321"));
    vec![
        login("Bank", "ann.smith", "bank-password"),
        entry(Item::new(
            "Diary",
            Payload::Text {
                text: "dear diary\nsecond line".into(),
            },
        )),
        github,
        entry(Item::new(
            "Passport scan",
            Payload::Binary {
                file_name: "passport.pdf".into(),
                bytes: vec![1, 2, 3, 4],
            },
        )),
        entry(Item::new(
            "Visa",
            Payload::Card {
                holder: "ANN SMITH".into(),
                number: "4111 1111 1111 1111".into(),
                expiry: CardExpiry {
                    month: 8,
                    year: 2031,
                },
                cvv: "123".into(),
            },
        )),
    ]
}

pub fn locked() -> State {
    State::new(
        Config::default(),
        Some(ProfileInfo {
            username: "ann".into(),
            server: "https://127.0.0.1:50051".into(),
        }),
        "https://127.0.0.1:50051",
    )
}

pub fn opened() -> State {
    let mut state = locked();
    apply(
        &mut state,
        Event::Opened {
            entries: sample(),
            status: status(),
        },
    );
    apply(&mut state, Event::Tick(1_764_095_400));
    state
}

pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn typed(state: &mut State, text: &str) {
    for c in text.chars() {
        apply(state, key(KeyCode::Char(c)));
    }
}

fn shown(state: &State) -> Vec<String> {
    let vault = state.vault.as_ref().unwrap();
    vault
        .list
        .filtered
        .iter()
        .map(|&i| vault.entries[i].item.name.clone())
        .collect()
}

#[test]
fn search_filters_as_you_type_and_esc_clears() {
    let mut state = opened();
    assert_eq!(shown(&state).len(), 5);
    apply(&mut state, key(KeyCode::Char('/')));
    typed(&mut state, "gh");
    assert_eq!(shown(&state), ["GitHub"]);
    // Letters are search text while searching, not commands.
    typed(&mut state, "q");
    assert!(!state.quit);
    apply(&mut state, key(KeyCode::Backspace));
    apply(&mut state, key(KeyCode::Enter));
    assert_eq!(shown(&state), ["GitHub"]);
    apply(&mut state, key(KeyCode::Esc));
    assert_eq!(shown(&state).len(), 5);
}

#[test]
fn tab_cycles_the_kind_filter() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Tab));
    assert_eq!(shown(&state), ["Bank", "GitHub"]);
    apply(&mut state, key(KeyCode::Tab));
    assert_eq!(shown(&state), ["Diary"]);
    apply(&mut state, key(KeyCode::Tab));
    apply(&mut state, key(KeyCode::Tab));
    assert_eq!(shown(&state), ["Visa"]);
    apply(&mut state, key(KeyCode::Tab));
    assert_eq!(shown(&state).len(), 5);
}

#[test]
fn copy_keys_make_copy_effects_and_say_why_not() {
    let mut state = opened();
    // Bank is first.
    let effects = apply(&mut state, key(KeyCode::Char('c')));
    let [Effect::Copy { what, text }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!((*what, text.as_str()), ("password", "bank-password"));
    let effects = apply(&mut state, key(KeyCode::Char('t')));
    assert!(effects.is_empty());
    assert!(matches!(&state.flash, Some(super::state::Flash::Error(e)) if e.contains("TOTP")));
    apply(&mut state, key(KeyCode::Down));
    apply(&mut state, key(KeyCode::Down));
    let effects = apply(&mut state, key(KeyCode::Char('t')));
    let [Effect::Copy { what, text }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(*what, "TOTP code");
    assert_eq!(text.len(), 6);
}

#[test]
fn delete_asks_first() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Char('d')));
    assert!(
        matches!(state.overlay, Some(Overlay::Confirm(Confirm::Delete { ref name, .. })) if name == "Bank")
    );
    assert!(apply(&mut state, key(KeyCode::Char('n'))).is_empty());
    assert!(state.overlay.is_none());
    apply(&mut state, key(KeyCode::Char('d')));
    let effects = apply(&mut state, key(KeyCode::Char('y')));
    assert!(matches!(effects.as_slice(), [Effect::Delete { .. }]));
}

#[test]
fn detail_masks_until_revealed() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Enter));
    let Screen::Detail(view) = &state.screen else {
        panic!("{:?}", state.screen);
    };
    assert!(!view.reveal);
    apply(&mut state, key(KeyCode::Char('r')));
    assert!(matches!(&state.screen, Screen::Detail(v) if v.reveal));
    apply(&mut state, key(KeyCode::Esc));
    assert!(matches!(state.screen, Screen::List));
}

fn new_form(state: &mut State, kind: ItemKind) {
    apply(state, key(KeyCode::Char('a')));
    while !matches!(&state.screen, Screen::Form(f) if f.kind == kind) {
        apply(state, key(KeyCode::F(2)));
    }
}

fn form_error(state: &State, role: Role) -> Option<String> {
    let Screen::Form(form) = &state.screen else {
        panic!("not a form");
    };
    form.row(role).unwrap().error.clone()
}

fn focus(state: &mut State, role: Role) {
    while !matches!(&state.screen, Screen::Form(f) if f.rows[f.focus].role == role) {
        apply(state, key(KeyCode::Tab));
    }
}

#[test]
fn card_form_validates_as_you_type() {
    let mut state = opened();
    new_form(&mut state, ItemKind::Card);
    // Saving an empty form marks every bad field and sends nothing.
    assert!(apply(&mut state, ctrl('s')).is_empty());
    assert!(form_error(&state, Role::Name).is_some());
    assert!(form_error(&state, Role::Number).is_some());
    typed(&mut state, "Visa");
    assert_eq!(form_error(&state, Role::Name), None);
    focus(&mut state, Role::Number);
    typed(&mut state, "4111 1111 1111 1112");
    assert!(
        form_error(&state, Role::Number)
            .unwrap()
            .contains("check digit")
    );
    apply(&mut state, key(KeyCode::Backspace));
    typed(&mut state, "1");
    assert_eq!(form_error(&state, Role::Number), None);
    focus(&mut state, Role::Expiry);
    typed(&mut state, "13/30");
    assert!(
        form_error(&state, Role::Expiry)
            .unwrap()
            .contains("month 13")
    );
    apply(&mut state, ctrl('u'));
    typed(&mut state, "12/30");
    assert_eq!(form_error(&state, Role::Expiry), None);
    focus(&mut state, Role::Cvv);
    typed(&mut state, "12x");
    assert!(form_error(&state, Role::Cvv).is_some());
    apply(&mut state, key(KeyCode::Backspace));
    typed(&mut state, "3");
    let effects = apply(&mut state, ctrl('s'));
    let [Effect::Save { id: None, item, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert!(matches!(&item.payload, Payload::Card { cvv, .. } if cvv == "123"));
    assert_eq!(state.busy.as_deref(), Some("saving"));
    apply(&mut state, Event::Saved("saved".into()));
    assert!(matches!(state.screen, Screen::List));
}

#[test]
fn login_form_checks_urls_totp_and_custom_fields() {
    let mut state = opened();
    new_form(&mut state, ItemKind::Login);
    typed(&mut state, "Mail");
    focus(&mut state, Role::Urls);
    typed(&mut state, "mail.example, not a url!");
    assert!(form_error(&state, Role::Urls).is_some());
    apply(&mut state, ctrl('u'));
    typed(&mut state, "mail.example");
    assert_eq!(form_error(&state, Role::Urls), None);
    focus(&mut state, Role::Totp);
    typed(&mut state, "not base32 1");
    assert!(form_error(&state, Role::Totp).unwrap().contains("base32"));
    apply(&mut state, ctrl('u'));
    apply(&mut state, ctrl('n'));
    typed(&mut state, "no equals sign");
    assert!(
        form_error(&state, Role::Field(None))
            .unwrap()
            .contains("key=value")
    );
    apply(&mut state, ctrl('u'));
    typed(&mut state, "pin=1234");
    apply(&mut state, ctrl('t'));
    let effects = apply(&mut state, ctrl('s'));
    let [Effect::Save { item, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(item.fields.len(), 1);
    assert!(item.fields[0].hidden);
    assert_eq!(
        (item.fields[0].key.as_str(), item.fields[0].value.as_str()),
        ("pin", "1234")
    );
}

#[test]
fn files_over_the_record_limit_are_refused() {
    let mut state = opened();
    new_form(&mut state, ItemKind::Binary);
    typed(&mut state, "Big");
    // No file loaded yet.
    assert!(apply(&mut state, ctrl('s')).is_empty());
    assert!(
        form_error(&state, Role::FilePath)
            .unwrap()
            .contains("Ctrl-O")
    );
    focus(&mut state, Role::FilePath);
    assert!(apply(&mut state, ctrl('o')).is_empty());
    typed(&mut state, "/tmp/big.bin");
    let effects = apply(&mut state, ctrl('o'));
    assert!(matches!(effects.as_slice(), [Effect::ReadFile { path }] if path.ends_with("big.bin")));
    apply(
        &mut state,
        Event::FileRead {
            file_name: "big.bin".into(),
            bytes: Zeroizing::new(vec![0; 600 * 1024]),
        },
    );
    assert!(
        form_error(&state, Role::FilePath)
            .unwrap()
            .contains("limit is 512 KiB")
    );
    assert!(apply(&mut state, ctrl('s')).is_empty());
    apply(
        &mut state,
        Event::FileRead {
            file_name: "small.bin".into(),
            bytes: Zeroizing::new(vec![7; 1000]),
        },
    );
    let effects = apply(&mut state, ctrl('s'));
    assert!(matches!(effects.as_slice(), [Effect::Save { item, .. }]
        if matches!(&item.payload, Payload::Binary { file_name, bytes } if file_name == "small.bin" && bytes.len() == 1000)));
}

#[test]
fn editing_keeps_the_revision_shown() {
    let mut state = opened();
    let bank = state.vault.as_ref().unwrap().entries[0].id;
    apply(&mut state, key(KeyCode::Char('e')));
    focus(&mut state, Role::Password);
    apply(&mut state, ctrl('u'));
    typed(&mut state, "new password");
    let effects = apply(&mut state, ctrl('s'));
    let [
        Effect::Save {
            id,
            base_revision,
            item,
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!((*id, *base_revision), (Some(bank), 3));
    assert!(matches!(&item.payload, Payload::Login { password, .. } if password == "new password"));
}

#[test]
fn generator_fills_the_form_password() {
    let mut state = opened();
    new_form(&mut state, ItemKind::Login);
    apply(&mut state, ctrl('g'));
    let Some(Overlay::Generator(generator)) = &state.overlay else {
        panic!("no generator");
    };
    let value = generator.value.to_string();
    assert_eq!(value.len(), crate::generate::DEFAULT_LENGTH);
    apply(&mut state, key(KeyCode::Right));
    let Some(Overlay::Generator(generator)) = &state.overlay else {
        panic!("no generator");
    };
    let value = generator.value.to_string();
    assert_eq!(value.len(), crate::generate::DEFAULT_LENGTH + 1);
    apply(&mut state, key(KeyCode::Char('s')));
    let Some(Overlay::Generator(generator)) = &state.overlay else {
        panic!("no generator");
    };
    assert!(!generator.symbols);
    let value = generator.value.to_string();
    assert!(value.bytes().all(|b| b.is_ascii_alphanumeric()), "{value}");
    apply(&mut state, key(KeyCode::Enter));
    let Screen::Form(form) = &state.screen else {
        panic!();
    };
    assert_eq!(form.row(Role::Password).unwrap().input.value(), value);
}

#[tokio::test(start_paused = true)]
async fn idle_lock_wipes_the_items() {
    let mut state = opened();
    assert_eq!(state.config.idle_lock, Duration::from_secs(300));
    tokio::time::advance(Duration::from_secs(200)).await;
    apply(&mut state, key(KeyCode::Down));
    tokio::time::advance(Duration::from_secs(299)).await;
    assert!(apply(&mut state, Event::Tick(0)).is_empty());
    assert!(state.vault.is_some());
    tokio::time::sleep_until(state.lock_deadline().unwrap()).await;
    let (state, effects) = update(state, Event::Tick(0));
    assert!(matches!(effects.as_slice(), [Effect::Lock]));
    assert!(state.vault.is_none());
    assert!(state.lock_deadline().is_none());
    assert!(matches!(state.screen, Screen::Unlock(_)));
}

#[tokio::test(start_paused = true)]
async fn results_that_arrive_after_locking_are_dropped() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Char('L')));
    assert!(state.vault.is_none());
    apply(
        &mut state,
        Event::Loaded {
            entries: sample(),
            status: status(),
        },
    );
    assert!(state.vault.is_none());
}

#[test]
fn live_updates_keep_the_selection() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Down));
    apply(&mut state, key(KeyCode::Down));
    let mut entries = sample();
    let github = state.vault.as_ref().unwrap().entries[2].clone();
    entries.retain(|e| e.item.name != "GitHub");
    entries.push(github.clone());
    entries.insert(0, login("Aardvark", "a", "b"));
    entries.sort_by(|a, b| a.item.name.cmp(&b.item.name));
    apply(
        &mut state,
        Event::Loaded {
            entries,
            status: status(),
        },
    );
    let vault = state.vault.as_ref().unwrap();
    assert_eq!(vault.list.selected_id(&vault.entries), Some(github.id));
    assert_eq!(shown(&state).len(), 6);
}

#[test]
fn unlock_and_trust_flows() {
    let mut state = locked();
    assert!(apply(&mut state, key(KeyCode::Enter)).is_empty());
    typed(&mut state, "pw");
    let effects = apply(&mut state, key(KeyCode::Enter));
    assert!(matches!(effects.as_slice(), [Effect::Unlock { .. }]));
    assert!(state.busy.is_some());
    // Keys wait while busy, except quitting.
    assert!(apply(&mut state, key(KeyCode::Tab)).is_empty());
    apply(&mut state, Event::Failed("wrong master password".into()));
    assert!(state.busy.is_none());
    // Tab: log in again, user name filled in.
    apply(&mut state, key(KeyCode::Tab));
    let Screen::Connect(form) = &state.screen else {
        panic!();
    };
    assert_eq!(form.username.value(), "ann");
    typed(&mut state, "pw");
    assert!(matches!(
        apply(&mut state, key(KeyCode::Enter)).as_slice(),
        [Effect::Connect { accept: None, .. }]
    ));
    apply(
        &mut state,
        Event::TrustQuestion {
            fingerprint: "AB:CD".into(),
        },
    );
    assert!(matches!(state.overlay, Some(Overlay::Trust { .. })));
    let effects = apply(&mut state, key(KeyCode::Char('y')));
    assert!(
        matches!(effects.as_slice(), [Effect::Connect { accept: Some(fp), .. }] if fp == "AB:CD")
    );
    apply(
        &mut state,
        Event::TrustQuestion {
            fingerprint: "AB:CD".into(),
        },
    );
    assert!(apply(&mut state, key(KeyCode::Char('n'))).is_empty());
    assert!(state.overlay.is_none());
    let Screen::Connect(form) = &state.screen else {
        panic!();
    };
    assert!(form.password.is_empty());
}

#[test]
fn ctrl_c_quits_from_anywhere() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Char('?')));
    let effects = apply(&mut state, ctrl('c'));
    assert!(matches!(effects.as_slice(), [Effect::Quit]));
    assert!(state.quit);
}

fn mouse(kind: crossterm::event::MouseEventKind, row: u16, height: u16) -> Event {
    Event::Mouse { kind, row, height }
}

fn click(row: u16, height: u16) -> Event {
    use crossterm::event::{MouseButton, MouseEventKind};
    mouse(MouseEventKind::Down(MouseButton::Left), row, height)
}

/// The text drawn on terminal row `row` of a `height`-row terminal.
fn drawn_row(state: &State, row: u16, height: u16) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, height)).unwrap();
    terminal
        .draw(|frame| super::render::render(state, frame))
        .unwrap();
    let buffer = terminal.backend().buffer();
    (0..80).map(|x| buffer[(x, row)].symbol()).collect()
}

fn selected_name(state: &State) -> String {
    let vault = state.vault.as_ref().unwrap();
    let id = vault.list.selected_id(&vault.entries).unwrap();
    vault.entry(id).unwrap().item.name.clone()
}

fn many_opened() -> State {
    let mut state = locked();
    let entries = (0..40)
        .map(|i| login(&format!("Item {i:02}"), "user", "pw"))
        .collect();
    apply(
        &mut state,
        Event::Opened {
            entries,
            status: status(),
        },
    );
    state
}

#[test]
fn the_wheel_moves_the_selection_and_a_click_picks_the_row_it_was_drawn_on() {
    use crossterm::event::MouseEventKind;
    for height in [24, 40] {
        let mut state = many_opened();
        for _ in 0..30 {
            apply(&mut state, mouse(MouseEventKind::ScrollDown, 0, height));
        }
        apply(&mut state, mouse(MouseEventKind::ScrollUp, 0, height));
        assert_eq!(state.vault.as_ref().unwrap().list.selected, 29);
        // The list scrolled to keep item 29 in sight; click rows drawn above it.
        for row in [3, 7, height - 4] {
            let drawn = drawn_row(&state, row, height);
            apply(&mut state, click(row, height));
            let name = selected_name(&state);
            assert!(
                drawn.contains(&name),
                "row {row} shows {drawn:?}, selected {name}"
            );
            assert!(matches!(state.screen, Screen::List));
        }
        // A second click on the selected row opens it.
        let id = {
            let vault = state.vault.as_ref().unwrap();
            vault.list.selected_id(&vault.entries).unwrap()
        };
        apply(&mut state, click(height - 4, height));
        assert!(matches!(&state.screen, Screen::Detail(view) if view.id == id));
    }
}

#[test]
fn clicks_off_the_items_or_under_a_dialog_change_nothing() {
    let mut state = opened();
    let before = state.vault.as_ref().unwrap().list.selected;
    // The title, search row, top border, the empty rows past the five
    // items, the bottom border, the message and status rows.
    for row in [0, 1, 2, 8, 12, 20, 21, 22, 23] {
        apply(&mut state, click(row, 24));
        assert_eq!(
            state.vault.as_ref().unwrap().list.selected,
            before,
            "row {row}"
        );
        assert!(matches!(state.screen, Screen::List), "row {row}");
    }
    apply(&mut state, key(KeyCode::Char('?')));
    apply(&mut state, click(4, 24));
    assert_eq!(state.vault.as_ref().unwrap().list.selected, before);
    assert!(matches!(state.overlay, Some(Overlay::Help)));
}

/// The idle lock and quitting take a copied secret back at once, not
/// only when its time is up; the worker still hears of the lock.
#[tokio::test(start_paused = true)]
async fn locking_takes_a_copied_secret_back_from_the_clipboard() {
    use super::clipboard::Keeper;
    use super::clipboard::fake::{Fake, held};

    let fake = Fake::default();
    // Longer than the idle lock (300 s), so only the lock can clear it.
    let mut keeper = Keeper::new(Box::new(fake.clone()), Duration::from_secs(600));
    let mut state = opened();
    let copy = Effect::Copy {
        what: "password",
        text: Zeroizing::new("hunter2".into()),
    };
    assert!(super::on_screen(&mut state, &mut keeper, copy).is_none());
    assert_eq!(held(&fake).as_deref(), Some("hunter2"));

    tokio::time::sleep_until(state.lock_deadline().unwrap()).await;
    let forwarded: Vec<Effect> = apply(&mut state, Event::Tick(0))
        .into_iter()
        .filter_map(|effect| super::on_screen(&mut state, &mut keeper, effect))
        .collect();
    assert!(matches!(forwarded.as_slice(), [Effect::Lock]));
    assert!(keeper.deadline().is_none());
    assert_eq!(held(&fake), None, "cleared on lock, before its own time");
    assert!(super::on_screen(&mut state, &mut keeper, Effect::Quit).is_none());
}
