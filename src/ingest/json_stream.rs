//! A JSON document read a record at a time: each record of a list goes into columns as soon as
//! it is parsed (see [`JsonColumns`]), so that a list of a million records is never held as
//! JSON values. Which shape the document has is decided by [`super::json`].

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeSeed, Deserializer as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::json::{JsonColumns, kind_of};

/// A list's records, as columns. The first item that is no object is noted (its position from
/// 1, and what it is) and the items after it are still read, so that the document's syntax is
/// checked to its end.
#[derive(Default)]
pub struct StreamedList {
    pub columns: JsonColumns,
    not_an_object: Option<(usize, &'static str)>,
    /// Whether the first item is an object with this key (see [`StreamedList::read`]).
    first_has: bool,
}

impl StreamedList {
    /// The records, or which item of the list (named `what` in the message) is no record.
    pub fn records(self, what: &str) -> Result<JsonColumns, String> {
        match self.not_an_object {
            Some((i, kind)) => Err(format!("record {i} of {what} is not an object but {kind}")),
            None => Ok(self.columns),
        }
    }

    /// Whether the list's first item is an object with the key the list was read for.
    pub fn first_has_key(&self) -> bool {
        self.first_has
    }

    fn read<'de, A: SeqAccess<'de>>(mut items: A, key: &str) -> Result<Self, A::Error> {
        let mut list = StreamedList::default();
        let mut position = 0;
        while let Some(item) = items.next_element::<Value>()? {
            position += 1;
            match item {
                Value::Object(record) => {
                    list.first_has |= position == 1 && record.contains_key(key);
                    list.columns.push(record);
                }
                other => {
                    list.not_an_object
                        .get_or_insert((position, kind_of(&other)));
                }
            }
        }
        Ok(list)
    }
}

/// A document that is a list, read a record at a time. `key`: see [`StreamedList::first_has_key`].
pub fn list(text: &[u8], key: &'static str) -> Result<StreamedList, serde_json::Error> {
    struct List(&'static str);
    impl<'de> Visitor<'de> for List {
        type Value = StreamedList;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of records")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, items: A) -> Result<StreamedList, A::Error> {
            StreamedList::read(items, self.0)
        }
    }
    let mut reader = serde_json::Deserializer::from_slice(text);
    let list = reader.deserialize_seq(List(key))?;
    reader.end()?;
    Ok(list)
}

/// A document that is one object: its values in order, where a list under one of `wrappers`
/// stands as an empty array and is read a record at a time into the map of lists beside.
pub struct ObjectDocument {
    pub values: Map<String, Value>,
    pub lists: HashMap<String, StreamedList>,
}

pub fn object(
    text: &[u8],
    wrappers: &'static [&'static str],
    key: &'static str,
) -> Result<ObjectDocument, serde_json::Error> {
    struct Document {
        wrappers: &'static [&'static str],
        key: &'static str,
    }
    impl<'de> Visitor<'de> for Document {
        type Value = ObjectDocument;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<ObjectDocument, A::Error> {
            let mut document = ObjectDocument {
                values: Map::new(),
                lists: HashMap::new(),
            };
            while let Some(name) = entries.next_key::<String>()? {
                let wraps = self.wrappers.contains(&name.as_str());
                match entries.next_value_seed(Entry {
                    wraps,
                    key: self.key,
                })? {
                    Read::Value(value) => {
                        document.lists.remove(&name);
                        document.values.insert(name, value);
                    }
                    Read::List(list) => {
                        document
                            .values
                            .insert(name.clone(), Value::Array(Vec::new()));
                        document.lists.insert(name, list);
                    }
                }
            }
            Ok(document)
        }
    }
    let mut reader = serde_json::Deserializer::from_slice(text);
    let document = reader.deserialize_map(Document { wrappers, key })?;
    reader.end()?;
    Ok(document)
}

enum Read {
    Value(Value),
    List(StreamedList),
}

/// The value under a key of the document: a list under a wrapping key is read a record at a
/// time; anything else is kept as it is.
struct Entry {
    wraps: bool,
    key: &'static str,
}

impl<'de> DeserializeSeed<'de> for Entry {
    type Value = Read;
    fn deserialize<D: serde::Deserializer<'de>>(self, value: D) -> Result<Read, D::Error> {
        match self.wraps {
            true => value.deserialize_any(self),
            false => Value::deserialize(value).map(Read::Value),
        }
    }
}

impl<'de> Visitor<'de> for Entry {
    type Value = Read;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, items: A) -> Result<Read, A::Error> {
        StreamedList::read(items, self.key).map(Read::List)
    }
    fn visit_map<A: MapAccess<'de>>(self, entries: A) -> Result<Read, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(entries)).map(Read::Value)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Read, E> {
        Ok(Read::Value(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Read, E> {
        Ok(Read::Value(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Read, E> {
        Ok(Read::Value(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Read, E> {
        Ok(Read::Value(Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Read, E> {
        Ok(Read::Value(Value::String(v.to_string())))
    }
    fn visit_unit<E>(self) -> Result<Read, E> {
        Ok(Read::Value(Value::Null))
    }
}
