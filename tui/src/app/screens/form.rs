//! Adding and editing an item of any kind, with each field checked as it
//! is typed (card numbers by their Luhn digit, expiry dates, URLs, TOTP
//! secrets, custom fields), and the whole item checked against the
//! 512 KiB record limit before anything is sent.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gophkeeper_client::item::{
    CardExpiry, CustomField, Item, ItemKind, MAX_NAME_CHARS, Payload, check_sealed_size,
    validate_card_number, validate_cvv,
};
use gophkeeper_client::vault::Entry;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::generator::{Generator, Target};
use crate::app::event::Effect;
use crate::app::input::TextInput;
use crate::app::state::{Overlay, Screen, State};
use crate::app::ui;
use crate::totp::Totp;

/// What a row of the form edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Name,
    Username,
    Password,
    Urls,
    Totp,
    Text,
    FilePath,
    Holder,
    Number,
    Expiry,
    Cvv,
    Notes,
    /// A custom field as `key=value`; the index of the field it came from
    /// when editing, so that what a newer client stored in it is kept.
    Field(Option<usize>),
}

impl Role {
    fn label(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Username => "user",
            Self::Password => "password",
            Self::Urls => "urls",
            Self::Totp => "TOTP secret",
            Self::Text => "text",
            Self::FilePath => "file path",
            Self::Holder => "holder",
            Self::Number => "card number",
            Self::Expiry => "expiry MM/YY",
            Self::Cvv => "CVV",
            Self::Notes => "notes",
            Self::Field(_) => "field k=v",
        }
    }

    fn multiline(self) -> bool {
        matches!(self, Self::Text | Self::Notes)
    }

    fn secret(self) -> bool {
        matches!(self, Self::Password | Self::Totp | Self::Number | Self::Cvv)
    }
}

#[derive(Debug)]
pub struct Row {
    pub role: Role,
    pub input: TextInput,
    pub error: Option<String>,
    /// For custom fields: shown masked.
    pub hidden: bool,
}

impl Row {
    fn new(role: Role, value: &str) -> Self {
        let mut input = TextInput::new(value);
        input.secret = role.secret();
        Self {
            role,
            input,
            error: None,
            hidden: false,
        }
    }
}

#[derive(Debug)]
pub struct ItemForm {
    pub kind: ItemKind,
    /// The record being edited: id, the revision shown, and the item as it
    /// was (it keeps fields this client does not know about).
    pub editing: Option<(Uuid, u64, Box<Item>)>,
    pub rows: Vec<Row>,
    pub focus: usize,
    pub reveal: bool,
    /// A file item's content: loaded from a path, or the stored one.
    pub file: Option<(String, Zeroizing<Vec<u8>>)>,
    pub form_error: Option<String>,
}

fn kind_rows(kind: ItemKind) -> Vec<Role> {
    match kind {
        ItemKind::Login => vec![Role::Username, Role::Password, Role::Urls, Role::Totp],
        ItemKind::Text => vec![Role::Text],
        ItemKind::Binary => vec![Role::FilePath],
        ItemKind::Card => vec![Role::Holder, Role::Number, Role::Expiry, Role::Cvv],
    }
}

impl ItemForm {
    pub fn new_item(kind: ItemKind) -> Self {
        let mut rows = vec![Row::new(Role::Name, "")];
        rows.extend(kind_rows(kind).into_iter().map(|r| Row::new(r, "")));
        rows.push(Row::new(Role::Notes, ""));
        Self {
            kind,
            editing: None,
            rows,
            focus: 0,
            reveal: false,
            file: None,
            form_error: None,
        }
    }

    pub fn edit(entry: &Entry) -> Self {
        let item = &entry.item;
        let mut form = Self::new_item(item.kind());
        let mut file = None;
        for row in &mut form.rows {
            let value = match (row.role, &item.payload) {
                (Role::Name, _) => item.name.clone(),
                (Role::Notes, _) => item.notes.clone(),
                (Role::Username, Payload::Login { username, .. }) => username.clone(),
                (Role::Password, Payload::Login { password, .. }) => password.clone(),
                (Role::Urls, Payload::Login { urls, .. }) => urls.join(", "),
                (Role::Totp, Payload::Login { totp, .. }) => totp.clone().unwrap_or_default(),
                (Role::Text, Payload::Text { text }) => text.clone(),
                (Role::Holder, Payload::Card { holder, .. }) => holder.clone(),
                (Role::Number, Payload::Card { number, .. }) => number.clone(),
                (Role::Expiry, Payload::Card { expiry, .. }) => expiry.to_string(),
                (Role::Cvv, Payload::Card { cvv, .. }) => cvv.clone(),
                (Role::FilePath, Payload::Binary { file_name, bytes }) => {
                    file = Some((file_name.clone(), Zeroizing::new(bytes.clone())));
                    String::new()
                }
                _ => String::new(),
            };
            row.input.set(&value);
        }
        let notes = form.rows.pop();
        for (i, field) in item.fields.iter().enumerate() {
            let mut row = Row::new(
                Role::Field(Some(i)),
                &format!("{}={}", field.key, field.value),
            );
            row.hidden = field.hidden;
            row.input.secret = field.hidden;
            form.rows.push(row);
        }
        form.rows.extend(notes);
        form.file = file;
        form.editing = Some((entry.id, entry.revision, Box::new(item.clone())));
        form
    }

    /// A new item of the next kind, keeping name, notes and custom fields.
    fn next_kind(&mut self) {
        let kind = match self.kind {
            ItemKind::Login => ItemKind::Text,
            ItemKind::Text => ItemKind::Binary,
            ItemKind::Binary => ItemKind::Card,
            ItemKind::Card => ItemKind::Login,
        };
        let common: Vec<Row> = std::mem::take(&mut self.rows)
            .into_iter()
            .filter(|r| matches!(r.role, Role::Name | Role::Notes | Role::Field(_)))
            .collect();
        let mut rows = Vec::new();
        let mut rest = common.into_iter();
        rows.extend(rest.next());
        rows.extend(kind_rows(kind).into_iter().map(|r| Row::new(r, "")));
        rows.extend(rest);
        self.rows = rows;
        self.kind = kind;
        self.focus = 0;
        self.file = None;
    }

    pub fn row(&self, role: Role) -> Option<&Row> {
        self.rows.iter().find(|r| r.role == role)
    }

    pub fn row_mut(&mut self, role: Role) -> Option<&mut Row> {
        self.rows.iter_mut().find(|r| r.role == role)
    }

    fn value(&self, role: Role) -> String {
        self.row(role)
            .map(|r| r.input.value().to_owned())
            .unwrap_or_default()
    }

    /// A file read from disk (Ctrl-O); refused at once if over the limit.
    pub fn attach(&mut self, file_name: String, bytes: Zeroizing<Vec<u8>>) {
        let error = check_sealed_size(bytes.len() + file_name.len() + 64)
            .err()
            .map(|e| e.to_string());
        if let Some(row) = self.row_mut(Role::FilePath) {
            row.error = error.clone();
        }
        if error.is_none() {
            self.file = Some((file_name, bytes));
        }
    }

    /// Checks every row; returns whether all pass.
    pub fn validate_all(&mut self) -> bool {
        for i in 0..self.rows.len() {
            self.validate_row(i);
        }
        if self.kind == ItemKind::Binary && self.file.is_none() {
            let row = self.row_mut(Role::FilePath);
            if let Some(row) = row
                && row.error.is_none()
            {
                row.error = Some("type a path and press Ctrl-O to load the file".into());
            }
        }
        self.rows.iter().all(|r| r.error.is_none())
    }

    fn validate_row(&mut self, index: usize) {
        let Some(row) = self.rows.get_mut(index) else {
            return;
        };
        let value = row.input.value();
        row.error = match row.role {
            Role::Name if value.trim().is_empty() => Some("the item needs a name".into()),
            Role::Name if value.chars().count() > MAX_NAME_CHARS => {
                Some(format!("at most {MAX_NAME_CHARS} characters"))
            }
            Role::Urls => split_urls(value)
                .into_iter()
                .find_map(|url| check_url(&url).err()),
            Role::Totp if !value.trim().is_empty() => {
                Totp::parse(value).err().map(|e| e.to_string())
            }
            Role::Number => validate_card_number(value).err().map(|e| e.to_string()),
            Role::Expiry => CardExpiry::parse(value).err().map(|e| e.to_string()),
            Role::Cvv => validate_cvv(value).err().map(|e| e.to_string()),
            Role::Field(_) if !value.is_empty() => match value.split_once('=') {
                Some((key, _)) if !key.trim().is_empty() => None,
                _ => Some("write it as key=value".into()),
            },
            // Kept only on attach: a path being typed is not an error.
            Role::FilePath => row.error.take(),
            _ => None,
        };
    }

    /// The item the form describes, or why it cannot be saved.
    pub fn build(&self) -> Result<Item, String> {
        let payload = match self.kind {
            ItemKind::Login => Payload::Login {
                username: self.value(Role::Username),
                password: self.value(Role::Password),
                urls: split_urls(&self.value(Role::Urls)),
                totp: Some(self.value(Role::Totp).trim().to_owned()).filter(|t| !t.is_empty()),
            },
            ItemKind::Text => Payload::Text {
                text: self.value(Role::Text),
            },
            ItemKind::Binary => {
                let (file_name, bytes) = self.file.as_ref().ok_or("no file loaded")?;
                Payload::Binary {
                    file_name: file_name.clone(),
                    bytes: bytes.to_vec(),
                }
            }
            ItemKind::Card => Payload::Card {
                holder: self.value(Role::Holder),
                number: self.value(Role::Number),
                expiry: CardExpiry::parse(&self.value(Role::Expiry)).map_err(|e| e.to_string())?,
                cvv: self.value(Role::Cvv),
            },
        };
        let mut item = match &self.editing {
            Some((_, _, original)) => {
                let mut item = (**original).clone();
                item.payload = payload;
                item
            }
            None => Item::new("", payload),
        };
        item.name = self.value(Role::Name).trim().to_owned();
        item.notes = self.value(Role::Notes);
        let originals = self.editing.as_ref().map(|(_, _, o)| o.fields.clone());
        item.fields = self
            .rows
            .iter()
            .filter_map(|row| {
                let Role::Field(from) = row.role else {
                    return None;
                };
                let (key, value) = row.input.value().split_once('=')?;
                let mut field = from
                    .and_then(|i| originals.as_ref()?.get(i).cloned())
                    .unwrap_or_else(|| CustomField::new("", ""));
                field.key = key.trim().to_owned();
                field.value = value.to_owned();
                field.hidden = row.hidden;
                Some(field)
            })
            .collect();
        item.validate().map_err(|e| e.to_string())?;
        check_sealed_size(item.encode().len()).map_err(|e| e.to_string())?;
        Ok(item)
    }
}

fn split_urls(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The library's own URL rule, applied to one URL.
fn check_url(url: &str) -> Result<(), String> {
    let probe = Item::new(
        "probe",
        Payload::Login {
            username: String::new(),
            password: String::new(),
            urls: vec![url.to_owned()],
            totp: None,
        },
    );
    probe.validate().map_err(|e| e.to_string())
}

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Screen::Form(form) = &mut state.screen else {
        return Vec::new();
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let count = form.rows.len();
    match key.code {
        KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % count,
        KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + count - 1) % count,
        KeyCode::Enter if form.rows[form.focus].role.multiline() => {
            form.rows[form.focus].input.push('\n');
        }
        KeyCode::Enter => form.focus = (form.focus + 1) % count,
        KeyCode::Esc => {
            state.screen = match &form.editing {
                Some((id, _, _)) => Screen::Detail(super::detail::DetailView::new(*id)),
                None => Screen::List,
            };
        }
        KeyCode::F(2) if form.editing.is_none() => form.next_kind(),
        KeyCode::Char('s') if ctrl => return save(state),
        KeyCode::Char('r') if ctrl => form.reveal = !form.reveal,
        KeyCode::Char('g') if ctrl && form.row(Role::Password).is_some() => {
            state.overlay = Some(Overlay::Generator(Generator::new(Target::FormPassword)));
        }
        KeyCode::Char('o') if ctrl && form.kind == ItemKind::Binary => {
            let path = form.value(Role::FilePath);
            if path.trim().is_empty() {
                if let Some(row) = form.row_mut(Role::FilePath) {
                    row.error = Some("type the path of the file first".into());
                }
            } else {
                return vec![Effect::ReadFile {
                    path: path.trim().into(),
                }];
            }
        }
        KeyCode::Char('n') if ctrl => {
            let at = form
                .rows
                .iter()
                .position(|r| r.role == Role::Notes)
                .unwrap_or(form.rows.len());
            form.rows.insert(at, Row::new(Role::Field(None), ""));
            form.focus = at;
        }
        KeyCode::Char('d') if ctrl && matches!(form.rows[form.focus].role, Role::Field(_)) => {
            form.rows.remove(form.focus);
            form.focus = form.focus.min(form.rows.len() - 1);
        }
        KeyCode::Char('t') if ctrl && matches!(form.rows[form.focus].role, Role::Field(_)) => {
            let row = &mut form.rows[form.focus];
            row.hidden = !row.hidden;
            row.input.secret = row.hidden;
        }
        _ => {
            if form.rows[form.focus].input.handle(key) {
                let focus = form.focus;
                form.validate_row(focus);
                form.form_error = None;
            }
        }
    }
    Vec::new()
}

fn save(state: &mut State) -> Vec<Effect> {
    let Screen::Form(form) = &mut state.screen else {
        return Vec::new();
    };
    if !form.validate_all() {
        form.form_error = Some("fix the fields marked in red".into());
        return Vec::new();
    }
    match form.build() {
        Ok(item) => {
            let (id, base_revision) = form
                .editing
                .as_ref()
                .map_or((None, 0), |(id, rev, _)| (Some(*id), *rev));
            state.busy = Some("saving".into());
            vec![Effect::Save {
                id,
                base_revision,
                item: Box::new(item),
            }]
        }
        Err(message) => {
            form.form_error = Some(message);
            Vec::new()
        }
    }
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let Screen::Form(form) = &state.screen else {
        return;
    };
    let title = match &form.editing {
        Some(_) => format!(" Edit {} ", form.kind),
        None => format!(" New {} (F2 changes the kind) ", form.kind),
    };
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let mut lines = Vec::new();
    for (i, row) in form.rows.iter().enumerate() {
        let focus = i == form.focus;
        let label = match row.role {
            Role::Field(_) if row.hidden => "hidden k=v",
            role => role.label(),
        };
        let shown = TextInput::new(&row.input.shown(form.reveal).replace('\n', "⏎"));
        lines.push(ui::field_line(label, &shown, focus, true, width));
        if row.role == Role::FilePath
            && let Some((name, bytes)) = &form.file
        {
            lines.push(Line::styled(
                format!("{:>17}loaded: {name} ({} bytes)", "", bytes.len()),
                ui::dim(),
            ));
        }
        if let Some(error) = &row.error {
            lines.push(Line::from(Span::styled(
                format!("{:>17}{error}", ""),
                ui::error_style(),
            )));
        }
    }
    if let Some(error) = &form.form_error {
        lines.push(Line::styled(error.clone(), ui::error_style()));
    }
    lines.push(Line::from(""));
    let mut keys =
        String::from("Ctrl-S save · Esc cancel · Tab next · Ctrl-R reveal · Ctrl-N field");
    if form.row(Role::Password).is_some() {
        keys.push_str(" · Ctrl-G generate");
    }
    if form.kind == ItemKind::Binary {
        keys.push_str(" · Ctrl-O load file");
    }
    lines.push(Line::styled(keys, ui::dim()));
    // Keep the focused row in view on a short terminal.
    let height = usize::from(inner.height);
    let skip = (form.focus + 3).saturating_sub(height);
    let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
