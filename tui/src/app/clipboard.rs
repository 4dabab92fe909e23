//! Copying secrets, and taking them back.
//!
//! The system clipboard (arboard) comes first. Where there is none (a
//! headless Linux box, an SSH session) the text goes to the terminal as an
//! OSC 52 escape sequence, which terminals and tmux (`set-clipboard on`)
//! put on their clipboard. After the configured time the clipboard is
//! cleared, but only if it still holds what we put there: something the
//! person copied since is theirs. OSC 52 cannot be read back, so there the
//! latest copy is overwritten with nothing when its time is up. Locking
//! and quitting take a copy back at once, on the same terms: a secret
//! should not outlive the vault being open, and on X11 a program that
//! exits with the clipboard hands it to the clipboard manager.

use std::io::Write;
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use zeroize::Zeroizing;

/// Why a copy did not happen.
#[derive(Debug, thiserror::Error)]
#[error("cannot copy: {0}")]
pub struct ClipboardError(String);

/// Where copied text goes.
pub trait Clipboard {
    fn set(&mut self, text: &str) -> Result<(), ClipboardError>;
    /// What it holds now; `None` if it cannot be read (OSC 52).
    fn get(&mut self) -> Option<Zeroizing<String>>;
    fn clear(&mut self) -> Result<(), ClipboardError>;
    /// For the message line: "clipboard" or "terminal clipboard (OSC 52)".
    fn name(&self) -> &'static str;
}

/// The system clipboard.
pub struct System(arboard::Clipboard);

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("System")
    }
}

impl System {
    pub fn open() -> Option<Self> {
        arboard::Clipboard::new().ok().map(Self)
    }
}

impl Clipboard for System {
    /// Marked, where the platform has the marks, to stay out of clipboard
    /// history (KDE's and GNOME's managers, Windows' Win+V, macOS tools
    /// that honour the concealed type), cloud clipboard sync and clipboard
    /// monitors.
    fn set(&mut self, text: &str) -> Result<(), ClipboardError> {
        let set = self.0.set();
        #[cfg(all(unix, not(target_os = "macos")))]
        let set = arboard::SetExtLinux::exclude_from_history(set);
        #[cfg(target_os = "macos")]
        let set = arboard::SetExtApple::exclude_from_history(set);
        #[cfg(windows)]
        let set = {
            use arboard::SetExtWindows;
            set.exclude_from_history()
                .exclude_from_cloud()
                .exclude_from_monitoring()
        };
        set.text(text).map_err(|e| ClipboardError(e.to_string()))
    }

    fn get(&mut self) -> Option<Zeroizing<String>> {
        self.0.get_text().ok().map(Zeroizing::new)
    }

    fn clear(&mut self) -> Result<(), ClipboardError> {
        self.0.clear().map_err(|e| ClipboardError(e.to_string()))
    }

    fn name(&self) -> &'static str {
        "clipboard"
    }
}

/// The terminal's clipboard through OSC 52, written to `out` (the
/// terminal). Write-only by design: most terminals refuse to answer
/// clipboard queries, for good reason.
#[derive(Debug)]
pub struct Osc52<W: Write>(pub W);

/// `ESC ] 52 ; c ; <base64> BEL`; an empty payload clears.
pub fn osc52(text: &str) -> Zeroizing<String> {
    let encoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(text));
    Zeroizing::new(format!("\x1b]52;c;{}\x07", encoded.as_str()))
}

impl<W: Write> Clipboard for Osc52<W> {
    fn set(&mut self, text: &str) -> Result<(), ClipboardError> {
        let sequence = osc52(text);
        self.0
            .write_all(sequence.as_bytes())
            .and_then(|()| self.0.flush())
            .map_err(|e| ClipboardError(e.to_string()))
    }

    fn get(&mut self) -> Option<Zeroizing<String>> {
        None
    }

    fn clear(&mut self) -> Result<(), ClipboardError> {
        self.set("")
    }

    fn name(&self) -> &'static str {
        "terminal clipboard (OSC 52)"
    }
}

/// The clipboard to use: the system's unless `GOPHKEEPER_CLIPBOARD=osc52`
/// asks for the terminal's, or there is no system clipboard.
pub fn best_available() -> Box<dyn Clipboard + Send> {
    let forced = std::env::var("GOPHKEEPER_CLIPBOARD").is_ok_and(|v| v == "osc52");
    if !forced && let Some(system) = System::open() {
        return Box::new(system);
    }
    Box::new(Osc52(std::io::stdout()))
}

/// What is on the clipboard because of us, and until when.
pub struct Keeper {
    clipboard: Box<dyn Clipboard + Send>,
    clear_after: Duration,
    /// SHA-256 of what we copied, so the check needs no copy of the secret.
    ours: Option<([u8; 32], Instant)>,
}

impl std::fmt::Debug for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keeper")
            .field("clipboard", &self.clipboard.name())
            .field("clear_after", &self.clear_after)
            .finish_non_exhaustive()
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl Keeper {
    pub fn new(clipboard: Box<dyn Clipboard + Send>, clear_after: Duration) -> Self {
        Self {
            clipboard,
            clear_after,
            ours: None,
        }
    }

    /// Copies and starts the clear timer; returns the message-line text.
    pub fn copy(&mut self, what: &str, text: &str) -> Result<String, ClipboardError> {
        self.clipboard.set(text)?;
        self.ours = Some((digest(text), Instant::now() + self.clear_after));
        Ok(format!(
            "{what} copied to the {}; cleared in {} s",
            self.clipboard.name(),
            self.clear_after.as_secs()
        ))
    }

    /// When the clipboard should next be looked at.
    pub fn deadline(&self) -> Option<Instant> {
        self.ours.map(|(_, at)| at)
    }

    /// Clears the clipboard if our time is up and it still holds our text
    /// (or cannot be read). Returns whether it cleared.
    pub fn expire(&mut self, now: Instant) -> bool {
        match self.ours {
            Some((_, at)) if now >= at => self.take_back(),
            _ => false,
        }
    }

    /// Clears the clipboard now if it still holds our text (or cannot be
    /// read), whatever the time: on lock and on quit. Returns whether it
    /// cleared.
    pub fn take_back(&mut self) -> bool {
        let Some((hash, _)) = self.ours.take() else {
            return false;
        };
        let still_ours = self
            .clipboard
            .get()
            .is_none_or(|current| digest(&current) == hash);
        still_ours && self.clipboard.clear().is_ok()
    }
}

/// A clipboard tests can look into (and change, as the person would).
#[cfg(test)]
pub mod fake {
    use std::sync::{Arc, Mutex};

    use zeroize::Zeroizing;

    use super::{Clipboard, ClipboardError};

    /// Shared contents; `true` makes it unreadable, as OSC 52 is.
    #[derive(Debug, Clone, Default)]
    pub struct Fake(pub Arc<Mutex<Option<String>>>, pub bool);

    impl Clipboard for Fake {
        fn set(&mut self, text: &str) -> Result<(), ClipboardError> {
            *self.0.lock().unwrap() = Some(text.to_owned());
            Ok(())
        }
        fn get(&mut self) -> Option<Zeroizing<String>> {
            if self.1 {
                return None;
            }
            self.0.lock().unwrap().clone().map(Zeroizing::new)
        }
        fn clear(&mut self) -> Result<(), ClipboardError> {
            *self.0.lock().unwrap() = None;
            Ok(())
        }
        fn name(&self) -> &'static str {
            "fake"
        }
    }

    pub fn held(fake: &Fake) -> Option<String> {
        fake.0.lock().unwrap().clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::fake::{Fake, held};
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn cleared_after_the_configured_time() {
        let fake = Fake::default();
        let mut keeper = Keeper::new(Box::new(fake.clone()), Duration::from_secs(30));
        assert!(keeper.deadline().is_none());
        keeper.copy("password", "hunter2").unwrap();
        tokio::time::advance(Duration::from_secs(29)).await;
        assert!(!keeper.expire(Instant::now()));
        assert_eq!(held(&fake).as_deref(), Some("hunter2"));
        tokio::time::sleep_until(keeper.deadline().unwrap()).await;
        assert!(keeper.expire(Instant::now()));
        assert_eq!(held(&fake), None);
        assert!(keeper.deadline().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn what_the_person_copied_since_is_left_alone() {
        let fake = Fake::default();
        let mut keeper = Keeper::new(Box::new(fake.clone()), Duration::from_secs(30));
        keeper.copy("password", "hunter2").unwrap();
        fake.clone().set("a link I copied").unwrap();
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(!keeper.expire(Instant::now()));
        assert_eq!(held(&fake).as_deref(), Some("a link I copied"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_copy_restarts_the_timer() {
        let fake = Fake::default();
        let mut keeper = Keeper::new(Box::new(fake.clone()), Duration::from_secs(30));
        keeper.copy("password", "one").unwrap();
        tokio::time::advance(Duration::from_secs(20)).await;
        keeper.copy("user name", "two").unwrap();
        tokio::time::advance(Duration::from_secs(20)).await;
        assert!(!keeper.expire(Instant::now()));
        assert_eq!(held(&fake).as_deref(), Some("two"));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(keeper.expire(Instant::now()));
        assert_eq!(held(&fake), None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unreadable_clipboard_is_cleared_when_time_is_up() {
        let fake = Fake(Arc::default(), true);
        let mut keeper = Keeper::new(Box::new(fake.clone()), Duration::from_secs(5));
        keeper.copy("password", "hunter2").unwrap();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(keeper.expire(Instant::now()));
        assert_eq!(held(&fake), None);
    }

    #[tokio::test(start_paused = true)]
    async fn taken_back_at_once_on_lock_or_quit_if_still_ours() {
        let fake = Fake::default();
        let mut keeper = Keeper::new(Box::new(fake.clone()), Duration::from_secs(30));
        assert!(!keeper.take_back());
        keeper.copy("password", "hunter2").unwrap();
        assert!(keeper.take_back());
        assert_eq!(held(&fake), None);
        assert!(keeper.deadline().is_none() && !keeper.take_back());

        keeper.copy("password", "hunter2").unwrap();
        fake.clone().set("a link I copied").unwrap();
        assert!(!keeper.take_back());
        assert_eq!(held(&fake).as_deref(), Some("a link I copied"));
    }

    #[test]
    fn osc52_sequences() {
        assert_eq!(osc52("hi").as_str(), "\x1b]52;c;aGk=\x07");
        assert_eq!(osc52("").as_str(), "\x1b]52;c;\x07");
        let mut out = Vec::new();
        Osc52(&mut out).set("hi").unwrap();
        assert_eq!(out, b"\x1b]52;c;aGk=\x07");
        assert!(Osc52(Vec::new()).get().is_none());
    }
}
