//! This account's signed-in devices; `x` signs one out.

use crossterm::event::{KeyCode, KeyEvent};
use gophkeeper_client::vault::DeviceSession;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, List, ListItem, ListState};

use crate::app::event::Effect;
use crate::app::state::{Confirm, Overlay, Screen, State};
use crate::app::ui;
use crate::output::sanitize;

#[derive(Debug, Default)]
pub struct SessionsView {
    pub sessions: Vec<DeviceSession>,
    pub selected: usize,
}

impl SessionsView {
    pub fn set(&mut self, sessions: Vec<DeviceSession>) {
        self.sessions = sessions;
        self.selected = self.selected.min(self.sessions.len().saturating_sub(1));
    }
}

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Screen::Sessions(view) = &mut state.screen else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => state.screen = Screen::List,
        KeyCode::Up | KeyCode::Char('k') => view.selected = view.selected.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => {
            view.selected = (view.selected + 1).min(view.sessions.len().saturating_sub(1));
        }
        KeyCode::Char('x') | KeyCode::Delete => match view.sessions.get(view.selected) {
            Some(session) if session.current => {
                state.error("that is this device; use L to lock or `gophkeeper logout`");
            }
            Some(session) => {
                state.overlay = Some(Overlay::Confirm(Confirm::Revoke {
                    id: session.session_id.clone(),
                    device: session.device_name.clone(),
                }));
            }
            None => {}
        },
        KeyCode::Char('r') => {
            state.busy = Some("loading sessions".into());
            return vec![Effect::LoadSessions];
        }
        _ => return Vec::new(),
    }
    Vec::new()
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let Screen::Sessions(view) = &state.screen else {
        return;
    };
    let clock = &state.config.clock;
    let items: Vec<ListItem> = view
        .sessions
        .iter()
        .map(|s| {
            let mark = if s.current { "*" } else { " " };
            // 28 leaves room for both times with their zones in 78 columns.
            let name: String = sanitize::line(&s.device_name).chars().take(28).collect();
            ListItem::new(Line::from(format!(
                "{mark} {name:<28} since {}  seen {}",
                clock.date_time(s.created_at_ms),
                clock.time_of_day(s.last_seen_at_ms),
            )))
        })
        .collect();
    let list = List::new(items)
        .block(
            Block::bordered().title(" Sessions (* this device) · x revoke · r reload · Esc back "),
        )
        .highlight_style(ui::focused());
    let mut selection = ListState::default().with_selected(Some(view.selected));
    frame.render_stateful_widget(list, area, &mut selection);
}
