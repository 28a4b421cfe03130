//! Gate lookup cost: ns per lookup and bytes per entry for 1k / 100k / 1M mixed bans, beside a
//! linear scan of the same list (how the anchors do it). Run: `cargo bench --bench gate`.
//!
//! Mix: 50% IPv4 addresses, 20% IPv6 addresses, 20% IPv4 CIDRs (/16../31), 10% IPv6 CIDRs
//! (/32, /40, /48, /56, /64); queries are half banned addresses, half random ones.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::Utc;
use ipnetwork::IpNetwork;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wharf::control::{Ban, BanTarget, Gatekeeper};

/// Counts live heap bytes, to measure the index's footprint.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn random_target(rng: &mut StdRng) -> BanTarget {
    let roll: u32 = rng.gen_range(0..10);
    let v4 = IpAddr::V4(Ipv4Addr::from(rng.gen::<u32>()));
    let v6 = IpAddr::V6(Ipv6Addr::from(rng.gen::<u128>()));
    match roll {
        0..=4 => BanTarget::Ip(v4),
        5..=6 => BanTarget::Ip(v6),
        7..=8 => BanTarget::from_network(IpNetwork::new(v4, rng.gen_range(16..32)).unwrap()),
        _ => {
            let prefix = [32, 40, 48, 56, 64][rng.gen_range(0..5)];
            BanTarget::from_network(IpNetwork::new(v6, prefix).unwrap())
        }
    }
}

fn bans(n: usize, rng: &mut StdRng) -> Vec<Ban> {
    (0..n)
        .map(|i| Ban {
            id: i as i64 + 1,
            target: random_target(rng),
            reason: String::new(),
            created_by: String::new(),
            created_at: Utc::now(),
            expires_at: None,
        })
        .collect()
}

fn queries(bans: &[Ban], count: usize, rng: &mut StdRng) -> Vec<IpAddr> {
    (0..count)
        .map(
            |i| match (i % 2, bans[rng.gen_range(0..bans.len())].target) {
                (0, BanTarget::Ip(ip)) => ip,
                (0, BanTarget::Cidr(net)) => net.network(),
                _ if rng.gen_bool(0.5) => IpAddr::V4(Ipv4Addr::from(rng.gen::<u32>())),
                _ => IpAddr::V6(Ipv6Addr::from(rng.gen::<u128>())),
            },
        )
        .collect()
}

fn time_per_lookup(queries: &[IpAddr], mut f: impl FnMut(IpAddr) -> bool) -> (f64, usize) {
    let start = Instant::now();
    let hits = queries.iter().filter(|ip| f(black_box(**ip))).count();
    (
        start.elapsed().as_nanos() as f64 / queries.len() as f64,
        hits,
    )
}

fn scan(list: &[(IpNetwork, i64)], ip: IpAddr, now: i64) -> bool {
    list.iter().any(|(net, exp)| *exp > now && net.contains(ip))
}

fn run(n: usize) {
    let mut rng = StdRng::seed_from_u64(n as u64);
    let list = bans(n, &mut rng);
    let before = LIVE.load(Ordering::Relaxed);
    let gate = Gatekeeper::from_bans(&list);
    let bytes = LIVE.load(Ordering::Relaxed) - before;
    let qs = queries(&list, 1_000_000, &mut rng);
    let (gate_ns, hits) = time_per_lookup(&qs, |ip| gate.is_ip_banned(ip));
    // worst case: addresses no ban covers, so every prefix table is probed
    let misses: Vec<IpAddr> = queries(&list, 2_000_000, &mut rng)
        .into_iter()
        .filter(|ip| !gate.is_ip_banned(*ip))
        .collect();
    let (miss_ns, _) = time_per_lookup(&misses, |ip| gate.is_ip_banned(ip));
    let flat: Vec<(IpNetwork, i64)> = list
        .iter()
        .filter_map(|b| b.target.network().map(|n| (n, i64::MAX)))
        .collect();
    let scan_qs = &qs[..(100_000_000 / n).clamp(20, 100_000)];
    let now = Utc::now().timestamp_millis();
    let (scan_ns, scan_hits) = time_per_lookup(scan_qs, |ip| scan(&flat, ip, now));
    let gate_scan_hits = scan_qs.iter().filter(|ip| gate.is_ip_banned(**ip)).count();
    assert_eq!(gate_scan_hits, scan_hits, "index and scan agree");
    let (p4, p6) = gate.prefix_lengths();
    println!(
        "{n:>9} bans | gate {gate_ns:>6.1} ns/lookup ({:.0}% hits), misses only {miss_ns:>6.1} ns \
         ({p4}+{p6} prefix lengths) | {:>4.1} B/entry | scan {scan_ns:>10.1} ns | x{:.0}",
        hits as f64 * 100.0 / qs.len() as f64,
        bytes as f64 / n as f64,
        scan_ns / gate_ns,
    );
}

fn main() {
    println!("gate lookup vs linear scan (release build, one thread)");
    for n in [1_000, 100_000, 1_000_000] {
        run(n);
    }
}
