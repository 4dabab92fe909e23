//! The full-screen vault: what `gophkeeper` opens with no command.
//!
//! Elm-style, as atuin's and gitui's TUIs do it: [`state`] is everything
//! the screen shows, [`update`] turns an [`event`] into a new state and a
//! list of effects, [`render`] draws the state and nothing else, and the
//! effects run outside: vault calls in the [`worker`] (which alone holds
//! the keys), copies in [`clipboard`]. That keeps every rule (search,
//! validation, idle lock, clipboard clearing) testable without a
//! terminal. One module per screen lives in [`screens`].

pub mod clipboard;
pub mod event;
pub mod input;
pub mod render;
pub mod screens;
pub mod search;
pub mod state;
pub mod ui;
pub mod update;
pub mod worker;

#[cfg(test)]
mod snapshots;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Args;
use crossterm::event::Event as TermEvent;
use gophkeeper_client::vault::DEFAULT_SERVER_URL;
use tokio::sync::mpsc;
use tokio::time::Instant;

use self::event::{Effect, Event};
use self::state::{Config, ProfileInfo, State};
use crate::globals::Globals;
use crate::output::time::Clock;

/// Flags of the full-screen vault.
#[derive(Debug, Clone, Args)]
pub struct Options {
    /// Lock the vault after this many seconds without a key press
    #[arg(
        long,
        env = "GOPHKEEPER_IDLE_LOCK",
        value_name = "SECONDS",
        default_value_t = 300
    )]
    pub idle_lock: u64,
    /// Clear a copied secret from the clipboard after this many seconds
    /// (the vault, and `get --copy` / `totp --copy`)
    #[arg(
        long,
        global = true,
        env = "GOPHKEEPER_CLIPBOARD_CLEAR",
        value_name = "SECONDS",
        default_value_t = 30
    )]
    pub clipboard_clear: u64,
    /// Use the mouse: the wheel scrolls, a click selects a row, a click on
    /// the selected row opens it. Off by default so that the terminal's own
    /// text selection keeps working
    #[arg(long, env = "GOPHKEEPER_MOUSE")]
    pub mouse: bool,
}

impl Options {
    /// With `clock` from the global `--utc`.
    pub fn config(&self, clock: Clock) -> Config {
        Config {
            idle_lock: Duration::from_secs(self.idle_lock.max(1)),
            clipboard_clear: Duration::from_secs(self.clipboard_clear.max(1)),
            clock,
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Opens the vault full screen until the person quits.
pub async fn run(globals: &Globals, options: &Options) -> anyhow::Result<()> {
    let dir = globals.profile_dir()?;
    let profile = globals
        .stored_profile()
        .await
        .context("cannot read the profile")?
        .map(|profile| ProfileInfo {
            username: profile.username,
            server: profile.server_url,
        });
    let server = globals.server.as_deref().unwrap_or(DEFAULT_SERVER_URL);
    let state = State::new(options.config(globals.clock()), profile, server);
    let (event_tx, event_rx) = mpsc::channel(64);
    let (effect_tx, effect_rx) = mpsc::channel(16);
    let ca_cert = match &globals.ca_cert {
        Some(ca) => Some(std::path::absolute(ca).context("cannot resolve --ca-cert")?),
        None => None,
    };
    let worker = worker::Worker::new(dir, ca_cert, event_tx);
    let mut terminal = ratatui::try_init().context("cannot open the terminal")?;
    if options.mouse {
        crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)
            .context("cannot turn on the mouse")?;
    }
    // The worker and the screen share this task: the vault's calls need
    // not be `Send`, and quitting drops the effect sender, which ends the
    // worker and with it the vault.
    let (result, ()) = tokio::join!(
        screen_loop(&mut terminal, state, event_rx, effect_tx),
        worker.run(effect_rx)
    );
    if options.mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    }
    ratatui::try_restore().context("cannot restore the terminal")?;
    result
}

/// Reads the terminal on a thread of its own (crossterm's `read` blocks).
fn spawn_input(stop: Arc<AtomicBool>) -> mpsc::UnboundedReceiver<TermEvent> {
    let (sender, receiver) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match crossterm::event::poll(Duration::from_millis(100)) {
                Ok(true) => match crossterm::event::read() {
                    Ok(event) => {
                        if sender.send(event).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                },
                Ok(false) => {}
                Err(_) => break,
            }
        }
    });
    receiver
}

async fn screen_loop(
    terminal: &mut ratatui::DefaultTerminal,
    mut state: State,
    mut events: mpsc::Receiver<Event>,
    effects: mpsc::Sender<Effect>,
) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut input = spawn_input(stop.clone());
    let mut keeper =
        clipboard::Keeper::new(clipboard::best_available(), state.config.clipboard_clear);
    update::apply(&mut state, Event::Tick(unix_now()));
    let result = loop {
        if let Err(err) = terminal.draw(|frame| render::render(&state, frame)) {
            break Err(anyhow::Error::new(err).context("cannot draw"));
        }
        // A spinner turns ten times a second; otherwise once a second is
        // enough for TOTP countdowns. Deadlines wake the loop on time.
        let period = if state.busy.is_some() { 100 } else { 1000 };
        let wake = [state.lock_deadline(), keeper.deadline()]
            .into_iter()
            .flatten()
            .fold(Instant::now() + Duration::from_millis(period), Instant::min);
        let event = tokio::select! {
            Some(term) = input.recv() => match term {
                TermEvent::Key(key) => Event::Key(key),
                TermEvent::Resize(..) => Event::Resize,
                TermEvent::Mouse(mouse) => Event::Mouse {
                    kind: mouse.kind,
                    row: mouse.row,
                    height: terminal.size().map_or(24, |size| size.height),
                },
                _ => continue,
            },
            Some(event) = events.recv() => event,
            () = tokio::time::sleep_until(wake) => {
                keeper.expire(Instant::now());
                Event::Tick(unix_now())
            }
        };
        for effect in update::apply(&mut state, event) {
            if let Some(effect) = on_screen(&mut state, &mut keeper, effect) {
                let _ = effects.send(effect).await;
            }
        }
        if state.quit {
            break Ok(());
        }
    };
    keeper.take_back();
    stop.store(true, Ordering::Relaxed);
    result
}

/// Does what belongs to the screen loop (the clipboard); returns what is
/// for the worker.
fn on_screen(state: &mut State, keeper: &mut clipboard::Keeper, effect: Effect) -> Option<Effect> {
    match effect {
        Effect::Copy { what, text } => {
            match keeper.copy(what, &text) {
                Ok(message) => state.info(message),
                Err(err) => state.error(err.to_string()),
            }
            None
        }
        Effect::Quit => None,
        Effect::Lock => {
            keeper.take_back();
            Some(Effect::Lock)
        }
        other => Some(other),
    }
}
