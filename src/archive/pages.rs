//! Page headers checked before polars decodes a file. polars-parquet 0.55 trusts a data page's
//! value count, an `i32` it casts to `usize`: a corrupt header claiming -1 values made it
//! reserve 2^61 bytes, and a failed allocation aborts the process where no panic guard can
//! catch it. Reading the headers costs one small read per page, none of the page data.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::Path;

use polars::io::parquet::metadata::FileMetadataRef;
use polars_parquet_format::thrift::protocol::TCompactInputProtocol;
use polars_parquet_format::{PageHeader, PageType};

use crate::error::Error;

/// Bytes one page header may take (thrift's bound against a corrupt length prefix).
const MAX_HEADER: usize = 1 << 20;

/// Every column chunk's pages, walked header to header: each must declare a non-negative size
/// inside its chunk, and its data pages no more values than the chunk holds.
///
/// # Errors
/// The first page that breaks either, naming its column.
pub(super) fn check(path: &Path, metadata: &FileMetadataRef) -> Result<(), Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut file = BufReader::with_capacity(8 << 10, file);
    for group in &metadata.row_groups {
        for chunk in group.parquet_columns() {
            let range = chunk.byte_range();
            walk(&mut file, range, chunk.num_values()).map_err(|message| Error::Column {
                path: path.to_path_buf(),
                column: chunk.descriptor().path_in_schema.join("."),
                message,
            })?;
        }
    }
    Ok(())
}

/// The pages of one column chunk (`range` in the file, `values` in all its data pages).
fn walk(
    file: &mut BufReader<File>,
    range: std::ops::Range<u64>,
    values: i64,
) -> Result<(), String> {
    let (mut at, mut seen) = (range.start, 0i64);
    while at < range.end && seen < values {
        file.seek(SeekFrom::Start(at))
            .map_err(|e| format!("page at byte {at}: {e}"))?;
        let header = {
            let mut protocol = TCompactInputProtocol::new(&mut *file, MAX_HEADER);
            PageHeader::read_from_in_protocol(&mut protocol)
                .map_err(|e| format!("page header at byte {at}: {e}"))?
        };
        let body_at = file
            .stream_position()
            .map_err(|e| format!("page at byte {at}: {e}"))?;
        let size = u64::try_from(header.compressed_page_size).map_err(|_| {
            format!(
                "the page at byte {at} claims {} bytes: the file is corrupt",
                header.compressed_page_size
            )
        })?;
        if let Some(n) = data_values(&header) {
            if n < 0 || i64::from(n) > values - seen {
                return Err(format!(
                    "the page at byte {at} claims {n} values where the column chunk holds \
                     {values}: the file is corrupt"
                ));
            }
            seen += i64::from(n);
        }
        at = body_at.saturating_add(size);
    }
    Ok(())
}

/// The values a data page declares; `None` for dictionary and index pages.
fn data_values(header: &PageHeader) -> Option<i32> {
    match header.type_ {
        PageType::DATA_PAGE => Some(
            header
                .data_page_header
                .as_ref()
                .map_or(-1, |h| h.num_values),
        ),
        PageType::DATA_PAGE_V2 => Some(
            header
                .data_page_header_v2
                .as_ref()
                .map_or(-1, |h| h.num_values),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn written(rows: i64, page_rows: usize) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.parquet");
        let mut df = df!("ts" => (0..rows).collect::<Vec<i64>>()).unwrap();
        ParquetWriter::new(File::create(&path).unwrap())
            .with_data_page_size(Some(page_rows * 8))
            .finish(&mut df)
            .unwrap();
        (dir, path)
    }

    fn metadata(path: &Path) -> FileMetadataRef {
        ParquetReader::new(File::open(path).unwrap())
            .get_metadata()
            .unwrap()
            .clone()
    }

    #[test]
    fn sound_files_pass_whatever_their_pages() {
        for (rows, page_rows) in [(1, 1), (10_000, 128), (10_000, 100_000)] {
            let (_d, path) = written(rows, page_rows);
            check(&path, &metadata(&path)).unwrap();
        }
    }

    #[test]
    fn a_page_claiming_more_values_than_its_chunk_is_refused() {
        let (_d, path) = written(1_000, 100_000);
        let md = metadata(&path);
        let chunk = &md.row_groups[0].parquet_columns()[0];
        let mut file = BufReader::new(File::open(&path).unwrap());
        // The same pages measured against a chunk that claims fewer values.
        let err = walk(&mut file, chunk.byte_range(), 10).unwrap_err();
        assert!(err.contains("claims 1000 values"), "{err}");
        assert!(err.contains("holds 10"), "{err}");
    }

    #[test]
    fn a_header_that_is_not_thrift_is_refused() {
        let (_d, path) = written(1_000, 100_000);
        let md = metadata(&path);
        let range = md.row_groups[0].parquet_columns()[0].byte_range();
        let mut file = BufReader::new(File::open(&path).unwrap());
        // Starting one byte into the header reads garbage where a header should be.
        let err = walk(&mut file, range.start + 1..range.end, 1_000).unwrap_err();
        assert!(err.contains("byte"), "{err}");
    }
}
