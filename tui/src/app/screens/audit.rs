//! Vault health: weak, reused and year-old passwords and logins without
//! TOTP, as `gophkeeper audit` reports them; Enter opens the item.

use crossterm::event::{KeyCode, KeyEvent};
use gophkeeper_client::vault::{AuditItem, AuditReport, OLD_PASSWORD_DAYS};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, List, ListItem, ListState};
use uuid::Uuid;

use crate::app::event::Effect;
use crate::app::screens::detail::DetailView;
use crate::app::state::{Screen, State};
use crate::app::ui;
use crate::output::sanitize;

/// One line of the report: a heading, or an item that can be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Heading(String),
    Item { id: Uuid, text: String },
}

#[derive(Debug, Default)]
pub struct AuditView {
    /// `None` while the audit runs.
    pub rows: Option<Vec<Row>>,
    /// Index into `rows`; always an item row when there is one.
    pub selected: usize,
}

impl AuditView {
    pub fn set(&mut self, report: &AuditReport) {
        let rows = rows(report);
        self.selected = rows
            .iter()
            .position(|r| matches!(r, Row::Item { .. }))
            .unwrap_or(0);
        self.rows = Some(rows);
    }

    fn step(&mut self, down: bool) {
        let Some(rows) = &self.rows else { return };
        let mut at = self.selected;
        loop {
            at = if down {
                at + 1
            } else {
                match at.checked_sub(1) {
                    Some(at) => at,
                    None => return,
                }
            };
            match rows.get(at) {
                Some(Row::Item { .. }) => {
                    self.selected = at;
                    return;
                }
                Some(Row::Heading(_)) => {}
                None => return,
            }
        }
    }

    fn selected_item(&self) -> Option<Uuid> {
        match self.rows.as_ref()?.get(self.selected)? {
            Row::Item { id, .. } => Some(*id),
            Row::Heading(_) => None,
        }
    }
}

/// The report as lines: a heading per kind of finding, then its items.
pub fn rows(report: &AuditReport) -> Vec<Row> {
    let mut rows = vec![Row::Heading(format!(
        "{} login(s) with a password, judged on this device; nothing was sent",
        report.logins
    ))];
    if report.is_clean() {
        rows.push(Row::Heading(
            "no weak, reused or year-old passwords, and every login has TOTP".into(),
        ));
        return rows;
    }
    let name = |item: &AuditItem| sanitize::line(&item.name).into_owned();
    let item = |item: &AuditItem, text: String| Row::Item { id: item.id, text };
    if !report.weak.is_empty() {
        rows.push(Row::Heading(format!("Weak ({})", report.weak.len())));
        rows.extend(report.weak.iter().map(|w| {
            let warning = w.warning.as_deref().unwrap_or("");
            item(
                &w.item,
                format!("  {}  strength {} of 4  {warning}", name(&w.item), w.score),
            )
        }));
    }
    if !report.reused.is_empty() {
        rows.push(Row::Heading(format!(
            "Reused ({} group(s); a group shares one password)",
            report.reused.len()
        )));
        for (n, group) in report.reused.iter().enumerate() {
            rows.extend(
                group
                    .iter()
                    .map(|i| item(i, format!("  {}  group {}", name(i), n + 1))),
            );
        }
    }
    if !report.old.is_empty() {
        rows.push(Row::Heading(format!(
            "Unchanged for {OLD_PASSWORD_DAYS} days or more ({})",
            report.old.len()
        )));
        rows.extend(report.old.iter().map(|o| {
            let at_least = if o.exact { "" } else { "at least " };
            item(
                &o.item,
                format!("  {}  {at_least}{} days", name(&o.item), o.days),
            )
        }));
    }
    if !report.without_totp.is_empty() {
        rows.push(Row::Heading(format!(
            "Without TOTP ({})",
            report.without_totp.len()
        )));
        rows.extend(
            report
                .without_totp
                .iter()
                .map(|i| item(i, format!("  {}", name(i)))),
        );
    }
    rows
}

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Screen::Audit(view) = &mut state.screen else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => state.screen = Screen::List,
        KeyCode::Up | KeyCode::Char('k') => view.step(false),
        KeyCode::Down | KeyCode::Char('j') => view.step(true),
        KeyCode::Enter => {
            if let Some(id) = view.selected_item() {
                state.screen = Screen::Detail(DetailView::new(id));
            }
        }
        KeyCode::Char('r') => {
            view.rows = None;
            state.busy = Some("auditing".into());
            return vec![Effect::Audit];
        }
        _ => {}
    }
    Vec::new()
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let Screen::Audit(view) = &state.screen else {
        return;
    };
    let rows = view.rows.as_deref().unwrap_or_default();
    let items: Vec<ListItem> = rows
        .iter()
        .map(|row| match row {
            Row::Heading(text) => ListItem::new(Line::from(text.clone()))
                .style(Style::new().add_modifier(Modifier::BOLD)),
            Row::Item { text, .. } => ListItem::new(Line::from(text.clone())),
        })
        .collect();
    let list = List::new(items)
        .block(Block::bordered().title(" Audit · Enter open · r again · Esc back "))
        .highlight_style(ui::focused());
    let selected = rows
        .get(view.selected)
        .is_some_and(|r| matches!(r, Row::Item { .. }))
        .then_some(view.selected);
    let mut selection = ListState::default().with_selected(selected);
    frame.render_stateful_widget(list, area, &mut selection);
}
