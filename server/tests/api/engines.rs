//! The engine matrix: role `all` on each storage engine with each broker,
//! for real (SQLite files, PostgreSQL from `scripts/pg-local`, tansu as the
//! Kafka broker), and the split roles refusing anything but PostgreSQL and
//! Kafka. Each row writes a record, restarts the server and reads the
//! record back on another device, and checks that the data went where the
//! settings said.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use gophkeeper_proto::v1;
use gophkeeper_server::broker::kafka_security::{KafkaProtocol, SaslMechanism};
use gophkeeper_server::settings::{BrokerKind, Settings, StorageEngine};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app_with};
use crate::pg_local::PgCluster;
use crate::tansu::Tansu;

fn use_postgres(settings: &mut Settings, pg: &PgCluster, replica: bool) {
    settings.storage.engine = StorageEngine::Postgres;
    settings.postgres.auth_url = pg.url("GOPHKEEPER__POSTGRES__AUTH_URL").into();
    settings.postgres.vault_primary_url = pg.url("GOPHKEEPER__POSTGRES__VAULT_PRIMARY_URL").into();
    settings.postgres.vault_replica_url = if replica {
        pg.url("GOPHKEEPER__POSTGRES__VAULT_REPLICA_URL").into()
    } else {
        String::new().into()
    };
}

fn use_kafka(settings: &mut Settings, tansu: &Tansu) {
    let run = Uuid::new_v4().simple();
    settings.broker.kind = BrokerKind::Kafka;
    settings.kafka.brokers = tansu.brokers.clone();
    settings.kafka.commands_topic = format!("commands-{run}");
    settings.kafka.events_topic = format!("events-{run}");
    settings.kafka.consumer_group = format!("consumers-{run}");
    settings.kafka.partitions = 1;
    // tansu 0.6 and an idempotent producer do not mix (docs/cluster.md).
    settings.kafka.idempotent_producer = false;
}

/// A record written before a restart is there after it, for another device.
async fn round_trip(app: &mut TestApp) {
    let device = app.new_user().await;
    let (record_id, revision) = device.create(v1::RecordKind::Login, b"sealed login").await;
    app.restart().await;
    let other = app.device(&device.username).await;
    other.saw(revision);
    let records = other.get(&[&record_id]).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].ciphertext, b"sealed login");
    assert_eq!(records[0].revision, revision);
}

fn sqlite_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".db"))
        .collect();
    files.sort();
    files
}

/// Messages the commands topic holds: the commands went through Kafka.
async fn commands_in_kafka(settings: &Settings) -> i64 {
    let kafka = settings.kafka.clone();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &kafka.brokers)
            .set("group.id", format!("probe-{}", Uuid::new_v4()))
            .create()
            .unwrap();
        let (low, high) = consumer
            .fetch_watermarks(&kafka.commands_topic, 0, Duration::from_secs(10))
            .unwrap();
        high - low
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn role_all_on_sqlite_with_the_in_process_broker() {
    let mut app = spawn_app_with(|_| {}).await;
    round_trip(&mut app).await;
    let dir = app.settings.data_dir().unwrap();
    assert_eq!(sqlite_files(&dir), ["auth.db", "vault.db"]);
}

#[tokio::test]
async fn role_all_on_sqlite_with_kafka() {
    let tansu = Tansu::start().await;
    let mut app = spawn_app_with(|s| use_kafka(s, &tansu)).await;
    round_trip(&mut app).await;
    assert_eq!(
        sqlite_files(&app.settings.data_dir().unwrap()),
        ["auth.db", "vault.db"]
    );
    assert!(
        commands_in_kafka(&app.settings).await >= 1,
        "{}",
        tansu.log()
    );
}

/// Kafka with SASL (docs/cluster.md, "Kafka over TLS and SASL"): tansu
/// asking for SCRAM-SHA-512 carries the commands of a server that logs in
/// as its user, and refuses one with a wrong password, which names the
/// cause. (TLS is not tested against a broker: tansu 0.6 does not serve
/// it.)
#[tokio::test]
async fn role_all_with_kafka_over_sasl_scram() {
    let tansu = Tansu::start_with_scram("gophkeeper", "kafka pass 2026").await;
    let sasl = |settings: &mut Settings, password: &str| {
        use_kafka(settings, &tansu);
        let security = &mut settings.kafka.security;
        security.protocol = KafkaProtocol::SaslPlaintext;
        security.sasl_mechanism = SaslMechanism::ScramSha512;
        security.sasl_username = "gophkeeper".into();
        security.sasl_password = password.to_owned().into();
    };
    let mut app = spawn_app_with(|s| sasl(s, "kafka pass 2026")).await;
    round_trip(&mut app).await;

    let mut wrong = app.settings.clone();
    sasl(&mut wrong, "not the password");
    let refused = tokio::time::timeout(
        Duration::from_secs(30),
        gophkeeper_server::broker::kafka::ensure_topics(&wrong.kafka),
    )
    .await
    .expect("a wrong password is refused in time")
    .unwrap_err();
    // tansu drops a failed login without an answer; a broker that answers
    // gets "refused our login" and its reason instead.
    let text = refused.to_string();
    assert!(
        text.contains("did not let us in as \"gophkeeper\"") && text.contains("sasl_password"),
        "{text}"
    );
    assert!(!text.contains("not the password"), "{text}");
}

/// PostgreSQL takes the server's connections over TLS only, and the
/// server checks the certificate (scripts/pg-local; `sslmode=verify-full`
/// in every URL it prints): a connection without TLS is refused by the
/// database, and one that does not trust the database's CA refuses it.
#[tokio::test]
async fn postgres_is_reached_over_verified_tls_only() {
    use sqlx::Connection as _;
    let pg = PgCluster::start().await;
    let url = pg.url("GOPHKEEPER__POSTGRES__AUTH_URL");
    assert!(url.contains("sslmode=verify-full"), "{url}");
    let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert!(encrypted);
    db.close().await.unwrap();

    let (base, _) = url.split_once('?').unwrap();
    let plain = sqlx::PgConnection::connect(&format!("{base}?sslmode=disable"))
        .await
        .unwrap_err()
        .to_string();
    assert!(plain.contains("no encryption"), "{plain}");
    // Another CA than the one that signed the database's certificate.
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other-ca.pem");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    std::fs::write(&other, params.self_signed(&key).unwrap().pem()).unwrap();
    let other_ca = format!("{base}?sslmode=verify-full&sslrootcert={}", other.display());
    let untrusted = sqlx::PgConnection::connect(&other_ca)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        untrusted.to_lowercase().contains("certificate"),
        "{untrusted}"
    );
    pg.stop().await;
}

#[tokio::test]
async fn role_all_on_postgres_with_the_in_process_broker() {
    let pg = PgCluster::start().await;
    // One PostgreSQL server, no replica: role `all` reads the primary.
    let mut app = spawn_app_with(|s| use_postgres(s, &pg, false)).await;
    round_trip(&mut app).await;
    assert!(sqlite_files(&app.settings.data_dir().unwrap()).is_empty());
    drop(app);
    pg.stop().await;
}

#[tokio::test]
async fn role_all_on_postgres_with_kafka() {
    let pg = PgCluster::start().await;
    let tansu = Tansu::start().await;
    let mut app = spawn_app_with(|s| {
        use_postgres(s, &pg, true);
        use_kafka(s, &tansu);
    })
    .await;
    round_trip(&mut app).await;
    assert!(sqlite_files(&app.settings.data_dir().unwrap()).is_empty());
    assert!(
        commands_in_kafka(&app.settings).await >= 1,
        "{}",
        tansu.log()
    );
    drop(app);
    pg.stop().await;
}

/// The real binary, as an operator starts it.
fn server(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_gophkeeper-server"))
        .args(args)
        .arg("--data-dir")
        .arg(dir.path())
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// A producer or consumer without the shared command key would either sign
/// with a key nobody checks or apply commands nobody signed: it does not
/// start, and says which setting it lacks. A malformed key is refused too.
#[test]
fn producers_and_consumers_refuse_to_start_without_a_command_key() {
    let engines = [
        ("GOPHKEEPER__STORAGE__ENGINE", "postgres"),
        ("GOPHKEEPER__BROKER__KIND", "kafka"),
    ];
    for role in ["command-producer", "command-consumer"] {
        let output = server(&[role], &engines);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{role} started: {stderr}");
        assert!(
            stderr.contains("broker.command_key is required"),
            "{role}: {stderr}"
        );
        let mut malformed = engines.to_vec();
        malformed.push(("GOPHKEEPER__BROKER__COMMAND_KEY", "not hex"));
        let output = server(&[role], &malformed);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{role} started: {stderr}");
        assert!(stderr.contains("must be 64 hex digits"), "{role}: {stderr}");
    }
}

#[test]
fn split_roles_refuse_sqlite_or_the_in_process_broker_with_one_line() {
    let cases = [
        ("query", vec![], "\"sqlite\" and \"in-process\""),
        (
            "command-consumer",
            vec![("GOPHKEEPER__STORAGE__ENGINE", "postgres")],
            "\"postgres\" and \"in-process\"",
        ),
        (
            "gateway",
            vec![("GOPHKEEPER__BROKER__KIND", "kafka")],
            "\"sqlite\" and \"kafka\"",
        ),
    ];
    for (role, env, named) in cases {
        let output = server(&[role], &env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{role} started: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&format!("role {role} ")), "{stderr}");
        assert!(stderr.contains(named), "{stderr}");
    }
}

#[test]
fn a_split_role_with_a_config_of_its_own_passes_the_engine_check() {
    // The shipped cluster configs choose PostgreSQL and Kafka; the role then
    // gets past the check and stops at the next thing it lacks here, the
    // replica's address.
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/cluster-query.toml");
    let output = server(&["--config", config.to_str().unwrap()], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        !stderr.contains("role query runs as one process"),
        "{stderr}"
    );
    assert!(stderr.contains("postgres.vault_replica_url"), "{stderr}");
}

#[tokio::test]
async fn a_broker_that_went_away_gives_a_short_message_and_a_reason() {
    let tansu = Tansu::start().await;
    let app = spawn_app_with(|s| {
        use_kafka(s, &tansu);
        s.kafka.produce_timeout_ms = 500;
    })
    .await;
    let device = app.new_user().await;
    drop(tansu);
    let record_id = Uuid::new_v4().to_string();
    let status = device
        .submit(crate::helpers::create_cmd(
            &record_id,
            v1::RecordKind::Text,
            b"sealed",
        ))
        .await
        .unwrap_err();
    let message =
        crate::helpers::assert_status(&status, tonic::Code::Unavailable, "BROKER_UNAVAILABLE");
    assert_eq!(message, "command broker unavailable, retry");
}
