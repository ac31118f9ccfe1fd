//! What each fault did to purchases, from the times buyers were told
//! "bought": how soon the purchase rate came back after it, and, for a
//! restart, the acknowledgements it lost and how far back the loss reached.

use crate::fault::FaultRecord;
use crate::metrics::IdSet;

/// The pre-fault rate is the purchases of the second before the fault.
const BASELINE_MS: u32 = 1_000;
/// A shorter stretch before the fault says too little about its rate.
const MIN_BASELINE_MS: u32 = 100;
/// The rate after the fault is read over sliding windows this long...
const WINDOW_MS: u32 = 500;
/// ...started this far apart: the resolution of the recovery time.
const STEP_MS: u32 = 50;

/// Fill in the figures of each record. `acked_at` holds (buyer id, ms
/// after the release) for every purchase acknowledged; `held` the order
/// ids the server still has; `lost` the audit's count of acknowledged
/// orders missing (None when the check was not made); `end_ms` is when
/// the run ended, from the release.
pub fn measure(
    mut records: Vec<FaultRecord>,
    acked_at: &[(u32, u32)],
    held: &IdSet,
    lost: Option<u64>,
    end_ms: u32,
) -> Vec<FaultRecord> {
    let mut times: Vec<u32> = acked_at.iter().map(|&(_, ms)| ms).collect();
    times.sort_unstable();
    for r in &mut records {
        recovery(r, &times, end_ms);
    }
    if lost.is_some() {
        losses(&mut records, acked_at, held);
    }
    records
}

/// Purchases acknowledged in `[from, to)` ms.
fn count(times: &[u32], from: u32, to: u32) -> u64 {
    (times.partition_point(|&t| t < to) - times.partition_point(|&t| t < from)) as u64
}

/// The rate of the second before the fault, and the time from the fault's
/// end to the first window whose rate is back to half of it. No figure
/// for a fault that lasts until the crowd is done, ends too close to the
/// run's end to tell, or has no purchases before it.
fn recovery(r: &mut FaultRecord, times: &[u32], end: u32) {
    let (Some(began), Some(ended)) = (r.began_us, r.ended_us) else {
        return;
    };
    if r.step.kind.until_done() {
        return;
    }
    let (began, ended) = (ms(began), ms(ended));
    let from = began.saturating_sub(BASELINE_MS);
    let span = began - from;
    let before = count(times, from, began);
    if span < MIN_BASELINE_MS || before == 0 || ended + WINDOW_MS > end {
        return;
    }
    let per_s = before * 1_000 / u64::from(span);
    r.pre_fault_per_s = Some(per_s);
    let mut t = ended;
    while t + WINDOW_MS <= end {
        // Twice the window's purchases per second against the pre-fault
        // rate: back to half of it.
        if 2 * count(times, t, t + WINDOW_MS) * 1_000 >= per_s * u64::from(WINDOW_MS) {
            r.recovery_us = Some(u64::from(t - ended) * 1_000);
            return;
        }
        t += STEP_MS;
    }
}

/// Each lost acknowledgement belongs to the first restart or failover that
/// began at or after it (or the last one): that fault's count, and its window
/// from the earliest of them to the fault's start or, when later (a failover
/// loses what clients still wrote to the old primary), the last of them.
fn losses(records: &mut [FaultRecord], acked_at: &[(u32, u32)], held: &IdSet) {
    let restarts: Vec<(usize, u32)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.step.kind.may_lose_acks())
        .filter_map(|(i, r)| r.began_us.map(|b| (i, ms(b))))
        .collect();
    let Some(&(last, _)) = restarts.last() else {
        return;
    };
    let mut per: Vec<(u64, Option<(u32, u32)>)> = vec![(0, None); records.len()];
    for &(_, at) in acked_at.iter().filter(|(id, _)| !held.contains(*id)) {
        let i = restarts
            .iter()
            .find(|&&(_, began)| began >= at)
            .map_or(last, |&(i, _)| i);
        per[i].0 += 1;
        per[i].1 = Some(per[i].1.map_or((at, at), |(e, l)| (e.min(at), l.max(at))));
    }
    for &(i, began) in &restarts {
        let (n, span) = per[i];
        records[i].acked_lost = Some(n);
        records[i].loss_window_us = span.map(|(e, last)| u64::from(began.max(last) - e) * 1_000);
    }
}

fn ms(us: u64) -> u32 {
    u32::try_from(us / 1_000).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::{FaultKind, FaultStep};
    use std::time::Duration;

    fn record(kind: FaultKind, began_ms: u64, ended_ms: u64) -> FaultRecord {
        FaultRecord {
            step: FaultStep::new(kind, Duration::from_millis(began_ms)),
            began_us: Some(began_ms * 1_000),
            ended_us: Some(ended_ms * 1_000),
            errors: 0,
            purchased: 0,
            acked_lost: None,
            pre_fault_per_s: None,
            recovery_us: None,
            loss_window_us: None,
        }
    }

    #[test]
    fn recovery_is_the_time_until_half_the_rate_is_back() {
        // 100/s (one every 10 ms) until 1000 ms, nothing until 1400 ms,
        // then 100/s again.
        let acked: Vec<(u32, u32)> = (0..100).chain(140..300).map(|i| (i, i * 10)).collect();
        let blackhole = FaultKind::Blackhole(Duration::from_millis(200));
        let r = measure(
            vec![record(blackhole, 1_000, 1_200)],
            &acked,
            &IdSet::default(),
            None,
            3_000,
        );
        assert_eq!(r[0].pre_fault_per_s, Some(100));
        // Back to half (25 in 500 ms) at once: [1200, 1700) holds 30.
        assert_eq!(r[0].recovery_us, Some(0));
        let later = measure(
            vec![record(blackhole, 1_000, 1_000)],
            &acked,
            &IdSet::default(),
            None,
            3_000,
        );
        // [1000, 1500) holds 10 purchases; [1150, 1650) holds 25.
        assert_eq!(later[0].recovery_us, Some(150_000));
        assert_eq!(later[0].acked_lost, None);
        // Ended too close to the run's end to tell: no figure, not "never".
        let late = record(blackhole, 1_000, 2_700);
        let r = measure(vec![late], &acked, &IdSet::default(), None, 3_000);
        assert_eq!((r[0].pre_fault_per_s, r[0].recovery_us), (None, None));
        // Nothing bought after it, to the end: never.
        let r = measure(
            vec![record(blackhole, 1_000, 1_100)],
            &acked[..100],
            &IdSet::default(),
            None,
            3_000,
        );
        assert_eq!((r[0].pre_fault_per_s, r[0].recovery_us), (Some(100), None));
    }

    #[test]
    fn lost_acknowledgements_go_to_the_restart_after_them() {
        let acked = [(0, 100), (1, 400), (2, 900), (3, 1_500), (4, 1_800)];
        let mut held = IdSet::default();
        for id in [0, 2, 4] {
            held.insert(id);
        }
        let r = measure(
            vec![
                record(FaultKind::Kill, 500, 550),
                record(FaultKind::ClientKill, 700, 700),
                record(FaultKind::Kill, 1_600, 1_650),
            ],
            &acked,
            &held,
            Some(2),
            2_000,
        );
        assert_eq!(
            (r[0].acked_lost, r[0].loss_window_us),
            (Some(1), Some(100_000))
        );
        assert_eq!(r[1].acked_lost, None);
        assert_eq!(
            (r[2].acked_lost, r[2].loss_window_us),
            (Some(1), Some(100_000))
        );
    }

    #[test]
    fn a_failover_loses_what_came_after_it_and_its_window_spans_the_losses() {
        // Acknowledged at 900, 1200 and 1900 ms; the last two were written
        // to the old primary after the failover began at 1000 ms.
        let acked = [(0, 900), (1, 1_200), (2, 1_900)];
        let mut held = IdSet::default();
        held.insert(0);
        let r = measure(
            vec![record(FaultKind::Failover, 1_000, 1_500)],
            &acked,
            &held,
            Some(2),
            3_000,
        );
        assert_eq!(
            (r[0].acked_lost, r[0].loss_window_us),
            (Some(2), Some(700_000))
        );
    }
}
