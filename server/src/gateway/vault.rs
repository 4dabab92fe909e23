//! The public `Vault` API: commands go to the producer, queries to the query
//! service, `Watch` and "wait for outcome" are served from the event hub.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::vault_server::Vault;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, Response, Status};

use super::{Backends, authenticate, forward};
use crate::events::{EventHub, Subscription};
use crate::ids::UserId;
use crate::metrics::{Metrics, WatchStreamGuard};
use crate::settings::GatewaySettings;
use crate::status::with_reason;

#[derive(Debug, Clone)]
pub struct VaultApi {
    backends: Backends,
    hub: Arc<EventHub>,
    settings: GatewaySettings,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
}

impl VaultApi {
    pub fn new(
        backends: Backends,
        hub: Arc<EventHub>,
        settings: GatewaySettings,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            backends,
            hub,
            settings,
            metrics,
            shutdown,
        }
    }
}

fn user_of(principal: &v1::Principal) -> Result<UserId, Status> {
    UserId::parse("user_id", &principal.user_id)
        .map_err(|_| Status::internal("auth service returned a malformed user id"))
}

#[tonic::async_trait]
impl Vault for VaultApi {
    async fn submit(
        &self,
        request: Request<v1::SubmitRequest>,
    ) -> Result<Response<v1::SubmitResponse>, Status> {
        let started = Instant::now();
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        let user = user_of(&principal)?;
        let request = request.into_inner();
        let command_id = request
            .command
            .as_ref()
            .map(|c| c.command_id.clone())
            .unwrap_or_default();
        // Register before submitting, so a fast consumer cannot beat us.
        let waiter = request
            .wait_for_outcome
            .then(|| self.hub.wait_for(user, &command_id));
        self.backends
            .commands
            .clone()
            .submit(v1::InternalSubmitRequest {
                principal: Some(principal),
                command: request.command,
            })
            .await
            .map_err(forward)?;
        let outcome = match waiter {
            Some(waiter) => {
                let limit = Duration::from_millis(self.settings.command_wait_timeout_ms);
                let outcome = tokio::time::timeout(limit, waiter.outcome())
                    .await
                    .ok()
                    .flatten();
                if outcome.is_some() {
                    self.metrics.command_round_trip(started.elapsed());
                }
                outcome
            }
            None => None,
        };
        Ok(Response::new(v1::SubmitResponse {
            command_id,
            outcome,
        }))
    }

    async fn changes(
        &self,
        request: Request<v1::ChangesRequest>,
    ) -> Result<Response<v1::ChangesResponse>, Status> {
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        self.backends
            .query
            .clone()
            .changes(v1::InternalChangesRequest {
                user_id: principal.user_id,
                request: Some(request.into_inner()),
            })
            .await
            .map_err(forward)
    }

    async fn get_records(
        &self,
        request: Request<v1::GetRecordsRequest>,
    ) -> Result<Response<v1::RecordsResponse>, Status> {
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        self.backends
            .query
            .clone()
            .get_records(v1::InternalGetRecordsRequest {
                user_id: principal.user_id,
                request: Some(request.into_inner()),
            })
            .await
            .map_err(forward)
    }

    async fn list_by_kind(
        &self,
        request: Request<v1::ListByKindRequest>,
    ) -> Result<Response<v1::RecordsResponse>, Status> {
        let (principal, _) = authenticate(&self.backends.auth, &request).await?;
        self.backends
            .query
            .clone()
            .list_by_kind(v1::InternalListByKindRequest {
                user_id: principal.user_id,
                request: Some(request.into_inner()),
            })
            .await
            .map_err(forward)
    }

    type WatchStream = ReceiverStream<Result<v1::WatchEvent, Status>>;

    async fn watch(
        &self,
        request: Request<v1::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let (principal, token) = authenticate(&self.backends.auth, &request).await?;
        let user = user_of(&principal)?;
        let (subscription, before) = self.hub.subscribe(user);
        if before >= self.settings.max_watch_streams_per_user {
            return Err(with_reason(
                Code::ResourceExhausted,
                format!(
                    "too many live Watch streams for this user (limit {})",
                    self.settings.max_watch_streams_per_user
                ),
                "TOO_MANY_STREAMS",
            ));
        }
        let (sender, receiver) = mpsc::channel(64);
        let pump = WatchPump {
            subscription,
            sender,
            auth: self.backends.auth.clone(),
            token,
            revalidate: Duration::from_secs(self.settings.watch_revalidate_secs.max(1)),
            shutdown: self.shutdown.clone(),
            _counted: Some(self.metrics.watch_stream()),
        };
        tokio::spawn(pump.run());
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}

/// Moves one user's events into one `Watch` stream until the client goes
/// away, the server shuts down, or the caller's token stops being valid.
struct WatchPump {
    subscription: Subscription,
    sender: mpsc::Sender<Result<v1::WatchEvent, Status>>,
    auth: v1::auth_service_client::AuthServiceClient<super::InternalChannel>,
    token: String,
    revalidate: Duration,
    shutdown: CancellationToken,
    /// In `gophkeeper_watch_streams` while the pump runs.
    _counted: Option<WatchStreamGuard>,
}

fn event(event: v1::watch_event::Event, origin: String) -> Result<v1::WatchEvent, Status> {
    Ok(v1::WatchEvent {
        event: Some(event),
        origin_session_id: origin,
    })
}

impl WatchPump {
    async fn run(mut self) {
        let subscribed = event(
            v1::watch_event::Event::Subscribed(v1::Subscribed {}),
            String::new(),
        );
        if self.sender.send(subscribed).await.is_err() {
            return;
        }
        let mut recheck = tokio::time::interval(self.revalidate);
        recheck.tick().await;
        loop {
            let next = tokio::select! {
                received = self.subscription.receiver.recv() => match received {
                    Ok(vault_event) => vault_event.change.clone().map(|change| {
                        event(
                            v1::watch_event::Event::Change(change),
                            vault_event.origin_session_id.clone(),
                        )
                    }),
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        Some(event(v1::watch_event::Event::Resync(v1::Resync {}), String::new()))
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = recheck.tick() => {
                    match self.auth.validate_token(v1::ValidateTokenRequest {
                        access_token: self.token.clone(),
                    }).await {
                        Ok(_) => None,
                        Err(status) if status.code() == Code::Unauthenticated => {
                            Some(Err(forward(status)))
                        }
                        // The auth service being briefly away is no reason to
                        // drop a live stream; check again next time.
                        Err(_) => None,
                    }
                }
                () = self.sender.closed() => return,
                () = self.shutdown.cancelled() => return,
            };
            if let Some(item) = next {
                let end = item.is_err();
                if self.sender.send(item).await.is_err() || end {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic::transport::Endpoint;

    use super::*;
    use crate::events::WATCH_BUFFER;
    use crate::gateway::internal::remote;

    fn change(user: UserId, revision: u64) -> v1::VaultEvent {
        v1::VaultEvent {
            user_id: user.to_string(),
            origin_session_id: "other-device".into(),
            outcome: None,
            change: Some(v1::RecordChange {
                record_id: format!("r{revision}"),
                kind: v1::RecordKind::Login.into(),
                revision,
                deleted: false,
            }),
        }
    }

    async fn next(
        receiver: &mut mpsc::Receiver<Result<v1::WatchEvent, Status>>,
    ) -> v1::watch_event::Event {
        receiver.recv().await.unwrap().unwrap().event.unwrap()
    }

    /// Runs on tokio's single-threaded test runtime, so the pump does not
    /// move while the test delivers events: the reader falls behind by
    /// exactly the overflow.
    #[tokio::test]
    async fn a_watch_reader_that_falls_behind_is_told_to_resync_then_sees_live_events() {
        let hub = EventHub::new();
        let user = UserId::new_random();
        let (subscription, _) = hub.subscribe(user);
        let (sender, mut receiver) = mpsc::channel(1);
        // Never called: revalidation is an hour away.
        let nowhere = Endpoint::from_static("http://127.0.0.1:9").connect_lazy();
        let pump = WatchPump {
            subscription,
            sender,
            auth: v1::auth_service_client::AuthServiceClient::new(remote(nowhere)),
            token: String::new(),
            revalidate: Duration::from_secs(3600),
            shutdown: CancellationToken::new(),
            _counted: None,
        };
        tokio::spawn(pump.run());
        assert!(matches!(
            next(&mut receiver).await,
            v1::watch_event::Event::Subscribed(_)
        ));

        let overflow = 5;
        let last = (WATCH_BUFFER + overflow) as u64;
        for revision in 1..=last {
            hub.deliver(change(user, revision));
        }
        assert!(matches!(
            next(&mut receiver).await,
            v1::watch_event::Event::Resync(_)
        ));
        // The oldest events were dropped; the newest WATCH_BUFFER still come.
        for revision in (overflow as u64 + 1)..=last {
            match next(&mut receiver).await {
                v1::watch_event::Event::Change(change) => assert_eq!(change.revision, revision),
                other => panic!("expected change {revision}, got {other:?}"),
            }
        }
        hub.deliver(change(user, last + 1));
        match next(&mut receiver).await {
            v1::watch_event::Event::Change(change) => assert_eq!(change.revision, last + 1),
            other => panic!("expected the live change, got {other:?}"),
        }
    }
}
