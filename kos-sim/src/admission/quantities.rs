//! Quantities written back as the API server writes them (`resource.Quantity`'s canonical
//! form) in admission messages: cpu in cores or millicores (`2`, `500m`), memory and
//! storage with the largest binary suffix that divides them (`256Mi`), else a decimal one.

/// `value` (in base units) of `resource` in canonical form.
pub fn canonical(resource: &str, value: f64) -> String {
    if resource.ends_with("cpu") {
        let milli = (value * 1000.0).round() as i64;
        return if milli % 1000 == 0 {
            (milli / 1000).to_string()
        } else {
            format!("{milli}m")
        };
    }
    let whole = value.round() as i64;
    if whole == 0 {
        return "0".to_owned();
    }
    let binary = [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ];
    for (suffix, shift) in binary {
        if whole % (1_i64 << shift) == 0 {
            return format!("{}{suffix}", whole >> shift);
        }
    }
    let decimal = [
        ("E", 18),
        ("P", 15),
        ("T", 12),
        ("G", 9),
        ("M", 6),
        ("k", 3),
    ];
    for (suffix, power) in decimal {
        let unit = 10_i64.pow(power);
        if whole % unit == 0 {
            return format!("{}{suffix}", whole / unit);
        }
    }
    whole.to_string()
}

/// What one container states of `resource` in `field` (`requests` falls back to the limit,
/// as the API server defaults it), in base units.
pub fn stated(container: &serde_json::Value, field: &str, resource: &str) -> Option<f64> {
    let resources = &container["resources"];
    let value = crate::scheduler::quantity_of(&resources[field][resource]);
    if field == "requests" {
        value.or_else(|| crate::scheduler::quantity_of(&resources["limits"][resource]))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_written_in_canonical_form() {
        assert_eq!(canonical("limits.cpu", 0.5), "500m");
        assert_eq!(canonical("cpu", 2.0), "2");
        assert_eq!(canonical("requests.memory", 268_435_456.0), "256Mi");
        assert_eq!(canonical("memory", 1e9), "1G");
        assert_eq!(canonical("pods", 3.0), "3");
        assert_eq!(canonical("limits.memory", 0.0), "0");
    }
}
