//! Changing the master password: the vault key is re-wrapped, no record
//! is re-encrypted, and every other device must log in again.

use crossterm::event::{KeyCode, KeyEvent};
use gophkeeper_client::vault::check_master_password;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::SecretString;

use crate::app::event::Effect;
use crate::app::input::TextInput;
use crate::app::state::{Screen, State};
use crate::app::ui;

#[derive(Debug)]
pub struct PasswdForm {
    pub current: TextInput,
    pub new: TextInput,
    pub repeat: TextInput,
    pub focus: usize,
    /// Why the last new password was refused, with zxcvbn's advice: too
    /// long for the message row, so the form shows it.
    pub advice: Option<String>,
}

impl Default for PasswdForm {
    fn default() -> Self {
        Self {
            current: TextInput::secret(""),
            new: TextInput::secret(""),
            repeat: TextInput::secret(""),
            focus: 0,
            advice: None,
        }
    }
}

impl PasswdForm {
    pub fn problem(&self) -> Option<String> {
        if self.current.is_empty() {
            return Some("type the current master password".into());
        }
        if self.new.value() != self.repeat.value() {
            return Some("the two new passwords differ".into());
        }
        None
    }

    /// Why the new password is too weak, if it is; `username` is the
    /// account's, which it must not lean on. The library refuses it too;
    /// asking here answers at once.
    pub fn weakness(&self, username: &str) -> Option<String> {
        let new = SecretString::from(self.new.value());
        check_master_password(&new, username)
            .err()
            .map(|weak| weak.to_string())
    }
}

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let username = state
        .vault
        .as_ref()
        .map(|vault| vault.status.username.clone())
        .unwrap_or_default();
    let Screen::Passwd(form) = &mut state.screen else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => state.screen = Screen::List,
        KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % 3,
        KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + 2) % 3,
        KeyCode::Enter => {
            if let Some(problem) = form.problem() {
                state.error(problem);
                return Vec::new();
            }
            form.advice = form.weakness(&username);
            if form.advice.is_some() {
                state.error("the new master password is too weak; the form says why");
                return Vec::new();
            }
            let effect = Effect::ChangePassword {
                current: SecretString::from(form.current.value()),
                new: SecretString::from(form.new.value()),
            };
            *form = PasswdForm::default();
            state.busy = Some("changing the master password (Argon2id, twice)".into());
            return vec![effect];
        }
        _ => {
            let input = match form.focus {
                0 => &mut form.current,
                1 => &mut form.new,
                _ => &mut form.repeat,
            };
            input.handle(key);
        }
    }
    Vec::new()
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let Screen::Passwd(form) = &state.screen else {
        return;
    };
    let height = if form.advice.is_some() { 15 } else { 9 };
    let inner = ui::dialog(frame, area, 64, height, "Change the master password");
    let width = usize::from(inner.width);
    let mut lines = vec![
        ui::field_line("current", &form.current, form.focus == 0, false, width),
        ui::field_line("new", &form.new, form.focus == 1, false, width),
        ui::field_line("repeat new", &form.repeat, form.focus == 2, false, width),
        Line::from(""),
        Line::from("Other devices will have to log in again."),
        Line::styled("Enter change · Tab next · Esc cancel", ui::dim()),
    ];
    if let Some(advice) = &form.advice {
        lines.push(Line::from(""));
        lines.push(Line::styled(advice.clone(), ui::error_style()));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rejection_has_a_message() {
        let mut form = PasswdForm::default();
        assert!(form.problem().unwrap().contains("current"));
        form.current.set("old password");
        form.new.set("plinth marmot saffron quiver");
        form.repeat.set("plinth marmot saffron quivet");
        assert!(form.problem().unwrap().contains("differ"));
        for (weak, why) in [
            ("short", "fewer than 12 characters"),
            ("passwordpassword", "estimated strength"),
            ("annann2026ann", "built on the user name"),
        ] {
            form.new.set(weak);
            form.repeat.set(weak);
            assert_eq!(form.problem(), None);
            let text = form.weakness("ann").unwrap_or_default();
            assert!(text.contains(why) && text.contains("at least 12"), "{text}");
        }
        form.new.set("plinth marmot saffron quiver");
        form.repeat.set("plinth marmot saffron quiver");
        assert_eq!(form.problem(), None);
        assert_eq!(form.weakness("ann"), None);
    }
}
