//! Logging in or registering: server, user name, master password (never
//! echoed), and when logging in a two-factor code for an account that has
//! two-factor login on and the Secret Key for an account that has one, on
//! a device that does not keep it yet (both left empty otherwise). A
//! server whose certificate nobody vouches for brings up the
//! fingerprint question (`dialogs.rs`); accepting it retries with that
//! exact fingerprint and pins it in the profile.

use crossterm::event::{KeyCode, KeyEvent};
use gophkeeper_client::vault::{SecretKey, ServerUrl, check_master_password};
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
pub struct ConnectForm {
    pub server: TextInput,
    pub username: TextInput,
    pub password: TextInput,
    /// Only asked when registering.
    pub repeat: TextInput,
    /// Only when logging in: a TOTP or recovery code, if the account needs one.
    pub code: TextInput,
    /// Only when logging in: the Secret Key, on a new device of an account
    /// that has one.
    pub secret_key: TextInput,
    pub register: bool,
    pub focus: usize,
    /// Why the last new password was refused, with zxcvbn's advice: too
    /// long for the message row, so the form shows it.
    pub advice: Option<String>,
}

impl ConnectForm {
    pub fn new(server: &str) -> Self {
        Self {
            server: TextInput::new(server),
            username: TextInput::new(""),
            password: TextInput::secret(""),
            repeat: TextInput::secret(""),
            code: TextInput::new(""),
            secret_key: TextInput::secret(""),
            register: false,
            focus: 1,
            advice: None,
        }
    }

    fn fields(&self) -> usize {
        if self.register { 4 } else { 5 }
    }

    fn focused(&mut self) -> &mut TextInput {
        match self.focus {
            0 => &mut self.server,
            1 => &mut self.username,
            2 => &mut self.password,
            _ if self.register => &mut self.repeat,
            3 => &mut self.code,
            _ => &mut self.secret_key,
        }
    }

    /// After a failed attempt: the secrets typed (a code is good once).
    pub fn clear_passwords(&mut self) {
        self.password.clear();
        self.repeat.clear();
        self.code.clear();
        self.secret_key.clear();
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
        if self.register && self.password.value() != self.repeat.value() {
            return Some("the two passwords differ".into());
        }
        if let Some(text) = self.typed_secret_key()
            && let Err(err) = SecretKey::parse(&text)
        {
            return Some(err.to_string());
        }
        None
    }

    /// When registering: why the password is too weak, if it is. The
    /// library refuses it too; asking here answers at once.
    pub fn weakness(&self) -> Option<String> {
        if !self.register {
            return None;
        }
        let password = SecretString::from(self.password.value());
        check_master_password(&password, self.username.value().trim())
            .err()
            .map(|weak| weak.to_string())
    }

    fn typed_secret_key(&self) -> Option<String> {
        Some(self.secret_key.value().trim())
            .filter(|key| !self.register && !key.is_empty())
            .map(str::to_owned)
    }

    /// The login (or registration) this form asks for.
    pub fn effect(&self, accept: Option<String>) -> Effect {
        Effect::Connect {
            server: self.server.value().trim().to_owned(),
            username: self.username.value().trim().to_owned(),
            password: SecretString::from(self.password.value()),
            register: self.register,
            second_factor: Some(self.code.value().trim())
                .filter(|code| !self.register && !code.is_empty())
                .map(SecretString::from),
            secret_key: self.typed_secret_key().map(SecretString::from),
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
            form.advice = form.weakness();
            if form.advice.is_some() {
                state.error("the master password is too weak; the form says why");
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
    let advice = form.advice.as_ref().filter(|_| form.register);
    let height = match (advice.is_some(), form.register) {
        (true, _) => 15,
        (false, true) => 10,
        // One more field: the Secret Key.
        (false, false) => 11,
    };
    let inner = ui::dialog(frame, area, 70, height, title);
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
        lines.push(ui::field_line(
            "2FA code",
            &form.code,
            form.focus == 3,
            false,
            width,
        ));
        lines.push(ui::field_line(
            "Secret Key",
            &form.secret_key,
            form.focus == 4,
            false,
            width,
        ));
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
    if let Some(advice) = advice {
        lines.push(Line::from(""));
        lines.push(Line::styled(advice.clone(), ui::error_style()));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

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
        let mut register = form("ann", "plinth marmot saffron quiver");
        register.register = true;
        register.repeat.set("plinth marmot saffron quivet");
        assert_eq!(
            register.problem().as_deref(),
            Some("the two passwords differ")
        );
        for (weak, why) in [
            ("short", "fewer than 12 characters"),
            ("passwordpassword", "estimated strength"),
            ("annann2026ann", "built on the user name"),
        ] {
            register.password.set(weak);
            register.repeat.set(weak);
            assert_eq!(register.problem(), None);
            let text = register.weakness().unwrap_or_default();
            assert!(text.contains(why), "{weak}: {text}");
        }
        register.password.set("plinth marmot saffron quiver");
        register.repeat.set("plinth marmot saffron quiver");
        assert_eq!(register.problem(), None);
        assert_eq!(register.weakness(), None);
        // Logging in takes the password the account has.
        register.register = false;
        register.password.set("short");
        assert_eq!(register.weakness(), None);
    }

    /// A code typed when logging in goes with the login; none, or one left
    /// over from the login form when registering, sends nothing.
    #[test]
    fn a_two_factor_code_goes_with_a_login_only() {
        let second_factor = |form: &ConnectForm| match form.effect(None) {
            Effect::Connect { second_factor, .. } => {
                second_factor.map(|code| code.expose_secret().to_owned())
            }
            _ => panic!("not a connect"),
        };
        let mut login = form("ann", "pw");
        assert_eq!(second_factor(&login), None);
        login.code.set(" 123456 ");
        assert_eq!(second_factor(&login).as_deref(), Some("123456"));
        login.register = true;
        assert_eq!(second_factor(&login), None);
        login.clear_passwords();
        assert!(login.code.is_empty());
    }

    /// A Secret Key typed with a login is checked as typed (a typo is
    /// named before anything is sent) and goes with the login only.
    #[test]
    fn a_secret_key_is_checked_and_goes_with_a_login_only() {
        let secret_key = |form: &ConnectForm| match form.effect(None) {
            Effect::Connect { secret_key, .. } => {
                secret_key.map(|key| key.expose_secret().to_owned())
            }
            _ => panic!("not a connect"),
        };
        let mut login = form("ann", "pw");
        assert_eq!(secret_key(&login), None);
        let key = SecretKey::generate().to_text().expose_secret().to_owned();
        login.secret_key.set(&format!(" {key} "));
        assert_eq!(login.problem(), None);
        assert_eq!(secret_key(&login).as_deref(), Some(key.as_str()));
        login.secret_key.set("GK-0000-0000");
        assert!(login.problem().unwrap().contains("typo"));
        login.register = true;
        login.repeat.set("pw");
        assert_eq!(login.problem(), None);
        assert_eq!(secret_key(&login), None);
        login.clear_passwords();
        assert!(login.secret_key.is_empty());
    }
}
