//! Abrupt kills during ban and score writes: a control plane in a child process adds bans
//! (acknowledging each one on stdout once `add_ban` returned) and penalises peers until it is
//! killed with SIGKILL at a random moment; several times in a row on the same store. After
//! each kill the store opens and every acknowledged ban is there. Run on SQLite and Postgres.

use std::collections::BTreeSet;
use std::time::Duration;

use libp2p::PeerId;
use wharf::control::{BanFilter, ControlConfig, Expiry, NewBan, ScoreEvent};

use super::child::{random_below, Child};
use super::common::{start_control, Backend, Env};

const DIR_ENV: &str = "WHARF_TEST_CONTROL_CRASH_DIR";
const DB_ENV: &str = "WHARF_TEST_CONTROL_CRASH_DB";
const ROUND_ENV: &str = "WHARF_TEST_CONTROL_CRASH_ROUND";
const ROUNDS: u32 = 4;

fn config(url: Option<String>) -> ControlConfig {
    ControlConfig {
        database_url: url,
        store_timeout: Duration::from_secs(5),
        flush_interval: Duration::from_millis(20),
        ..ControlConfig::default()
    }
}

/// A distinct IPv4 ban target per (round, index).
fn target(round: u32, i: u32) -> String {
    format!("10.{}.{}.{}", round, i / 250, i % 250 + 1)
}

/// Runs in the child process only: bans and penalises until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of killed_control_plane_keeps_every_acknowledged_ban"]
async fn crash_child_control() {
    let dir = std::env::var(DIR_ENV).expect("run by the parent test");
    let url = std::env::var(DB_ENV).ok().filter(|u| !u.is_empty());
    let round: u32 = std::env::var(ROUND_ENV).unwrap().parse().unwrap();
    let relay = start_control(std::path::Path::new(&dir), &config(url)).await;
    for i in 0.. {
        let t = target(round, i);
        let ban = NewBan {
            target: t.parse().unwrap(),
            reason: "crash test".into(),
            created_by: "tester".into(),
            expiry: Expiry::Permanent,
        };
        relay.control.add_ban(ban).await.expect("ban stored");
        println!("ACK {t}");
        // score writes run beside ban writes (flushed every 20 ms)
        relay
            .control
            .penalise(PeerId::random(), None, ScoreEvent::InvalidData);
    }
}

fn run_and_kill(
    vars: [(&str, String); 3],
    round: u32,
    acks_before_kill: usize,
) -> BTreeSet<String> {
    let child = Child::spawn("crash::crash_child_control", &vars);
    let mut acked = BTreeSet::new();
    child
        .next(Duration::from_secs(60), |l| {
            acked.insert(l.strip_prefix("ACK ")?.to_string());
            (acked.len() >= acks_before_kill).then_some(())
        })
        .unwrap_or_else(|| panic!("round {round}: child stopped acknowledging bans"));
    std::thread::sleep(random_below(Duration::from_millis(30)));
    let rest = child.kill();
    acked.extend(
        rest.iter()
            .filter_map(|l| l.strip_prefix("ACK ").map(str::to_string)),
    );
    acked
}

pub async fn killed_control_plane_keeps_every_acknowledged_ban(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let mut acked = BTreeSet::new();
    for round in 0..ROUNDS {
        let n = 1 + rand::random::<usize>() % 40;
        let vars = [
            (DIR_ENV, env.dir.path().display().to_string()),
            (DB_ENV, env.url().unwrap_or_default()),
            (ROUND_ENV, round.to_string()),
        ];
        let got = tokio::task::spawn_blocking(move || run_and_kill(vars, round, n));
        acked.extend(got.await.expect("child round"));
        let relay = env.start(&config(env.url())).await;
        let filter = BanFilter {
            limit: None,
            ..BanFilter::default()
        };
        let stored: BTreeSet<String> = relay
            .control
            .list_bans(&filter)
            .await
            .expect("store readable after the kill")
            .bans
            .iter()
            .map(|ban| ban.target.to_string())
            .collect();
        let lost: Vec<_> = acked.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "{b:?} round {round}: acknowledged bans lost: {lost:?}"
        );
        relay.stop().await;
    }
    env.cleanup().await;
}
