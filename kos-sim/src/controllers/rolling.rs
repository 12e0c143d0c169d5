//! The arithmetic of a Deployment's rolling update, as the deployment controller does it:
//! how far `maxSurge` / `maxUnavailable` stretch, how many pods the new ReplicaSet may
//! grow to, and how far each old ReplicaSet may shrink. Pure functions, no I/O.

use serde_json::Value;

/// `maxSurge` and `maxUnavailable` resolved to pod counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub surge: i64,
    pub unavailable: i64,
}

/// An int-or-percent value (`2`, `"25%"`) of `replicas`, percentages rounded up or down.
/// Missing or malformed values take `default`.
pub fn int_or_percent(value: Option<&Value>, replicas: i64, round_up: bool, default: &str) -> i64 {
    let text = match value {
        Some(Value::Number(n)) => return n.as_i64().unwrap_or(0).max(0),
        Some(Value::String(s)) => s.as_str(),
        _ => default,
    };
    let percent = text
        .strip_suffix('%')
        .and_then(|p| p.trim().parse::<i64>().ok());
    match percent {
        Some(p) => {
            let scaled = replicas.max(0) * p.max(0);
            if round_up {
                (scaled + 99) / 100
            } else {
                scaled / 100
            }
        }
        None => text.trim().parse::<i64>().unwrap_or(0).max(0),
    }
}

/// The bounds of a rolling update of `replicas` pods (defaults 25% / 25%; surge rounds up,
/// unavailability down, and both zero would stall the rollout, so unavailability is 1).
pub fn bounds(max_surge: Option<&Value>, max_unavailable: Option<&Value>, replicas: i64) -> Bounds {
    let surge = int_or_percent(max_surge, replicas, true, "25%");
    let mut unavailable = int_or_percent(max_unavailable, replicas, false, "25%");
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Bounds {
        surge,
        unavailable: unavailable.min(replicas.max(0)),
    }
}

/// A ReplicaSet's wanted pod count (`spec.replicas`) and its available pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replicas {
    pub spec: i64,
    pub available: i64,
}

/// The new ReplicaSet's next size: grow toward `desired` as far as the surge allows.
/// `total` is the sum of every ReplicaSet's `spec.replicas`.
pub fn scale_up_new(desired: i64, bounds: Bounds, total: i64, new: i64) -> i64 {
    if new >= desired {
        return desired;
    }
    let room = (desired + bounds.surge - total).max(0);
    new + room.min(desired - new)
}

/// The old ReplicaSets' next sizes (oldest first): first drop their unavailable pods, then
/// available ones, never below `desired - maxUnavailable` available pods overall.
pub fn scale_down_old(desired: i64, bounds: Bounds, new: Replicas, old: &[Replicas]) -> Vec<i64> {
    let mut sizes: Vec<i64> = old.iter().map(|r| r.spec).collect();
    let old_total: i64 = sizes.iter().sum();
    if old_total == 0 {
        return sizes;
    }
    let all = old_total + new.spec;
    let min_available = desired - bounds.unavailable;
    let new_unavailable = (new.spec - new.available).max(0);
    let max_scaled_down = all - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return sizes;
    }
    // Unhealthy old pods cost no availability: they go first.
    let mut cleaned = 0;
    for (size, r) in sizes.iter_mut().zip(old) {
        let unhealthy = (*size - r.available.min(*size)).max(0);
        let step = unhealthy.min(max_scaled_down - cleaned);
        *size -= step;
        cleaned += step;
    }
    let available: i64 = old.iter().map(|r| r.available).sum::<i64>() + new.available;
    let budget = available - min_available;
    let mut scaled = 0;
    for size in &mut sizes {
        if scaled >= budget {
            break;
        }
        let step = (*size).min(budget - scaled);
        *size -= step;
        scaled += step;
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn percentages_round_surge_up_and_unavailability_down() {
        assert_eq!(
            bounds(None, None, 10),
            Bounds {
                surge: 3,
                unavailable: 2
            }
        );
        assert_eq!(
            bounds(Some(&json!(0)), Some(&json!("0%")), 3),
            Bounds {
                surge: 0,
                unavailable: 1
            }
        );
        assert_eq!(bounds(Some(&json!("50%")), Some(&json!(1)), 3).surge, 2);
        assert_eq!(int_or_percent(Some(&json!("x")), 3, true, "25%"), 0);
    }

    #[test]
    fn new_replica_set_grows_within_the_surge() {
        let b = Bounds {
            surge: 1,
            unavailable: 0,
        };
        // 3 old, 0 new: one extra pod allowed.
        assert_eq!(scale_up_new(3, b, 3, 0), 1);
        // Already at 3 + 1 pods: wait.
        assert_eq!(scale_up_new(3, b, 4, 1), 1);
        assert_eq!(scale_up_new(3, b, 3, 3), 3);
        assert_eq!(scale_up_new(3, b, 5, 4), 3, "never above desired");
    }

    #[test]
    fn old_replica_sets_shrink_keeping_minimum_availability() {
        let b = Bounds {
            surge: 1,
            unavailable: 0,
        };
        let old = [Replicas {
            spec: 3,
            available: 3,
        }];
        // New pod not yet available: nothing may go.
        let new = Replicas {
            spec: 1,
            available: 0,
        };
        assert_eq!(scale_down_old(3, b, new, &old), vec![3]);
        // New pod available: one old pod may go.
        let new = Replicas {
            spec: 1,
            available: 1,
        };
        assert_eq!(scale_down_old(3, b, new, &old), vec![2]);
    }

    #[test]
    fn unhealthy_old_pods_are_dropped_first() {
        let b = Bounds {
            surge: 1,
            unavailable: 1,
        };
        let old = [
            Replicas {
                spec: 2,
                available: 0,
            },
            Replicas {
                spec: 3,
                available: 3,
            },
        ];
        let new = Replicas {
            spec: 0,
            available: 0,
        };
        // 5 pods, 3 needed available: the 2 broken ones go, healthy ones may lose 0 more.
        assert_eq!(scale_down_old(4, b, new, &old), vec![0, 3]);
    }
}
