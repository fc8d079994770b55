//! A message id as a queue keeps it: in place when it is as short as SQS's (a UUID, 36
//! characters), so that storing a message makes no allocation for its id and finding it by id
//! reads the slot the message is in anyway.

/// Bytes an id may have to be kept in place (the enum is then 40 bytes, as a `String` and a
/// length would be).
const INLINE: usize = 38;

#[derive(Debug, Clone)]
pub enum Id {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Id {
    pub fn new(id: &str) -> Self {
        match u8::try_from(id.len()) {
            Ok(len) if id.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..id.len()].copy_from_slice(id.as_bytes());
                Id::Inline { len, bytes }
            }
            _ => Id::Heap(id.into()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Id::Inline { len, bytes } => {
                // The bytes of a `&str`, cut where it ended: always UTF-8.
                std::str::from_utf8(&bytes[..usize::from(*len)]).expect("an id is kept whole")
            }
            Id::Heap(id) => id,
        }
    }

    /// Whether this is `id` (without checking the bytes are UTF-8 again, as `as_str` does).
    pub fn is(&self, id: &str) -> bool {
        match self {
            Id::Inline { len, bytes } => &bytes[..usize::from(*len)] == id.as_bytes(),
            Id::Heap(own) => **own == *id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_in_place_and_long_ones_on_the_heap() {
        let uuid = "5b1c0a6e-1234-4abc-8def-000000000001";
        assert!(matches!(Id::new(uuid), Id::Inline { .. }));
        assert_eq!(Id::new(uuid).as_str(), uuid);
        assert!(Id::new(uuid).is(uuid) && !Id::new(uuid).is(&uuid[1..]));
        let long = "x".repeat(INLINE + 1);
        assert!(matches!(Id::new(&long), Id::Heap(_)));
        assert_eq!(Id::new(&long).as_str(), long);
        for id in ["", "é", &"ü".repeat(INLINE / 2)] {
            assert_eq!(Id::new(id).as_str(), id);
        }
        assert_eq!(std::mem::size_of::<Id>(), 40);
    }
}
