//! Changing the master password: the vault key is re-wrapped, no record
//! is re-encrypted, and every other device must log in again.

use crossterm::event::{KeyCode, KeyEvent};
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
pub struct PasswdForm {
    pub current: TextInput,
    pub new: TextInput,
    pub repeat: TextInput,
    pub focus: usize,
}

impl Default for PasswdForm {
    fn default() -> Self {
        Self {
            current: TextInput::secret(""),
            new: TextInput::secret(""),
            repeat: TextInput::secret(""),
            focus: 0,
        }
    }
}

impl PasswdForm {
    pub fn problem(&self) -> Option<String> {
        if self.current.is_empty() {
            return Some("type the current master password".into());
        }
        if self.new.value().chars().count() < MIN_MASTER_PASSWORD_CHARS {
            return Some(format!(
                "a master password needs at least {MIN_MASTER_PASSWORD_CHARS} characters"
            ));
        }
        if self.new.value() != self.repeat.value() {
            return Some("the two new passwords differ".into());
        }
        None
    }
}

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
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
    let inner = ui::dialog(frame, area, 64, 9, "Change the master password");
    let width = usize::from(inner.width);
    let lines = vec![
        ui::field_line("current", &form.current, form.focus == 0, false, width),
        ui::field_line("new", &form.new, form.focus == 1, false, width),
        ui::field_line("repeat new", &form.repeat, form.focus == 2, false, width),
        Line::from(""),
        Line::from("Other devices will have to log in again."),
        Line::styled("Enter change · Tab next · Esc cancel", ui::dim()),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rejection_has_a_message() {
        let mut form = PasswdForm::default();
        assert!(form.problem().unwrap().contains("current"));
        form.current.set("old password");
        form.new.set("short");
        assert!(form.problem().unwrap().contains("at least 8"));
        form.new.set("a long new one");
        form.repeat.set("a long new 1");
        assert!(form.problem().unwrap().contains("differ"));
        form.repeat.set("a long new one");
        assert_eq!(form.problem(), None);
    }
}
