//! Control plane integration tests: one suite run against both stores (SQLite in a temp dir,
//! Postgres in a fresh database per test), plus Postgres-only fleet and outage tests,
//! and enforcement on real libp2p swarms.

#[path = "control/bans.rs"]
mod bans;
#[path = "common/child.rs"]
mod child;
#[path = "control/common.rs"]
mod common;
#[path = "control/crash.rs"]
mod crash;
#[path = "control/fleet.rs"]
mod fleet;
#[path = "control/hygiene.rs"]
mod hygiene;
#[path = "common/mod.rs"]
mod node;
#[path = "control/scores.rs"]
mod scores;
#[path = "control/swarm.rs"]
mod swarm;
#[path = "control/sybil.rs"]
mod sybil;
#[path = "control/types.rs"]
mod types;

/// Runs each named suite function once per store.
macro_rules! both_stores {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                crate::$module::$name(crate::common::Backend::Sqlite).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                crate::$module::$name(crate::common::Backend::Postgres).await
            })*
        }
    };
}

both_stores!(
    bans::add_list_get_remove,
    bans::extend_never_shortens,
    bans::expiry_unblocks_without_action,
    bans::containment_v4_v6_cidr,
    bans::peer_bans_and_filters,
    bans::invalid_expiry_rejected,
    bans::restart_keeps_bans,
    crash::killed_control_plane_keeps_every_acknowledged_ban,
    scores::auto_ban_at_threshold,
    scores::trusted_peer_exempt,
    scores::rewards_decay_and_reset,
    scores::restart_keeps_scores,
    swarm::existing_connection_closed_within_a_second,
    swarm::banned_refused_before_handshake_until_expiry,
    swarm::peer_id_ban_refuses_the_peer,
    swarm::outbound_dns_dial_to_a_banned_ip_is_refused,
    sybil::fifty_fresh_peer_ids_from_one_ip_end_in_one_ip_ban,
    hygiene::neutral_scores_and_old_bans_are_collected,
    hygiene::pending_auto_bans_are_removable_and_never_lost,
    hygiene::refused_streams_alone_never_ban,
    hygiene::gossip_bans_never_escalate_to_the_address,
);
