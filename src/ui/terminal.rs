//! The terminal the view owns: entering and leaving raw mode and the alternate screen, and
//! the signals that must restore it.
//!
//! `ratatui::try_init` installs a panic hook that restores the terminal before the report
//! (color-eyre's, installed first by `main`) is printed; the view also captures the mouse,
//! and gives it back on the same paths. Signals arrive as a stream of exit
//! codes for the event loop, which restores through the normal path. Nothing else may
//! write to the screen while the view owns it.

use crate::exit::ExitCode;
use futures::Stream;
use futures::stream;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use std::io;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// Takes over the terminal: raw mode, alternate screen, mouse capture, panic hook.
pub fn init() -> io::Result<DefaultTerminal> {
    let terminal = ratatui::try_init()?;
    // Before ratatui's hook (which restores the rest), the mouse is given back.
    let restore_rest = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        release_mouse();
        restore_rest(info);
    }));
    execute!(io::stdout(), EnableMouseCapture)?;
    Ok(terminal)
}

/// Gives the terminal back as it was. Safe to call more than once.
pub fn restore() {
    release_mouse();
    ratatui::restore();
}

/// Stops capturing the mouse; a terminal that was not capturing ignores it.
fn release_mouse() {
    let _ = execute!(io::stdout(), DisableMouseCapture);
}

/// Restores the terminal when dropped, so that every exit path (early return, `?`, panic
/// unwinding) gives it back.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// SIGINT, SIGTERM, SIGHUP and SIGQUIT as the exit codes they mean (130, 143, 129, 131).
/// Registering replaces the default action (death without restoring the terminal; SIGQUIT's
/// also dumps core).
pub fn signals() -> io::Result<impl Stream<Item = ExitCode> + Unpin> {
    let handlers = [
        (SignalKind::interrupt(), ExitCode::Interrupted),
        (SignalKind::terminate(), ExitCode::Terminated),
        (SignalKind::hangup(), ExitCode::HungUp),
        (SignalKind::quit(), ExitCode::Quit),
    ];
    let streams = handlers
        .into_iter()
        .map(|(kind, code)| Ok(Box::pin(each(signal(kind)?, code))))
        .collect::<io::Result<Vec<_>>>()?;
    Ok(stream::select_all(streams))
}

fn each(signal: Signal, code: ExitCode) -> impl Stream<Item = ExitCode> {
    stream::unfold(signal, move |mut signal| async move {
        signal.recv().await.map(|()| (code, signal))
    })
}
