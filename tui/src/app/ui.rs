//! Small drawing helpers the screens share: a centred box, a labelled
//! field row, the spinner.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear};

use super::input::TextInput;

const SPINNER: [char; 4] = ['|', '/', '-', '\\'];

pub fn spinner(frame: usize) -> char {
    SPINNER[frame % SPINNER.len()]
}

/// A `width` × `height` box in the middle of `area`, clipped to it.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// Clears a centred box and draws its frame; returns the inside.
pub fn dialog(frame: &mut Frame, area: Rect, width: u16, height: u16, title: &str) -> Rect {
    let outer = centered(area, width, height);
    frame.render_widget(Clear, outer);
    let block = Block::bordered()
        .title(format!(" {title} "))
        .border_style(Style::new().fg(Color::Cyan));
    let inner = block.inner(outer);
    frame.render_widget(block, outer);
    inner
}

pub fn focused() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn error_style() -> Style {
    Style::new().fg(Color::Red)
}

/// `label  value` with the value highlighted when focused; a focused
/// field ends in a cursor block.
pub fn field_line<'a>(
    label: &str,
    input: &TextInput,
    focus: bool,
    reveal: bool,
    width: usize,
) -> Line<'a> {
    let mut value = input.shown(reveal);
    if focus {
        value.push('_');
    }
    let label = format!("{label:>15}: ");
    let room = width.saturating_sub(label.chars().count());
    // Long values show their end, where the typing happens.
    let count = value.chars().count();
    if count > room && room > 1 {
        value = format!(
            "…{}",
            value.chars().skip(count - room + 1).collect::<String>()
        );
    }
    Line::from(vec![
        Span::raw(label),
        Span::styled(value, if focus { focused() } else { Style::new() }),
    ])
}
