//! The vault list: search as you type (`/`), a kind filter (Tab), and the
//! keys that act on the selected item without opening it.

use crossterm::event::{KeyCode, KeyEvent};
use gophkeeper_client::item::{ItemKind, Payload};
use gophkeeper_client::vault::{Entry, EntryState};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph};
use uuid::Uuid;

use super::{detail, form};
use crate::app::event::Effect;
use crate::app::input::TextInput;
use crate::app::search;
use crate::app::state::{Confirm, Overlay, Screen, State};
use crate::app::ui;
use crate::output::sanitize;
use crate::output::text::masked_card_number;

#[derive(Debug, Default)]
pub struct ListView {
    pub query: TextInput,
    /// Keys go to the query while set.
    pub searching: bool,
    pub kind: Option<ItemKind>,
    /// Indexes into the entries, best match first.
    pub filtered: Vec<usize>,
    /// Index into `filtered`.
    pub selected: usize,
}

impl ListView {
    /// Runs the search again, keeping the same item selected if it is
    /// still shown.
    pub fn refilter(&mut self, entries: &[Entry]) {
        let keep = self.selected_id(entries);
        self.refilter_keeping(entries, keep);
    }

    /// The same after the entries were replaced: `keep` is the id that
    /// was selected in the old ones.
    pub fn refilter_keeping(&mut self, entries: &[Entry], keep: Option<Uuid>) {
        self.filtered = search::filter(entries, self.query.value(), self.kind);
        self.selected = keep
            .and_then(|id| self.filtered.iter().position(|&i| entries[i].id == id))
            .unwrap_or(0);
    }

    pub fn selected_id(&self, entries: &[Entry]) -> Option<Uuid> {
        self.filtered
            .get(self.selected)
            .and_then(|&i| entries.get(i))
            .map(|e| e.id)
    }

    fn step(&mut self, by: isize) {
        if self.filtered.is_empty() {
            self.selected = 0;
            return;
        }
        let last = self.filtered.len() - 1;
        self.selected = self.selected.saturating_add_signed(by).min(last);
    }

    fn next_kind(&mut self) {
        self.kind = match self.kind {
            None => Some(ItemKind::Login),
            Some(ItemKind::Login) => Some(ItemKind::Text),
            Some(ItemKind::Text) => Some(ItemKind::Binary),
            Some(ItemKind::Binary) => Some(ItemKind::Card),
            Some(ItemKind::Card) => None,
        };
    }
}

/// The terminal row of the first item: below the title row, the search
/// row and the list's top border (see `render` here and in `app::render`).
const FIRST_ROW: u16 = 3;

/// How many items fit in a terminal this tall: all but the title, message
/// and status rows, the search row and the two borders.
fn rows_shown(height: u16) -> usize {
    usize::from(height.saturating_sub(6)).max(1)
}

/// The first item shown: the top, or as far down as keeps the selection
/// on screen. `render` uses it too, so a click lands where it was drawn.
fn first_shown(selected: usize, rows: usize) -> usize {
    selected.saturating_sub(rows.saturating_sub(1))
}

/// A click on terminal row `row`: select the item there, or open it if it
/// was selected already (the mouse's double click, without the timing).
pub fn on_click(state: &mut State, row: u16, height: u16) {
    let Some(vault) = &mut state.vault else {
        return;
    };
    let list = &mut vault.list;
    let rows = rows_shown(height);
    let Some(offset) = row
        .checked_sub(FIRST_ROW)
        .map(usize::from)
        .filter(|&offset| offset < rows)
    else {
        return;
    };
    let index = first_shown(list.selected, rows) + offset;
    if index >= list.filtered.len() {
        return;
    }
    if index == list.selected {
        if let Some(id) = list.selected_id(&vault.entries) {
            state.screen = Screen::Detail(detail::DetailView::new(id));
        }
    } else {
        list.selected = index;
    }
}

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(vault) = &mut state.vault else {
        return Vec::new();
    };
    let list = &mut vault.list;
    match key.code {
        KeyCode::Up => list.step(-1),
        KeyCode::Down => list.step(1),
        KeyCode::PageUp => list.step(-10),
        KeyCode::PageDown => list.step(10),
        KeyCode::Tab => {
            list.next_kind();
            list.refilter(&vault.entries);
        }
        KeyCode::Esc if list.searching || !list.query.is_empty() => {
            list.searching = false;
            list.query.clear();
            list.refilter(&vault.entries);
        }
        KeyCode::Enter if list.searching => list.searching = false,
        _ if list.searching => {
            if list.query.handle(key) {
                // Each keystroke shows the best match first.
                list.refilter_keeping(&vault.entries, None);
            }
        }
        KeyCode::Char('/') => list.searching = true,
        KeyCode::Char('k') => list.step(-1),
        KeyCode::Char('j') => list.step(1),
        KeyCode::Char('a') => {
            state.screen = Screen::Form(Box::new(form::ItemForm::new_item(ItemKind::Login)));
        }
        _ => {
            let selected = list
                .selected_id(&vault.entries)
                .and_then(|id| vault.entry(id));
            return match (key.code, selected) {
                (KeyCode::Enter, Some(entry)) => {
                    state.screen = Screen::Detail(detail::DetailView::new(entry.id));
                    Vec::new()
                }
                (KeyCode::Char('e'), Some(entry)) => {
                    state.screen = Screen::Form(Box::new(form::ItemForm::edit(entry)));
                    Vec::new()
                }
                (KeyCode::Char('d'), Some(entry)) => {
                    state.overlay = Some(Overlay::Confirm(Confirm::Delete {
                        id: entry.id,
                        name: entry.item.name.clone(),
                    }));
                    Vec::new()
                }
                (KeyCode::Char(c @ ('u' | 'c' | 't')), Some(entry)) => {
                    match detail::copy(entry, c, state.unix_now) {
                        Ok(effect) => vec![effect],
                        Err(message) => {
                            state.error(message);
                            Vec::new()
                        }
                    }
                }
                _ => Vec::new(),
            };
        }
    }
    Vec::new()
}

/// What the list shows beside the name: never a secret.
fn subtitle(entry: &Entry) -> String {
    match &entry.item.payload {
        Payload::Login { username, .. } => username.clone(),
        Payload::Text { text } => match text.lines().count() {
            1 => "1 line".into(),
            n => format!("{n} lines"),
        },
        Payload::Binary { file_name, bytes } => format!("{file_name} ({} bytes)", bytes.len()),
        Payload::Card { number, .. } => masked_card_number(number),
    }
}

fn state_mark(state: EntryState) -> Span<'static> {
    match state {
        EntryState::Synced => Span::raw(" "),
        EntryState::Pending => Span::styled("↑", Style::new().fg(Color::Yellow)),
        EntryState::Conflict => Span::styled("!", Style::new().fg(Color::Red)),
    }
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let Some(vault) = &state.vault else {
        return;
    };
    let list = &vault.list;
    let [search_area, list_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let kind = list.kind.map_or("all", ItemKind::name);
    let query = if list.searching {
        format!("{}_", list.query.value())
    } else if list.query.is_empty() {
        "(press / to search)".into()
    } else {
        list.query.value().to_owned()
    };
    let search_style = if list.searching {
        ui::focused()
    } else {
        Style::new()
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw(" Search: "),
            Span::styled(query, search_style),
            Span::raw("   Kind: "),
            Span::styled(kind, Style::new().fg(Color::Cyan)),
            Span::styled(" (Tab)", ui::dim()),
        ])),
        search_area,
    );
    let name_width = usize::from(list_area.width.saturating_sub(4)).saturating_sub(8 + 26);
    let items: Vec<ListItem> = list
        .filtered
        .iter()
        .map(|&i| {
            let entry = &vault.entries[i];
            let name: String = sanitize::line(&entry.item.name)
                .chars()
                .take(name_width)
                .collect();
            ListItem::new(Line::from(vec![
                state_mark(entry.state),
                Span::raw(format!(" {name:<name_width$} ")),
                Span::styled(format!("{:<7}", entry.item.kind().name()), ui::dim()),
                Span::raw(
                    sanitize::line(&subtitle(entry))
                        .chars()
                        .take(24)
                        .collect::<String>(),
                ),
            ]))
        })
        .collect();
    let title = format!(" Items {}/{} ", list.filtered.len(), vault.entries.len());
    let empty = items.is_empty();
    let widget = List::new(items)
        .block(Block::bordered().title(title))
        .highlight_style(ui::focused())
        .highlight_symbol("> ");
    let rows = usize::from(list_area.height.saturating_sub(2)).max(1);
    let mut selection = ListState::default()
        .with_selected(Some(list.selected))
        .with_offset(first_shown(list.selected, rows));
    frame.render_stateful_widget(widget, list_area, &mut selection);
    if empty {
        let inner = ui::centered(list_area, 40, 1);
        let text = if vault.entries.is_empty() {
            "No items yet: press a to add one"
        } else {
            "Nothing matches"
        };
        frame.render_widget(Paragraph::new(text).style(ui::dim()), inner);
    }
}
