//! Simulated time: every delay, back-off and deadline of the simulation goes through here so
//! that `--speed X` runs the whole cluster X times faster.

use std::time::Duration;

/// Scales simulated durations to real ones.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    speed: f64,
}

impl Clock {
    /// A clock running `speed` times faster than real time (1.0 = real time).
    pub fn new(speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        Clock { speed }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The real time that `simulated` takes at this speed.
    pub fn real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.speed)
    }

    /// Sleeps for `simulated` time.
    pub async fn sleep(&self, simulated: Duration) {
        tokio::time::sleep(self.real(simulated)).await;
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_refuses_nonsense_speeds() {
        assert_eq!(
            Clock::new(10.0).real(Duration::from_secs(5)),
            Duration::from_millis(500)
        );
        assert_eq!(
            Clock::new(0.0).real(Duration::from_secs(1)),
            Duration::from_secs(1)
        );
        assert_eq!(
            Clock::new(f64::NAN).real(Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }
}
