//! Changes that met another device's change: both sides side by side
//! (secrets masked), and the three ways out.

use crossterm::event::{KeyCode, KeyEvent};
use gophkeeper_client::item::Item;
use gophkeeper_client::vault::{ConflictView, Entry, EntryState, Resolution};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::detail;
use crate::app::event::Effect;
use crate::app::state::{Screen, State};
use crate::app::ui;
use crate::output::sanitize;
use crate::output::text::differences;

#[derive(Debug, Default)]
pub struct ConflictsView {
    pub conflicts: Vec<ConflictView>,
    pub selected: usize,
}

impl ConflictsView {
    pub fn set(&mut self, conflicts: Vec<ConflictView>) {
        self.conflicts = conflicts;
        self.selected = self.selected.min(self.conflicts.len().saturating_sub(1));
    }
}

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Screen::Conflicts(view) = &mut state.screen else {
        return Vec::new();
    };
    let choice = match key.code {
        KeyCode::Esc => {
            state.screen = Screen::List;
            return Vec::new();
        }
        KeyCode::Up | KeyCode::Char('k') => {
            view.selected = view.selected.saturating_sub(1);
            return Vec::new();
        }
        KeyCode::Down | KeyCode::Char('j') => {
            view.selected = (view.selected + 1).min(view.conflicts.len().saturating_sub(1));
            return Vec::new();
        }
        KeyCode::Char('m') => Resolution::KeepMine,
        KeyCode::Char('t') => Resolution::KeepTheirs,
        KeyCode::Char('b') => Resolution::KeepBoth,
        _ => return Vec::new(),
    };
    let Some(conflict) = view.conflicts.get(view.selected) else {
        return Vec::new();
    };
    let id = conflict.record_id;
    state.busy = Some("resolving".into());
    vec![Effect::Resolve { id, choice }]
}

fn side(item: Option<&Item>, id: uuid::Uuid, revision: u64, unix_now: u64) -> Vec<Line<'static>> {
    match item {
        Some(item) => detail::lines(
            &Entry {
                id,
                revision,
                state: EntryState::Conflict,
                // Only drawn as details, which show no time.
                updated_at_ms: 0,
                item: item.clone(),
            },
            false,
            unix_now,
        ),
        None => vec![Line::from("(deleted)")],
    }
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let Screen::Conflicts(view) = &state.screen else {
        return;
    };
    let block = Block::bordered().title(format!(" Conflicts: {} ", view.conflicts.len()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(conflict) = view.conflicts.get(view.selected) else {
        frame.render_widget(Paragraph::new("No conflicts. Esc back."), inner);
        return;
    };
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let name = conflict
        .mine
        .as_ref()
        .or(conflict.theirs.as_ref())
        .map_or_else(String::new, |i| sanitize::line(&i.name).into_owned());
    let differ = match (&conflict.mine, &conflict.theirs) {
        (Some(mine), Some(theirs)) => differences(mine, theirs).join(", "),
        _ => "one side deleted it".into(),
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(format!(
                "{} of {}: {name}",
                view.selected + 1,
                view.conflicts.len()
            )),
            Line::styled(format!("differs in: {differ}"), ui::dim()),
        ]),
        head,
    );
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
    let mine = side(
        conflict.mine.as_ref(),
        conflict.record_id,
        0,
        state.unix_now,
    );
    let theirs = side(
        conflict.theirs.as_ref(),
        conflict.record_id,
        conflict.theirs_revision,
        state.unix_now,
    );
    frame.render_widget(
        Paragraph::new(mine).block(Block::bordered().title(" mine (this device) ")),
        left,
    );
    frame.render_widget(
        Paragraph::new(theirs).block(Block::bordered().title(" theirs (server) ")),
        right,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(
            "m keep mine · t keep theirs · b keep both · ↑↓ next · Esc back",
            ui::dim(),
        )),
        foot,
    );
}
