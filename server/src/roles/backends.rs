//! The gateway's network channels to the internal services (mutual TLS,
//! lazy connection: a service that is not up yet makes calls fail with
//! UNAVAILABLE until it is, instead of failing the gateway's start).

use std::time::Duration;

use tonic::transport::Endpoint;

use crate::gateway::Backends;
use crate::gateway::internal::remote;
use crate::internal_tls::InternalTls;
use crate::settings::ClusterSettings;

fn channel(url: &str, tls: &InternalTls) -> anyhow::Result<crate::gateway::InternalChannel> {
    let endpoint = Endpoint::from_shared(url.to_owned())?
        .tls_config(tls.client())?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30));
    Ok(remote(endpoint.connect_lazy()))
}

pub fn connect(settings: &ClusterSettings, tls: &InternalTls) -> anyhow::Result<Backends> {
    Ok(Backends::new(
        channel(&settings.auth_url, tls)?,
        channel(&settings.query_url, tls)?,
        channel(&settings.producer_url, tls)?,
    ))
}
