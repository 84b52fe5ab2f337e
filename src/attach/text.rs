//! [`Text`]: an attribute or field value read straight to text, whether the file holds a
//! string, a number, a boolean or an OTLP `AnyValue` object (`{"stringValue": "..."}`), without
//! building a `serde_json::Value` tree per span (most of a span's parsing time before).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A value as text; `None` for null, arrays, and objects without a scalar `AnyValue` field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Text(pub(crate) Option<String>);

/// The `AnyValue` fields that hold a scalar; any other field is skipped.
#[derive(serde::Deserialize)]
enum Field {
    #[serde(rename = "stringValue")]
    String,
    #[serde(rename = "intValue")]
    Int,
    #[serde(rename = "boolValue")]
    Bool,
    #[serde(rename = "doubleValue")]
    Double,
    #[serde(other)]
    Other,
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean or OTLP AnyValue")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(Some(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text(Some(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        // As serde_json writes the number, as the attribute reader did before.
        Ok(Text(serde_json::Number::from_f64(v).map(|n| n.to_string())))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
        Text::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
        let mut found = None;
        while let Some(k) = map.next_key::<Field>()? {
            if matches!(k, Field::Other) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let v: Text = map.next_value()?;
            found = found.or(v.0);
        }
        Ok(Text(found))
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_and_any_values_read_as_text() {
        let t = |s: &str| serde_json::from_str::<Text>(s).unwrap().0;
        assert_eq!(t(r#""a""#).as_deref(), Some("a"));
        assert_eq!(t("2").as_deref(), Some("2"));
        assert_eq!(t("1.5").as_deref(), Some("1.5"));
        assert_eq!(t("true").as_deref(), Some("true"));
        assert_eq!(t("null"), None);
        assert_eq!(t(r#"{"stringValue":"redis"}"#).as_deref(), Some("redis"));
        assert_eq!(t(r#"{"intValue":"6379"}"#).as_deref(), Some("6379"));
        assert_eq!(t(r#"{"intValue":6379}"#).as_deref(), Some("6379"));
        assert_eq!(
            t(r#"{"arrayValue":{"values":[{"stringValue":"x"}]}}"#),
            None
        );
        assert_eq!(t(r#"[1, {"a": 2}]"#), None);
    }
}
