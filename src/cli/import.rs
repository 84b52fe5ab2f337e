//! `funnel import`: public RCA collections → archive-v1 incidents under one root.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};

use super::Exit;
use funnel::import::{self, wide_csv};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// One CSV: `time` (unix s) + one column per `<service>_<metric>`; needs --fault-time or --fault-row.
    WideCsv,
    /// A PetShop `dataset/` folder, or one `dataset/<scenario>/` folder.
    Petshop,
    /// A Nezha day folder: metric/, optional log/ and trace/, <day>-fault_list.json.
    Nezha,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The source format.
    #[arg(value_enum)]
    format: Format,
    /// The source: a CSV file (wide-csv) or a folder (petshop, nezha).
    src: PathBuf,
    /// Output root: one archive per incident, OUT/<incident>/.
    #[arg(long, short)]
    out: PathBuf,
    /// wide-csv: the fault time, unix seconds.
    #[arg(long, conflicts_with = "fault_row")]
    fault_time: Option<f64>,
    /// wide-csv: the fault row, 0-based among the data rows.
    #[arg(long)]
    fault_row: Option<usize>,
    /// wide-csv: the alerting entity, or ENTITY/METRIC; default the latency with the highest
    /// baseline (the entry point).
    #[arg(long)]
    alert: Option<String>,
    /// wide-csv: the known culprit, written to [expected] as kind = "any".
    #[arg(long)]
    root_cause: Option<String>,
}

pub(crate) fn run(a: &ImportArgs) -> anyhow::Result<Exit> {
    let what = || format!("importing {}", a.src.display());
    let into = || format!("importing {} into {}", a.src.display(), a.out.display());
    let n = match a.format {
        Format::WideCsv => {
            let fault = match (a.fault_time, a.fault_row) {
                (Some(t), _) => wide_csv::FaultAt::Time(t),
                (None, Some(r)) => wide_csv::FaultAt::Row(r),
                (None, None) => {
                    bail!("wide-csv needs --fault-time <unix s> or --fault-row <index>")
                }
            };
            let opts = wide_csv::WideCsvOptions {
                fault,
                alert: a.alert.clone(),
                root_cause: a.root_cause.clone(),
                id: None,
            };
            let incident = wide_csv::import(&a.src, &opts).with_context(what)?;
            import::write_all(&[incident], &a.out)
                .with_context(|| format!("writing archives under {}", a.out.display()))?
        }
        Format::Petshop => {
            let (issues, skipped) = import::petshop::plan(&a.src).with_context(what)?;
            for s in skipped {
                say!("skipped {s}")?;
            }
            import::build_and_write(&issues, &a.out, import::petshop::Issue::build)
                .with_context(into)?
        }
        Format::Nezha => {
            let day = import::nezha::read(&a.src).with_context(what)?;
            let faults: Vec<usize> = (0..day.len()).collect();
            import::build_and_write(&faults, &a.out, |&i| day.build(i)).with_context(into)?
        }
    };
    say!("wrote {n} archives under {}", a.out.display())?;
    Ok(Exit::Ok)
}
