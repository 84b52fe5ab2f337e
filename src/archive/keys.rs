//! Key columns as dense per-file codes: each row gets a small integer, each distinct value is
//! decoded into a `String` once.
//!
//! Series are identified by up to eight text columns, so anything done per row and per column
//! dominates reading a large archive. Dictionary columns (what pyarrow writes for categoricals)
//! arrive as polars categoricals whose ids are mapped through a table, never decoded per row;
//! string columns are coded by their 16-byte Arrow views, so only a view not seen before costs
//! a hash of its bytes. A run of equal rows (exports that write a series' samples together)
//! costs one comparison per row.

use polars::prelude::*;

use crate::hashing::FastMap;

/// A text column as codes: `codes[row]` indexes `values`; a null is a value of its own.
#[derive(Debug, Default)]
pub(crate) struct Codes {
    /// One code per row.
    pub(crate) codes: Vec<u32>,
    /// The value of each code, in order of first appearance.
    pub(crate) values: Vec<Option<String>>,
}

/// Assigns codes in order of first appearance.
#[derive(Default)]
struct Interner {
    values: Vec<Option<String>>,
    by_str: FastMap<String, u32>,
    null: Option<u32>,
}

impl Interner {
    fn code(&mut self, v: Option<&str>) -> u32 {
        let Some(s) = v else {
            return *self.null.get_or_insert_with(|| {
                self.values.push(None);
                (self.values.len() - 1) as u32
            });
        };
        if let Some(&c) = self.by_str.get(s) {
            return c;
        }
        let c = self.values.len() as u32;
        self.values.push(Some(s.to_string()));
        self.by_str.insert(s.to_string(), c);
        c
    }
}

/// Codes for one text column (String, Categorical, Enum or Null).
///
/// # Errors
/// A column of another type that does not cast to String.
pub(crate) fn codes(col: &Column) -> PolarsResult<Codes> {
    let s = col.as_materialized_series();
    let mut interner = Interner::default();
    let mut codes = Vec::with_capacity(s.len());
    match s.dtype() {
        DataType::Categorical(_, _) | DataType::Enum(_, _) => {
            let ca = s.to_physical_repr().cast(&DataType::UInt32)?;
            let mapping = match s.dtype() {
                DataType::Categorical(_, m) | DataType::Enum(_, m) => m.clone(),
                _ => unreachable!("matched above"),
            };
            categorical(ca.u32()?, &mapping, &mut interner, &mut codes);
        }
        DataType::String => strings(s.str()?, &mut interner, &mut codes),
        _ => {
            let cast = s.cast(&DataType::String)?;
            strings(cast.str()?, &mut interner, &mut codes);
        }
    }
    Ok(Codes {
        codes,
        values: interner.values,
    })
}

/// Categorical ids through a table indexed by id (ids are dense within a mapping), a map when
/// the mapping is much larger than the column (a global mapping grown by earlier files).
fn categorical(
    cats: &UInt32Chunked,
    mapping: &CategoricalMapping,
    interner: &mut Interner,
    out: &mut Vec<u32>,
) {
    const NONE: u32 = u32::MAX;
    let upper = cats.max().map_or(0, |m| m as usize + 1);
    let mut table: Vec<u32> = if upper <= cats.len().max(1 << 16) {
        vec![NONE; upper]
    } else {
        Vec::new()
    };
    let mut map: FastMap<u32, u32> = FastMap::default();
    let mut prev: Option<(Option<u32>, u32)> = None;
    for cat in cats.iter() {
        let code = match (prev, cat) {
            (Some((p, code)), _) if p == cat => code,
            (_, None) => interner.code(None),
            (_, Some(c)) => match table.get_mut(c as usize) {
                Some(k) if *k != NONE => *k,
                Some(k) => {
                    *k = interner.code(mapping.cat_to_str(c));
                    *k
                }
                None => *map
                    .entry(c)
                    .or_insert_with(|| interner.code(mapping.cat_to_str(c))),
            },
        };
        out.push(code);
        prev = Some((cat, code));
    }
}

/// Distinct views seen per column before only bytes are hashed: plain-encoded long strings give
/// every row its own view, which must not grow the memo with the rows.
const MAX_VIEWS: usize = 1 << 16;

/// Strings by view: a view equal to the previous row's or seen before needs no hashing of its
/// bytes. Equal views are equal strings: short strings live in the view, long ones point into
/// the array's buffers at one place. Different views of one string meet in the interner.
fn strings(ca: &StringChunked, interner: &mut Interner, out: &mut Vec<u32>) {
    for (chunk, arr) in ca.chunks().iter().zip(ca.downcast_iter()) {
        let views = arr.views();
        let valid = chunk.validity().filter(|v| v.unset_bits() > 0);
        let mut memo: FastMap<u128, u32> = FastMap::default();
        let mut prev: Option<(u128, bool, u32)> = None;
        for (i, view) in views.iter().enumerate() {
            let is_valid = valid.is_none_or(|v| v.get_bit(i));
            let raw = view.as_u128();
            if let Some((_, _, code)) = prev.filter(|&(p, pv, _)| pv == is_valid && p == raw) {
                out.push(code);
                continue;
            }
            let code = if !is_valid {
                interner.code(None)
            } else if let Some(&c) = memo.get(&raw) {
                c
            } else {
                let c = interner.code(Some(arr.value(i)));
                if memo.len() < MAX_VIEWS {
                    memo.insert(raw, c);
                }
                c
            };
            out.push(code);
            prev = Some((raw, is_valid, code));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(c: &Codes) -> Vec<Option<&str>> {
        c.codes
            .iter()
            .map(|&k| c.values[k as usize].as_deref())
            .collect()
    }

    #[test]
    fn strings_and_categoricals_code_alike_whatever_the_layout() {
        let long = "a-metric-name-longer-than-twelve-bytes";
        let other = "a-metric-name-longer-than-twelve-bytez"; // same length and prefix
        let rows = [
            Some(long),
            Some(long),
            Some(other),
            None,
            Some("x"),
            Some(long),
            None,
            Some(""),
        ];
        let mut ca = StringChunked::new("m".into(), &rows[..4]);
        ca.append(&StringChunked::new("m".into(), &rows[4..]))
            .unwrap();
        let plain = codes(&ca.clone().into_series().into_column()).unwrap();
        assert_eq!(decode(&plain), rows);
        assert_eq!(plain.codes, vec![0, 0, 1, 2, 3, 0, 2, 4]);
        let cat = ca
            .into_series()
            .cast(&DataType::from_categories(Categories::global()))
            .unwrap();
        let coded = codes(&cat.into_column()).unwrap();
        assert_eq!(decode(&coded), rows);
        assert_eq!(coded.codes, plain.codes);
        let nulls = Column::full_null("n".into(), 3, &DataType::Null);
        assert_eq!(codes(&nulls).unwrap().codes, vec![0, 0, 0]);
    }
}
