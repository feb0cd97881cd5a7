//! Redaction of secrets before anything is recorded or written.
//!
//! Evidence folders end up in CI artefacts and bug reports, so passwords and tokens must never reach
//! them: the `Authorization` and `Proxy-Authorization` headers keep their scheme and lose their
//! credentials, and cookies are dropped to a marker.

/// The marker written in place of a secret.
pub const REDACTED: &str = "<redacted>";

/// Redact one header value according to its name.
pub fn header_value(name: &str, value: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "authorization" | "proxy-authorization" => match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {REDACTED}"),
            None => REDACTED.to_string(),
        },
        "cookie" | "set-cookie" | "x-api-key" => REDACTED.to_string(),
        _ => value.to_string(),
    }
}

/// Redact a list of headers.
pub fn headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| (n.clone(), header_value(n, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_keeps_scheme_only() {
        assert_eq!(
            header_value("Authorization", "Basic YWxpY2U6c2VjcmV0"),
            "Basic <redacted>"
        );
        assert_eq!(
            header_value("authorization", "Bearer abc.def"),
            "Bearer <redacted>"
        );
        assert_eq!(header_value("Authorization", "token"), "<redacted>");
    }

    #[test]
    fn other_headers_untouched() {
        assert_eq!(
            header_value("Accept", "application/dicom+json"),
            "application/dicom+json"
        );
        let h = headers(&[("Cookie".into(), "s=1".into())]);
        assert_eq!(h[0].1, REDACTED);
    }
}
