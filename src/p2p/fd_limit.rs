//! The open-files limit caps the connections a relay can hold (one descriptor each): the soft
//! limit is raised to the hard limit at start, and a limit below the configured connection
//! limits is logged, since connections past it fail with `EMFILE` instead of being refused.

use crate::config::ConnectionLimits;

/// Descriptors kept for everything but peer connections (stores, listeners, API clients).
const RESERVE: u64 = 256;

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit; returns the new soft limit
/// (0 when it cannot be read).
pub fn raise() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit get a valid pointer to a local rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    lim.rlim_cur
}

/// Raises the limit and warns when it cannot hold `limits`' connections.
pub fn raise_for(limits: &ConnectionLimits) {
    let have = raise();
    let need = u64::from(limits.max_established_inbound)
        + u64::from(limits.max_established_outbound)
        + u64::from(limits.max_pending_inbound)
        + RESERVE;
    if have != 0 && have < need {
        tracing::warn!(
            open_files = have,
            needed = need,
            "the open-files limit (ulimit -n) is below p2p.limits: raise it (e.g. LimitNOFILE in systemd) or lower max_established_inbound"
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_soft_limit_ends_at_the_hard_limit() {
        let soft = super::raise();
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: a valid pointer to a local rlimit.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        assert_eq!(soft, lim.rlim_cur);
        assert_eq!(lim.rlim_cur, lim.rlim_max);
    }
}
