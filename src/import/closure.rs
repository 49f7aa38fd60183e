//! Transitive closure of a concept hierarchy, computed in memory at import time so that
//! subsumption at request time is a single indexed lookup.

/// Computes every `(ancestor, descendant)` pair reachable through `links`
/// (`(child, parent)` pairs over `0..n`), sorted, without self pairs.
///
/// Each concept walks up its parents breadth-first with a generation-stamped visited
/// array, so cycles (which occur in real, imperfect releases) terminate, and the work is
/// proportional to the size of the closure itself.
pub fn transitive_closure(n: usize, links: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut parents: Vec<Vec<u32>> = vec![Vec::new(); n];
    for &(child, parent) in links {
        if child != parent {
            parents[child as usize].push(parent);
        }
    }
    let mut stamp = vec![u32::MAX; n];
    let mut queue: Vec<u32> = Vec::new();
    let mut pairs = Vec::new();
    for descendant in 0..n as u32 {
        if parents[descendant as usize].is_empty() {
            continue;
        }
        stamp[descendant as usize] = descendant;
        queue.clear();
        queue.extend_from_slice(&parents[descendant as usize]);
        while let Some(ancestor) = queue.pop() {
            if stamp[ancestor as usize] == descendant {
                continue;
            }
            stamp[ancestor as usize] = descendant;
            pairs.push((ancestor, descendant));
            queue.extend_from_slice(&parents[ancestor as usize]);
        }
    }
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::transitive_closure;

    #[test]
    fn diamond_has_each_pair_once() {
        // 3 -> 1 -> 0, 3 -> 2 -> 0
        let closure = transitive_closure(4, &[(1, 0), (2, 0), (3, 1), (3, 2)]);
        assert_eq!(closure, vec![(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)]);
    }

    #[test]
    fn cycles_terminate_and_do_not_produce_self_pairs() {
        let closure = transitive_closure(3, &[(0, 1), (1, 2), (2, 0)]);
        assert_eq!(closure.len(), 6);
        assert!(closure.iter().all(|(a, d)| a != d));
    }
}
