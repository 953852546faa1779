//! The stored form of an MDN in the payload store: its HTTP headers, a blank line, its body.
//! Kept so a duplicate gets the very MDN the partner got the first time, and so an async MDN
//! can be posted (and re-posted) by a worker.

/// Serialises headers and body as stored.
pub fn serialize(headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(body.len() + 512);
    for (name, value) in headers {
        raw.extend_from_slice(name.as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value.as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(body);
    raw
}

/// Splits a stored MDN back into headers and body.
pub fn deserialize(raw: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let headers = String::from_utf8_lossy(&raw[..split])
        .split("\r\n")
        .filter_map(|line| {
            line.split_once(": ")
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
        })
        .collect();
    let body = raw.get(split + 4..).unwrap_or_default().to_vec();
    (headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_headers_and_a_binary_body() {
        let headers = vec![
            (
                "Content-Type".to_owned(),
                "multipart/signed; a=b".to_owned(),
            ),
            ("AS2-From".to_owned(), "\"us here\"".to_owned()),
        ];
        let body = b"\r\n\r\nbinary\0\xff".to_vec();
        let (h, b) = deserialize(&serialize(&headers, &body));
        assert_eq!(h, headers);
        assert_eq!(b, body);
    }

    #[test]
    fn a_truncated_record_gives_an_empty_body_not_a_panic() {
        let (h, b) = deserialize(b"Content-Type: text/plain");
        assert_eq!(h.len(), 1);
        assert!(b.is_empty());
    }
}
