//! The locked vault: the master password opens the local copy, with or
//! without the network. Tab switches to logging in again (after a
//! password change elsewhere, or to another account's profile).

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use secrecy::SecretString;

use super::connect::ConnectForm;
use crate::app::event::Effect;
use crate::app::input::TextInput;
use crate::app::state::{Screen, State};
use crate::app::ui;

#[derive(Debug)]
pub struct UnlockForm {
    pub password: TextInput,
}

impl Default for UnlockForm {
    fn default() -> Self {
        Self {
            password: TextInput::secret(""),
        }
    }
}

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Screen::Unlock(form) = &mut state.screen else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Enter if form.password.is_empty() => {
            state.error("type the master password");
            Vec::new()
        }
        KeyCode::Enter => {
            let password = SecretString::from(form.password.value());
            form.password.clear();
            state.busy = Some("unlocking (Argon2id key derivation)".into());
            state.flash = None;
            vec![Effect::Unlock { password }]
        }
        KeyCode::Tab => {
            let mut connect = ConnectForm::new(
                state
                    .profile
                    .as_ref()
                    .map_or(gophkeeper_client::vault::DEFAULT_SERVER_URL, |p| &p.server),
            );
            if let Some(profile) = &state.profile {
                connect.username.set(&profile.username);
                connect.focus = 2;
            }
            state.screen = Screen::Connect(connect);
            Vec::new()
        }
        KeyCode::Esc => {
            state.quit = true;
            vec![Effect::Quit]
        }
        _ => {
            form.password.handle(key);
            Vec::new()
        }
    }
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let Screen::Unlock(form) = &state.screen else {
        return;
    };
    let inner = ui::dialog(frame, area, 64, 9, "GophKeeper is locked");
    let (user, server) = state
        .profile
        .as_ref()
        .map_or(("?", "?"), |p| (p.username.as_str(), p.server.as_str()));
    let width = usize::from(inner.width);
    let lines = vec![
        Line::from(format!("{:>15}: {user}", "account")),
        Line::from(format!("{:>15}: {server}", "server")),
        Line::from(""),
        ui::field_line("master password", &form.password, true, false, width),
        Line::from(""),
        Line::styled("Enter unlock · Tab log in again · Esc quit", ui::dim()),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
}
