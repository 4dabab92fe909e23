//! The small questions: confirm a delete or a revocation, trust a
//! server's certificate on first contact, where to save a file.

use crossterm::event::{KeyCode, KeyEvent};
use gophkeeper_client::item::Payload;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use zeroize::Zeroizing;

use crate::app::event::Effect;
use crate::app::state::{Confirm, Overlay, Screen, State};
use crate::app::ui;

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(overlay) = state.overlay.take() else {
        return Vec::new();
    };
    let yes = matches!(key.code, KeyCode::Char('y' | 'Y'));
    let no = matches!(key.code, KeyCode::Char('n' | 'N') | KeyCode::Esc);
    match overlay {
        Overlay::Confirm(Confirm::Delete { id, .. }) if yes => {
            if matches!(state.screen, Screen::Detail(_)) {
                state.screen = Screen::List;
            }
            state.busy = Some("deleting".into());
            vec![Effect::Delete { id }]
        }
        Overlay::Confirm(Confirm::Revoke { id, .. }) if yes => {
            state.busy = Some("revoking".into());
            vec![Effect::RevokeSession { id }]
        }
        Overlay::Trust { fingerprint } if yes => {
            let Screen::Connect(form) = &state.screen else {
                return Vec::new();
            };
            let effect = form.effect(Some(fingerprint));
            state.busy = Some("logging in (Argon2id key derivation)".into());
            vec![effect]
        }
        Overlay::Trust { .. } if no => {
            state.error("certificate not accepted; nothing was sent to the server");
            if let Screen::Connect(form) = &mut state.screen {
                form.clear_passwords();
            }
            Vec::new()
        }
        Overlay::SavePath { id, mut path } => match key.code {
            KeyCode::Esc => Vec::new(),
            KeyCode::Enter => {
                let bytes = state
                    .vault
                    .as_ref()
                    .and_then(|v| v.entry(id))
                    .and_then(|e| match &e.item.payload {
                        Payload::Binary { bytes, .. } => Some(Zeroizing::new(bytes.clone())),
                        _ => None,
                    });
                match bytes {
                    Some(bytes) if !path.value().trim().is_empty() => vec![Effect::WriteFile {
                        path: path.value().trim().into(),
                        bytes,
                    }],
                    _ => Vec::new(),
                }
            }
            _ => {
                path.handle(key);
                state.overlay = Some(Overlay::SavePath { id, path });
                Vec::new()
            }
        },
        other if no => {
            drop(other);
            Vec::new()
        }
        other => {
            state.overlay = Some(other);
            Vec::new()
        }
    }
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let lines = match &state.overlay {
        Some(Overlay::Confirm(Confirm::Delete { name, .. })) => {
            let inner = ui::dialog(frame, area, 60, 6, "Delete");
            (
                inner,
                vec![
                    Line::from(format!("Delete {name:?} on every device?")),
                    Line::from(""),
                    Line::styled("y delete · n keep it", ui::dim()),
                ],
            )
        }
        Some(Overlay::Confirm(Confirm::Revoke { device, .. })) => {
            let inner = ui::dialog(frame, area, 60, 6, "Revoke session");
            (
                inner,
                vec![
                    Line::from(format!("Sign out {device:?}?")),
                    Line::from(""),
                    Line::styled("y revoke · n keep it", ui::dim()),
                ],
            )
        }
        Some(Overlay::Trust { fingerprint }) => {
            let inner = ui::dialog(frame, area, 76, 11, "Unknown certificate");
            (
                inner,
                vec![
                    Line::from(
                        "No authority this computer trusts signed the server's certificate.",
                    ),
                    Line::from("Its SHA-256 fingerprint is"),
                    Line::from(fingerprint.clone()),
                    Line::from("Compare it with the one the server logs when it starts."),
                    Line::from(""),
                    Line::styled("y trust it from now on · n refuse", ui::dim()),
                ],
            )
        }
        Some(Overlay::SavePath { path, .. }) => {
            let inner = ui::dialog(frame, area, 70, 6, "Save the file");
            let width = usize::from(inner.width);
            (
                inner,
                vec![
                    ui::field_line("path", path, true, true, width),
                    Line::from(""),
                    Line::styled("Enter save · Esc cancel", ui::dim()),
                ],
            )
        }
        _ => return,
    };
    let (inner, lines) = lines;
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
