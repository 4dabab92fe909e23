//! The `?` overlay: every key, by where it works. `docs/tui.md` lists
//! the same table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::state::State;
use crate::app::ui;

/// (where, [(keys, what they do)]).
pub const KEYS: &[(&str, &[(&str, &str)])] = &[
    (
        "Everywhere",
        &[
            ("? / F1", "this help; any key closes"),
            ("Ctrl-C", "quit"),
            ("mouse", "with --mouse: wheel, click"),
        ],
    ),
    (
        "List",
        &[
            ("/", "search as you type"),
            ("Tab", "filter by kind"),
            ("↑↓ j k", "move"),
            ("Enter", "open"),
            ("a e d", "add, edit, delete"),
            ("u c t", "copy user, secret, TOTP"),
            ("g", "generator (s: symbols)"),
            ("s", "sync now"),
            ("S P C", "sessions, passwd, conflicts"),
            ("A", "audit: weak, reused, old"),
            ("L q", "lock, quit"),
        ],
    ),
    (
        "Item",
        &[
            ("r", "reveal or hide secrets"),
            ("u c t", "copy user, secret, TOTP"),
            ("o", "save a file item to disk"),
            ("e d Esc", "edit, delete, back"),
        ],
    ),
    (
        "Form",
        &[
            ("Tab ↑↓", "next, previous field"),
            ("Ctrl-S Esc", "save, cancel"),
            ("F2", "kind of a new item"),
            ("Ctrl-R", "reveal secrets"),
            ("Ctrl-G", "generate a password"),
            ("Ctrl-O", "load the file at the path"),
            ("Ctrl-N D T", "add, drop, hide a field"),
        ],
    ),
    (
        "Sessions · Conflicts",
        &[
            ("x", "revoke a session"),
            ("m t b", "keep mine, theirs, both"),
            ("Esc", "back to the list"),
        ],
    ),
];

fn section(title: &str, keys: &[(&str, &str)], out: &mut Vec<Line<'static>>) {
    out.push(Line::styled(title.to_owned(), Style::new().fg(Color::Cyan)));
    for (key, what) in keys {
        out.push(Line::from(vec![
            Span::styled(format!(" {key:<11}"), Style::new().fg(Color::Yellow)),
            Span::raw((*what).to_owned()),
        ]));
    }
}

pub fn render(_state: &State, frame: &mut Frame, area: Rect) {
    let inner = ui::dialog(frame, area, 80, 24, "Keys");
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    let mut first = Vec::new();
    let mut second = Vec::new();
    for (i, (title, keys)) in KEYS.iter().enumerate() {
        section(title, keys, if i < 2 { &mut first } else { &mut second });
    }
    frame.render_widget(Paragraph::new(first), left);
    frame.render_widget(Paragraph::new(second), right);
}
