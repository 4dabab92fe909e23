//! One item: every part shown, secrets masked until `r` reveals them, a
//! live TOTP code with its countdown, and copy keys.

use crossterm::event::{KeyCode, KeyEvent};
use gophkeeper_client::item::Payload;
use gophkeeper_client::vault::{Entry, EntryState};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::form;
use crate::app::event::Effect;
use crate::app::input::{TextInput, mask};
use crate::app::state::{Confirm, Overlay, Screen, State};
use crate::app::ui;
use crate::output::sanitize;
use crate::output::text::masked_card_number;
use crate::totp::Totp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailView {
    pub id: Uuid,
    pub reveal: bool,
}

impl DetailView {
    pub fn new(id: Uuid) -> Self {
        Self { id, reveal: false }
    }
}

/// The copy keys: `u` user name, `c` the secret (password, card number,
/// note text), `t` the current TOTP code. `Err` says why there is nothing.
pub fn copy(entry: &Entry, key: char, unix_now: u64) -> Result<Effect, String> {
    let (what, text): (&'static str, Zeroizing<String>) = match (key, &entry.item.payload) {
        ('u', Payload::Login { username, .. }) => ("user name", username.clone().into()),
        ('u', Payload::Card { holder, .. }) => ("card holder", holder.clone().into()),
        ('c', Payload::Login { password, .. }) => ("password", password.clone().into()),
        ('c', Payload::Card { number, .. }) => ("card number", number.clone().into()),
        ('c', Payload::Text { text }) => ("text", text.clone().into()),
        (
            't',
            Payload::Login {
                totp: Some(secret), ..
            },
        ) => {
            let totp = Totp::parse(secret).map_err(|e| e.to_string())?;
            ("TOTP code", totp.at(unix_now).code.into())
        }
        ('t', _) => return Err("this item has no TOTP secret".into()),
        _ => {
            return Err(format!(
                "nothing to copy with {key} on a {}",
                entry.item.kind()
            ));
        }
    };
    if text.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    Ok(Effect::Copy { what, text })
}

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let (Screen::Detail(view), Some(vault)) = (&mut state.screen, &state.vault) else {
        return Vec::new();
    };
    let Some(entry) = vault.entry(view.id) else {
        state.screen = Screen::List;
        return Vec::new();
    };
    match key.code {
        KeyCode::Char('r') => view.reveal = !view.reveal,
        KeyCode::Esc | KeyCode::Backspace | KeyCode::Left | KeyCode::Char('h') => {
            state.screen = Screen::List;
        }
        KeyCode::Char(c @ ('u' | 'c' | 't')) => match copy(entry, c, state.unix_now) {
            Ok(effect) => return vec![effect],
            Err(message) => state.error(message),
        },
        KeyCode::Char('e') => {
            state.screen = Screen::Form(Box::new(form::ItemForm::edit(entry)));
        }
        KeyCode::Char('d') => {
            state.overlay = Some(Overlay::Confirm(Confirm::Delete {
                id: entry.id,
                name: entry.item.name.clone(),
            }));
        }
        KeyCode::Char('o') if matches!(entry.item.payload, Payload::Binary { .. }) => {
            let name = match &entry.item.payload {
                Payload::Binary { file_name, .. } => file_name.clone(),
                _ => String::new(),
            };
            state.overlay = Some(Overlay::SavePath {
                id: entry.id,
                path: TextInput::new(&name),
            });
        }
        _ => return Vec::new(),
    }
    Vec::new()
}

/// `label: value` on one row; a newline in the value shows escaped, so a
/// name cannot fake a row of its own.
fn row(lines: &mut Vec<Line<'static>>, label: &str, value: String) {
    rows(lines, label, vec![sanitize::line(&value).into_owned()]);
}

/// A value that is multi-line by nature (notes, a text item's text): one
/// row per line, later ones indented under the first.
fn multi_line_row(lines: &mut Vec<Line<'static>>, label: &str, value: String) {
    rows(lines, label, sanitize::screen_lines(&value));
}

fn rows(lines: &mut Vec<Line<'static>>, label: &str, parts: Vec<String>) {
    let mut parts = parts.into_iter();
    lines.push(Line::from(vec![
        Span::styled(format!("{:>12}: ", sanitize::line(label)), ui::dim()),
        Span::raw(parts.next().unwrap_or_default()),
    ]));
    for more in parts {
        lines.push(Line::from(format!("{:>14}{more}", "")));
    }
}

fn secret(value: &str, reveal: bool) -> String {
    if reveal {
        value.to_owned()
    } else {
        mask(value)
    }
}

/// The lines of an item, secrets masked unless `reveal`.
pub fn lines(entry: &Entry, reveal: bool, unix_now: u64) -> Vec<Line<'static>> {
    let item = &entry.item;
    let mut out = Vec::new();
    row(&mut out, "name", item.name.clone());
    let state = match entry.state {
        EntryState::Synced => "synced",
        EntryState::Pending => "pending (not yet on the server)",
        EntryState::Conflict => "in conflict: press C",
    };
    row(
        &mut out,
        "kind",
        format!("{} · revision {} · {state}", item.kind(), entry.revision),
    );
    match &item.payload {
        Payload::Login {
            username,
            password,
            urls,
            totp,
        } => {
            row(&mut out, "user", username.clone());
            row(&mut out, "password", secret(password, reveal));
            if !urls.is_empty() {
                row(&mut out, "urls", urls.join(", "));
            }
            if let Some(secret_text) = totp {
                let code = match Totp::parse(secret_text) {
                    Ok(totp) => {
                        // Shown: a code is what this row is for, and it
                        // is worthless half a minute later.
                        let code = totp.at(unix_now);
                        format!("{}  ({} s left)", code.code, code.remaining_seconds)
                    }
                    Err(err) => err.to_string(),
                };
                row(&mut out, "TOTP", code);
            }
        }
        Payload::Text { text } => multi_line_row(&mut out, "text", secret(text, reveal)),
        Payload::Binary { file_name, bytes } => {
            row(&mut out, "file", file_name.clone());
            row(&mut out, "size", format!("{} bytes", bytes.len()));
        }
        Payload::Card {
            holder,
            number,
            expiry,
            cvv,
        } => {
            row(&mut out, "holder", holder.clone());
            let shown = if reveal {
                number.clone()
            } else {
                masked_card_number(number)
            };
            row(&mut out, "number", shown);
            let expired = if expiry
                .is_expired(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_now))
                && unix_now > 0
            {
                " (expired)"
            } else {
                ""
            };
            row(&mut out, "expiry", format!("{expiry}{expired}"));
            row(&mut out, "CVV", secret(cvv, reveal));
        }
    }
    for field in &item.fields {
        let value = if field.hidden {
            secret(&field.value, reveal)
        } else {
            field.value.clone()
        };
        row(&mut out, &field.key, value);
    }
    if !item.notes.is_empty() {
        multi_line_row(&mut out, "notes", item.notes.clone());
    }
    out
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let (Screen::Detail(view), Some(vault)) = (&state.screen, &state.vault) else {
        return;
    };
    let Some(entry) = vault.entry(view.id) else {
        return;
    };
    let mut text = lines(entry, view.reveal, state.unix_now);
    text.push(Line::from(""));
    let keys = match entry.item.payload {
        Payload::Binary { .. } => "o save to file · e edit · d delete · Esc back",
        _ => "r reveal · u/c/t copy · e edit · d delete · Esc back",
    };
    text.push(Line::styled(keys, ui::dim()));
    let title = Line::from(vec![
        Span::raw(" "),
        Span::styled(
            sanitize::line(&entry.item.name).into_owned(),
            Style::new().fg(Color::Cyan),
        ),
        Span::raw(" "),
    ]);
    frame.render_widget(
        Paragraph::new(text)
            .block(Block::bordered().title(title))
            .wrap(Wrap { trim: false }),
        area,
    );
}
