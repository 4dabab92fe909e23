//! Every screen and dialog drawn on ratatui's `TestBackend` at 80×24 (the
//! smallest terminal the vault promises to work in), compared with the
//! stored snapshots in `snapshots/`. Secrets in the sample vault must
//! show as dots or last-four in every one of them.

use crossterm::event::KeyCode;
use gophkeeper_client::item::{Item, ItemKind, Payload};
use gophkeeper_client::vault::{ConflictView, DeviceSession};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::event::Event;
use super::render::render;
use super::screens::{conflicts::ConflictsView, generator, sessions::SessionsView};
use super::state::{Overlay, Screen, State};
use super::tests::{ctrl, key, locked, opened, typed};
use super::update::apply;
use crate::output::time::Clock;

fn draw(state: &State) -> String {
    draw_at(state, 80, 24)
}

fn draw_at(state: &State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| render(state, frame)).unwrap();
    let text = terminal.backend().to_string();
    for secret in [
        "bank-password",
        "gh-password-1",
        "4321",
        "4111 1111",
        "JBSWY3DP",
    ] {
        assert!(!text.contains(secret), "{secret} on screen:\n{text}");
    }
    text
}

#[test]
fn connect() {
    let mut state = State::new(Default::default(), None, "https://vault.example:443");
    typed(&mut state, "ann");
    apply(&mut state, key(KeyCode::Tab));
    typed(&mut state, "secret");
    insta::assert_snapshot!(draw(&state));
    apply(&mut state, key(KeyCode::F(2)));
    insta::assert_snapshot!("connect_register", draw(&state));
    apply(
        &mut state,
        Event::TrustQuestion {
            fingerprint: "SHA256:9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B"
                .into(),
        },
    );
    insta::assert_snapshot!("connect_trust", draw(&state));
}

/// A weak new master password: the form says why, with zxcvbn's advice.
#[test]
fn connect_register_weak() {
    let mut state = State::new(Default::default(), None, "https://vault.example:443");
    typed(&mut state, "ann");
    apply(&mut state, key(KeyCode::Tab));
    typed(&mut state, "ann2026ann");
    apply(&mut state, key(KeyCode::F(2)));
    apply(&mut state, key(KeyCode::Tab));
    typed(&mut state, "ann2026ann");
    apply(&mut state, key(KeyCode::Enter));
    assert!(state.busy.is_none(), "nothing sent");
    insta::assert_snapshot!(draw(&state));
}

#[test]
fn unlock_and_busy() {
    let mut state = locked();
    typed(&mut state, "secret");
    insta::assert_snapshot!(draw(&state));
    apply(&mut state, key(KeyCode::Enter));
    insta::assert_snapshot!("unlock_busy", draw(&state));
}

#[test]
fn list() {
    let state = opened();
    insta::assert_snapshot!(draw(&state));
}

#[test]
fn list_searching_and_filtered() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Char('/')));
    typed(&mut state, "gi");
    insta::assert_snapshot!(draw(&state));
    apply(&mut state, key(KeyCode::Esc));
    apply(&mut state, key(KeyCode::Tab));
    apply(&mut state, key(KeyCode::Tab));
    apply(&mut state, key(KeyCode::Tab));
    insta::assert_snapshot!("list_files_only", draw(&state));
}

#[test]
fn list_resizes() {
    let state = opened();
    insta::assert_snapshot!(draw_at(&state, 120, 30));
}

#[test]
fn detail_login_masked() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Down));
    apply(&mut state, key(KeyCode::Down));
    apply(&mut state, key(KeyCode::Enter));
    insta::assert_snapshot!(draw(&state));
}

#[test]
fn detail_card_and_file() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::End));
    for _ in 0..4 {
        apply(&mut state, key(KeyCode::Down));
    }
    apply(&mut state, key(KeyCode::Enter));
    insta::assert_snapshot!("detail_card", draw(&state));
    apply(&mut state, key(KeyCode::Esc));
    apply(&mut state, key(KeyCode::Up));
    apply(&mut state, key(KeyCode::Enter));
    insta::assert_snapshot!("detail_file", draw(&state));
    apply(&mut state, key(KeyCode::Char('o')));
    insta::assert_snapshot!("detail_file_save", draw(&state));
}

#[test]
fn forms() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Char('a')));
    typed(&mut state, "Mail");
    apply(&mut state, key(KeyCode::Tab));
    typed(&mut state, "ann");
    apply(&mut state, key(KeyCode::Tab));
    typed(&mut state, "hunter22");
    apply(&mut state, key(KeyCode::Tab));
    typed(&mut state, "not a url!");
    insta::assert_snapshot!("form_login", draw(&state));
    let mut state = opened();
    apply(&mut state, key(KeyCode::Char('a')));
    for _ in 0..3 {
        apply(&mut state, key(KeyCode::F(2)));
    }
    apply(&mut state, ctrl('s'));
    insta::assert_snapshot!("form_card_errors", draw(&state));
    let mut state = opened();
    apply(&mut state, key(KeyCode::Char('a')));
    for _ in 0..2 {
        apply(&mut state, key(KeyCode::F(2)));
    }
    typed(&mut state, "Scan");
    apply(&mut state, key(KeyCode::Tab));
    typed(&mut state, "/home/ann/scan.pdf");
    apply(
        &mut state,
        Event::FileRead {
            file_name: "scan.pdf".into(),
            bytes: Zeroizing::new(vec![0; 2048]),
        },
    );
    insta::assert_snapshot!("form_file", draw(&state));
}

#[test]
fn form_text_edit() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Down));
    apply(&mut state, key(KeyCode::Char('e')));
    insta::assert_snapshot!(draw(&state));
}

#[test]
fn generator() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Char('g')));
    let Some(Overlay::Generator(generator)) = &mut state.overlay else {
        panic!();
    };
    generator.value = Zeroizing::new("Xq7#pR2!vL9@mZ4&kT8w".into());
    insta::assert_snapshot!(draw(&state));
    assert_eq!(generator::Target::Clipboard, generator::Target::Clipboard);
}

#[test]
fn help() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Char('?')));
    insta::assert_snapshot!(draw(&state));
}

#[test]
fn delete_confirm() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Char('d')));
    insta::assert_snapshot!(draw(&state));
}

#[test]
fn sessions() {
    let mut state = opened();
    let mut view = SessionsView::default();
    view.set(vec![
        DeviceSession {
            session_id: "s1".into(),
            device_name: "gophkeeper vault on laptop".into(),
            created_at_ms: 1_764_000_000_000,
            last_seen_at_ms: 1_764_095_400_000,
            current: true,
        },
        DeviceSession {
            session_id: "s2".into(),
            device_name: "gophkeeper CLI on phone".into(),
            created_at_ms: 1_763_000_000_000,
            last_seen_at_ms: 1_764_090_000_000,
            current: false,
        },
    ]);
    view.selected = 1;
    state.screen = Screen::Sessions(view);
    insta::assert_snapshot!(draw(&state));
    apply(&mut state, key(KeyCode::Char('x')));
    insta::assert_snapshot!("sessions_revoke", draw(&state));
}

#[test]
fn times_are_shown_in_the_configured_zone() {
    let mut state = opened();
    let zone = jiff::tz::TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
    state.config.clock = Clock::in_zone(zone);
    let mut view = SessionsView::default();
    view.set(vec![DeviceSession {
        session_id: "s1".into(),
        device_name: "gophkeeper vault on laptop".into(),
        created_at_ms: 1_764_000_000_000,
        last_seen_at_ms: 1_764_095_400_000,
        current: true,
    }]);
    state.screen = Screen::Sessions(view);
    let text = draw(&state);
    // 2025-11-24 16:00 and 2025-11-25 18:30 UTC, in winter.
    assert!(
        text.contains("since 2025-11-24 17:00 CET  seen 19:30 CET"),
        "{text}"
    );
    assert!(text.contains("last sync 19:30 CET ·"), "{text}");
}

#[test]
fn passwd() {
    let mut state = opened();
    apply(&mut state, key(KeyCode::Char('P')));
    typed(&mut state, "old one");
    apply(&mut state, key(KeyCode::Tab));
    typed(&mut state, "new");
    apply(&mut state, key(KeyCode::Tab));
    typed(&mut state, "new");
    apply(&mut state, key(KeyCode::Enter));
    insta::assert_snapshot!(draw(&state));
}

#[test]
fn conflict() {
    let mut state = opened();
    let theirs = Item::new(
        "Bank",
        Payload::Login {
            username: "ann.smith".into(),
            password: "bank-password".into(),
            urls: vec!["https://bank.example".into()],
            totp: None,
        },
    );
    let mut mine = theirs.clone();
    mine.notes = "changed on this laptop".into();
    if let Payload::Login { password, .. } = &mut mine.payload {
        *password = "gh-password-1".into();
    }
    let mut view = ConflictsView::default();
    view.set(vec![ConflictView {
        record_id: Uuid::nil(),
        mine: Some(mine),
        theirs: Some(theirs),
        theirs_revision: 9,
    }]);
    state.screen = Screen::Conflicts(view);
    insta::assert_snapshot!(draw(&state));
    assert_eq!(ItemKind::Login.name(), "login");
}

#[test]
fn tampered_records_stay_in_the_status_bar() {
    let mut state = opened();
    state.vault.as_mut().unwrap().status.tampered = 2;
    let screen = draw(&state);
    assert!(screen.contains("2 TAMPERED, refused"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn offline_status_and_lock() {
    let mut state = opened();
    let vault = state.vault.as_mut().unwrap();
    vault.status.online = false;
    vault.status.pending = 2;
    vault.status.watching = false;
    insta::assert_snapshot!(draw(&state));
    apply(&mut state, key(KeyCode::Char('L')));
    insta::assert_snapshot!("locked", draw(&state));
}

/// Names, notes and messages can come from the server or an import.
/// ratatui (0.30) drops control characters itself, silently; the vault
/// shows each one escaped instead, so a person sees that something was
/// there and a newline cannot make a row of its own.
#[test]
fn control_characters_show_escaped() {
    let mut state = locked();
    let mut hostile = super::tests::login(
        "pay\x1b]52;c;aGVsbG8=\x07\x1b[2J\rpal\nkind: fake",
        "me\x1b[31m",
        "pw",
    );
    hostile.item.notes = "line one\r\n\x1b[2Jline two\tend".into();
    apply(
        &mut state,
        Event::Opened {
            entries: vec![hostile],
            status: super::tests::status(),
        },
    );
    state.error("the server says \x1b[2J\rno");
    let shown = |state: &State| {
        let text = draw_at(state, 120, 30);
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| c.is_control() && c != '\n')
            .collect();
        assert!(bad.is_empty(), "{bad:?} in\n{text}");
        text
    };
    let list = shown(&state);
    for part in [
        r"pay\u{1b}]52;c;aGVsbG8=\u{7}\u{1b}[2J\rpal\nkind",
        r"me\u{1b}[31m",
        r"the server says \u{1b}[2J\rno",
    ] {
        assert!(list.contains(part), "{part} not in\n{list}");
    }
    apply(&mut state, key(KeyCode::Enter));
    let detail = shown(&state);
    for part in [
        r"name: pay\u{1b}]52;c;aGVsbG8=\u{7}\u{1b}[2J\rpal\nkind: fake",
        "notes: line one ",
        r"\u{1b}[2Jline two    end",
    ] {
        assert!(detail.contains(part), "{part} not in\n{detail}");
    }
    assert!(
        !detail
            .lines()
            .any(|l| l.trim_start_matches([' ', '│']).starts_with("kind: fake")),
        "{detail}"
    );
}

/// `A` audits the vault off the screen's thread; the report lists items
/// by name under each finding, and Enter opens the one selected.
#[test]
fn audit() {
    let mut state = opened();
    let effects = apply(&mut state, key(KeyCode::Char('A')));
    assert!(matches!(effects.as_slice(), [super::event::Effect::Audit]));
    assert!(state.busy.is_some());
    let entries = &state.vault.as_ref().unwrap().entries;
    // 2025-11-25: a year and more after the sample's record times.
    let report = gophkeeper_client::vault::audit_at(entries, 1_764_095_400_000);
    assert!(!report.is_clean());
    apply(&mut state, Event::Audited(report));
    assert!(state.busy.is_none());
    insta::assert_snapshot!(draw(&state));
    apply(&mut state, key(KeyCode::Down));
    apply(&mut state, key(KeyCode::Enter));
    assert!(matches!(state.screen, Screen::Detail(_)));
}
