//! The `Vault` calls the sync engine makes, and the health check it uses
//! to tell whether the server is there before sending a new command.

use gophkeeper_proto::v1;
use tonic::{Request, Status, Streaming};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use super::{ApiError, Session, request, with_bearer};

impl Session {
    /// Submits a command. With `wait`, returns its outcome if the server had
    /// it in time; `None` means "not known yet", never "failed".
    pub async fn submit(
        &self,
        command: v1::Command,
        wait: bool,
    ) -> Result<Option<v1::CommandOutcome>, ApiError> {
        let answer = self
            .authed(|bearer| {
                let mut client = self.vault.clone();
                let message = v1::SubmitRequest {
                    command: Some(command.clone()),
                    wait_for_outcome: wait,
                };
                async move { client.submit(with_bearer(message, bearer)).await }
            })
            .await?;
        Ok(answer.outcome)
    }

    /// Asks the gateway's standard health service whether the vault API is
    /// serving. No token, no database: the cheapest proof that a request
    /// can reach the server now.
    pub async fn ping(&self) -> Result<(), ApiError> {
        let mut client = HealthClient::new(self.transport.channel());
        let answer = client
            .check(request(HealthCheckRequest {
                service: "gophkeeper.v1.Vault".into(),
            }))
            .await
            .map_err(|s| self.error(&s))?
            .into_inner();
        if answer.status == ServingStatus::Serving as i32 {
            self.ok();
            Ok(())
        } else {
            Err(ApiError::Unavailable {
                message: "the server is not serving the vault API".into(),
            })
        }
    }

    /// One page of changes after `since_revision`, at least as fresh as
    /// `min_revision`.
    pub async fn changes(
        &self,
        since_revision: u64,
        min_revision: u64,
    ) -> Result<v1::ChangesResponse, ApiError> {
        self.authed(|bearer| {
            let mut client = self.vault.clone();
            let message = v1::ChangesRequest {
                since_revision,
                page_size: 0,
                min_revision,
            };
            async move { client.changes(with_bearer(message, bearer)).await }
        })
        .await
    }

    /// Opens the live stream of the user's vault changes.
    pub async fn watch(&self) -> Result<Streaming<v1::WatchEvent>, ApiError> {
        self.authed(|bearer| {
            let mut client = self.vault.clone();
            let mut message = Request::new(v1::WatchRequest {});
            message.metadata_mut().insert("authorization", bearer);
            async move { client.watch(message).await }
        })
        .await
    }

    /// Maps an error that arrived on an open stream.
    pub fn stream_error(&self, status: &Status) -> ApiError {
        self.error(status)
    }
}
