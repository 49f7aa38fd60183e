//! Per-institution limits against bulk copying: requests per second (a token bucket
//! with a burst of one second's worth) and codes returned per hour (a fixed hourly
//! window). Both answer 429 with `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::Refusal;

/// The configured limits; 0 disables one.
#[derive(Debug, Clone, Copy, serde::Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    pub requests_per_second: f64,
    pub codes_per_hour: u64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            requests_per_second: 500.0,
            codes_per_hour: 2_000_000,
        }
    }
}

struct Usage {
    tokens: f64,
    refilled: Instant,
    window: i64,
    codes: u64,
}

/// The limiter state of every institution.
pub struct RateLimits {
    pub settings: LimitSettings,
    usage: Mutex<HashMap<i64, Usage>>,
}

fn hour_now() -> (i64, u64) {
    let secs = chrono::Utc::now().timestamp();
    (secs / 3600, (3600 - secs % 3600) as u64)
}

impl RateLimits {
    /// Limiters with these settings.
    pub fn new(settings: LimitSettings) -> RateLimits {
        RateLimits {
            settings,
            usage: Mutex::new(HashMap::new()),
        }
    }

    /// Admits one request of `institution`, or says when to come back.
    pub fn admit(&self, institution: i64) -> Result<(), Refusal> {
        let rps = self.settings.requests_per_second;
        let quota = self.settings.codes_per_hour;
        if rps <= 0.0 && quota == 0 {
            return Ok(());
        }
        let (hour, left) = hour_now();
        let mut usage = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        let u = usage.entry(institution).or_insert_with(|| Usage {
            tokens: rps.max(1.0),
            refilled: Instant::now(),
            window: hour,
            codes: 0,
        });
        if u.window != hour {
            u.window = hour;
            u.codes = 0;
        }
        if quota > 0 && u.codes >= quota {
            return Err(Refusal::throttled(
                format!(
                    "the institution has received {} codes this hour, its limit is {quota}",
                    u.codes
                ),
                left,
            ));
        }
        if rps > 0.0 {
            let now = Instant::now();
            let elapsed = now.duration_since(u.refilled).as_secs_f64();
            u.tokens = (u.tokens + elapsed * rps).min(rps.max(1.0));
            u.refilled = now;
            if u.tokens < 1.0 {
                let wait = ((1.0 - u.tokens) / rps).ceil().max(1.0) as u64;
                return Err(Refusal::throttled(
                    format!("more than {rps} requests per second from the institution"),
                    wait,
                ));
            }
            u.tokens -= 1.0;
        }
        Ok(())
    }

    /// Counts codes an answer carried against the institution's hourly quota.
    pub fn count_codes(&self, institution: i64, codes: u64) {
        if self.settings.codes_per_hour == 0 || codes == 0 {
            return;
        }
        let (hour, _) = hour_now();
        let mut usage = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(u) = usage.get_mut(&institution) {
            if u.window != hour {
                u.window = hour;
                u.codes = 0;
            }
            u.codes += codes;
        }
    }
}
