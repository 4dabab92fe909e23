//! The password/passphrase generator dialog (`g` anywhere in the vault,
//! Ctrl-G in a form's password field). Random values come from the same
//! generators as `gophkeeper generate`.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use zeroize::Zeroizing;

use super::form::Role;
use crate::app::event::Effect;
use crate::app::state::{Overlay, Screen, State};
use crate::app::ui;
use crate::generate;

/// Where the generated value goes on Enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Clipboard,
    FormPassword,
}

pub struct Generator {
    pub target: Target,
    pub passphrase: bool,
    /// Character option: symbols on or off (some sites refuse them).
    pub symbols: bool,
    pub length: usize,
    pub words: usize,
    pub value: Zeroizing<String>,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("target", &self.target)
            .field("passphrase", &self.passphrase)
            .finish_non_exhaustive()
    }
}

impl Generator {
    pub fn new(target: Target) -> Self {
        let mut generator = Self {
            target,
            passphrase: false,
            symbols: true,
            length: generate::DEFAULT_LENGTH,
            words: 6,
            value: Zeroizing::new(String::new()),
        };
        generator.regenerate();
        generator
    }

    pub fn regenerate(&mut self) {
        let value = if self.passphrase {
            generate::passphrase(self.words)
        } else if self.symbols {
            generate::password(self.length)
        } else {
            generate::password_without_symbols(self.length)
        };
        // The bounds below keep both generators in range.
        self.value = value.unwrap_or_default();
    }

    fn adjust(&mut self, by: isize) {
        if self.passphrase {
            self.words = self.words.saturating_add_signed(by).clamp(3, 64);
        } else {
            self.length = self
                .length
                .saturating_add_signed(by)
                .clamp(generate::MIN_LENGTH, 128);
        }
        self.regenerate();
    }

    pub fn bits(&self) -> f64 {
        if self.passphrase {
            generate::passphrase_bits(self.words)
        } else if self.symbols {
            generate::password_bits(self.length)
        } else {
            generate::password_without_symbols_bits(self.length)
        }
    }
}

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(Overlay::Generator(generator)) = &mut state.overlay else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => state.overlay = None,
        KeyCode::Tab => {
            generator.passphrase = !generator.passphrase;
            generator.regenerate();
        }
        KeyCode::Left | KeyCode::Char('-') => generator.adjust(-1),
        KeyCode::Right | KeyCode::Char('+') => generator.adjust(1),
        KeyCode::Char('r') => generator.regenerate(),
        KeyCode::Char('s') if !generator.passphrase => {
            generator.symbols = !generator.symbols;
            generator.regenerate();
        }
        KeyCode::Char('c') => {
            return vec![Effect::Copy {
                what: "generated password",
                text: generator.value.clone(),
            }];
        }
        KeyCode::Enter => {
            let value = generator.value.clone();
            let target = generator.target;
            state.overlay = None;
            match target {
                Target::Clipboard => {
                    return vec![Effect::Copy {
                        what: "generated password",
                        text: value,
                    }];
                }
                Target::FormPassword => {
                    if let Screen::Form(form) = &mut state.screen
                        && let Some(row) = form.row_mut(Role::Password)
                    {
                        row.input.set(&value);
                        row.error = None;
                    }
                }
            }
        }
        _ => {}
    }
    Vec::new()
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let Some(Overlay::Generator(generator)) = &state.overlay else {
        return;
    };
    let inner = ui::dialog(frame, area, 70, 9, "Generate");
    let setting = if generator.passphrase {
        format!("passphrase of {} words", generator.words)
    } else {
        format!(
            "password of {} characters (a-z A-Z 0-9 symbols)",
            generator.length
        )
    };
    let enter = match generator.target {
        Target::Clipboard => "Enter copy",
        Target::FormPassword => "Enter use it",
    };
    let lines = vec![
        Line::from(setting),
        Line::from(format!("strength: {:.0} bits", generator.bits())),
        Line::from(""),
        Line::from(generator.value.as_str().to_owned()),
        Line::from(""),
        Line::styled(
            format!(
                "{enter} · c copy · r again · ←/→ length · s symbols · Tab passphrase · Esc close"
            ),
            ui::dim(),
        ),
    ];
    frame.render_widget(
        Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
        inner,
    );
}
