//! Parquet I/O for the mined rows: `incidents.parquet` and `hypotheses.parquet`. The only
//! polars code in `mine`. Reading checks every column, so a merge of foreign or stale shard
//! files fails with the file and column named instead of producing wrong trends.

use std::fs;
use std::path::Path;

use polars::prelude::*;

use super::Error;
use super::rows::{HypothesisRow, IncidentRow, Rows};

/// File names inside an output folder.
pub const INCIDENTS: &str = "incidents.parquet";
/// See [`INCIDENTS`].
pub const HYPOTHESES: &str = "hypotheses.parquet";

fn table_err(path: &Path) -> impl Fn(PolarsError) -> Error + '_ {
    move |e| Error::Table {
        path: path.to_path_buf(),
        message: e.to_string().lines().next().unwrap_or_default().to_string(),
    }
}

fn s(name: &str, v: Vec<&str>) -> Column {
    Column::new(name.into(), v)
}

fn os(name: &str, v: Vec<Option<&str>>) -> Column {
    Column::new(name.into(), v)
}

fn oi(name: &str, v: Vec<Option<i64>>) -> Column {
    Column::new(name.into(), v)
}

fn ts(name: &str, v: impl Iterator<Item = Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), v)
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_series()
        .into_column()
}

fn write_df(path: &Path, height: usize, columns: Vec<Column>) -> Result<(), Error> {
    let mut df = DataFrame::new(height, columns).map_err(table_err(path))?;
    // Statistics let readers (the notebook, DuckDB) prune by fired_at; zstd as the archives use.
    crate::archive::write_parquet(path, &mut df, table_err(path), |e| Error::Io {
        path: path.to_path_buf(),
        err: e,
    })
}

/// Writes both tables into `dir`.
///
/// # Errors
/// A file cannot be written.
pub fn write(rows: &Rows, dir: &Path) -> Result<(), Error> {
    let r = &rows.incidents;
    write_df(&dir.join(INCIDENTS), r.len(), incident_columns(r))?;
    let h = &rows.hypotheses;
    write_df(&dir.join(HYPOTHESES), h.len(), hypothesis_columns(h))
}

/// One column per [`IncidentRow`] field, in the file's column order: a flat table, left long
/// so that it reads beside the struct.
fn incident_columns(r: &[IncidentRow]) -> Vec<Column> {
    vec![
        s("id", r.iter().map(|x| x.id.as_str()).collect()),
        s("path", r.iter().map(|x| x.path.as_str()).collect()),
        ts("fired_at", r.iter().map(|x| x.fired_at)),
        os(
            "alert_entity",
            r.iter().map(|x| x.alert_entity.as_deref()).collect(),
        ),
        os(
            "alert_metric",
            r.iter().map(|x| x.alert_metric.as_deref()).collect(),
        ),
        os(
            "root_cause_kind",
            r.iter().map(|x| x.root_cause_kind.as_deref()).collect(),
        ),
        os(
            "root_cause_culprit",
            r.iter().map(|x| x.root_cause_culprit.as_deref()).collect(),
        ),
        Column::new(
            "confidence".into(),
            r.iter().map(|x| x.confidence).collect::<Vec<_>>(),
        ),
        os(
            "trigger_kind",
            r.iter().map(|x| x.trigger_kind.as_deref()).collect(),
        ),
        os(
            "trigger_culprit",
            r.iter().map(|x| x.trigger_culprit.as_deref()).collect(),
        ),
        oi("findings", r.iter().map(|x| x.findings).collect()),
        s(
            "rules_fired",
            r.iter().map(|x| x.rules_fired.as_str()).collect(),
        ),
        oi(
            "affected_entities",
            r.iter().map(|x| x.affected_entities).collect(),
        ),
        oi("affected_pods", r.iter().map(|x| x.affected_pods).collect()),
        oi("total_pods", r.iter().map(|x| x.total_pods).collect()),
        s("status", r.iter().map(|x| x.status.as_str()).collect()),
        os("error", r.iter().map(|x| x.error.as_deref()).collect()),
        s("version", r.iter().map(|x| x.version.as_str()).collect()),
        os(
            "expected_kind",
            r.iter().map(|x| x.expected_kind.as_deref()).collect(),
        ),
        os(
            "expected_culprit",
            r.iter().map(|x| x.expected_culprit.as_deref()).collect(),
        ),
        ts("onset", r.iter().map(|x| x.onset)),
        oi(
            "detected_after_s",
            r.iter().map(|x| x.detected_after_s).collect(),
        ),
        oi(
            "failed_requests",
            r.iter().map(|x| x.failed_requests).collect(),
        ),
        Column::new(
            "error_ratio_peak".into(),
            r.iter().map(|x| x.error_ratio_peak).collect::<Vec<_>>(),
        ),
        Column::new(
            "ongoing".into(),
            r.iter().map(|x| x.ongoing).collect::<Vec<_>>(),
        ),
        ts("recovered_at", r.iter().map(|x| x.recovered_at)),
        oi("duration_s", r.iter().map(|x| x.duration_s).collect()),
        s(
            "config_findings",
            r.iter().map(|x| x.config_findings.as_str()).collect(),
        ),
    ]
}

fn hypothesis_columns(h: &[HypothesisRow]) -> Vec<Column> {
    vec![
        s("incident", h.iter().map(|x| x.incident.as_str()).collect()),
        s("kind", h.iter().map(|x| x.kind.as_str()).collect()),
        s("culprit", h.iter().map(|x| x.culprit.as_str()).collect()),
        s("status", h.iter().map(|x| x.status.as_str()).collect()),
        s("rule", h.iter().map(|x| x.rule.as_str()).collect()),
        Column::new(
            "score".into(),
            h.iter().map(|x| x.score).collect::<Vec<_>>(),
        ),
    ]
}

/// Column accessors that name the file and column on a mismatch.
struct Frame<'a> {
    df: DataFrame,
    path: &'a Path,
}

impl Frame<'_> {
    fn col_err(&self, column: &str, message: String) -> Error {
        Error::Table {
            path: self.path.to_path_buf(),
            message: format!("column `{column}`: {message}"),
        }
    }

    fn cast(&self, name: &str, to: &DataType) -> Result<Series, Error> {
        let c = self
            .df
            .column(name)
            .map_err(|_| self.col_err(name, "missing (not a funnel mine output?)".into()))?;
        c.as_materialized_series()
            .cast(to)
            .map_err(|e| self.col_err(name, e.to_string()))
    }

    fn opt_str(&self, name: &str) -> Result<Vec<Option<String>>, Error> {
        let s = self.cast(name, &DataType::String)?;
        let ca = s.str().map_err(|e| self.col_err(name, e.to_string()))?;
        Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
    }

    fn str(&self, name: &str) -> Result<Vec<String>, Error> {
        self.opt_str(name)?
            .into_iter()
            .map(|v| v.ok_or_else(|| self.col_err(name, "has a null".into())))
            .collect()
    }

    fn opt_i64(&self, name: &str) -> Result<Vec<Option<i64>>, Error> {
        let s = self.cast(name, &DataType::Int64)?;
        Ok(s.i64()
            .map_err(|e| self.col_err(name, e.to_string()))?
            .iter()
            .collect())
    }

    /// A column added after the first format, read with `read`; `fill` on each of the `rows`
    /// when an older output lacks it.
    fn added<T: Clone>(
        &self,
        name: &str,
        rows: usize,
        fill: T,
        read: fn(&Self, &str) -> Result<Vec<T>, Error>,
    ) -> Result<Vec<T>, Error> {
        if self.df.column(name).is_ok() {
            read(self, name)
        } else {
            Ok(vec![fill; rows])
        }
    }

    fn opt_bool(&self, name: &str) -> Result<Vec<Option<bool>>, Error> {
        let s = self.cast(name, &DataType::Boolean)?;
        Ok(s.bool()
            .map_err(|e| self.col_err(name, e.to_string()))?
            .iter()
            .collect())
    }

    fn opt_f64(&self, name: &str) -> Result<Vec<Option<f64>>, Error> {
        let s = self.cast(name, &DataType::Float64)?;
        Ok(s.f64()
            .map_err(|e| self.col_err(name, e.to_string()))?
            .iter()
            .collect())
    }
}

fn open(path: &Path) -> Result<Frame<'_>, Error> {
    let file = fs::File::open(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        err: e,
    })?;
    let df = ParquetReader::new(file).finish().map_err(table_err(path))?;
    Ok(Frame { df, path })
}

/// Reads both tables from `dir`, in file order.
///
/// # Errors
/// A missing or unreadable file, or a column that is missing or of the wrong type.
pub fn read(dir: &Path) -> Result<Rows, Error> {
    Ok(Rows {
        incidents: read_incidents(&dir.join(INCIDENTS))?,
        hypotheses: read_hypotheses(&dir.join(HYPOTHESES))?,
    })
}

/// Every [`IncidentRow`] field from its column: a flat table, left long so that it reads beside
/// the struct and [`incident_columns`].
fn read_incidents(path: &Path) -> Result<Vec<IncidentRow>, Error> {
    let f = open(path)?;
    let (id, rel, fired) = (f.str("id")?, f.str("path")?, f.opt_i64("fired_at")?);
    let (entity, metric) = (f.opt_str("alert_entity")?, f.opt_str("alert_metric")?);
    let (rck, rcc, conf) = (
        f.opt_str("root_cause_kind")?,
        f.opt_str("root_cause_culprit")?,
        f.opt_f64("confidence")?,
    );
    let (tk, tc, findings, fired_rules) = (
        f.opt_str("trigger_kind")?,
        f.opt_str("trigger_culprit")?,
        f.opt_i64("findings")?,
        f.str("rules_fired")?,
    );
    let (ae, ap, tp) = (
        f.opt_i64("affected_entities")?,
        f.opt_i64("affected_pods")?,
        f.opt_i64("total_pods")?,
    );
    let (status, error, version) = (f.str("status")?, f.opt_str("error")?, f.str("version")?);
    let (ek, ec) = (f.opt_str("expected_kind")?, f.opt_str("expected_culprit")?);
    let n = id.len();
    let (onset, detected, failed, recovered, duration) = (
        f.added("onset", n, None, Frame::opt_i64)?,
        f.added("detected_after_s", n, None, Frame::opt_i64)?,
        f.added("failed_requests", n, None, Frame::opt_i64)?,
        f.added("recovered_at", n, None, Frame::opt_i64)?,
        f.added("duration_s", n, None, Frame::opt_i64)?,
    );
    let peak = f.added("error_ratio_peak", n, None, Frame::opt_f64)?;
    let config = f.added("config_findings", n, String::new(), Frame::str)?;
    let ongoing = f.added("ongoing", n, None, Frame::opt_bool)?;
    let mut incidents = Vec::with_capacity(id.len());
    for i in 0..id.len() {
        incidents.push(IncidentRow {
            id: id[i].clone(),
            path: rel[i].clone(),
            fired_at: fired[i],
            alert_entity: entity[i].clone(),
            alert_metric: metric[i].clone(),
            root_cause_kind: rck[i].clone(),
            root_cause_culprit: rcc[i].clone(),
            confidence: conf[i],
            trigger_kind: tk[i].clone(),
            trigger_culprit: tc[i].clone(),
            findings: findings[i],
            rules_fired: fired_rules[i].clone(),
            affected_entities: ae[i],
            affected_pods: ap[i],
            total_pods: tp[i],
            status: status[i].clone(),
            error: error[i].clone(),
            version: version[i].clone(),
            expected_kind: ek[i].clone(),
            expected_culprit: ec[i].clone(),
            onset: onset[i],
            detected_after_s: detected[i],
            failed_requests: failed[i],
            error_ratio_peak: peak[i],
            ongoing: ongoing[i],
            recovered_at: recovered[i],
            duration_s: duration[i],
            config_findings: config[i].clone(),
        });
    }
    Ok(incidents)
}

fn read_hypotheses(path: &Path) -> Result<Vec<HypothesisRow>, Error> {
    let f = open(path)?;
    let (inc, kind, culprit, status, rule, score) = (
        f.str("incident")?,
        f.str("kind")?,
        f.str("culprit")?,
        f.str("status")?,
        f.str("rule")?,
        f.opt_f64("score")?,
    );
    Ok((0..inc.len())
        .map(|i| HypothesisRow {
            incident: inc[i].clone(),
            kind: kind[i].clone(),
            culprit: culprit[i].clone(),
            status: status[i].clone(),
            rule: rule[i].clone(),
            score: score[i].unwrap_or(f64::NAN),
        })
        .collect())
}
