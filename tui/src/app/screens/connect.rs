//! Logging in or registering: server, user name, master password (never
//! echoed). A server whose certificate nobody vouches for brings up the
//! fingerprint question (`dialogs.rs`); accepting it retries with that
//! exact fingerprint and pins it in the profile.

use crossterm::event::{KeyCode, KeyEvent};
use gophkeeper_client::vault::ServerUrl;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use secrecy::SecretString;

use crate::app::event::Effect;
use crate::app::input::TextInput;
use crate::app::state::{Screen, State};
use crate::app::ui;
use crate::prompt::MIN_MASTER_PASSWORD_CHARS;

#[derive(Debug)]
pub struct ConnectForm {
    pub server: TextInput,
    pub username: TextInput,
    pub password: TextInput,
    /// Only asked when registering.
    pub repeat: TextInput,
    pub register: bool,
    pub focus: usize,
}

impl ConnectForm {
    pub fn new(server: &str) -> Self {
        Self {
            server: TextInput::new(server),
            username: TextInput::new(""),
            password: TextInput::secret(""),
            repeat: TextInput::secret(""),
            register: false,
            focus: 1,
        }
    }

    fn fields(&self) -> usize {
        if self.register { 4 } else { 3 }
    }

    fn focused(&mut self) -> &mut TextInput {
        match self.focus {
            0 => &mut self.server,
            1 => &mut self.username,
            2 => &mut self.password,
            _ => &mut self.repeat,
        }
    }

    pub fn clear_passwords(&mut self) {
        self.password.clear();
        self.repeat.clear();
    }

    /// What is wrong with the form, if anything, as the person should read it.
    pub fn problem(&self) -> Option<String> {
        if let Err(err) = ServerUrl::parse(self.server.value()) {
            return Some(err.to_string());
        }
        if self.username.value().trim().is_empty() {
            return Some("type a user name".into());
        }
        if self.password.is_empty() {
            return Some("type the master password".into());
        }
        if self.register {
            if self.password.value().chars().count() < MIN_MASTER_PASSWORD_CHARS {
                return Some(format!(
                    "a master password needs at least {MIN_MASTER_PASSWORD_CHARS} characters"
                ));
            }
            if self.password.value() != self.repeat.value() {
                return Some("the two passwords differ".into());
            }
        }
        None
    }

    /// The login (or registration) this form asks for.
    pub fn effect(&self, accept: Option<String>) -> Effect {
        Effect::Connect {
            server: self.server.value().trim().to_owned(),
            username: self.username.value().trim().to_owned(),
            password: SecretString::from(self.password.value()),
            register: self.register,
            accept,
        }
    }
}

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Screen::Connect(form) = &mut state.screen else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % form.fields(),
        KeyCode::BackTab | KeyCode::Up => {
            form.focus = (form.focus + form.fields() - 1) % form.fields();
        }
        KeyCode::F(2) => {
            form.register = !form.register;
            form.focus = form.focus.min(form.fields() - 1);
        }
        KeyCode::Esc => {
            state.quit = true;
            return vec![Effect::Quit];
        }
        KeyCode::Enter => {
            if let Some(problem) = form.problem() {
                state.error(problem);
                return Vec::new();
            }
            let effect = form.effect(None);
            state.busy = Some(if form.register {
                "registering (Argon2id key derivation)".into()
            } else {
                "logging in (Argon2id key derivation)".into()
            });
            state.flash = None;
            return vec![effect];
        }
        _ => {
            form.focused().handle(key);
        }
    }
    Vec::new()
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let Screen::Connect(form) = &state.screen else {
        return;
    };
    let title = if form.register {
        "Register a new account"
    } else {
        "Log in"
    };
    let inner = ui::dialog(frame, area, 70, 10, title);
    let width = usize::from(inner.width);
    let mut lines = vec![
        ui::field_line("server", &form.server, form.focus == 0, false, width),
        ui::field_line("user", &form.username, form.focus == 1, false, width),
        ui::field_line(
            "master password",
            &form.password,
            form.focus == 2,
            false,
            width,
        ),
    ];
    if form.register {
        lines.push(ui::field_line(
            "repeat",
            &form.repeat,
            form.focus == 3,
            false,
            width,
        ));
    } else {
        lines.push(Line::from(""));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(
        if form.register {
            "Enter register · Tab next field · F2 log in instead · Esc quit"
        } else {
            "Enter log in · Tab next field · F2 register instead · Esc quit"
        },
        ui::dim(),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(user: &str, password: &str) -> ConnectForm {
        let mut form = ConnectForm::new("https://127.0.0.1:50051");
        form.username.set(user);
        form.password.set(password);
        form
    }

    #[test]
    fn every_rejection_has_a_message() {
        let mut bad_server = form("ann", "pw");
        bad_server.server.set("http://plain");
        assert!(bad_server.problem().is_some());
        assert_eq!(
            form(" ", "pw").problem().as_deref(),
            Some("type a user name")
        );
        assert_eq!(
            form("ann", "").problem().as_deref(),
            Some("type the master password")
        );
        assert_eq!(form("ann", "pw").problem(), None);
        let mut register = form("ann", "short");
        register.register = true;
        assert!(register.problem().unwrap().contains("at least 8"));
        register.password.set("long enough pw");
        register.repeat.set("long enough pv");
        assert_eq!(
            register.problem().as_deref(),
            Some("the two passwords differ")
        );
        register.repeat.set("long enough pw");
        assert_eq!(register.problem(), None);
    }
}
