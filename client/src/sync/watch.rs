//! Live updates: a task that holds the `Watch` stream, pulls whenever the
//! server says something changed (or that events were dropped), pushes the
//! queue whenever the stream (re)connects, and reconnects with backoff when
//! the stream breaks. It reports to the caller through a channel, so a UI
//! can refresh as other devices change the vault.

use std::sync::Arc;
use std::time::Duration;

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::watch_event::Event;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{SyncEngine, SyncError, SyncReport};
use crate::session::ApiError;

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the watch task tells its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncEvent {
    /// The stream is live; the queue was pushed and changes pulled.
    Connected(SyncReport),
    /// A push or pull after a change notice.
    Synced(SyncReport),
    /// The stream broke or the server is unreachable; retrying in `retry_in`.
    Offline { reason: String, retry_in: Duration },
    /// The session is over (revoked, password changed elsewhere): the task
    /// has stopped; log in again.
    LoginRequired { reason: String },
    /// A local failure (the cache); the task has stopped.
    Failed { reason: String },
}

/// Stops the watch task when dropped.
#[derive(Debug)]
pub struct WatchHandle {
    task: JoinHandle<()>,
}

impl WatchHandle {
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Why a connected stream ended.
enum Ended {
    Broken(String),
    Stop(SyncEvent),
}

impl SyncEngine {
    /// Starts the watch task; it runs until the handle is dropped, the
    /// receiver goes away, or the session ends.
    pub fn watch(self: &Arc<Self>, events: mpsc::Sender<SyncEvent>) -> WatchHandle {
        let engine = self.clone();
        WatchHandle {
            task: tokio::spawn(async move { engine.watch_loop(events).await }),
        }
    }

    async fn watch_loop(&self, events: mpsc::Sender<SyncEvent>) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let reason = match self.session.watch().await {
                Ok(stream) => match self.follow(stream, &events, &mut backoff).await {
                    Ok(()) => return,
                    Err(Ended::Stop(event)) => {
                        let _ = events.send(event).await;
                        return;
                    }
                    Err(Ended::Broken(reason)) => reason,
                },
                Err(err) => match stop_event(&SyncError::Api(err)) {
                    Ok(reason) => reason,
                    Err(event) => {
                        let _ = events.send(event).await;
                        return;
                    }
                },
            };
            tracing::debug!(%reason, ?backoff, "watch stream down; reconnecting");
            let offline = SyncEvent::Offline {
                reason,
                retry_in: backoff,
            };
            if events.send(offline).await.is_err() {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Follows one stream. `Ok` means the receiver went away.
    async fn follow(
        &self,
        mut stream: tonic::Streaming<v1::WatchEvent>,
        events: &mpsc::Sender<SyncEvent>,
        backoff: &mut Duration,
    ) -> Result<(), Ended> {
        loop {
            let message = match stream.message().await {
                Ok(Some(message)) => message,
                Ok(None) => {
                    self.session.mark_offline();
                    return Err(Ended::Broken("the server ended the stream".into()));
                }
                Err(status) => {
                    let err = self.session.stream_error(&status);
                    if err.is_token_expired() {
                        // The stream outlived its access token: refresh and
                        // reconnect at once.
                        self.session.refresh().await.map_err(|e| {
                            stop_event(&SyncError::Api(e)).map_or_else(Ended::Stop, Ended::Broken)
                        })?;
                        *backoff = FIRST_BACKOFF;
                        return Err(Ended::Broken("access token renewed".into()));
                    }
                    return Err(
                        stop_event(&SyncError::Api(err)).map_or_else(Ended::Stop, Ended::Broken)
                    );
                }
            };
            let event = match message.event {
                Some(Event::Subscribed(_)) => {
                    *backoff = FIRST_BACKOFF;
                    SyncEvent::Connected(self.run_sync().await?)
                }
                Some(Event::Change(_) | Event::Resync(_)) => {
                    SyncEvent::Synced(self.run_pull().await?)
                }
                None => continue,
            };
            if events.send(event).await.is_err() {
                return Ok(());
            }
        }
    }

    async fn run_sync(&self) -> Result<SyncReport, Ended> {
        self.sync()
            .await
            .map_err(|e| stop_event(&e).map_or_else(Ended::Stop, Ended::Broken))
    }

    async fn run_pull(&self) -> Result<SyncReport, Ended> {
        self.pull()
            .await
            .map_err(|e| stop_event(&e).map_or_else(Ended::Stop, Ended::Broken))
    }
}

/// `Ok(reason)`: worth reconnecting. `Err(event)`: the task must stop.
#[expect(
    clippy::result_large_err,
    reason = "once per broken stream, and the event goes straight to the channel"
)]
fn stop_event(err: &SyncError) -> Result<String, SyncEvent> {
    match err {
        SyncError::Api(api) if api.needs_login() => Err(SyncEvent::LoginRequired {
            reason: api.to_string(),
        }),
        SyncError::Api(api) if api.is_retryable() => Ok(api.to_string()),
        SyncError::Api(ApiError::Transport(_)) => Err(SyncEvent::Failed {
            reason: err.to_string(),
        }),
        SyncError::Api(_) => Ok(err.to_string()),
        _ => Err(SyncEvent::Failed {
            reason: err.to_string(),
        }),
    }
}
