//! `ihe-harness init`: write a commented SUT profile for the chosen protocols, every key of each
//! chosen table with its meaning (the README's words) as a comment, the keys left unset commented
//! out, so the file loads as written (`run --sut FILE`). With `--probe` it asks each endpoint,
//! with short timeouts, what it offers and says in comments what it found and what failed:
//! DICOMweb a QIDO-RS studies search (status and media type), DIMSE a C-ECHO with the called AE
//! title, FHIR the CapabilityStatement (`fhirVersion` and resources).

use std::time::Duration;

/// What `init` was asked for.
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// SUT name.
    pub name: Option<String>,
    /// DICOMweb service root.
    pub dicomweb: Option<String>,
    /// DIMSE `host:port`.
    pub dimse: Option<String>,
    /// The SUT's AE title.
    pub called_ae: Option<String>,
    /// XDS Document Registry (ITI-18).
    pub xds_registry: Option<String>,
    /// XDS Document Repository (RAD-68, ITI-43).
    pub xds_repository: Option<String>,
    /// XDS Imaging Document Source (RAD-69).
    pub xds_imaging_source: Option<String>,
    /// MHD FHIR base.
    pub mhd: Option<String>,
    /// Ask the endpoints.
    pub probe: bool,
}

/// One key: name, meaning, the value to write (None: commented out with `example`).
struct Key<'a> {
    name: &'a str,
    meaning: &'a str,
    value: Option<String>,
    example: &'a str,
}

fn key<'a>(name: &'a str, meaning: &'a str, value: Option<String>, example: &'a str) -> Key<'a> {
    Key {
        name,
        meaning,
        value,
        example,
    }
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn table(out: &mut String, name: &str, about: &str, keys: &[Key<'_>], notes: &[String]) {
    out.push_str(&format!("\n# {about}\n"));
    for n in notes {
        for line in n.lines() {
            out.push_str(&format!("# {}\n", comment_text(line)));
        }
    }
    out.push_str(&format!("[{name}]\n"));
    for k in keys {
        out.push_str(&format!("# {}\n", k.meaning));
        match &k.value {
            Some(v) => out.push_str(&format!("{} = {v}\n", k.name)),
            None => out.push_str(&format!("# {} = {}\n", k.name, k.example)),
        }
    }
}

/// Text a TOML comment can hold: no control character but tab (TOML 1.0, Comment), whatever
/// a probed server sent.
fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// What a probe found, as comment lines.
pub type Findings = Vec<String>;

fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    crate::transport::install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(timeout)
        .timeout(timeout * 2)
        .build()
        .map_err(|e| e.to_string())
}

/// QIDO-RS `GET {base}/studies?limit=1`: does it answer, and with which media type?
pub async fn probe_dicomweb(base: &str, timeout: Duration) -> Findings {
    let url = format!("{}/studies?limit=1", base.trim_end_matches('/'));
    let client = match http_client(timeout) {
        Ok(c) => c,
        Err(e) => return vec![format!("probe failed: {e}")],
    };
    let mut out = Vec::new();
    match client
        .get(&url)
        .header("Accept", "application/dicom+json")
        .send()
        .await
    {
        Ok(r) => {
            let status = r.status().as_u16();
            let ct = r
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
                .to_string();
            let body = r.bytes().await.map(|b| b.len()).unwrap_or(0);
            if matches!(status, 200 | 204) {
                out.push(format!(
                    "probe: QIDO-RS GET {url} answered {status}, Content-Type {ct}, {body} bytes: a DICOMweb origin server answers here"
                ));
            } else {
                out.push(format!(
                    "probe FAILED: QIDO-RS GET {url} answered {status} (Content-Type {ct}): check base_url and authentication"
                ));
            }
        }
        Err(e) => out.push(format!(
            "probe FAILED: QIDO-RS GET {url}: {}",
            error_chain(&e)
        )),
    }
    // Whether it answers the XML form of a search too: said, not judged (`init` judges nothing).
    let xml = "multipart/related; type=\"application/dicom+xml\"";
    match client.get(&url).header("Accept", xml).send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let ct = r
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
                .to_string();
            let _ = r.bytes().await;
            out.push(format!(
                "probe: the same search asking for {xml} answered {status}, Content-Type {ct}"
            ));
        }
        Err(e) => out.push(format!(
            "probe FAILED: the same search asking for {xml}: {}",
            error_chain(&e)
        )),
    }
    // The methods it allows on the service root, when it says.
    if let Ok(r) = client
        .request(reqwest::Method::OPTIONS, base.trim_end_matches('/'))
        .send()
        .await
    {
        if let Some(allow) = r
            .headers()
            .get(reqwest::header::ALLOW)
            .and_then(|v| v.to_str().ok())
        {
            out.push(format!("probe: OPTIONS on the service root allows {allow}"));
        }
    }
    out
}

/// The innermost cause of an error (reqwest's outer messages repeat the URL).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        last = c.to_string();
        src = c.source();
    }
    last
}

/// C-ECHO to `host:port` with the called AE title.
pub async fn probe_dimse(host: &str, port: u16, called_ae: &str, timeout: Duration) -> Findings {
    let mut d = crate::config::Dimse::embedded(port);
    d.host = host.to_string();
    d.called_ae = called_ae.to_string();
    d.connect_timeout = timeout;
    d.read_timeout = timeout;
    let ex = crate::actors::dimse_scu::DimseScu::from_config(&d)
        .echo()
        .await;
    match (&ex.failure, ex.response.as_ref().map(|r| r.status)) {
        (None, Some(0)) => vec![format!(
            "probe: C-ECHO to {called_ae} at {host}:{port} accepted (status 0000): the SCP takes an association with this called AE title"
        )],
        (None, Some(s)) => vec![format!(
            "probe FAILED: C-ECHO to {called_ae} at {host}:{port} answered status {s:04X}"
        )],
        (Some(f), _) => vec![format!(
            "probe FAILED: C-ECHO to {called_ae} at {host}:{port}: {}",
            f.message
        )],
        (None, None) => vec![format!(
            "probe FAILED: C-ECHO to {called_ae} at {host}:{port}: no answer"
        )],
    }
}

/// `GET {base}/metadata`: the CapabilityStatement's fhirVersion and resources.
pub async fn probe_fhir(base: &str, timeout: Duration) -> Findings {
    let url = format!("{}/metadata", base.trim_end_matches('/'));
    let client = match http_client(timeout) {
        Ok(c) => c,
        Err(e) => return vec![format!("probe failed: {e}")],
    };
    let r = match client
        .get(&url)
        .header("Accept", "application/fhir+json")
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return vec![format!("probe FAILED: GET {url}: {}", error_chain(&e))],
    };
    let status = r.status().as_u16();
    // At most 4 MiB of a CapabilityStatement is read.
    let body = match r.bytes().await {
        Ok(b) if b.len() <= 4 << 20 => b,
        Ok(b) => {
            return vec![format!(
                "probe FAILED: GET {url}: {} bytes, too large",
                b.len()
            )]
        }
        Err(e) => return vec![format!("probe FAILED: GET {url}: {}", error_chain(&e))],
    };
    if status != 200 {
        return vec![format!("probe FAILED: GET {url} answered {status}")];
    }
    let v: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return vec![format!("probe FAILED: GET {url}: not JSON ({e})")],
    };
    if v.get("resourceType").and_then(|t| t.as_str()) != Some("CapabilityStatement") {
        return vec![format!(
            "probe FAILED: GET {url} answered something other than a CapabilityStatement"
        )];
    }
    let version = v
        .get("fhirVersion")
        .and_then(|t| t.as_str())
        .unwrap_or("(none)");
    let resources: Vec<&str> = v
        .get("rest")
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
        .flat_map(|r| {
            r.get("resource")
                .and_then(|x| x.as_array())
                .into_iter()
                .flatten()
        })
        .filter_map(|r| r.get("type").and_then(|t| t.as_str()))
        .collect();
    let wanted = ["DocumentReference", "List", "Binary", "Bundle", "Patient"];
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|w| !resources.contains(w))
        .copied()
        .collect();
    let mut out = vec![format!(
        "probe: GET {url}: CapabilityStatement, fhirVersion {version}, {} resources",
        resources.len()
    )];
    if !version.starts_with("4.0") {
        out.push(format!(
            "probe: MHD 4.2.4 is written for FHIR 4.0.1; this server says {version}"
        ));
    }
    if missing.is_empty() {
        out.push("probe: it lists DocumentReference, List, Binary, Bundle and Patient".into());
    } else {
        out.push(format!(
            "probe: it does not list {} (MHD needs them)",
            missing.join(", ")
        ));
    }
    out
}

/// Probe what was asked for, with `timeout` per exchange.
pub async fn probe(opts: &InitOptions, timeout: Duration) -> (Findings, Findings, Findings) {
    let dw = match &opts.dicomweb {
        Some(u) => probe_dicomweb(u, timeout).await,
        None => Vec::new(),
    };
    let dimse = match (
        opts.dimse.as_deref().and_then(split_host_port),
        &opts.called_ae,
    ) {
        (Some((h, p)), Some(ae)) => probe_dimse(&h, p, ae, timeout).await,
        _ => Vec::new(),
    };
    let fhir = match &opts.mhd {
        Some(u) => probe_fhir(u, timeout).await,
        None => Vec::new(),
    };
    (dw, dimse, fhir)
}

/// `host:port` (`[v6]:port` too).
pub fn split_host_port(s: &str) -> Option<(String, u16)> {
    let (h, p) = s.rsplit_once(':')?;
    let port = p.parse().ok()?;
    let h = h.trim_start_matches('[').trim_end_matches(']');
    (!h.is_empty()).then(|| (h.to_string(), port))
}

/// The profile's text. `found` holds the probe's comment lines (DICOMweb, DIMSE, FHIR).
pub fn render(
    opts: &InitOptions,
    found: &(Findings, Findings, Findings),
) -> Result<String, String> {
    if opts.dicomweb.is_none()
        && opts.dimse.is_none()
        && opts.xds_registry.is_none()
        && opts.xds_repository.is_none()
        && opts.xds_imaging_source.is_none()
        && opts.mhd.is_none()
    {
        return Err(
            "name at least one endpoint: --dicomweb URL, --dimse HOST:PORT --called-ae AE, --xds-registry URL (--xds-repository, --xds-imaging-source), --mhd URL".into(),
        );
    }
    let dimse = match &opts.dimse {
        Some(d) => {
            let hp = split_host_port(d)
                .ok_or_else(|| format!("--dimse {} is not HOST:PORT", crate::evidence::quote(d)))?;
            let ae = opts
                .called_ae
                .clone()
                .ok_or("--dimse needs --called-ae AE (the SUT's AE title)")?;
            if ae.is_empty() || ae.len() > 16 {
                return Err(format!(
                    "--called-ae {}: an AE title has 1 to 16 characters",
                    crate::evidence::quote(&ae)
                ));
            }
            Some((hp, ae))
        }
        None => None,
    };
    let mut out = String::new();
    out.push_str(&format!(
        "# SUT profile written by `ihe-harness init` ({}).\n\
         # Run it with: ihe-harness run --sut THIS_FILE\n\
         # Every key of each table is listed with its meaning; the ones commented out take their\n\
         # default. README.md, section \"SUT profile\", says more.\n",
        env!("CARGO_PKG_VERSION")
    ));
    let name = opts.name.clone().unwrap_or_else(|| "my-sut".into());
    table(
        &mut out,
        "sut",
        "The system under test.",
        &[
            key(
                "name",
                "name of the SUT in reports",
                Some(toml_str(&name)),
                "",
            ),
            key("description", "free text", None, "\"\""),
        ],
        &[],
    );
    if let Some(url) = &opts.dicomweb {
        table(
            &mut out,
            "dicomweb",
            "DICOMweb origin server (RAD-107 WADO-RS, RAD-129 QIDO-RS, RAD-108 STOW-RS).",
            &[
                key(
                    "base_url",
                    "DICOMweb service root (required for the DICOMweb scenarios)",
                    Some(toml_str(url.trim_end_matches('/'))),
                    "",
                ),
                key("username", "HTTP Basic user", None, "\"user\""),
                key(
                    "password",
                    "the Basic password inline: accepted but discouraged, use password_env",
                    None,
                    "\"secret\"",
                ),
                key(
                    "password_env",
                    "name of the environment variable holding the Basic password",
                    None,
                    "\"SUT_PASSWORD\"",
                ),
                key(
                    "bearer_token_env",
                    "name of the environment variable holding a bearer token",
                    None,
                    "\"SUT_TOKEN\"",
                ),
                key("connect_timeout_ms", "TCP connect timeout", None, "5000"),
                key(
                    "read_timeout_ms",
                    "longest silence while waiting for headers or body bytes",
                    None,
                    "15000",
                ),
                key(
                    "timeout_ms",
                    "one whole exchange, the streamed body included",
                    None,
                    "120000",
                ),
            ],
            &found.0,
        );
    }
    if let Some(((host, port), ae)) = &dimse {
        table(
            &mut out,
            "dimse",
            "The SUT's DICOM application entity (Verification, Storage, Query/Retrieve).",
            &[
                key("host", "host of the SUT's DICOM AE", Some(toml_str(host)), ""),
                key("port", "its port", Some(port.to_string()), ""),
                key("called_ae", "its AE title", Some(toml_str(ae)), ""),
                key("calling_ae", "the harness's AE title", None, "\"IHE_HARNESS\""),
                key(
                    "move_destination",
                    "the AE title the SUT knows for the harness's Storage SCP (C-MOVE destination); default calling_ae",
                    None,
                    "\"IHE_HARNESS\"",
                ),
                key("connect_timeout_ms", "TCP connect", None, "5000"),
                key("read_timeout_ms", "the longest wait for one PDU", None, "15000"),
                key(
                    "max_pdu",
                    "maximum PDU length the harness announces (0 = unlimited)",
                    None,
                    "16384",
                ),
                key(
                    "timeout_ms",
                    "one whole DIMSE operation, association to release",
                    None,
                    "300000",
                ),
                key(
                    "max_dataset_bytes",
                    "the largest instance accepted for one request",
                    None,
                    "1073741824",
                ),
                key(
                    "max_responses",
                    "the most messages accepted for one request",
                    None,
                    "20000",
                ),
            ],
            &found.1,
        );
        out.push_str(
            "\n# Where the harness's DICOM SCP listens (Storage, C-MOVE destination): the SUT must know\n\
             # it under [dimse] move_destination for the C-MOVE scenarios.\n[simulator]\n\
             # where the harness's DICOM SCP listens, and its AE title\n\
             # dimse_bind = \"0.0.0.0:11112\"\n# ae_title = \"IHE_HARNESS\"\n\
             # where the simulated XDS actors listen for the SUT's calls\n# bind = \"127.0.0.1:0\"\n\
             # the base URL the SUT must call, if not the bound address (NAT, proxy)\n# public_url = \"http://harness.example:9000\"\n\
             # how long a step waits for the SUT's call after a trigger\n# trigger_timeout_ms = 60000\n",
        );
    }
    if opts.xds_registry.is_some()
        || opts.xds_repository.is_some()
        || opts.xds_imaging_source.is_some()
    {
        let v = |o: &Option<String>| o.as_deref().map(toml_str);
        table(
            &mut out,
            "xds",
            "XDS-I.b endpoints of the SUT (SOAP 1.2).",
            &[
                key(
                    "registry_url",
                    "Document Registry endpoint (ITI-18)",
                    v(&opts.xds_registry),
                    "\"http://sut.example/registry\"",
                ),
                key(
                    "repository_url",
                    "Document Repository endpoint (RAD-68, ITI-43)",
                    v(&opts.xds_repository),
                    "\"http://sut.example/repository\"",
                ),
                key(
                    "imaging_source_url",
                    "Imaging Document Source endpoint (RAD-69)",
                    v(&opts.xds_imaging_source),
                    "\"http://sut.example/imaging-source\"",
                ),
                key(
                    "repository_unique_id",
                    "the Repository's repositoryUniqueId",
                    None,
                    "\"1.3.6.1.4.1.21367.13.80.120\"",
                ),
                key(
                    "imaging_source_unique_id",
                    "the Imaging Document Source's repositoryUniqueId (the manifests' Retrieve Location UID)",
                    None,
                    "\"1.3.6.1.4.1.21367.13.80.110\"",
                ),
                key(
                    "patient_id_authority",
                    "assigning authority OID of the affinity domain's patient ids",
                    None,
                    "\"1.3.6.1.4.1.21367.13.20.1000\"",
                ),
                key(
                    "source_id",
                    "sourceId of the submissions the harness sends",
                    None,
                    "\"1.3.6.1.4.1.21367.13.80.130\"",
                ),
                key(
                    "home_community_id",
                    "homeCommunityId, behind a gateway",
                    None,
                    "\"urn:oid:1.2.3\"",
                ),
                key(
                    "affinity_domain",
                    "affinity-domain code sets, relative to the profile",
                    None,
                    "\"affinity-domain.toml\"",
                ),
                key("connect_timeout_ms", "as for [dicomweb]", None, "5000"),
                key("read_timeout_ms", "as for [dicomweb]", None, "15000"),
                key("timeout_ms", "as for [dicomweb]", None, "120000"),
            ],
            &[],
        );
    }
    if let Some(url) = &opts.mhd {
        table(
            &mut out,
            "mhd",
            "MHD Document Recipient / Responder (ITI-65, ITI-66, ITI-67, ITI-68), FHIR R4.",
            &[
                key(
                    "base_url",
                    "FHIR base of the SUT's MHD Document Recipient/Responder (required for the MHD scenarios)",
                    Some(toml_str(url.trim_end_matches('/'))),
                    "",
                ),
                key(
                    "comprehensive",
                    "the SUT claims the Comprehensive Metadata option",
                    None,
                    "false",
                ),
                key(
                    "manifest_format",
                    "MADO manifests the SUT publishes: kos, fhir or both",
                    None,
                    "\"both\"",
                ),
                key(
                    "code_table",
                    "MADO codes: mado-ti or dicom-final (default: the profile pack's)",
                    None,
                    "\"mado-ti\"",
                ),
                key(
                    "eu_imaging_api",
                    "the SUT claims the HL7 Europe Imaging Report Document Access Provider",
                    None,
                    "false",
                ),
                key(
                    "patient_id_system",
                    "identifier system of the patient ids",
                    None,
                    "\"urn:oid:1.3.6.1.4.1.21367.13.20.1000\"",
                ),
                key(
                    "accession_system",
                    "identifier system of the accession numbers",
                    None,
                    "\"urn:oid:1.3.6.1.4.1.21367.13.20.2000\"",
                ),
                key("connect_timeout_ms", "as for [dicomweb]", None, "5000"),
                key("read_timeout_ms", "as for [dicomweb]", None, "15000"),
                key("timeout_ms", "as for [dicomweb]", None, "120000"),
            ],
            &found.2,
        );
    }
    table(
        &mut out,
        "test_data",
        "The test studies.",
        &[
            key(
                "mode",
                "load: the harness stores its fixture studies (STOW-RS, C-STORE, ITI-65) once per run; preloaded: the SUT already holds them",
                None,
                "\"load\"",
            ),
            key(
                "studies",
                "aliases or UIDs of the fixture studies a preloaded SUT holds (default all)",
                None,
                "[\"CT-CHEST\", \"MR-BRAIN\"]",
            ),
            key(
                "parallel",
                "transfers of the load at once: C-STORE associations, concurrent STOW-RS requests (1: one at a time)",
                None,
                "4",
            ),
        ],
        &[],
    );
    table(
        &mut out,
        "options",
        "How the run judges.",
        &[
            key(
                "strict",
                "judge SHOULD-level requirements as failures (see --strict)",
                None,
                "false",
            ),
            key(
                "pack",
                "profile pack, NAME or NAME@VERSION (ihe-harness packs lists them; default the newest)",
                None,
                "\"mado\"",
            ),
        ],
        &[],
    );
    let mut actors = Vec::new();
    let mut txns = Vec::new();
    if opts.dicomweb.is_some() {
        txns.extend(["RAD-107", "RAD-129"]);
    }
    if opts.xds_repository.is_some() || opts.xds_imaging_source.is_some() {
        actors.push("Imaging Document Source");
        txns.extend(["RAD-68", "RAD-69"]);
    }
    if opts.mhd.is_some() {
        actors.push("MHD Document Responder");
        txns.extend(["ITI-67", "ITI-68"]);
    }
    let list = |v: &[&str]| {
        format!(
            "[{}]",
            v.iter().map(|s| toml_str(s)).collect::<Vec<_>>().join(", ")
        )
    };
    let actors_ex = list(if actors.is_empty() {
        &["Query/Retrieve SCP"]
    } else {
        &actors
    });
    let txns_ex = list(if txns.is_empty() { &["C-FIND"] } else { &txns });
    out.push_str(
        "\n# What the SUT claims: with this table, a run also writes the qualification statement\n\
         # (statement.html, statement.json): per claimed actor, transaction and option, the\n\
         # requirements tested, their verdicts, and what was not tested and why.\n\
         # [claims]\n\
         # IHE actors, as the requirement catalogue names them (ihe-harness requirements)\n",
    );
    out.push_str(&format!("# actors = {actors_ex}\n"));
    out.push_str("# transaction ids\n");
    out.push_str(&format!("# transactions = {txns_ex}\n"));
    out.push_str(&format!(
        "# options, among: {}\n# options = [\"Comprehensive Metadata\"]\n",
        crate::config::claims::OPTIONS.join(", ")
    ));
    Ok(out)
}

/// `ihe-harness init`: write the profile to `output` (or stdout; an existing file only with
/// `force`); 0, or 2 on a usage error.
pub async fn command(opts: &InitOptions, output: Option<&std::path::Path>, force: bool) -> u8 {
    if let Some(p) = output.filter(|p| p.exists() && !force) {
        eprintln!("error: {} exists: give --force to replace it", p.display());
        return 2;
    }
    let found = if opts.probe {
        probe(opts, Duration::from_secs(3)).await
    } else {
        Default::default()
    };
    let text = match render(opts, &found) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for line in found.0.iter().chain(&found.1).chain(&found.2) {
        eprintln!("{line}");
    }
    match output {
        Some(p) => {
            if let Err(e) = std::fs::write(p, &text) {
                eprintln!("error: cannot write {}: {e}", p.display());
                return 2;
            }
            eprintln!(
                "wrote {}; check it, then: ihe-harness run --sut {}",
                p.display(),
                p.display()
            );
        }
        None => {
            use std::io::Write as _;
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn load(text: &str) -> Config {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("sut.toml");
        std::fs::write(&p, text).expect("write");
        Config::load(&p).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn every_protocol_combination_loads_as_written() {
        let dw = Some("http://127.0.0.1:8042/dicom-web/".to_string());
        let dimse = Some("127.0.0.1:4242".to_string());
        let ae = Some("ORTHANC".to_string());
        let reg = Some("http://127.0.0.1:9000/registry".to_string());
        let mhd = Some("http://127.0.0.1:8080/fhir".to_string());
        for mask in 1u8..16 {
            let opts = InitOptions {
                name: Some("Acme \"PACS\" \\ 1".into()),
                dicomweb: (mask & 1 != 0).then(|| dw.clone()).flatten(),
                dimse: (mask & 2 != 0).then(|| dimse.clone()).flatten(),
                called_ae: (mask & 2 != 0).then(|| ae.clone()).flatten(),
                xds_registry: (mask & 4 != 0).then(|| reg.clone()).flatten(),
                xds_repository: None,
                xds_imaging_source: None,
                mhd: (mask & 8 != 0).then(|| mhd.clone()).flatten(),
                probe: false,
            };
            let text = render(&opts, &Default::default()).expect("render");
            let c = load(&text);
            assert_eq!(c.sut_name, "Acme \"PACS\" \\ 1");
            assert_eq!(c.dicomweb.is_some(), mask & 1 != 0, "{text}");
            assert_eq!(c.dimse.is_some(), mask & 2 != 0, "{text}");
            assert_eq!(c.xds.is_some(), mask & 4 != 0, "{text}");
            assert_eq!(c.mhd.is_some(), mask & 8 != 0, "{text}");
            if let Some(d) = &c.dicomweb {
                assert_eq!(d.base_url, "http://127.0.0.1:8042/dicom-web");
            }
            if let Some(d) = &c.dimse {
                assert_eq!((d.host.as_str(), d.port), ("127.0.0.1", 4242));
                assert_eq!(d.called_ae, "ORTHANC");
            }
            // Every key of each table written is there, set or commented out.
            for k in ["# username =", "# password_env =", "# timeout_ms ="] {
                assert_eq!(
                    text.contains(k),
                    mask & 1 != 0 || k == "# timeout_ms =" && mask & 14 != 0
                );
            }
        }
    }

    #[test]
    fn uncommenting_the_claims_still_loads() {
        let opts = InitOptions {
            xds_repository: Some("http://127.0.0.1:9000/repository".into()),
            xds_imaging_source: Some("http://127.0.0.1:9000/imaging-source".into()),
            mhd: Some("http://127.0.0.1:8080/fhir".into()),
            ..Default::default()
        };
        let text = render(&opts, &Default::default())
            .expect("render")
            .replace("# [claims]", "[claims]")
            .replace("# actors =", "actors =")
            .replace("# transactions =", "transactions =")
            .replace("# options = [", "options = [");
        let c = load(&text);
        let claims = c.claims.expect("claims");
        assert_eq!(
            claims.actors,
            vec!["Imaging Document Source", "MHD Document Responder"]
        );
        assert_eq!(claims.options, vec!["Comprehensive Metadata"]);
    }

    #[test]
    fn probe_findings_are_comments_and_usage_errors_are_refused() {
        let opts = InitOptions {
            dicomweb: Some("http://127.0.0.1:1/dicom-web".into()),
            ..Default::default()
        };
        let found = (
            vec![
                "probe FAILED: QIDO-RS GET x: connection refused\nsecond line\r\u{1}\u{7f}"
                    .to_string(),
            ],
            Vec::new(),
            Vec::new(),
        );
        let text = render(&opts, &found).expect("render");
        assert!(text.contains(
            "# probe FAILED: QIDO-RS GET x: connection refused\n# second line\u{FFFD}\u{FFFD}\u{FFFD}\n"
        ));
        load(&text);
        assert!(render(&InitOptions::default(), &Default::default()).is_err());
        let no_ae = InitOptions {
            dimse: Some("127.0.0.1:104".into()),
            ..Default::default()
        };
        assert!(render(&no_ae, &Default::default())
            .expect_err("no AE")
            .contains("--called-ae"));
        let bad = InitOptions {
            dimse: Some("nohost".into()),
            called_ae: Some("X".into()),
            ..Default::default()
        };
        assert!(render(&bad, &Default::default()).is_err());
    }

    #[tokio::test]
    async fn probes_of_a_closed_port_say_what_failed() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = closed.local_addr().expect("addr").port();
        drop(closed);
        let t = Duration::from_secs(2);
        let dw = probe_dicomweb(&format!("http://127.0.0.1:{port}/dicom-web"), t).await;
        assert!(dw[0].starts_with("probe FAILED"), "{dw:?}");
        let fhir = probe_fhir(&format!("http://127.0.0.1:{port}/fhir"), t).await;
        assert!(fhir[0].starts_with("probe FAILED"), "{fhir:?}");
        let dimse = probe_dimse("127.0.0.1", port, "ORTHANC", t).await;
        assert!(dimse[0].starts_with("probe FAILED"), "{dimse:?}");
    }
}
