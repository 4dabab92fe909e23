//! Drawing: reads the state, never changes it. The layout is a title row,
//! the screen, a message row and the status line; dialogs go on top.

use gophkeeper_client::vault::VaultStatus;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::screens::{
    audit, conflicts, connect, detail, dialogs, form, generator, help, list, passwd, sessions,
    unlock,
};
use super::state::{Flash, Overlay, Screen, State};
use super::ui;
use crate::output::sanitize;

pub fn render(state: &State, frame: &mut Frame) {
    let [title, main, message, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let who = state.profile.as_ref().map_or_else(String::new, |p| {
        format!(
            " {} @ {}",
            sanitize::line(&p.username),
            sanitize::line(&p.server)
        )
    });
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                " GophKeeper ",
                Style::new()
                    .fg(Color::Black)
                    .bg(Color::Cyan)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::raw(who),
        ])),
        title,
    );
    match &state.screen {
        Screen::Connect(_) => connect::render(state, frame, main),
        Screen::Unlock(_) => unlock::render(state, frame, main),
        Screen::List => list::render(state, frame, main),
        Screen::Detail(_) => detail::render(state, frame, main),
        Screen::Form(_) => form::render(state, frame, main),
        Screen::Sessions(_) => sessions::render(state, frame, main),
        Screen::Audit(_) => audit::render(state, frame, main),
        Screen::Passwd(_) => passwd::render(state, frame, main),
        Screen::Conflicts(_) => conflicts::render(state, frame, main),
    }
    let line = match (&state.busy, &state.flash) {
        (Some(busy), _) => Line::styled(
            format!(" {} {busy}…", ui::spinner(state.spinner)),
            Style::new().fg(Color::Yellow),
        ),
        // Messages can quote the server or an item.
        (None, Some(Flash::Info(text))) => Line::from(format!(" {}", sanitize::line(text))),
        (None, Some(Flash::Error(text))) => {
            Line::styled(format!(" {}", sanitize::line(text)), ui::error_style())
        }
        (None, None) => Line::from(""),
    };
    frame.render_widget(Paragraph::new(line), message);
    frame.render_widget(Paragraph::new(status_line(state)), status);
    match &state.overlay {
        Some(Overlay::Help) => help::render(state, frame, main),
        Some(Overlay::Generator(_)) => generator::render(state, frame, main),
        Some(_) => dialogs::render(state, frame, main),
        None => {}
    }
}

/// Online or not, what waits to be sent, when the last sync was.
fn status_line(state: &State) -> Line<'static> {
    let bar = Style::new().bg(Color::DarkGray).fg(Color::White);
    let Some(vault) = &state.vault else {
        return Line::styled(format!("{:<200}", " locked · ? help"), bar);
    };
    let VaultStatus {
        online,
        logged_in,
        pending,
        conflicts,
        tampered,
        last_sync_ms,
        watching,
        ..
    } = &vault.status;
    let (dot, connection) = match (online, logged_in) {
        (_, false) => ("○", "logged out"),
        (true, true) => ("●", "online"),
        (false, true) => ("○", "offline"),
    };
    let last = last_sync_ms.map_or_else(
        || "never".to_owned(),
        |ms| state.config.clock.time_of_day(ms),
    );
    let mut text = format!(" {dot} {connection}");
    // First, so that no width of terminal cuts it off.
    if *tampered > 0 {
        text.push_str(&format!(" · {tampered} TAMPERED, refused"));
    }
    text.push_str(&format!(" · pending {pending} · last sync {last}"));
    if *watching {
        text.push_str(" · live");
    }
    if *conflicts > 0 {
        text.push_str(&format!(" · {conflicts} conflict(s): C"));
    }
    text.push_str(" · ? help");
    Line::styled(format!("{text:<200}"), bar)
}
