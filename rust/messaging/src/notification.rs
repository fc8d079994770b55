//! SNS's notification envelope (Amazon SNS Developer Guide, "Amazon SNS message and JSON
//! formats" and "Parsing message formats"): its one writer. Laid out as SNS lays it out
//! (Jackson's pretty printer: two-space indent, `" : "` separators, each message attribute on one
//! compact line), strings escaped as Python's `json` module escapes them (`"`, `\`, control
//! characters; the rest, non-ASCII and DEL included, as is).
//!
//! A notification is written in three pieces: the head (`Notification::head`, up to
//! `"UnsubscribeURL" : `), the same for every subscription of one publish; each subscription's
//! quoted UnsubscribeURL; and the tail (`attributes_tail`: the message attributes and the closing
//! brace). A SubscriptionConfirmation is written whole (`Confirmation::text`).

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::envelope::{quote, quoted_len};

/// The length of `head()`'s own text (all but the members' quoted values).
const HEAD_LITERALS: usize = "{\n  \"Type\" : \"Notification\",\n  \"MessageId\" : ".len()
    + ",\n  \"TopicArn\" : ".len()
    + ",\n  \"Message\" : ".len()
    + ",\n  \"Timestamp\" : ".len()
    + ",\n  \"SignatureVersion\" : ".len()
    + ",\n  \"Signature\" : ".len()
    + ",\n  \"SigningCertURL\" : ".len()
    + ",\n  \"UnsubscribeURL\" : ".len();

/// The length of `signature()`: base64 of 256 bytes.
const SIGNATURE_LEN: usize = 344;

/// The length of a FIFO head's own text: SequenceNumber's member instead of the signature's
/// three.
const FIFO_HEAD_LITERALS: usize = "{\n  \"Type\" : \"Notification\",\n  \"MessageId\" : ".len()
    + ",\n  \"SequenceNumber\" : ".len()
    + ",\n  \"TopicArn\" : ".len()
    + ",\n  \"Message\" : ".len()
    + ",\n  \"Timestamp\" : ".len()
    + ",\n  \"UnsubscribeURL\" : ".len();

/// One notification's members before UnsubscribeURL, in the envelope's order. With
/// `sequence_number` it is a FIFO topic's: SequenceNumber after MessageId, and no
/// SignatureVersion, Signature or SigningCertURL (SNS does not sign FIFO notifications; the two
/// members given for them are then not written).
#[derive(Debug, Clone, Copy)]
pub struct Notification<'a> {
    pub message_id: &'a str,
    pub sequence_number: Option<&'a str>,
    pub topic_arn: &'a str,
    pub subject: Option<&'a str>,
    pub message: &'a str,
    pub timestamp: &'a str,
    pub signature_version: &'a str,
    pub signing_cert_url: &'a str,
}

impl Notification<'_> {
    /// A stand-in for SNS's RSA signature: base64 of SHA-256 over SNS's string to sign (each
    /// `Name\nValue\n` pair in byte order of the names, as "Verifying the signatures of Amazon
    /// SNS messages" lays it out), repeated to the length of a 2048-bit signature. Stable for
    /// one notification; it verifies against no certificate.
    pub fn signature(&self) -> String {
        placeholder_signature(&[
            ("Message", Some(self.message)),
            ("MessageId", Some(self.message_id)),
            ("Subject", self.subject),
            ("Timestamp", Some(self.timestamp)),
            ("TopicArn", Some(self.topic_arn)),
            ("Type", Some("Notification")),
        ])
    }

    /// The length in bytes of `head()`, without writing it (nor signing).
    pub fn head_len(&self) -> usize {
        let fields = [self.message_id, self.topic_arn, self.message, self.timestamp];
        let subject = self.subject.map_or(0, |subject| ",\n  \"Subject\" : ".len() + quoted_len(subject));
        let members = fields.iter().map(|field| quoted_len(field)).sum::<usize>() + subject;
        if let Some(sequence_number) = self.sequence_number {
            return FIFO_HEAD_LITERALS + members + quoted_len(sequence_number);
        }
        HEAD_LITERALS
            + members
            + quoted_len(self.signature_version)
            + SIGNATURE_LEN
            + 2
            + quoted_len(self.signing_cert_url)
    }

    /// Whether `head()` is printable ASCII on lines (what a plain SQS body is, see
    /// `crate::plain::is_plain_text`): quoting escapes every control character, so it is exactly
    /// when no member has a byte past `~`.
    pub fn head_is_plain(&self) -> bool {
        let members = [self.message_id, self.topic_arn, self.message, self.timestamp];
        let signing = if self.sequence_number.is_some() {
            [None, None]
        } else {
            [Some(self.signature_version), Some(self.signing_cert_url)]
        };
        members
            .iter()
            .copied()
            .chain(self.subject)
            .chain(self.sequence_number)
            .chain(signing.into_iter().flatten())
            .all(|member| member.bytes().fold(0u8, |high, b| high | (b & 0x80 | u8::from(b == 0x7f))) == 0)
    }

    /// The envelope's text from its opening brace to `"UnsubscribeURL" : ` included.
    pub fn head(&self) -> String {
        let mut out = String::with_capacity(self.message.len() + 800);
        out.push_str("{\n  \"Type\" : \"Notification\",\n  \"MessageId\" : ");
        quote(&mut out, self.message_id);
        if let Some(sequence_number) = self.sequence_number {
            out.push_str(",\n  \"SequenceNumber\" : ");
            quote(&mut out, sequence_number);
        }
        out.push_str(",\n  \"TopicArn\" : ");
        quote(&mut out, self.topic_arn);
        if let Some(subject) = self.subject {
            out.push_str(",\n  \"Subject\" : ");
            quote(&mut out, subject);
        }
        out.push_str(",\n  \"Message\" : ");
        quote(&mut out, self.message);
        out.push_str(",\n  \"Timestamp\" : ");
        quote(&mut out, self.timestamp);
        if self.sequence_number.is_none() {
            out.push_str(",\n  \"SignatureVersion\" : ");
            quote(&mut out, self.signature_version);
            out.push_str(",\n  \"Signature\" : ");
            quote(&mut out, &self.signature());
            out.push_str(",\n  \"SigningCertURL\" : ");
            quote(&mut out, self.signing_cert_url);
        }
        out.push_str(",\n  \"UnsubscribeURL\" : ");
        out
    }
}

/// A stand-in for SNS's RSA signature: base64 of SHA-256 over SNS's string to sign (each
/// `Name\nValue\n` pair of `to_sign` present, given in byte order of the names, as "Verifying
/// the signatures of Amazon SNS messages" lays it out), repeated to the length of a 2048-bit
/// signature. Stable for one message; it verifies against no certificate. Same size as the real
/// one, which `rulebus serve` puts in its place in HTTP/S deliveries only (rulebus.sns.signing:
/// RSA costs more than a fan-out, so the envelopes queues receive keep this one).
fn placeholder_signature(to_sign: &[(&str, Option<&str>)]) -> String {
    let mut hash = Sha256::new();
    for (name, value) in to_sign {
        if let Some(value) = value {
            hash.update(name);
            hash.update("\n");
            hash.update(value);
            hash.update("\n");
        }
    }
    base64::engine::general_purpose::STANDARD.encode(hash.finalize().repeat(8))
}

/// A message attribute's value as the envelope gives it: a String or Number attribute's text, or
/// a Binary attribute's bytes (written in base64).
#[derive(Debug, Clone, Copy)]
pub enum AttributeValue<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

/// One message attribute: its name, its DataType and its value.
pub type Attribute<'a> = (&'a str, &'a str, AttributeValue<'a>);

/// `text` as a JSON string, escaped as the rest of the envelope is: what a subscription's
/// UnsubscribeURL is written as between a notification's head and its attributes tail.
#[must_use]
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(quoted_len(text));
    quote(&mut out, text);
    out
}

/// The envelope's text after the UnsubscribeURL's value: the MessageAttributes member, if there
/// are attributes (each `{"Type","Value"}` on one compact line, in the order given), and the
/// closing brace.
#[must_use]
pub fn attributes_tail(attributes: &[Attribute<'_>]) -> String {
    if attributes.is_empty() {
        return "\n}".to_owned();
    }
    let mut out = String::with_capacity(40 + attributes.len() * 64);
    out.push_str(",\n  \"MessageAttributes\" : {\n");
    for (i, (name, data_type, value)) in attributes.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        out.push_str("    ");
        quote(&mut out, name);
        out.push_str(" : {\"Type\":");
        quote(&mut out, data_type);
        out.push_str(",\"Value\":");
        match value {
            AttributeValue::Text(text) => quote(&mut out, text),
            AttributeValue::Binary(bytes) => {
                // Base64 needs no escape.
                out.push('"');
                base64::engine::general_purpose::STANDARD.encode_string(bytes, &mut out);
                out.push('"');
            }
        }
        out.push('}');
    }
    out.push_str("\n  }\n}");
    out
}

/// A SubscriptionConfirmation's members but its signature (Amazon SNS Developer Guide, "Amazon
/// SNS message and JSON formats"), in the message's order.
#[derive(Debug, Clone, Copy)]
pub struct Confirmation<'a> {
    pub message_id: &'a str,
    pub token: &'a str,
    pub topic_arn: &'a str,
    pub message: &'a str,
    pub subscribe_url: &'a str,
    pub timestamp: &'a str,
    pub signature_version: &'a str,
    pub signing_cert_url: &'a str,
}

impl Confirmation<'_> {
    /// The placeholder signature (see `placeholder_signature`) over a confirmation's string to
    /// sign.
    pub fn signature(&self) -> String {
        placeholder_signature(&[
            ("Message", Some(self.message)),
            ("MessageId", Some(self.message_id)),
            ("SubscribeURL", Some(self.subscribe_url)),
            ("Timestamp", Some(self.timestamp)),
            ("Token", Some(self.token)),
            ("TopicArn", Some(self.topic_arn)),
            ("Type", Some("SubscriptionConfirmation")),
        ])
    }

    /// The confirmation's whole text, laid out as a notification is.
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(self.message.len() + self.subscribe_url.len() + 900);
        out.push_str("{\n  \"Type\" : \"SubscriptionConfirmation\"");
        for (name, value) in [
            ("MessageId", self.message_id),
            ("Token", self.token),
            ("TopicArn", self.topic_arn),
            ("Message", self.message),
            ("SubscribeURL", self.subscribe_url),
            ("Timestamp", self.timestamp),
            ("SignatureVersion", self.signature_version),
            ("Signature", &self.signature()),
            ("SigningCertURL", self.signing_cert_url),
        ] {
            out.push_str(",\n  \"");
            out.push_str(name);
            out.push_str("\" : ");
            quote(&mut out, value);
        }
        out.push_str("\n}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(subject: Option<&str>) -> Notification<'_> {
        Notification {
            message_id: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            sequence_number: None,
            topic_arn: "arn:aws:sns:us-east-1:123456789012:orders",
            subject,
            message: "line \"one\"\n\u{1}é",
            timestamp: "2021-02-16T21:41:19.978Z",
            signature_version: "1",
            signing_cert_url: "https://sns.us-east-1.amazonaws.com/cert.pem",
        }
    }

    #[test]
    fn head_is_laid_out_as_sns_pretty_prints_with_json_escapes() {
        let head = notification(Some("Hi")).head();
        assert!(head.starts_with("{\n  \"Type\" : \"Notification\",\n  \"MessageId\" : \"22b80b92"));
        assert!(head.contains(",\n  \"Subject\" : \"Hi\",\n  \"Message\" : \"line \\\"one\\\"\\n\\u0001é\",\n"));
        assert!(head.ends_with(",\n  \"UnsubscribeURL\" : "));
        assert!(!notification(None).head().contains("Subject"));
    }

    #[test]
    fn head_len_and_plainness_are_those_of_the_head() {
        let texts = ["", "plain", "line \"one\"\n\u{1}\t\\", "é", "\u{7f}", "\u{1f}\r\u{8}\u{c}", "~ !"];
        for message in texts {
            for subject in [None, Some("Hi"), Some(message)] {
                for sequence_number in [None, Some("10000000000000000001"), Some(message)] {
                    let notification = Notification { sequence_number, subject, message, ..notification(None) };
                    let head = notification.head();
                    let case = format!("{message:?} {subject:?} {sequence_number:?}");
                    assert_eq!(notification.head_len(), head.len(), "{case}");
                    assert_eq!(notification.head_is_plain(), crate::plain::is_plain_text(&head), "{case}");
                }
            }
        }
    }

    #[test]
    fn a_fifo_head_has_the_sequence_number_and_no_signature_members() {
        let standard = notification(Some("Hi"));
        let fifo = Notification { sequence_number: Some("10000000000000000001"), ..standard };
        // The standard head with SequenceNumber after MessageId and SignatureVersion to
        // SigningCertURL left out: the layout SNS gives a FIFO topic's notification.
        let head = standard.head();
        let (before, rest) = head.split_once(",\n  \"TopicArn\" : ").unwrap();
        let kept = &rest[..rest.find(",\n  \"SignatureVersion\" : ").unwrap()];
        let expected = format!(
            "{before},\n  \"SequenceNumber\" : \"10000000000000000001\",\n  \"TopicArn\" : {kept},\n  \"UnsubscribeURL\" : "
        );
        assert_eq!(fifo.head(), expected);
        assert!(!fifo.head().contains("Signature"));
        // A FIFO head's members are escaped as any other's.
        let odd = Notification { sequence_number: Some("1\"\u{7f}é"), ..standard }.head();
        assert!(odd.contains("\"SequenceNumber\" : \"1\\\"\u{7f}é\",\n"));
    }

    #[test]
    fn json_string_escapes_as_the_envelope_does() {
        assert_eq!(json_string("https://sns/?a=1&b=2"), r#""https://sns/?a=1&b=2""#);
        assert_eq!(json_string("q\"\\\n\u{1}é"), r#""q\"\\\n\u0001é""#);
    }

    #[test]
    fn attributes_tail_writes_each_attribute_on_one_compact_line() {
        assert_eq!(attributes_tail(&[]), "\n}");
        let tail = attributes_tail(&[
            ("store", "String", AttributeValue::Text("example_corp")),
            ("price", "Number", AttributeValue::Text("10.5")),
        ]);
        assert_eq!(
            tail,
            ",\n  \"MessageAttributes\" : {\n    \"store\" : {\"Type\":\"String\",\"Value\":\"example_corp\"},\n    \
             \"price\" : {\"Type\":\"Number\",\"Value\":\"10.5\"}\n  }\n}"
        );
    }

    #[test]
    fn attributes_tail_escapes_names_types_and_values_as_json_does() {
        let tail = attributes_tail(&[(
            "q\"b\\n\u{1}",
            "String.é",
            AttributeValue::Text("line\nDEL\u{7f}tab\t\u{1f}\u{8}\u{c}\r✓ 😀"),
        )]);
        assert_eq!(
            tail,
            ",\n  \"MessageAttributes\" : {\n    \"q\\\"b\\\\n\\u0001\" : \
             {\"Type\":\"String.é\",\"Value\":\"line\\nDEL\u{7f}tab\\t\\u001f\\b\\f\\r✓ 😀\"}\n  }\n}"
        );
    }

    #[test]
    fn attributes_tail_writes_binary_values_in_base64() {
        let tail = attributes_tail(&[
            ("blob", "Binary", AttributeValue::Binary(&[0, 0xff, b'"', b'\n'])),
            ("empty", "Binary.x", AttributeValue::Binary(&[])),
        ]);
        assert_eq!(
            tail,
            ",\n  \"MessageAttributes\" : {\n    \"blob\" : {\"Type\":\"Binary\",\"Value\":\"AP8iCg==\"},\n    \
             \"empty\" : {\"Type\":\"Binary.x\",\"Value\":\"\"}\n  }\n}"
        );
    }

    fn confirmation(message: &str) -> Confirmation<'_> {
        Confirmation {
            message_id: "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            token: "2336412f37f",
            topic_arn: "arn:aws:sns:us-west-2:123456789012:MyTopic",
            message,
            subscribe_url: "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37f",
            timestamp: "2012-04-26T20:45:04.751Z",
            signature_version: "1",
            signing_cert_url: "https://sns.us-west-2.amazonaws.com/cert.pem",
        }
    }

    #[test]
    fn a_confirmation_is_laid_out_as_a_notification_and_signed() {
        let confirmation = confirmation("Visit \"it\"\n\u{7f}é");
        let text = confirmation.text();
        let to_sign = "Message\nVisit \"it\"\n\u{7f}é\nMessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\n\
                       SubscribeURL\nhttps://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37f\n\
                       Timestamp\n2012-04-26T20:45:04.751Z\nToken\n2336412f37f\n\
                       TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nSubscriptionConfirmation\n";
        let signature = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(to_sign).repeat(8));
        let expected = format!(
            "{{\n  \"Type\" : \"SubscriptionConfirmation\",\n  \"MessageId\" : \"165545c9-2a5c-472c-8df2-7ff2be2b3b1b\",\n  \
             \"Token\" : \"2336412f37f\",\n  \"TopicArn\" : \"arn:aws:sns:us-west-2:123456789012:MyTopic\",\n  \
             \"Message\" : \"Visit \\\"it\\\"\\n\u{7f}é\",\n  \
             \"SubscribeURL\" : \"https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37f\",\n  \
             \"Timestamp\" : \"2012-04-26T20:45:04.751Z\",\n  \"SignatureVersion\" : \"1\",\n  \
             \"Signature\" : \"{signature}\",\n  \"SigningCertURL\" : \"https://sns.us-west-2.amazonaws.com/cert.pem\"\n}}"
        );
        assert_eq!(text, expected);
        assert_eq!(signature.len(), SIGNATURE_LEN);
    }

    #[test]
    fn the_signature_covers_the_string_to_sign_and_is_signature_sized() {
        let with = notification(Some("Hi")).signature();
        let without = notification(None).signature();
        assert_eq!(with.len(), 344); // base64 of 256 bytes
        assert_ne!(with, without);
        assert_eq!(with, notification(Some("Hi")).signature());
        // The digest of SNS's string to sign, in its order, repeated.
        let text = "Message\nline \"one\"\n\u{1}é\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nHi\n\
                    Timestamp\n2021-02-16T21:41:19.978Z\nTopicArn\narn:aws:sns:us-east-1:123456789012:orders\n\
                    Type\nNotification\n";
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text).repeat(8));
        assert_eq!(with, expected);
    }
}
