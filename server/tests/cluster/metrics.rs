//! Every split role serves its metrics (scripts/cluster gives each a
//! `metrics.listen`): after a record is created through the gateway, the
//! gateway, the producer and one of the consumers each count it; the
//! consumers report the lag of the partitions they hold, and the query and
//! auth roles their health, replica waits and hash queue.

use std::time::{Duration, Instant};

use gophkeeper_proto::v1;

use crate::fixture;
use crate::helpers::*;

#[tokio::test]
async fn each_role_counts_a_command_on_its_own_endpoint() {
    let cluster = fixture::get();
    let port =
        |offset: u16| std::net::SocketAddr::from(([127, 0, 0, 1], cluster.base_port + offset));
    let app = spawn_app().await;
    let device = app.new_user().await;
    device.create(v1::RecordKind::Text, b"counted").await;

    let gateway = scrape(port(11)).await;
    let submitted = sample(
        &gateway,
        "gophkeeper_grpc_requests_total{service=\"gophkeeper.v1.Vault\",method=\"Submit\",code=\"Ok\"}",
    );
    assert!(submitted >= Some(1.0), "{gateway}");
    assert!(
        gateway.contains("gophkeeper_build_info{role=\"gateway\""),
        "{gateway}"
    );
    let producer = scrape(port(14)).await;
    let published = sample(
        &producer,
        "gophkeeper_grpc_requests_total{service=\"gophkeeper.v1.CommandService\",method=\"Submit\",code=\"Ok\"}",
    );
    assert!(published >= Some(1.0), "{producer}");
    let mut applied = 0.0;
    for consumer in 0..2 {
        let text = scrape(port(16 + consumer)).await;
        assert!(text.contains("role=\"command-consumer\""), "{text}");
        applied += sample(&text, "gophkeeper_consumer_commands_total").unwrap_or(0.0);
    }
    assert!(applied >= 1.0, "no consumer counted a command");

    // librdkafka reports statistics every 5 s; the lag of every partition
    // held shows once it has.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut lags = Vec::new();
        for consumer in 0..2 {
            let text = scrape(port(16 + consumer)).await;
            lags.extend(
                text.lines()
                    .filter(|line| line.starts_with("gophkeeper_consumer_lag{partition=\""))
                    .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap()),
            );
        }
        if !lags.is_empty() {
            assert!(lags.iter().all(|lag| *lag >= 0.0), "{lags:?}");
            break;
        }
        assert!(Instant::now() < deadline, "no consumer reported its lag");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let query = scrape(port(13)).await;
    assert_eq!(sample(&query, "gophkeeper_serving"), Some(1.0), "{query}");
    assert!(
        query.contains("gophkeeper_query_replica_waits_total{outcome=\"timed_out\"}"),
        "{query}"
    );
    let auth = scrape(port(12)).await;
    assert!(auth.contains("gophkeeper_auth_hash_queue "), "{auth}");
    assert_eq!(sample(&auth, "gophkeeper_serving"), Some(1.0), "{auth}");
}
