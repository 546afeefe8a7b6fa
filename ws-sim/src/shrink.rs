//! Minimising a failing script: remove chunks of it, halving the chunk size, as long as what
//! is left still fails (a simple delta debugging). Scripts and traces fail deterministically,
//! so every candidate is judged by one replay.

/// The smallest sub-sequence of `items` (in order) found for which `fails` still holds.
/// `fails(items)` is assumed true.
pub fn minimize<T: Clone>(items: &[T], mut fails: impl FnMut(&[T]) -> bool) -> Vec<T> {
    let mut current = items.to_vec();
    let mut chunk = current.len().div_ceil(2).max(1);
    loop {
        let mut removed_any = false;
        let mut start = 0;
        while start < current.len() {
            let end = (start + chunk).min(current.len());
            let candidate: Vec<T> = current[..start]
                .iter()
                .chain(&current[end..])
                .cloned()
                .collect();
            if fails(&candidate) {
                current = candidate;
                removed_any = true;
            } else {
                start = end;
            }
        }
        if chunk == 1 && !removed_any {
            return current;
        }
        if !removed_any {
            chunk = chunk.div_ceil(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_what_the_failure_needs() {
        let items: Vec<u32> = (0..40).collect();
        let minimal = minimize(&items, |c| c.contains(&7) && c.contains(&31));
        assert_eq!(minimal, [7, 31]);
    }

    #[test]
    fn keeps_order_dependent_pairs() {
        let items = [3, 1, 4, 1, 5, 9, 2, 6];
        let minimal = minimize(&items, |c| {
            let four = c.iter().position(|&x| x == 4);
            let nine = c.iter().position(|&x| x == 9);
            matches!((four, nine), (Some(four), Some(nine)) if four < nine)
        });
        assert_eq!(minimal, [4, 9]);
    }
}
