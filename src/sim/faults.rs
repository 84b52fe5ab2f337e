//! Placeholder replaced below.
use crate::model::{Kind, MetricRow};
use super::Scenario;
use super::rng::Rng;

/// Chooses the alert after the run.
#[derive(Debug, Clone)]
pub struct AlertPick;
impl AlertPick {
    pub fn choose(&self, _rows: &[MetricRow], _rng: &mut Rng) -> (String, String) {
        (String::new(), String::new())
    }
}
pub fn scenario(_k: Kind, _seed: u64) -> Result<(Scenario, AlertPick), String> {
    Err("todo".into())
}
