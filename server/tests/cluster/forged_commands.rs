//! Whoever can write to the commands topic, without the cluster's command
//! key, cannot make a consumer apply anything (#20, item 2): an unsigned
//! envelope, one signed with another key, and another user's signed
//! command rewritten for the victim, each written straight to the real
//! broker's topic, are rejected and logged, and the victim's record stays
//! as it was. A command of the victim's own sent after them applies, so
//! they were consumed, not merely late.

use std::time::{Duration, Instant};

use gophkeeper_proto::v1;
use gophkeeper_server::broker::kafka::{KafkaProducer, KafkaPublisher};
use gophkeeper_server::broker::{CommandPublisher, partition_key};
use gophkeeper_server::command::signing::CommandKeys;
use gophkeeper_server::ids::UserId;
use gophkeeper_server::settings::Settings;
use prost::Message;
use secrecy::SecretString;

use crate::fixture;
use crate::helpers::*;

fn envelope(user_id: &str, command: v1::Command) -> v1::CommandEnvelope {
    v1::CommandEnvelope {
        user_id: user_id.to_owned(),
        session_id: uuid::Uuid::new_v4().to_string(),
        command: Some(command),
        accepted_at_ms: 1,
    }
}

fn keys(hex: &str) -> CommandKeys {
    CommandKeys::from_settings(&SecretString::from(hex.trim()), &[], None).unwrap()
}

/// Lines of the consumers' logs that report a rejected command.
fn rejections(cluster: &fixture::Cluster) -> usize {
    std::fs::read_dir(cluster.dir.join("logs"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("consumer"))
        .map(|entry| {
            std::fs::read_to_string(entry.path())
                .unwrap_or_default()
                .matches("rejected a command on the topic")
                .count()
        })
        .sum()
}

#[tokio::test]
async fn commands_written_to_the_topic_without_the_key_change_nothing() {
    let cluster = fixture::get();
    let app = spawn_app().await;
    let victim = app.new_user().await;
    let other = app.new_user().await;
    let (record, revision) = victim.create(v1::RecordKind::Text, b"kept").await;
    let before = rejections(cluster);

    let mut settings = Settings::load_without_env(None).unwrap();
    settings.kafka.brokers = std::fs::read_to_string(cluster.dir.join("run/brokers"))
        .unwrap()
        .trim()
        .to_owned();
    settings.kafka.idempotent_producer =
        std::fs::read_to_string(cluster.dir.join("run/idempotent_producer"))
            .unwrap()
            .trim()
            == "true";
    let publisher = KafkaPublisher::new(
        KafkaProducer::new(&settings.kafka).unwrap(),
        &settings.kafka,
    );
    let victim_id = UserId::parse("user_id", &victim.user_id).unwrap();
    let to_victim = partition_key(victim_id);
    let delete = || envelope(&victim.user_id, delete_cmd(&record, revision));

    let unsigned = v1::SignedCommand {
        key_id: String::new(),
        envelope: delete().encode_to_vec(),
        mac: Vec::new(),
    };
    let forged = keys(&"ab".repeat(32)).sign(&to_victim, &delete());
    // A command of another user, signed with the cluster's real key, its
    // envelope rewritten to delete the victim's record.
    let real = keys(&std::fs::read_to_string(cluster.dir.join("run/command.key")).unwrap());
    let other_id = UserId::parse("user_id", &other.user_id).unwrap();
    let others = real.sign(
        &partition_key(other_id),
        &envelope(
            &other.user_id,
            create_cmd(
                &uuid::Uuid::new_v4().to_string(),
                v1::RecordKind::Text,
                b"x",
            ),
        ),
    );
    let mut rewritten = v1::SignedCommand::decode(others.as_slice()).unwrap();
    rewritten.envelope = delete().encode_to_vec();
    for payload in [unsigned.encode_to_vec(), forged, rewritten.encode_to_vec()] {
        publisher.publish(to_victim, payload).await.unwrap();
    }

    // Behind them on the victim's partition: the victim's own update.
    let outcome = victim
        .submit(update_cmd(&record, revision, b"still mine"))
        .await
        .unwrap();
    let updated = applied(&outcome);
    assert_eq!(updated, revision + 1, "nothing applied before it");
    let records = victim.get(&[&record]).await.unwrap();
    assert_eq!(records.len(), 1);
    assert!(!records[0].deleted, "a forged delete applied");
    assert_eq!(records[0].ciphertext, b"still mine");
    // The other user's command, sent only in its rewritten form, never ran.
    let theirs = other.changes(0).await.unwrap();
    assert!(theirs.records.is_empty(), "{theirs:?}");

    let deadline = Instant::now() + Duration::from_secs(10);
    while rejections(cluster) < before + 3 {
        assert!(
            Instant::now() < deadline,
            "the consumers did not log three rejections"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
