//! The command producer: validates a command (owner from the gateway's
//! principal, size, ids), signs it with the cluster's command key
//! (`signing.rs`) and publishes it keyed by a hash of the user id.

use std::sync::Arc;

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::command_service_server::CommandService;
use tonic::{Request, Response, Status};

use super::signing::CommandKeys;
use super::validate::{CommandError, to_wire, validate};
use crate::broker::{CommandPublisher, partition_key};
use crate::ids::{SessionId, UserId, now_ms};

#[derive(Clone)]
pub struct Producer {
    broker: Arc<dyn CommandPublisher>,
    keys: Arc<CommandKeys>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

impl Producer {
    pub fn new(broker: Arc<dyn CommandPublisher>, keys: Arc<CommandKeys>) -> Self {
        Self { broker, keys }
    }

    pub async fn submit(
        &self,
        user_id: UserId,
        session_id: SessionId,
        command: Option<v1::Command>,
    ) -> Result<(), CommandError> {
        let checked = validate(user_id, session_id, command)?;
        tracing::debug!(command = ?checked, "command accepted");
        let envelope = v1::CommandEnvelope {
            user_id: user_id.to_string(),
            session_id: session_id.to_string(),
            command: Some(to_wire(checked)),
            accepted_at_ms: now_ms(),
        };
        let key = partition_key(user_id);
        self.broker
            .publish(key, self.keys.sign(&key, &envelope))
            .await
            .map_err(CommandError::Unavailable)?;
        Ok(())
    }
}

#[tonic::async_trait]
impl CommandService for Producer {
    async fn submit(
        &self,
        request: Request<v1::InternalSubmitRequest>,
    ) -> Result<Response<v1::InternalSubmitResponse>, Status> {
        let request = request.into_inner();
        let principal = request
            .principal
            .ok_or_else(|| Status::invalid_argument("principal is required"))?;
        let user = UserId::parse("user_id", &principal.user_id)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let session = SessionId::parse("session_id", &principal.session_id)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        Producer::submit(self, user, session, request.command).await?;
        Ok(Response::new(v1::InternalSubmitResponse {}))
    }
}
