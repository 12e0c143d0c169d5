//! A picture of the view for the README: a drawn ratatui buffer as SVG, cell by cell, with
//! the cells' colours and weights, so that the picture is the view's real rendering.
//!
//! Each run of cells of one style is one `<text>` whose characters are placed at their
//! cells' columns (glyphs such as ✓ or ▸ are not as wide as a monospace cell in every font),
//! over a `<rect>` when the run has a background.

use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};
use std::fmt::Write;

/// A cell's size in SVG units, for a 14-unit monospace font.
const CELL_WIDTH: f32 = 8.4;
const CELL_HEIGHT: f32 = 18.0;
const FONT_SIZE: u16 = 14;
/// The terminal's own colours, for cells that keep the default.
const BACKGROUND: &str = "#1e1e1e";
const FOREGROUND: &str = "#d4d4d4";

/// `buffer` as a standalone SVG document.
pub fn svg(buffer: &Buffer) -> String {
    let area = buffer.area;
    let (width, height) = (
        f32::from(area.width) * CELL_WIDTH,
        f32::from(area.height) * CELL_HEIGHT,
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size="{FONT_SIZE}">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="{BACKGROUND}"/>"#
    );
    for y in 0..area.height {
        let row: Vec<&Cell> = (0..area.width)
            .filter_map(|x| buffer.cell((area.x + x, area.y + y)))
            .collect();
        let mut start = 0;
        while start < row.len() {
            let look = Look::of(row[start]);
            let end = (start..row.len())
                .find(|&x| Look::of(row[x]) != look)
                .unwrap_or(row.len());
            draw_run(&mut out, &row[start..end], start, y, &look);
            start = end;
        }
    }
    out.push_str("</svg>\n");
    out
}

/// How a cell is painted.
#[derive(Debug, PartialEq, Eq)]
struct Look {
    fg: String,
    bg: Option<String>,
    bold: bool,
    dim: bool,
}

impl Look {
    fn of(cell: &Cell) -> Look {
        let mut fg = colour(cell.fg);
        let mut bg = colour(cell.bg);
        if cell.modifier.contains(Modifier::REVERSED) {
            std::mem::swap(&mut fg, &mut bg);
            fg = fg.or(Some(BACKGROUND.to_owned()));
            bg = bg.or(Some(FOREGROUND.to_owned()));
        }
        Look {
            fg: fg.unwrap_or_else(|| FOREGROUND.to_owned()),
            bg,
            bold: cell.modifier.contains(Modifier::BOLD),
            dim: cell.modifier.contains(Modifier::DIM),
        }
    }
}

/// Cells `run` of row `y`, the first at column `x`.
fn draw_run(out: &mut String, run: &[&Cell], x: usize, y: u16, look: &Look) {
    let left = precise(x) * CELL_WIDTH;
    let top = f32::from(y) * CELL_HEIGHT;
    if let Some(bg) = &look.bg {
        let width = precise(run.len()) * CELL_WIDTH;
        let _ = writeln!(
            out,
            r#"<rect x="{left:.1}" y="{top:.1}" width="{width:.1}" height="{CELL_HEIGHT:.1}" fill="{bg}"/>"#
        );
    }
    // Blank cells need no text; each other character sits at its own cell.
    let glyphs: Vec<(usize, &str)> = run
        .iter()
        .enumerate()
        .map(|(i, cell)| (x + i, cell.symbol()))
        .filter(|(_, symbol)| !symbol.trim().is_empty())
        .collect();
    if glyphs.is_empty() {
        return;
    }
    let xs: Vec<String> = glyphs
        .iter()
        .map(|(column, _)| format!("{:.1}", precise(*column) * CELL_WIDTH))
        .collect();
    let text: String = glyphs.iter().map(|(_, symbol)| escape(symbol)).collect();
    let weight = if look.bold {
        r#" font-weight="bold""#
    } else {
        ""
    };
    let opacity = if look.dim { r#" opacity="0.6""# } else { "" };
    let baseline = top + CELL_HEIGHT * 0.75;
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{baseline:.1}" fill="{}"{weight}{opacity}>{text}</text>"#,
        xs.join(" "),
        look.fg
    );
}

/// A column as a float: terminals are never wide enough to lose precision.
#[allow(clippy::cast_precision_loss)]
fn precise(column: usize) -> f32 {
    column as f32
}

/// A colour as SVG paints it; `None` for the terminal's default.
fn colour(colour: Color) -> Option<String> {
    let named = match colour {
        Color::Reset => return None,
        Color::Rgb(r, g, b) => return Some(format!("#{r:02x}{g:02x}{b:02x}")),
        Color::Indexed(i) => return Some(format!("#{i:02x}{i:02x}{i:02x}")),
        Color::Black => "#000000",
        Color::Red => "#f14c4c",
        Color::Green => "#23d18b",
        Color::Yellow => "#e5e510",
        Color::Blue => "#3b8eea",
        Color::Magenta => "#d670d6",
        Color::Cyan => "#29b8db",
        Color::Gray => "#a0a0a0",
        Color::DarkGray => "#666666",
        Color::LightRed => "#ff7b7b",
        Color::LightGreen => "#6ef0a6",
        Color::LightYellow => "#f5f543",
        Color::LightBlue => "#6cb6ff",
        Color::LightMagenta => "#f08df0",
        Color::LightCyan => "#7fdcf0",
        Color::White => "#ffffff",
    };
    Some(named.to_owned())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn cells_keep_their_columns_colours_and_weight() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 6, 2));
        buffer.set_string(0, 0, "✓ a<b", Style::new().fg(Color::Green));
        buffer.set_string(
            1,
            1,
            "x",
            Style::new()
                .add_modifier(Modifier::BOLD)
                .add_modifier(Modifier::REVERSED),
        );
        let svg = svg(&buffer);
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(
            svg.contains(
                r##"<text x="0.0 16.8 25.2 33.6" y="13.5" fill="#23d18b">✓a&lt;b</text>"##
            ),
            "{svg}"
        );
        assert!(
            svg.contains(r##"<rect x="8.4" y="18.0" width="8.4" height="18.0" fill="#d4d4d4"/>"##),
            "{svg}"
        );
        assert!(
            svg.contains(r##"<text x="8.4" y="31.5" fill="#1e1e1e" font-weight="bold">x</text>"##),
            "{svg}"
        );
    }
}
