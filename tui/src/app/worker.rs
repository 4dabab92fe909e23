//! The one place the app touches the vault: a task that owns the unlocked
//! [`Vault`] (and so its keys), runs effects one at a time, follows live
//! updates, and reports back as events. Locking drops the vault here,
//! which wipes the keys.

use std::path::{Path, PathBuf};

use gophkeeper_client::vault::{
    ConnectOptions, Saved, SecondFactor, SecretKey, SecretKeyInput, ServerUrl, SyncEvent,
    SyncReport, TransportError, Trust, TrustRequest, Vault, VaultError, audit, device_name,
};
use gophkeeper_private_file::Existing;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;

use super::event::{Effect, Event};

/// Files bigger than this are refused before reading: the record limit is
/// 512 KiB, so there is no point in loading more.
const MAX_ATTACH_BYTES: u64 = 512 * 1024;

/// What a login carries besides the password.
struct Factors {
    second_factor: SecondFactor,
    /// As typed; the form checked it.
    secret_key: Option<SecretString>,
}

pub struct Worker {
    dir: PathBuf,
    ca_cert: Option<PathBuf>,
    vault: Option<Vault>,
    live: Option<mpsc::Receiver<SyncEvent>>,
    events: mpsc::Sender<Event>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("dir", &self.dir)
            .field("unlocked", &self.vault.is_some())
            .finish_non_exhaustive()
    }
}

/// The next live-update event; never resolves while there is no stream.
async fn next_live(live: &mut Option<mpsc::Receiver<SyncEvent>>) -> Option<SyncEvent> {
    match live {
        Some(receiver) => {
            let event = receiver.recv().await;
            if event.is_none() {
                *live = None;
            }
            event
        }
        None => std::future::pending().await,
    }
}

/// What the person should read when a vault call fails.
fn explain(err: &VaultError) -> String {
    if err.needs_login() {
        format!("this device must log in again ({err}); press L, then Tab on the lock screen")
    } else {
        err.to_string()
    }
}

fn describe(report: &SyncReport, login_required: Option<&String>, done: &str) -> String {
    if let Some(reason) = login_required {
        return format!("{done} here; not sent: {reason}");
    }
    if report.offline.is_some() {
        return format!("{done} here; will be sent when the server is reachable");
    }
    if !report.conflicts.is_empty() {
        return format!("{done}, but another device changed it too: press C");
    }
    if let Some(rejected) = report.rejected.first() {
        return format!(
            "{done} here, but the server refused it: {}",
            rejected.message
        );
    }
    done.to_owned()
}

impl Worker {
    pub fn new(dir: PathBuf, ca_cert: Option<PathBuf>, events: mpsc::Sender<Event>) -> Self {
        Self {
            dir,
            ca_cert,
            vault: None,
            live: None,
            events,
        }
    }

    /// Runs until the effect channel closes (the app quit).
    pub async fn run(mut self, mut effects: mpsc::Receiver<Effect>) {
        loop {
            tokio::select! {
                effect = effects.recv() => match effect {
                    Some(effect) => self.handle(effect).await,
                    None => break,
                },
                Some(event) = next_live(&mut self.live) => self.on_live(event).await,
            }
        }
    }

    async fn send(&self, event: Event) {
        let _ = self.events.send(event).await;
    }

    async fn handle(&mut self, effect: Effect) {
        match effect {
            Effect::Connect {
                server,
                username,
                password,
                register,
                second_factor,
                secret_key,
                accept,
            } => {
                let factors = Factors {
                    second_factor: second_factor.map_or(SecondFactor::None, SecondFactor::Code),
                    secret_key,
                };
                self.connect(&server, &username, &password, register, factors, accept)
                    .await
            }
            Effect::Unlock { password } => match Vault::unlock(&self.dir, &password).await {
                Ok(mut vault) => {
                    // A vault-key rotation that stopped half-way on this
                    // device finishes now: it needs the password.
                    if vault.rotation_pending().await.unwrap_or(false)
                        && let Err(err) = vault.rotate_key(&password).await
                    {
                        tracing::warn!(%err, "the vault-key rotation could not finish yet");
                    }
                    self.open(vault).await;
                }
                Err(VaultError::WrongPassword) => {
                    self.send(Event::Failed("wrong master password".into()))
                        .await;
                }
                Err(err) => self.send(Event::Failed(explain(&err))).await,
            },
            Effect::Lock => {
                self.live = None;
                self.vault = None;
            }
            Effect::ReadFile { path } => self.read_file(&path).await,
            Effect::WriteFile { path, bytes } => {
                let event = match gophkeeper_private_file::write(&path, &bytes, Existing::Keep) {
                    Ok(()) => Event::Info(format!("saved to {}", path.display())),
                    Err(err) => Event::Failed(format!("cannot save to {}: {err}", path.display())),
                };
                self.send(event).await;
            }
            other => self.vault_effect(other).await,
        }
    }

    async fn vault_effect(&mut self, effect: Effect) {
        let Some(vault) = &mut self.vault else {
            return;
        };
        let event = match effect {
            Effect::Sync => match vault.sync().await {
                Ok(report) => tamper_alert(&report).unwrap_or_else(|| {
                    Event::Info(match report.offline {
                        Some(reason) => format!("offline: {reason}"),
                        None => format!("synced: {} change(s) fetched", report.pulled),
                    })
                }),
                Err(err) => Event::Failed(explain(&err)),
            },
            Effect::Save {
                id,
                base_revision,
                item,
            } => {
                let result = match id {
                    None => vault.add(&item).await,
                    Some(id) => vault.edit_from(id, base_revision, &item).await,
                };
                saved(result, "saved")
            }
            Effect::Delete { id } => saved(vault.delete(id).await, "deleted"),
            Effect::LoadSessions => match vault.sessions().await {
                Ok(list) => Event::Sessions(list),
                Err(err) => Event::Failed(explain(&err)),
            },
            Effect::RevokeSession { id } => match vault.revoke_session(&id).await {
                Ok(()) => match vault.sessions().await {
                    Ok(list) => Event::Sessions(list),
                    Err(err) => Event::Failed(explain(&err)),
                },
                Err(err) => Event::Failed(explain(&err)),
            },
            Effect::ChangePassword { current, new } => {
                match vault.change_password(&current, &new).await {
                    Ok(()) => Event::PasswordChanged,
                    Err(VaultError::WrongPassword) => {
                        Event::Failed("the current master password is wrong".into())
                    }
                    Err(err) => Event::Failed(explain(&err)),
                }
            }
            Effect::Audit => match vault.list().await {
                Ok(entries) => match tokio::task::spawn_blocking(move || audit(&entries)).await {
                    Ok(report) => Event::Audited(report),
                    Err(err) => Event::Failed(format!("the audit stopped: {err}")),
                },
                Err(err) => Event::Failed(explain(&err)),
            },
            Effect::LoadConflicts => match vault.conflicts().await {
                Ok(list) => Event::Conflicts(list),
                Err(err) => Event::Failed(explain(&err)),
            },
            Effect::Resolve { id, choice } => match vault.resolve(id, choice).await {
                Ok(resolved) => {
                    let conflicts = vault.conflicts().await.unwrap_or_default();
                    self.send(Event::Conflicts(conflicts)).await;
                    Event::Info(describe(
                        &resolved.report,
                        resolved.login_required.as_ref(),
                        "resolved",
                    ))
                }
                Err(err) => Event::Failed(explain(&err)),
            },
            // Handled by `handle` or by the run loop.
            Effect::Connect { .. }
            | Effect::Unlock { .. }
            | Effect::Lock
            | Effect::ReadFile { .. }
            | Effect::WriteFile { .. }
            | Effect::Copy { .. }
            | Effect::Quit => return,
        };
        self.send(event).await;
        self.reload().await;
    }

    async fn connect(
        &mut self,
        server: &str,
        username: &str,
        password: &SecretString,
        register: bool,
        factors: Factors,
        accept: Option<String>,
    ) {
        let server = match ServerUrl::parse(server) {
            Ok(server) => server,
            Err(err) => return self.send(Event::Failed(err.to_string())).await,
        };
        let mut options = ConnectOptions::new(server);
        options.device_name = device_name("gophkeeper vault");
        options.second_factor = factors.second_factor;
        if let Some(text) = factors.secret_key {
            match SecretKey::parse(text.expose_secret()) {
                Ok(key) => options.secret_key = SecretKeyInput::Given(key),
                Err(err) => return self.send(Event::Failed(err.to_string())).await,
            }
        }
        if let Some(ca) = &self.ca_cert {
            options.trust = TrustRequest::Configured(Trust::CaFile(ca.clone()));
        }
        if accept.is_some() {
            // Straight to the fingerprint, which must be the one accepted.
            options.trust = TrustRequest::FirstUse;
        }
        let mut seen: Option<String> = None;
        let mut ask = |fingerprint: &str| {
            seen = Some(fingerprint.to_owned());
            accept.as_deref() == Some(fingerprint)
        };
        let result = if register {
            Vault::register(&options, &self.dir, username, password, &mut ask).await
        } else {
            Vault::login(&options, &self.dir, username, password, &mut ask).await
        };
        match result {
            Ok(vault) => self.open(vault).await,
            Err(VaultError::Transport(TransportError::Untrusted { .. }))
                if accept.is_none() && seen.is_some() =>
            {
                let fingerprint = seen.unwrap_or_default();
                self.send(Event::TrustQuestion { fingerprint }).await;
            }
            Err(err) => self.send(Event::Failed(explain(&err))).await,
        }
    }

    /// After login or unlock: first sync (offline is fine), show the
    /// items, start live updates.
    async fn open(&mut self, mut vault: Vault) {
        let alert = match vault.sync().await {
            Ok(report) => tamper_alert(&report),
            Err(err) => Some(Event::Info(explain(&err))),
        };
        self.live = Some(vault.watch());
        let entries = vault.list().await;
        let status = vault.status().await;
        match (entries, status) {
            (Ok(entries), Ok(status)) => {
                let notices: Vec<String> = vault
                    .storage_notices()
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                self.vault = Some(vault);
                self.send(Event::Opened { entries, status }).await;
                for notice in notices {
                    self.send(Event::Info(notice)).await;
                }
                if let Some(alert) = alert {
                    self.send(alert).await;
                }
            }
            (Err(err), _) | (_, Err(err)) => {
                self.live = None;
                self.send(Event::Failed(explain(&err))).await;
            }
        }
    }

    async fn reload(&self) {
        let Some(vault) = &self.vault else {
            return;
        };
        match (vault.list().await, vault.status().await) {
            (Ok(entries), Ok(status)) => self.send(Event::Loaded { entries, status }).await,
            (Err(err), _) | (_, Err(err)) => self.send(Event::Failed(explain(&err))).await,
        }
    }

    async fn on_live(&mut self, event: SyncEvent) {
        match event {
            SyncEvent::Connected(report) | SyncEvent::Synced(report) => {
                self.reload().await;
                if let Some(alert) = tamper_alert(&report) {
                    self.send(alert).await;
                }
            }
            SyncEvent::Offline { .. } => {
                if let Some(vault) = &self.vault
                    && let Ok(status) = vault.status().await
                {
                    self.send(Event::Status(status)).await;
                }
            }
            SyncEvent::LoginRequired { reason } => {
                self.send(Event::Failed(format!(
                    "this device must log in again ({reason}); press L, then Tab on the lock screen"
                )))
                .await;
                self.reload().await;
            }
            SyncEvent::Failed { reason } => {
                self.send(Event::Failed(format!("live updates stopped: {reason}")))
                    .await;
            }
        }
    }

    async fn read_file(&self, path: &Path) {
        let event = match std::fs::metadata(path) {
            Err(err) => Event::Failed(format!("cannot read {}: {err}", path.display())),
            Ok(meta) if meta.len() > MAX_ATTACH_BYTES => Event::Failed(format!(
                "{} is {} KiB; a record holds at most 512 KiB",
                path.display(),
                meta.len().div_ceil(1024)
            )),
            Ok(_) => match tokio::fs::read(path).await {
                Ok(bytes) => Event::FileRead {
                    file_name: path
                        .file_name()
                        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned()),
                    bytes: bytes.into(),
                },
                Err(err) => Event::Failed(format!("cannot read {}: {err}", path.display())),
            },
        };
        self.send(event).await;
    }
}

fn saved(result: Result<Saved, VaultError>, done: &str) -> Event {
    match result {
        Ok(saved) => Event::Saved(describe(&saved.report, saved.login_required.as_ref(), done)),
        Err(err) => Event::Failed(explain(&err)),
    }
}

/// The alert a sync that refused something raises: shown until the next
/// message, and the status bar keeps the count.
fn tamper_alert(report: &SyncReport) -> Option<Event> {
    (!report.tampered.is_empty()).then(|| {
        Event::Failed(format!(
            "WARNING: the server served {} change(s) that this device refused as tampered with \
             (an older version, a made-up deletion, or altered data); it keeps showing the \
             newest versions it trusts. `gophkeeper status` counts them.",
            report.tampered.len()
        ))
    })
}
