//! ATNA steps (ITI-19 Authenticate Node): the harness, as TLS client of the SUT's secure nodes,
//! offers no, untrusted or expired client certificates, legacy versions and forbidden suites, and
//! then a good certificate over TLS 1.2 and 1.3; the `TLS-*` checks judge each attempt.

use std::time::Duration;

use cucumber::{given, then, when};

use super::{harness_error, judge, not_applicable, StepError, StepResult};
use crate::actors::secure_node::{self, Ask, BadClient, SecureNodeTarget, SharedTarget};
use crate::checks::tls::TlsExpect;
use crate::checks::Expect;
use crate::evidence::{Body, Direction, Exchange, HttpRequest};
use crate::transaction::Transaction;
use crate::transport::factory::{http_client, HttpSettings};
use crate::transport::http::Meta;
use crate::transport::tls::probe::{self, Offer};
use crate::transport::tls::{ClientTls, TlsRecord, Versions};
use crate::world::HarnessWorld;

/// The longest wait for a probe's answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

async fn target(world: &mut HarnessWorld) -> Result<SharedTarget, StepError> {
    let ctx = world.ctx.clone();
    let made = ctx
        .secure_node
        .get_or_init(|| async {
            let t = if ctx.config.profile_path.is_none() {
                SecureNodeTarget::embedded(&ctx.fixtures_dir, &ctx.faults).await
            } else {
                SecureNodeTarget::from_config(&ctx.config)
            };
            t.map(std::sync::Arc::new).map_err(|e| e.to_string())
        })
        .await
        .clone();
    made.map_err(|e| harness_error(world, "ATNA set-up", e))
}

async fn endpoint(
    world: &mut HarnessWorld,
) -> Result<(SharedTarget, secure_node::SecureEndpoint), StepError> {
    let t = target(world).await?;
    let name = world.atna.endpoint.clone().unwrap_or_default();
    match t.endpoint(&name) {
        Some(e) => Ok((t.clone(), e.clone())),
        None => Err(harness_error(
            world,
            "no TLS endpoint",
            "a When step ran before the TLS endpoint was chosen",
        )),
    }
}

#[given(expr = "the SUT's {word} endpoint speaks TLS")]
async fn endpoint_speaks_tls(world: &mut HarnessWorld, name: String) -> StepResult {
    let t = target(world).await?;
    if t.endpoint(&name).is_none() {
        return Err(not_applicable(
            world,
            "no TLS endpoint",
            &format!("the SUT profile claims no TLS on a {name} endpoint (no https:// URL for it)"),
        ));
    }
    world.atna.endpoint = Some(name);
    Ok(())
}

/// GET the endpoint's probe URL with `client`, recorded whatever happens (a refused handshake is
/// the answer these scenarios look for, not an Error).
async fn attempt(
    world: &mut HarnessWorld,
    ep: &secure_node::SecureEndpoint,
    client: ClientTls,
    operation: &str,
    refusal_expected: bool,
) -> Result<usize, StepError> {
    let own = client
        .identity
        .as_ref()
        .and_then(|i| i.chain.first())
        .map(|c| crate::transport::tls::certs::summarize(c));
    let mut ex = match &ep.ask {
        Ask::Http(ask) => {
            let settings = HttpSettings::new(crate::config::Auth::None, Default::default())
                .with_tls(client, ep.repro.clone());
            let http = match http_client(&settings) {
                Ok(h) => h,
                Err(e) => return Err(harness_error(world, "TLS client", e.to_string())),
            };
            http.exchange(
                Meta {
                    transaction: Transaction::Iti19,
                    operation: operation.to_string(),
                    actor: "Secure Node (TLS client)",
                },
                ask.request(),
            )
            .await
        }
        Ask::Echo {
            called_ae,
            calling_ae,
        } => {
            let mut peer = crate::config::dimse::Dimse::embedded(ep.port);
            peer.host = ep.host.clone();
            peer.called_ae = called_ae.clone();
            peer.calling_ae = calling_ae.clone();
            let mut scu = crate::actors::dimse_scu::DimseScu::from_config(&peer);
            scu.peer.tls = Some(crate::dimse::association::PeerTls::Client(client));
            let mut ex = scu.echo().await;
            ex.transaction = Transaction::Iti19;
            ex.operation = format!("{operation} (C-ECHO)");
            ex
        }
    };
    let tls = ex.tls.get_or_insert_with(TlsRecord::default);
    tls.own_certificate = own;
    // A refused handshake is this scenario's answer: no Error for it. A refused connection or a
    // timeout stays one.
    if ex.failure.as_ref().is_some_and(|f| f.kind == "tls") {
        ex.failure = None;
    } else if refusal_expected
        && ex.response.is_none()
        && ex.failure.as_ref().is_some_and(ended_after_connect)
    {
        // TLS 1.3: the server judges the client's certificate after the client's handshake is
        // over, and its alert may reach the HTTP layer as a connection that ended before the
        // request could go out ("connection was not ready"): the server closed on the client.
        let message = ex.failure.take().map(|f| f.message).unwrap_or_default();
        if let Some(t) = ex.tls.as_mut() {
            t.failure = Some(format!(
                "the server closed the connection after the handshake without answering ({message})"
            ));
        }
    } else if ex.failure.is_some() && ex.response.is_none() {
        let f = crate::checks::Finding::error(&ex);
        let msg = f.message();
        world.evidence.record(ex);
        world.findings.push(f);
        return Err(StepError(msg));
    }
    Ok(world.evidence.record(ex))
}

/// A failure past the TCP connection: neither a refused or unreachable connection nor a timeout
/// (those stay Errors: nothing was asked of the server's TLS).
fn ended_after_connect(f: &crate::evidence::TransportFailure) -> bool {
    let m = f.message.to_ascii_lowercase();
    f.kind != "timeout"
        && !m.contains("connection refused")
        && !m.contains("no route to host")
        && !m.contains("network is unreachable")
        && !m.contains("dns error")
}

async fn offer_bad_client(
    world: &mut HarnessWorld,
    bad: BadClient,
    check: &'static str,
) -> StepResult {
    let (t, ep) = endpoint(world).await?;
    let client = match secure_node::bad_client(&t, &ep, bad) {
        Ok(c) => c,
        Err(e) => return Err(harness_error(world, "ATNA set-up", e)),
    };
    let idx = attempt(
        world,
        &ep,
        client,
        &format!("connect with {}", bad.describe()),
        true,
    )
    .await?;
    world.atna.last = Some((
        idx,
        vec![check],
        TlsExpect::RefuseClient(bad.describe().to_string()),
    ));
    Ok(())
}

#[when("the harness connects with no client certificate")]
async fn no_cert(world: &mut HarnessWorld) -> StepResult {
    offer_bad_client(world, BadClient::None, "TLS-01").await
}

#[when("the harness connects with a client certificate from an untrusted CA")]
async fn untrusted_cert(world: &mut HarnessWorld) -> StepResult {
    offer_bad_client(world, BadClient::Untrusted, "TLS-02").await
}

#[when("the harness connects with an expired client certificate from a trusted CA")]
async fn expired_cert(world: &mut HarnessWorld) -> StepResult {
    offer_bad_client(world, BadClient::Expired, "TLS-03").await
}

async fn offer(world: &mut HarnessWorld, offer: Offer, check: &'static str) -> StepResult {
    let (_, ep) = endpoint(world).await?;
    let started_at = crate::evidence::now_rfc3339();
    let t0 = std::time::Instant::now();
    let answer = match probe::probe(&ep.host, ep.port, None, offer, PROBE_TIMEOUT).await {
        Ok(a) => a,
        Err(e) => return Err(harness_error(world, "TLS probe", e.to_string())),
    };
    let hello = probe::client_hello(offer, Some(&ep.host));
    let url = format!("tls://{}:{}", ep.host, ep.port);
    let ex = Exchange {
        seq: 0,
        transaction: Transaction::Iti19,
        operation: format!("ClientHello: {}", offer.describe()),
        actor: "Secure Node (TLS client)".into(),
        direction: Direction::Outbound,
        started_at,
        time_to_headers: None,
        elapsed: t0.elapsed(),
        request: HttpRequest {
            method: "CLIENTHELLO".into(),
            url: url.clone(),
            headers: Vec::new(),
            body: Body::from_bytes(bytes::Bytes::from(hello)),
        },
        response: None,
        multipart: None,
        failure: None,
        repro: format!(
            "openssl s_client -connect {}:{} {}",
            ep.host,
            ep.port,
            match offer {
                Offer::Tls10 => "-tls1",
                Offer::Tls11 => "-tls1_1",
                Offer::WeakSuites => "-tls1_2 -cipher 'NULL:RC4:EXP:DES:@SECLEVEL=0'",
            }
        ),
        dimse: None,
        tls: Some(TlsRecord {
            failure: answer.refused().then(|| answer.describe()),
            ..TlsRecord::default()
        }),
    };
    let idx = world.evidence.record(ex);
    world.atna.last = Some((
        idx,
        vec![check],
        TlsExpect::RefuseOffer {
            offer: offer.describe().to_string(),
            answer: answer.describe(),
            refused: answer.refused(),
        },
    ));
    Ok(())
}

#[when("the harness offers at most TLS 1.0")]
async fn offer_tls10(world: &mut HarnessWorld) -> StepResult {
    offer(world, Offer::Tls10, "TLS-04").await
}

#[when("the harness offers at most TLS 1.1")]
async fn offer_tls11(world: &mut HarnessWorld) -> StepResult {
    offer(world, Offer::Tls11, "TLS-05").await
}

#[when("the harness offers only NULL, RC4, export-grade and DES cipher suites")]
async fn offer_weak(world: &mut HarnessWorld) -> StepResult {
    offer(world, Offer::WeakSuites, "TLS-06").await
}

#[when(expr = "the harness connects with a valid client certificate over TLS {word}")]
async fn good_client(world: &mut HarnessWorld, version: String) -> StepResult {
    let (_, ep) = endpoint(world).await?;
    let (versions, name, check) = match version.as_str() {
        "1.2" => (Versions::Tls12, "TLSv1.2", "TLS-07"),
        "1.3" => (Versions::Tls13, "TLSv1.3", "TLS-08"),
        other => {
            return Err(harness_error(
                world,
                "unknown TLS version",
                format!("the step names TLS {other}; the harness speaks 1.2 and 1.3"),
            ))
        }
    };
    let mut client = ep.good.clone();
    client.versions = versions;
    let idx = attempt(world, &ep, client, &format!("connect over {name}"), false).await?;
    world.atna.last = Some((
        idx,
        vec![check, "TLS-09"],
        TlsExpect::Accept(name.to_string()),
    ));
    Ok(())
}

#[then("the SUT refuses it")]
async fn refuses(world: &mut HarnessWorld) -> StepResult {
    judge_last(world)
}

#[then("the SUT lets it through with a certificate that names it")]
async fn lets_through(world: &mut HarnessWorld) -> StepResult {
    judge_last(world)
}

fn judge_last(world: &mut HarnessWorld) -> StepResult {
    let Some((idx, ids, tls)) = world.atna.last.clone() else {
        return Err(harness_error(
            world,
            "no exchange to judge",
            "a Then step ran before any attempt",
        ));
    };
    let expect = Expect {
        tls,
        ..Expect::default()
    };
    judge(world, idx, &expect, &[], &ids)
}

/// A bad server certificate the harness presents to a SUT client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BadServer {
    Untrusted,
    Expired,
    WrongName,
}

impl BadServer {
    fn describe(self) -> &'static str {
        match self {
            BadServer::Untrusted => "a server certificate from an untrusted CA",
            BadServer::Expired => "an expired server certificate",
            BadServer::WrongName => "a server certificate for another name",
        }
    }

    fn check(self) -> &'static str {
        match self {
            BadServer::Untrusted => "TLS-10",
            BadServer::Expired => "TLS-11",
            BadServer::WrongName => "TLS-12",
        }
    }
}

/// Which of the harness's TLS servers a SUT client is made to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerRole {
    /// The DICOM SCP (DICOM TLS, PS3.15 §B.1): the `modality_stores` trigger.
    DicomScp,
    /// The MHD Document Recipient (HTTPS): the `source_provides_bundle` trigger.
    MhdRecipient,
}

impl ServerRole {
    fn parse(s: &str) -> ServerRole {
        if s == "MHD Document Recipient" {
            ServerRole::MhdRecipient
        } else {
            ServerRole::DicomScp
        }
    }

    fn name(self) -> &'static str {
        match self {
            ServerRole::DicomScp => "DICOM SCP",
            ServerRole::MhdRecipient => "MHD Document Recipient",
        }
    }

    fn trigger(self) -> &'static str {
        match self {
            ServerRole::DicomScp => "modality_stores",
            ServerRole::MhdRecipient => crate::stand_in::mhd::SOURCE_PROVIDES_BUNDLE,
        }
    }
}

/// The harness's TLS server the SUT client is made to call: its address, the certificate it
/// presents, the handshakes and calls it has seen, and whether a built-in stand-in plays the SUT.
struct ServerSide {
    role: ServerRole,
    addr: std::net::SocketAddr,
    /// The FHIR base of the MHD Document Recipient, as the SUT calls it.
    fhir_base: String,
    switch: std::sync::Arc<crate::transport::tls::SwitchableCert>,
    handshakes: std::sync::Arc<crate::transport::tls::listener::HandshakeLog>,
    inbox: std::sync::Arc<crate::evidence::inbox::Inbox>,
    trigger: Option<crate::config::Trigger>,
    /// The CA the SUT trusts for the harness's server certificate, with its key.
    trusted: Option<crate::transport::tls::pki::Authority>,
    untrusted: std::sync::Arc<SecureNodeTarget>,
}

/// The address a base URL names (host resolved when it is an IP literal or `localhost`).
fn url_addr(base: &str) -> Option<std::net::SocketAddr> {
    let u = url::Url::parse(base).ok()?;
    let port = u.port_or_known_default()?;
    let ip = match u.host_str()? {
        "localhost" => std::net::IpAddr::from([127, 0, 0, 1]),
        h => h.trim_matches(['[', ']']).parse().ok()?,
    };
    Some(std::net::SocketAddr::new(ip, port))
}

async fn server_side(world: &mut HarnessWorld, role: ServerRole) -> Result<ServerSide, StepError> {
    let t = target(world).await?;
    if world.ctx.config.profile_path.is_none() {
        // The embedded reference: the TLS reference of the ATNA scenarios, called by a built-in
        // client that plays the SUT.
        let server = t.server.as_ref();
        let (addr, handshakes) = match role {
            ServerRole::DicomScp => (
                server.and_then(|s| s.dimse_addr()),
                server.and_then(|s| s.dimse_handshakes()),
            ),
            ServerRole::MhdRecipient => (
                server.map(|s| s.addr()),
                server.and_then(|s| s.handshakes()),
            ),
        };
        let (Some(addr), Some(switch), Some(handshakes), Some(inbox)) = (
            addr,
            server.and_then(|s| s.cert_switch()),
            handshakes,
            server.map(|s| s.inbox()),
        ) else {
            return Err(harness_error(
                world,
                "ATNA set-up",
                format!("the TLS reference runs no {} over TLS", role.name()),
            ));
        };
        return Ok(ServerSide {
            role,
            addr,
            fhir_base: server.map(|s| s.fhir_base()).unwrap_or_default(),
            switch,
            handshakes,
            inbox,
            trigger: None,
            trusted: None,
            untrusted: t.clone(),
        });
    }
    let sim = world.ctx.simulator.clone();
    let tls = world.ctx.config.simulator.tls.clone();
    let trigger = world.ctx.config.triggers.get(role.trigger()).cloned();
    let (Some(sim), Some(tls), Some(trigger)) = (sim, tls, trigger) else {
        return Err(not_applicable(
            world,
            "no TLS client role",
            &format!(
                "the SUT profile claims no TLS client role towards the harness's {} ([simulator.tls]{} and the {} trigger)",
                role.name(),
                if role == ServerRole::DicomScp { ", [simulator] dimse_bind" } else { "" },
                role.trigger()
            ),
        ));
    };
    let (addr, handshakes) = match role {
        ServerRole::DicomScp => (sim.dimse_addr, sim.dimse_handshakes.clone()),
        ServerRole::MhdRecipient => (url_addr(&sim.fhir_base), sim.http_handshakes.clone()),
    };
    let (Some(addr), Some(switch), Some(handshakes)) = (addr, sim.cert_switch.clone(), handshakes)
    else {
        return Err(harness_error(
            world,
            "ATNA set-up",
            format!("the harness's {} does not speak TLS", role.name()),
        ));
    };
    let trusted = match crate::transport::tls::pki::Authority::from_settings(&tls) {
        Ok(a) => a,
        Err(e) => return Err(harness_error(world, "ATNA set-up", e.to_string())),
    };
    Ok(ServerSide {
        role,
        addr,
        fhir_base: sim.fhir_base.clone(),
        switch,
        handshakes,
        inbox: sim.inbox.clone(),
        trigger: Some(trigger),
        trusted,
        untrusted: t.clone(),
    })
}

#[given(
    regex = r"^the SUT holds what it sends to the harness's (DICOM SCP|MHD Document Recipient)$"
)]
async fn sut_holds(world: &mut HarnessWorld, role: String) -> StepResult {
    match ServerRole::parse(&role) {
        // A PACS stores the test studies it is made to send; a modality (a SUT with no DICOM
        // endpoint of its own in the profile) sends what its trigger names.
        ServerRole::DicomScp if world.ctx.config.dimse.is_none() => Ok(()),
        ServerRole::DicomScp => crate::steps::dimse::holds_test_studies(world).await,
        // A Document Source publishes what its trigger gives it.
        ServerRole::MhdRecipient => Ok(()),
    }
}

#[given(
    regex = r"^the harness's (DICOM SCP|MHD Document Recipient) presents (a server certificate from an untrusted CA|an expired server certificate|a server certificate for another name)$"
)]
async fn server_presents(world: &mut HarnessWorld, role: String, which: String) -> StepResult {
    let bad = match which.as_str() {
        "a server certificate from an untrusted CA" => BadServer::Untrusted,
        "an expired server certificate" => BadServer::Expired,
        _ => BadServer::WrongName,
    };
    world.atna.server_bad = Some(bad.describe().to_string());
    world.atna.server_check = Some(bad.check());
    world.atna.server_role = Some(role);
    Ok(())
}

/// Restores the good certificate whatever happens.
struct Restore(std::sync::Arc<crate::transport::tls::SwitchableCert>);

impl Drop for Restore {
    fn drop(&mut self) {
        self.0.restore();
    }
}

/// The certificate of a [`BadServer`] case, issued for this attempt.
fn issue_bad_server(
    world: &mut HarnessWorld,
    side: &ServerSide,
    check: &str,
) -> Result<crate::transport::tls::pki::Issued, StepError> {
    use crate::transport::tls::pki::{Request as CertRequest, Usage};
    let names = ["localhost", "127.0.0.1"];
    let issued = match check {
        "TLS-10" => {
            side.untrusted
                .untrusted
                .issue(&CertRequest::new("localhost", &names, Usage::Server))
        }
        _ => {
            let ca = match (&side.trusted, side.untrusted.trusted_ca.as_ref()) {
                (Some(ca), _) => ca,
                (None, Some(ca)) if side.trigger.is_none() => ca,
                _ => {
                    return Err(harness_error(
                        world,
                        "ATNA set-up",
                        "the profile gives no CA the SUT trusts for the harness's certificate with its key ([simulator.tls] ca_file and ca_key_file), so the harness cannot issue an expired or wrong-name certificate the SUT would otherwise accept",
                    ))
                }
            };
            if check == "TLS-11" {
                ca.issue(&CertRequest::new("localhost", &names, Usage::Server).expired())
            } else {
                ca.issue(&CertRequest::new(
                    "wrong-name.invalid",
                    &["wrong-name.invalid"],
                    Usage::Server,
                ))
            }
        }
    };
    issued.map_err(|e| harness_error(world, "ATNA set-up", e.to_string()))
}

/// The profile's trigger makes the SUT call the harness's server; a SUT command that fails
/// because the SUT refused the harness is the expected outcome, not an Error.
async fn trigger_sut(
    world: &mut HarnessWorld,
    side: &ServerSide,
    trigger: &crate::config::Trigger,
) -> StepResult {
    let Some(study) = world.ctx.fixtures.studies().into_iter().next() else {
        return Err(harness_error(
            world,
            "no fixture study",
            "the fixture set is empty",
        ));
    };
    let series = study
        .series()
        .first()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let patient = world
        .ctx
        .fixtures
        .instances
        .iter()
        .find(|i| i.study_uid == study.uid)
        .map(|i| i.patient_id.clone())
        .unwrap_or_default();
    let mut vars = vec![
        ("study_uid", study.uid.to_string()),
        ("series_uid", series),
        ("harness_ae", world.ctx.config.simulator.ae_title.clone()),
        ("harness_host", side.addr.ip().to_string()),
        ("harness_port", side.addr.port().to_string()),
    ];
    if side.role == ServerRole::MhdRecipient {
        vars.push(("endpoint", side.fhir_base.clone()));
        vars.push(("patient_id", patient));
        vars.push(("patient_system", crate::steps::mhd::patient_system(world)));
    }
    let timeout = world.ctx.config.simulator.trigger_timeout;
    match crate::trigger::run(trigger, &vars, timeout).await {
        Ok(_) | Err(crate::trigger::TriggerError::Exited { .. }) => Ok(()),
        Err(e) => Err(harness_error(world, e.title(), e.to_string())),
    }
}

/// The built-in client plays a conformant SUT: it trusts the test CA and checks names.
async fn builtin_client_calls(world: &mut HarnessWorld, side: &ServerSide) -> StepResult {
    let t = side.untrusted.clone();
    let Some(ep) = t.endpoint("DIMSE").or(t.endpoint("MHD")) else {
        return Err(harness_error(world, "ATNA set-up", "no TLS endpoint"));
    };
    let mut client = ep.good.clone();
    client.server_name = Some("localhost".into());
    if world
        .ctx
        .faults
        .contains(&crate::reference::Fault::TlsBuiltinClientTrustsAny)
    {
        client.verify_server = false;
    }
    match side.role {
        ServerRole::DicomScp => {
            let mut peer = crate::config::dimse::Dimse::embedded(side.addr.port());
            peer.calling_ae = "BUILTIN_MODALITY".into();
            let mut scu = crate::actors::dimse_scu::DimseScu::from_config(&peer);
            scu.peer.tls = Some(crate::dimse::association::PeerTls::Client(client));
            let _ = scu.echo().await;
        }
        ServerRole::MhdRecipient => {
            let settings = HttpSettings::new(crate::config::Auth::None, Default::default())
                .with_tls(client, String::new());
            let http = match http_client(&settings) {
                Ok(h) => h,
                Err(e) => return Err(harness_error(world, "TLS client", e.to_string())),
            };
            let request = crate::transport::http::Request {
                method: reqwest::Method::POST,
                url: format!("https://localhost:{}{}", side.addr.port(), {
                    let base = side.fhir_base.as_str();
                    url::Url::parse(base)
                        .map(|u| u.path().trim_end_matches('/').to_string())
                        .unwrap_or_default()
                }),
                headers: vec![(
                    "Content-Type".to_string(),
                    "application/fhir+json".to_string(),
                )],
                body: bytes::Bytes::from_static(
                    br#"{"resourceType":"Bundle","type":"transaction","entry":[]}"#,
                ),
            };
            let _ = http
                .exchange(
                    Meta {
                        transaction: Transaction::Iti65,
                        operation: "built-in Document Source".into(),
                        actor: "Document Source",
                    },
                    request,
                )
                .await;
        }
    }
    Ok(())
}

#[when(regex = r"^the SUT is made to send to the harness's (DICOM SCP|MHD Document Recipient)$")]
async fn sut_sends_to_server(world: &mut HarnessWorld, role: String) -> StepResult {
    let role = ServerRole::parse(&role);
    let Some(check) = world.atna.server_check else {
        return Err(harness_error(
            world,
            "no certificate chosen",
            "a When step ran before the harness's certificate was chosen",
        ));
    };
    if world.atna.server_role.as_deref() != Some(role.name()) {
        return Err(harness_error(
            world,
            "scenario wiring",
            format!(
                "the Given step chose a certificate for another server than the {}",
                role.name()
            ),
        ));
    }
    let presented = world.atna.server_bad.clone().unwrap_or_default();
    let side = server_side(world, role).await?;
    let issued = issue_bad_server(world, &side, check)?;
    // The server is this scenario's while the bad certificate is presented.
    let _scp = crate::steps::dimse::inbound::session().lock().await;
    let hs_mark = side.handshakes.len();
    let inbox_mark = side.inbox.len();
    if let Err(e) = side.switch.present(&issued.identity()) {
        return Err(harness_error(world, "ATNA set-up", e.to_string()));
    }
    let _restore = Restore(side.switch.clone());
    let started_at = crate::evidence::now_rfc3339();
    let t0 = std::time::Instant::now();
    match &side.trigger {
        Some(trigger) => trigger_sut(world, &side, trigger).await?,
        None => builtin_client_calls(world, &side).await?,
    }
    // Wait (bounded) for the SUT's attempt, then for what it sends after a completed handshake.
    let deadline = t0 + Duration::from_secs(15);
    loop {
        let seen = side.handshakes.since(hs_mark);
        if !seen.is_empty() || std::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = side.handshakes.since(hs_mark);
    if seen.is_empty() {
        return Err(harness_error(
            world,
            "no TLS attempt",
            format!(
                "the SUT did not connect to the harness's {} after the trigger: nothing to judge",
                role.name()
            ),
        ));
    }
    let completed = seen.iter().filter(|h| h.completed()).count();
    let requests = side.inbox.len().saturating_sub(inbox_mark);
    let first = seen
        .iter()
        .find(|h| !h.completed())
        .or(seen.first())
        .cloned();
    let ex = Exchange {
        seq: 0,
        transaction: Transaction::Iti19,
        operation: format!("SUT client shown {presented}"),
        actor: "Secure Node (TLS server)".into(),
        direction: Direction::Inbound,
        started_at,
        time_to_headers: None,
        elapsed: t0.elapsed(),
        request: HttpRequest {
            method: "TLS".into(),
            url: format!(
                "tls://{} <- {}",
                side.addr,
                first.as_ref().map(|h| h.remote.clone()).unwrap_or_default()
            ),
            headers: seen
                .iter()
                .map(|h| {
                    (
                        format!("handshake {}", h.remote),
                        h.tls
                            .failure
                            .clone()
                            .unwrap_or_else(|| "completed".to_string()),
                    )
                })
                .collect(),
            body: Body::default(),
        },
        response: None,
        multipart: None,
        failure: None,
        repro: String::new(),
        dimse: None,
        tls: first.map(|h| {
            let mut t = h.tls;
            t.own_certificate = Some(crate::transport::tls::certs::summarize(&issued.cert));
            t
        }),
    };
    let idx = world.evidence.record(ex);
    world.atna.last = Some((
        idx,
        vec![check],
        TlsExpect::ClientAborts {
            presented,
            completed,
            requests,
        },
    ));
    Ok(())
}

#[then("the SUT aborts before sending anything")]
async fn sut_aborts(world: &mut HarnessWorld) -> StepResult {
    judge_last(world)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::TransportFailure;

    #[test]
    fn only_a_connection_that_ended_after_connecting_counts_as_a_refusal() {
        let f = |kind: &str, message: &str| TransportFailure {
            kind: kind.into(),
            message: message.into(),
        };
        assert!(ended_after_connect(&f(
            "request",
            "client error (Canceled): operation was canceled: connection was not ready"
        )));
        assert!(ended_after_connect(&f(
            "peer-closed",
            "the server closed the connection"
        )));
        assert!(!ended_after_connect(&f(
            "connect",
            "tcp connect error: Connection refused (os error 111)"
        )));
        assert!(!ended_after_connect(&f(
            "timeout",
            "no response headers within 15000 ms"
        )));
    }
}
