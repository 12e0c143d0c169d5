//! Takes over the terminal as the full-screen view does, draws a frame, then panics.
//!
//! `tests/reliability.rs` runs it in tmux to check that a panic in the view gives the
//! terminal back before its report is printed (the report must be readable on the normal
//! screen afterwards). There is no way to make `kos` itself panic on purpose.

fn main() {
    kos::exit::install_reports();
    let mut terminal = kos::ui::terminal::init().expect("a terminal to take over");
    terminal
        .draw(|frame| {
            let text = ratatui::widgets::Paragraph::new("kos view before the panic");
            frame.render_widget(text, frame.area());
        })
        .expect("a first frame");
    panic!("a bug in the view");
}
