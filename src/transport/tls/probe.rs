//! Hand-written ClientHellos that offer only what BCP 195 forbids, to see whether a SUT server
//! refuses them. `rustls` cannot speak TLS 1.0/1.1 or weak suites at all, so the harness writes
//! the first flight itself (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2) and reads the server's first
//! record: an alert or a closed connection is a refusal; a ServerHello means the server went on.
//! Nothing past the ServerHello is needed, nor attempted.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the probe offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// TLS 1.0 as the highest version (RFC 8996 §2: MUST NOT negotiate).
    Tls10,
    /// TLS 1.1 as the highest version (RFC 8996 §3: MUST NOT negotiate).
    Tls11,
    /// TLS 1.2 with only NULL, RC4, export-grade and single-DES suites (RFC 9325 §4.1: MUST NOT
    /// negotiate).
    WeakSuites,
}

impl Offer {
    /// In words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Offer::Tls10 => "a ClientHello offering at most TLS 1.0",
            Offer::Tls11 => "a ClientHello offering at most TLS 1.1",
            Offer::WeakSuites => {
                "a TLS 1.2 ClientHello offering only NULL, RC4, export-grade and DES cipher suites"
            }
        }
    }

    fn version(self) -> u16 {
        match self {
            Offer::Tls10 => 0x0301,
            Offer::Tls11 => 0x0302,
            Offer::WeakSuites => 0x0303,
        }
    }

    fn suites(self) -> &'static [u16] {
        match self {
            // The suites a TLS 1.0/1.1 server would pick: ECDHE and RSA with AES-CBC.
            Offer::Tls10 | Offer::Tls11 => &[
                0xc009, 0xc013, 0xc00a, 0xc014, 0x002f, 0x0035, 0x0033, 0x0039, 0x00ff,
            ],
            Offer::WeakSuites => &[
                // NULL encryption
                0x0001, 0x0002, 0x003b, 0xc006, 0xc010, // RC4
                0x0004, 0x0005, 0xc007, 0xc011, // export-grade
                0x0003, 0x0006, 0x0008, 0x0014, // single DES
                0x0009, 0x0015, 0x00ff,
            ],
        }
    }
}

/// The name of a suite the probe offered (IANA), or its code.
pub fn suite_name(code: u16) -> String {
    let name = match code {
        0x0001 => "TLS_RSA_WITH_NULL_MD5",
        0x0002 => "TLS_RSA_WITH_NULL_SHA",
        0x003b => "TLS_RSA_WITH_NULL_SHA256",
        0xc006 => "TLS_ECDHE_ECDSA_WITH_NULL_SHA",
        0xc010 => "TLS_ECDHE_RSA_WITH_NULL_SHA",
        0x0004 => "TLS_RSA_WITH_RC4_128_MD5",
        0x0005 => "TLS_RSA_WITH_RC4_128_SHA",
        0xc007 => "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
        0xc011 => "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
        0x0003 => "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
        0x0006 => "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5",
        0x0008 => "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA",
        0x0014 => "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",
        0x0009 => "TLS_RSA_WITH_DES_CBC_SHA",
        0x0015 => "TLS_DHE_RSA_WITH_DES_CBC_SHA",
        0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        _ => return format!("0x{code:04x}"),
    };
    name.to_string()
}

/// How the server answered the probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// It sent a ServerHello: it went on with what was offered.
    Proceeded {
        /// The version it chose (`0x0302`).
        version: u16,
        /// The suite it chose.
        suite: u16,
    },
    /// It sent an alert (RFC 8446 §6.2 description code).
    Alert(u8),
    /// It closed the connection without a ServerHello.
    Closed,
    /// It sent something that is not TLS.
    NotTls(Vec<u8>),
}

impl Answer {
    /// Whether the server refused.
    pub fn refused(&self) -> bool {
        !matches!(self, Answer::Proceeded { .. })
    }

    /// In words.
    pub fn describe(&self) -> String {
        match self {
            Answer::Proceeded { version, suite } => format!(
                "the server answered with a ServerHello choosing {} and {}",
                version_text(*version),
                suite_name(*suite)
            ),
            Answer::Alert(a) => format!(
                "the server refused with the TLS alert {}",
                super::alert_name(rustls::AlertDescription::from(*a))
            ),
            Answer::Closed => "the server closed the connection without a ServerHello".into(),
            Answer::NotTls(b) => format!(
                "the server answered with {} bytes that are not a TLS record",
                b.len()
            ),
        }
    }
}

fn version_text(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        other => format!("version 0x{other:04x}"),
    }
}

/// Why the probe could not tell (an Error of the run, not a verdict).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No TCP connection.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// `host:port`.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// The server said nothing in time.
    #[error("no answer from {address} to {offer} within {ms} ms")]
    Silent {
        /// `host:port`.
        address: String,
        /// What was offered.
        offer: &'static str,
        /// The wait.
        ms: u128,
    },
}

/// The ClientHello record the probe sends.
pub fn client_hello(offer: Offer, server_name: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&offer.version().to_be_bytes());
    // A fixed client random is fine: nothing past the ServerHello is computed.
    body.extend_from_slice(&[0x5a; 32]);
    body.push(0); // no session id
    let suites = offer.suites();
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    let mut ext = Vec::new();
    if let Some(name) = server_name.filter(|n| n.parse::<std::net::IpAddr>().is_err()) {
        // server_name (RFC 6066 §3)
        let n = name.as_bytes();
        let mut sni = Vec::new();
        sni.extend_from_slice(&((n.len() + 3) as u16).to_be_bytes());
        sni.push(0);
        sni.extend_from_slice(&(n.len() as u16).to_be_bytes());
        sni.extend_from_slice(n);
        push_ext(&mut ext, 0x0000, &sni);
    }
    // supported_groups: x25519, secp256r1, secp384r1 (RFC 8422 §5.1.1)
    push_ext(&mut ext, 0x000a, &[0, 6, 0, 0x1d, 0, 0x17, 0, 0x18]);
    // ec_point_formats: uncompressed
    push_ext(&mut ext, 0x000b, &[1, 0]);
    if offer == Offer::WeakSuites {
        // signature_algorithms (RFC 5246 §7.4.1.4.1): ecdsa_secp256r1_sha256, rsa_pkcs1_sha256,
        // rsa_pss_rsae_sha256, rsa_pkcs1_sha1, ecdsa_sha1
        push_ext(
            &mut ext,
            0x000d,
            &[
                0, 10, 0x04, 0x03, 0x04, 0x01, 0x08, 0x04, 0x02, 0x01, 0x02, 0x03,
            ],
        );
    }
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1u8]; // client_hello
    let len = body.len() as u32;
    hs.extend_from_slice(&len.to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut record = vec![22u8, 0x03, 0x01]; // handshake, legacy record version TLS 1.0
    record.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    record.extend_from_slice(&hs);
    record
}

fn push_ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// Read the server's first record and say what it means.
pub fn parse_answer(bytes: &[u8]) -> Option<Answer> {
    if bytes.len() < 5 {
        return None;
    }
    let kind = bytes[0];
    let payload = &bytes[5..];
    if bytes[1] != 0x03 || !(kind == 21 || kind == 22) {
        return Some(Answer::NotTls(bytes.iter().take(64).copied().collect()));
    }
    match kind {
        21 if payload.len() >= 2 => Some(Answer::Alert(payload[1])),
        21 => None,
        _ => {
            // handshake: type(1) length(3) version(2) random(32) session_id(1+n) suite(2)
            if payload.len() < 4 + 2 + 32 + 1 {
                return None;
            }
            if payload[0] != 2 {
                return Some(Answer::NotTls(bytes.iter().take(64).copied().collect()));
            }
            let version = u16::from_be_bytes([payload[4], payload[5]]);
            let sid = payload[38] as usize;
            let at = 39 + sid;
            if payload.len() < at + 2 {
                return None;
            }
            let suite = u16::from_be_bytes([payload[at], payload[at + 1]]);
            Some(Answer::Proceeded { version, suite })
        }
    }
}

/// Send the probe to `host:port` and read the answer, every wait bounded.
pub async fn probe(
    host: &str,
    port: u16,
    server_name: Option<&str>,
    offer: Offer,
    timeout: Duration,
) -> Result<Answer, ProbeError> {
    let address = format!("{host}:{port}");
    let mut tcp = match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Ok(Ok(s)) => s,
        Ok(Err(source)) => return Err(ProbeError::Connect { address, source }),
        Err(_) => {
            return Err(ProbeError::Connect {
                address,
                source: std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
            })
        }
    };
    let hello = client_hello(offer, server_name.or(Some(host)));
    if tcp.write_all(&hello).await.is_err() {
        return Ok(Answer::Closed);
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let read = tokio::time::timeout_at(deadline, tcp.read(&mut chunk)).await;
        match read {
            Err(_) => {
                return Err(ProbeError::Silent {
                    address,
                    offer: offer.describe(),
                    ms: timeout.as_millis(),
                })
            }
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Ok(parse_answer(&buf).unwrap_or(Answer::Closed));
            }
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                if let Some(a) = parse_answer(&buf) {
                    return Ok(a);
                }
                if buf.len() > 64 * 1024 {
                    return Ok(Answer::NotTls(buf.iter().take(64).copied().collect()));
                }
            }
        }
    }
}
