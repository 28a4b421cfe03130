//! Spreads independent checks (the blocks of a chunk, the signatures of a batch) over the
//! machine's cores with scoped threads: no thread pool to own, nothing outlives the call, and
//! each helper thread carries its caller's name so per-thread CPU accounting (the sync
//! benchmark's joiner) still sees it.

use std::num::NonZeroUsize;
use std::sync::OnceLock;

/// Fewest items worth a thread of their own.
const MIN_PER_THREAD: usize = 8;

/// How many threads verification may use: the machine's cores.
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map(NonZeroUsize::get)
            .unwrap_or(1)
    })
}

/// Applies `f` to consecutive slices of `items` (the slice and the index of its first item)
/// on up to `threads` threads, and returns the results in order. Runs inline when the work is
/// too small to split or `threads` is 1.
pub fn map_slices<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(usize, &[T]) -> R + Sync,
{
    let threads = threads.min(items.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return vec![f(0, items)];
    }
    let per = items.len().div_ceil(threads);
    let name = std::thread::current().name().map(str::to_owned);
    std::thread::scope(|scope| {
        let f = &f;
        let mut handles = Vec::with_capacity(threads);
        for (i, slice) in items.chunks(per).enumerate().skip(1) {
            let mut builder = std::thread::Builder::new();
            if let Some(name) = &name {
                builder = builder.name(name.clone());
            }
            let spawned = builder.spawn_scoped(scope, move || f(i * per, slice));
            handles.push(spawned.map_err(|_| (i * per, slice)));
        }
        let mut out = vec![f(0, &items[..per.min(items.len())])];
        for handle in handles {
            out.push(match handle {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                // no thread to be had: do the slice here
                Err((offset, slice)) => f(offset, slice),
            });
        }
        out
    })
}

/// The first error of `f` over every item (by index), or `Ok` when all pass; items are
/// checked in parallel on up to `threads` threads.
pub fn try_each<T, E, F>(items: &[T], threads: usize, f: F) -> Result<(), E>
where
    T: Sync,
    E: Send,
    F: Fn(usize, &T) -> Result<(), E> + Sync,
{
    let results = map_slices(items, threads, |offset, slice| {
        (offset..).zip(slice).try_for_each(|(i, item)| f(i, item))
    });
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_their_order_and_the_first_error_wins() {
        let items: Vec<u32> = (0..100).collect();
        let sums = map_slices(&items, 4, |offset, s| (offset, s.len()));
        assert_eq!(sums, vec![(0, 25), (25, 25), (50, 25), (75, 25)]);
        let err = try_each(&items, 4, |i, v| match *v {
            30 | 80 => Err(i),
            _ => Ok(()),
        });
        assert_eq!(err, Err(30));
        assert_eq!(try_each(&items, 4, |_, _| Ok::<(), ()>(())), Ok(()));
        assert_eq!(
            map_slices(&items[..3], 4, |o, s| (o, s.len())),
            vec![(0, 3)]
        );
    }
}
