//! The query service: answers by criteria (changes since a revision, by id,
//! by kind) from the vault's read side only. A query may ask for "at least
//! revision N" (read your writes); it then waits briefly for the replica and
//! answers UNAVAILABLE rather than stale data or a read of the primary.

use std::sync::Arc;
use std::time::Duration;

use gophkeeper_proto::v1;
use gophkeeper_proto::v1::query_service_server::QueryService;
use tokio::time::Instant;
use tonic::{Request, Response, Status};

use crate::ids::{RecordId, UserId};
use crate::metrics::Metrics;
use crate::settings::QuerySettings;
use crate::vault::{PageLimit, StoreError, VaultReader};

/// More ids than this in one GetRecords is refused rather than served slowly.
pub const MAX_IDS_PER_GET: usize = 1000;
const POLL_INTERVAL: Duration = Duration::from_millis(5);

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("storage has not reached revision {wanted} yet (at {seen}); retry")]
    NotCaughtUp { wanted: u64, seen: u64 },
    #[error("vault storage unavailable, retry")]
    Unavailable(#[from] StoreError),
}

pub struct Query {
    reader: Arc<dyn VaultReader>,
    settings: QuerySettings,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query").finish_non_exhaustive()
    }
}

fn check_revision(field: &str, value: u64) -> Result<u64, QueryError> {
    if i64::try_from(value).is_err() {
        return Err(QueryError::InvalidArgument(format!(
            "{field} must be at most 2^63-1"
        )));
    }
    Ok(value)
}

impl Query {
    pub fn new(
        reader: Arc<dyn VaultReader>,
        settings: QuerySettings,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            reader,
            settings,
            metrics,
        }
    }

    /// Whether the read side answers at all: the health check's question.
    pub async fn reachable(&self) -> Result<(), StoreError> {
        self.reader
            .head_revision(UserId(uuid::Uuid::nil()))
            .await
            .map(drop)
    }

    fn limit(&self, page_size: u32) -> PageLimit {
        let records = match page_size {
            0 => self.settings.default_page_size,
            n => n.min(self.settings.max_page_size),
        };
        PageLimit {
            max_records: records.max(1),
            max_bytes: self.settings.max_page_bytes,
        }
    }

    /// Waits until the read side has the user's revision `min`.
    async fn catch_up(&self, user: UserId, min: u64) -> Result<(), QueryError> {
        let min = check_revision("min_revision", min)?;
        if min == 0 {
            return Ok(());
        }
        let started = Instant::now();
        let deadline = started + Duration::from_millis(self.settings.min_revision_wait_ms);
        let mut waited = false;
        loop {
            let seen = self.reader.head_revision(user).await?;
            if seen >= min {
                if waited {
                    self.metrics.replica_wait(started.elapsed(), true);
                }
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.metrics.replica_wait(started.elapsed(), false);
                return Err(QueryError::NotCaughtUp { wanted: min, seen });
            }
            waited = true;
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    pub async fn changes(
        &self,
        user: UserId,
        request: v1::ChangesRequest,
    ) -> Result<v1::ChangesResponse, QueryError> {
        let since = check_revision("since_revision", request.since_revision)?;
        self.catch_up(user, request.min_revision).await?;
        let page = self
            .reader
            .changes_since(user, since, self.limit(request.page_size))
            .await?;
        // Head and rows come from one snapshot, so after the last page the
        // client is current up to the head, even if the newest change was to
        // a record that changed again (and so moved past it) in the page.
        let next_since_revision = match (page.has_more, page.records.last()) {
            (true, Some(last)) => last.revision,
            _ => since.max(page.current_revision),
        };
        Ok(v1::ChangesResponse {
            records: page.records.into_iter().map(|r| r.into_proto()).collect(),
            next_since_revision,
            has_more: page.has_more,
            current_revision: page.current_revision,
        })
    }

    pub async fn get_records(
        &self,
        user: UserId,
        request: v1::GetRecordsRequest,
    ) -> Result<v1::RecordsResponse, QueryError> {
        if request.record_ids.len() > MAX_IDS_PER_GET {
            return Err(QueryError::InvalidArgument(format!(
                "at most {MAX_IDS_PER_GET} record ids per request"
            )));
        }
        let ids = request
            .record_ids
            .iter()
            .map(|id| RecordId::parse("record_ids", id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| QueryError::InvalidArgument(e.to_string()))?;
        self.catch_up(user, request.min_revision).await?;
        let (records, current_revision) = self.reader.get_records(user, &ids).await?;
        Ok(v1::RecordsResponse {
            records: records.into_iter().map(|r| r.into_proto()).collect(),
            current_revision,
            next_page_token: String::new(),
        })
    }

    pub async fn list_by_kind(
        &self,
        user: UserId,
        request: v1::ListByKindRequest,
    ) -> Result<v1::RecordsResponse, QueryError> {
        let kind = v1::RecordKind::try_from(request.kind)
            .ok()
            .filter(|k| *k != v1::RecordKind::Unspecified)
            .ok_or_else(|| {
                QueryError::InvalidArgument(
                    "kind must be login, text, binary, card or vault-summary".into(),
                )
            })?;
        let after = match request.page_token.as_str() {
            "" => None,
            token => Some(
                RecordId::parse("page_token", token)
                    .map_err(|e| QueryError::InvalidArgument(e.to_string()))?,
            ),
        };
        self.catch_up(user, request.min_revision).await?;
        let page = self
            .reader
            .list_by_kind(user, kind, after, self.limit(request.page_size))
            .await?;
        let next_page_token = match (page.has_more, page.records.last()) {
            (true, Some(last)) => last.record_id.to_string(),
            _ => String::new(),
        };
        Ok(v1::RecordsResponse {
            records: page.records.into_iter().map(|r| r.into_proto()).collect(),
            current_revision: page.current_revision,
            next_page_token,
        })
    }
}

fn user(user_id: &str) -> Result<UserId, Status> {
    UserId::parse("user_id", user_id).map_err(|e| Status::invalid_argument(e.to_string()))
}

fn inner<T>(request: Option<T>) -> Result<T, Status> {
    request.ok_or_else(|| Status::invalid_argument("request is required"))
}

#[tonic::async_trait]
impl QueryService for Query {
    async fn changes(
        &self,
        request: Request<v1::InternalChangesRequest>,
    ) -> Result<Response<v1::ChangesResponse>, Status> {
        let request = request.into_inner();
        let answer = Query::changes(self, user(&request.user_id)?, inner(request.request)?).await?;
        Ok(Response::new(answer))
    }

    async fn get_records(
        &self,
        request: Request<v1::InternalGetRecordsRequest>,
    ) -> Result<Response<v1::RecordsResponse>, Status> {
        let request = request.into_inner();
        let answer =
            Query::get_records(self, user(&request.user_id)?, inner(request.request)?).await?;
        Ok(Response::new(answer))
    }

    async fn list_by_kind(
        &self,
        request: Request<v1::InternalListByKindRequest>,
    ) -> Result<Response<v1::RecordsResponse>, Status> {
        let request = request.into_inner();
        let answer =
            Query::list_by_kind(self, user(&request.user_id)?, inner(request.request)?).await?;
        Ok(Response::new(answer))
    }
}
