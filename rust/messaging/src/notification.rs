//! SNS's notification envelope (the SNS developer guide's "Parsing message formats"), up to its
//! UnsubscribeURL: the part of an SQS delivery's body that is the same for every subscription of
//! one publish. Written as the Python layer's `format_envelope` lays it out (Jackson's pretty
//! printer: two-space indent, `" : "` separators), strings escaped as Python's `json` module
//! escapes them.

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

/// One standard-topic notification's members before UnsubscribeURL, in the envelope's order.
#[derive(Debug, Clone, Copy)]
pub struct Notification<'a> {
    pub message_id: &'a str,
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
        let mut hash = Sha256::new();
        for (name, value) in
            [("Message", Some(self.message)), ("MessageId", Some(self.message_id)), ("Subject", self.subject)]
        {
            if let Some(value) = value {
                hash.update(name);
                hash.update("\n");
                hash.update(value);
                hash.update("\n");
            }
        }
        hash.update("Timestamp\n");
        hash.update(self.timestamp);
        hash.update("\nTopicArn\n");
        hash.update(self.topic_arn);
        hash.update("\nType\nNotification\n");
        let digest = hash.finalize();
        base64::engine::general_purpose::STANDARD.encode(digest.repeat(8))
    }

    /// The length in bytes of `head()`, without writing it (nor signing).
    pub fn head_len(&self) -> usize {
        let fields = [self.message_id, self.topic_arn, self.message, self.timestamp, self.signature_version];
        let subject = self.subject.map_or(0, |subject| ",\n  \"Subject\" : ".len() + quoted_len(subject));
        HEAD_LITERALS
            + fields.iter().map(|field| quoted_len(field)).sum::<usize>()
            + subject
            + SIGNATURE_LEN
            + 2
            + quoted_len(self.signing_cert_url)
    }

    /// Whether `head()` is printable ASCII on lines (what a plain SQS body is, see the Python
    /// binding's `is_plain_text`): quoting escapes every control character, so it is exactly
    /// when no member has a byte past `~`.
    pub fn head_is_plain(&self) -> bool {
        let members = [
            self.message_id,
            self.topic_arn,
            self.message,
            self.timestamp,
            self.signature_version,
            self.signing_cert_url,
        ];
        members
            .iter()
            .chain(self.subject.as_ref())
            .all(|member| member.bytes().fold(0u8, |high, b| high | (b & 0x80 | u8::from(b == 0x7f))) == 0)
    }

    /// The envelope's text from its opening brace to `"UnsubscribeURL" : ` included.
    pub fn head(&self) -> String {
        let mut out = String::with_capacity(self.message.len() + 800);
        out.push_str("{\n  \"Type\" : \"Notification\",\n  \"MessageId\" : ");
        quote(&mut out, self.message_id);
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
        out.push_str(",\n  \"SignatureVersion\" : ");
        quote(&mut out, self.signature_version);
        out.push_str(",\n  \"Signature\" : ");
        quote(&mut out, &self.signature());
        out.push_str(",\n  \"SigningCertURL\" : ");
        quote(&mut out, self.signing_cert_url);
        out.push_str(",\n  \"UnsubscribeURL\" : ");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(subject: Option<&str>) -> Notification<'_> {
        Notification {
            message_id: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
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
                let notification = Notification { subject, message, ..notification(None) };
                let head = notification.head();
                assert_eq!(notification.head_len(), head.len(), "{message:?} {subject:?}");
                let plain = head.bytes().all(|b| (b' '..=b'~').contains(&b) || b == b'\n');
                assert_eq!(notification.head_is_plain(), plain, "{message:?} {subject:?}");
            }
        }
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
