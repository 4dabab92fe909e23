//! `gophkeeper-server probe`: a gRPC health check for scripts and container
//! health checks, speaking the same TLS (or mutual TLS) as the services.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// e.g. https://127.0.0.1:50051
    url: String,
    /// CA certificate (PEM) to trust.
    #[arg(long)]
    ca: PathBuf,
    /// Client certificate and key (PEM), for the internal mutual-TLS listeners.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Service name to ask about; empty means the whole server.
    #[arg(long, default_value = "")]
    service: String,
    /// Keep trying this long before giving up.
    #[arg(long, default_value = "0", value_name = "SECONDS")]
    wait: u64,
}

pub async fn run(args: ProbeArgs) -> anyhow::Result<ExitCode> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.wait);
    loop {
        match check(&args).await {
            Ok(true) => return Ok(ExitCode::SUCCESS),
            Ok(false) => eprintln!("{}: not serving", args.url),
            Err(err) => eprintln!("{}: {err:#}", args.url),
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(ExitCode::FAILURE);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn check(args: &ProbeArgs) -> anyhow::Result<bool> {
    let mut tls =
        ClientTlsConfig::new().ca_certificate(Certificate::from_pem(std::fs::read(&args.ca)?));
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        tls = tls.identity(Identity::from_pem(
            std::fs::read(cert)?,
            std::fs::read(key)?,
        ));
    }
    let channel = Endpoint::from_shared(args.url.clone())?
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(2))
        .connect()
        .await?;
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: args.service.clone(),
        })
        .await?
        .into_inner()
        .status;
    Ok(status == ServingStatus::Serving as i32)
}
