//! `update`: one event in, the new state and the effects to run out. Keys
//! go to the open dialog if there is one, else to the screen; results from
//! the vault worker land in the state. No I/O happens here: the only
//! clock read is tokio's `Instant::now()`, which tests pause and advance.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};
use gophkeeper_client::vault::{Entry, VaultStatus};
use tokio::time::Instant;

use super::event::{Effect, Event};
use super::screens::{
    audit, conflicts, connect, detail, dialogs, form, generator, list, passwd, sessions, unlock,
};
use super::state::{Overlay, ProfileInfo, Screen, State, VaultData};

/// The pure form: state and event in, state and effects out.
pub fn update(mut state: State, event: Event) -> (State, Vec<Effect>) {
    let effects = apply(&mut state, event);
    (state, effects)
}

/// The same, in place (what the run loop uses; no moves of a big struct).
pub fn apply(state: &mut State, event: Event) -> Vec<Effect> {
    match event {
        Event::Key(key) => on_key(state, key),
        Event::Resize => Vec::new(),
        Event::Mouse { kind, row, height } => on_mouse(state, kind, row, height),
        Event::Tick(unix_now) => on_tick(state, unix_now),
        Event::TrustQuestion { fingerprint } => {
            state.busy = None;
            state.overlay = Some(Overlay::Trust { fingerprint });
            Vec::new()
        }
        Event::Opened { entries, status } => {
            opened(state, entries, status);
            Vec::new()
        }
        Event::Loaded { entries, status } => {
            loaded(state, entries, status);
            Vec::new()
        }
        Event::Status(status) => {
            if let Some(vault) = &mut state.vault {
                vault.status = status;
            }
            Vec::new()
        }
        Event::Info(text) => {
            state.info(text);
            Vec::new()
        }
        Event::Failed(text) => {
            state.busy = None;
            state.error(text);
            match &mut state.screen {
                Screen::Unlock(form) => form.password.clear(),
                Screen::Connect(form) => form.clear_passwords(),
                _ => {}
            }
            Vec::new()
        }
        Event::Saved(text) => {
            state.busy = None;
            state.info(text);
            if matches!(state.screen, Screen::Form(_)) {
                state.screen = Screen::List;
            }
            Vec::new()
        }
        Event::FileRead { file_name, bytes } => {
            if let Screen::Form(form) = &mut state.screen {
                form.attach(file_name, bytes);
            }
            Vec::new()
        }
        Event::Sessions(list) => {
            state.busy = None;
            if let Screen::Sessions(view) = &mut state.screen {
                view.set(list);
            }
            Vec::new()
        }
        Event::Conflicts(list) => {
            state.busy = None;
            if let Screen::Conflicts(view) = &mut state.screen {
                view.set(list);
            }
            Vec::new()
        }
        Event::Audited(report) => {
            state.busy = None;
            if let Screen::Audit(view) = &mut state.screen {
                view.set(&report);
            }
            Vec::new()
        }
        Event::PasswordChanged => {
            state.busy = None;
            state.screen = Screen::List;
            state.info("master password changed; other devices must log in again");
            Vec::new()
        }
    }
}

fn on_tick(state: &mut State, unix_now: u64) -> Vec<Effect> {
    state.spinner = state.spinner.wrapping_add(1);
    state.unix_now = unix_now;
    match state.lock_deadline() {
        Some(deadline) if Instant::now() >= deadline => lock(state, "locked after being idle"),
        _ => Vec::new(),
    }
}

/// Wipes every decrypted item and asks the worker to drop the keys.
pub fn lock(state: &mut State, why: &str) -> Vec<Effect> {
    state.vault = None;
    state.overlay = None;
    state.busy = None;
    state.screen = Screen::Unlock(unlock::UnlockForm::default());
    state.info(why);
    vec![Effect::Lock]
}

fn opened(state: &mut State, entries: Vec<Entry>, status: VaultStatus) {
    state.busy = None;
    state.profile = Some(ProfileInfo {
        username: status.username.clone(),
        server: status.server.clone(),
    });
    let count = entries.len();
    state.vault = Some(VaultData::new(entries, status));
    state.screen = Screen::List;
    state.overlay = None;
    state.last_activity = Instant::now();
    state.info(format!("vault open: {count} items; ? for help"));
}

fn loaded(state: &mut State, entries: Vec<Entry>, status: VaultStatus) {
    let Some(vault) = &mut state.vault else {
        // Locked meanwhile: what arrives late is dropped (and wiped).
        return;
    };
    let keep = vault.list.selected_id(&vault.entries);
    vault.entries = entries;
    vault.status = status;
    vault.list.refilter_keeping(&vault.entries, keep);
    if let Screen::Detail(view) = &state.screen
        && vault.entry(view.id).is_none()
    {
        state.screen = Screen::List;
        state.info("the item was deleted");
    }
}

/// The wheel moves like the arrow keys wherever those move something; a
/// click on a list row selects it, a click on the selected row opens it.
fn on_mouse(state: &mut State, kind: MouseEventKind, row: u16, height: u16) -> Vec<Effect> {
    let arrow = |code| KeyEvent::new(code, KeyModifiers::NONE);
    match kind {
        MouseEventKind::ScrollUp => on_key(state, arrow(KeyCode::Up)),
        MouseEventKind::ScrollDown => on_key(state, arrow(KeyCode::Down)),
        MouseEventKind::Down(MouseButton::Left)
            if state.overlay.is_none()
                && state.busy.is_none()
                && matches!(state.screen, Screen::List) =>
        {
            state.last_activity = Instant::now();
            list::on_click(state, row, height);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    state.last_activity = Instant::now();
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        state.quit = true;
        return vec![Effect::Quit];
    }
    if state.busy.is_some() {
        return Vec::new();
    }
    if key.code == KeyCode::F(1) {
        state.overlay = Some(Overlay::Help);
        return Vec::new();
    }
    if let Some(overlay) = &state.overlay {
        return match overlay {
            Overlay::Help => {
                state.overlay = None;
                Vec::new()
            }
            Overlay::Generator(_) => generator::on_key(state, key),
            Overlay::Confirm(_) | Overlay::Trust { .. } | Overlay::SavePath { .. } => {
                dialogs::on_key(state, key)
            }
        };
    }
    if shares_vault_keys(state)
        && let Some(effects) = vault_keys(state, key)
    {
        return effects;
    }
    match &state.screen {
        Screen::Connect(_) => connect::on_key(state, key),
        Screen::Unlock(_) => unlock::on_key(state, key),
        Screen::List => list::on_key(state, key),
        Screen::Detail(_) => detail::on_key(state, key),
        Screen::Form(_) => form::on_key(state, key),
        Screen::Sessions(_) => sessions::on_key(state, key),
        Screen::Passwd(_) => passwd::on_key(state, key),
        Screen::Conflicts(_) => conflicts::on_key(state, key),
        Screen::Audit(_) => audit::on_key(state, key),
    }
}

/// Whether the screen takes the keys every vault screen shares: the
/// browsing screens do, unless a text field has the keyboard (typing `q`
/// into the search must not quit). Handled here, before the screen sees
/// the key, so that screens never call back up into `update`.
fn shares_vault_keys(state: &State) -> bool {
    match &state.screen {
        Screen::List => !state.vault.as_ref().is_some_and(|v| v.list.searching),
        Screen::Detail(_) | Screen::Sessions(_) | Screen::Conflicts(_) | Screen::Audit(_) => true,
        Screen::Connect(_) | Screen::Unlock(_) | Screen::Form(_) | Screen::Passwd(_) => false,
    }
}

/// Keys every vault screen shares; `None` if the key is not one of them.
fn vault_keys(state: &mut State, key: KeyEvent) -> Option<Vec<Effect>> {
    let effects = match key.code {
        KeyCode::Char('?') => {
            state.overlay = Some(Overlay::Help);
            Vec::new()
        }
        KeyCode::Char('q') => {
            state.quit = true;
            vec![Effect::Quit]
        }
        KeyCode::Char('L') => lock(state, "locked"),
        KeyCode::Char('s') => {
            state.info("syncing…");
            vec![Effect::Sync]
        }
        KeyCode::Char('g') => {
            state.overlay = Some(Overlay::Generator(generator::Generator::new(
                generator::Target::Clipboard,
            )));
            Vec::new()
        }
        KeyCode::Char('S') => {
            state.screen = Screen::Sessions(sessions::SessionsView::default());
            state.busy = Some("loading sessions".into());
            vec![Effect::LoadSessions]
        }
        KeyCode::Char('P') => {
            state.screen = Screen::Passwd(passwd::PasswdForm::default());
            Vec::new()
        }
        KeyCode::Char('C') => {
            state.screen = Screen::Conflicts(conflicts::ConflictsView::default());
            state.busy = Some("loading conflicts".into());
            vec![Effect::LoadConflicts]
        }
        KeyCode::Char('A') => {
            state.screen = Screen::Audit(audit::AuditView::default());
            state.busy = Some("auditing".into());
            vec![Effect::Audit]
        }
        _ => return None,
    };
    Some(effects)
}
