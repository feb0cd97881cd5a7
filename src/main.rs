//! The `ihe-harness` binary: parse arguments, resolve configuration, run, map the outcome to an exit
//! code. Everything else lives in the library.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use ihe_harness::actors::dicomweb::DicomwebClient;
use ihe_harness::actors::wado_rs;
use ihe_harness::assets;
use ihe_harness::checks::{Outcome, Target};
use ihe_harness::config::Config;
use ihe_harness::evidence::quote;
use ihe_harness::reference::{Duplicates, Fault, ReferenceOptions, ReferenceServer};
use ihe_harness::runner::{self, FeatureSource, RunOptions};

const EXIT_CODES: &str = "Exit codes:
  0  every executed check passed
  1  at least one scenario failed: the SUT broke a cited requirement
  2  usage, configuration or harness error, or a scenario ended in Error (network, timeout) with no Fail";

#[derive(Debug, Parser)]
#[command(
    name = "ihe-harness",
    version,
    about = "Conformance test harness for the exchange of medical images and imaging reports (DICOMweb, XDS-I.b, MHD, DIMSE)",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Gherkin scenarios against a SUT (default: the embedded reference on loopback).
    #[command(after_help = EXIT_CODES)]
    Run {
        /// SUT profile (TOML). Without it, the embedded reference SUT is started and tested.
        #[arg(long)]
        sut: Option<PathBuf>,
        /// Cucumber tag expression, e.g. '@profile:DICOMweb and not @slow'.
        #[arg(long)]
        tags: Option<String>,
        /// Folder of .feature files [default: those compiled into the harness].
        #[arg(long)]
        features: Option<PathBuf>,
        /// Folder for junit.xml, results.json and evidence/.
        #[arg(long, default_value = "reports")]
        report_dir: PathBuf,
        /// Scenarios run at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// Stop at the first failed scenario.
        #[arg(long)]
        fail_fast: bool,
        /// Run only shard I of N (1-based, `I/N`): each CI job runs one shard and the JUnit files merge.
        #[arg(long, value_parser = parse_shard)]
        shard: Option<(u32, u32)>,
        /// Judge SHOULD-level requirements as failures (overrides the profile's options.strict).
        #[arg(long)]
        strict: bool,
        /// Folder of the fixture studies (with index.json) [default: those compiled into the harness].
        #[arg(long, env = "IHE_HARNESS_FIXTURES")]
        fixtures: Option<PathBuf>,
        /// Inject a fault into the embedded reference (harness self-tests only).
        #[arg(long = "reference-fault", hide = true)]
        faults: Vec<String>,
        /// Profile pack, `NAME` (its newest version) or `NAME@VERSION`: the versions of the
        /// specifications still moving (MADO codes, ...) the run judges with [default: the
        /// profile's options.pack, else the newest; `ihe-harness packs` lists them].
        #[arg(long)]
        pack: Option<String>,
    },
    /// List the profile packs: name@version, the default, what each fixes.
    Packs,
    /// List the scenarios a run would execute, with tags and requirement keys.
    List {
        /// Cucumber tag expression.
        #[arg(long)]
        tags: Option<String>,
        /// Folder of .feature files [default: those compiled into the harness].
        #[arg(long)]
        features: Option<PathBuf>,
    },
    /// List every check: id, requirement, level, actor, title.
    Checks,
    /// Print each requirement of the catalogue with its checks, the scenarios that exercise each
    /// check and what proves each check can fail.
    Requirements {
        /// List only the gaps (requirements without a check, checks without a scenario or without
        /// a proof that they can fail); exit 1 if there is any.
        #[arg(long)]
        uncovered: bool,
        /// Folder of .feature files [default: those compiled into the harness].
        #[arg(long)]
        features: Option<PathBuf>,
        /// A catalogue file instead of the embedded one.
        #[arg(long, hide = true)]
        catalogue: Option<PathBuf>,
    },
    /// Start the embedded reference alone and print its endpoints (until interrupted).
    Serve {
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1:8042")]
        bind: std::net::SocketAddr,
        /// Folder of the fixture studies (with index.json) [default: those compiled into the harness].
        #[arg(long, env = "IHE_HARNESS_FIXTURES")]
        fixtures: Option<PathBuf>,
        /// Map RAD-69 onto this DICOMweb service root (e.g. Orthanc's): the Imaging Document
        /// Source fetches the instances from it with WADO-RS.
        #[arg(long)]
        wado_upstream: Option<String>,
        /// Also start the DICOM SCP (Verification, Storage, Query/Retrieve) on this address.
        #[arg(long)]
        dimse_bind: Option<std::net::SocketAddr>,
        /// AE title of the DICOM SCP.
        #[arg(long, default_value = "IHE_REFERENCE")]
        ae_title: String,
        /// A C-MOVE destination, `AE=host:port` (repeatable).
        #[arg(long = "move-destination")]
        move_destinations: Vec<String>,
        /// Inject a fault (harness self-tests only).
        #[arg(long = "fault", hide = true)]
        faults: Vec<String>,
        /// STOW-RS refuses a second copy of an instance it holds (409, or 202 with the copy in
        /// the Failed SOP Sequence, Failure Reason 0111) instead of replacing it.
        #[arg(long)]
        refuse_duplicates: bool,
        /// Serve HTTPS and DICOM TLS with this certificate chain (PEM, leaf first).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of --tls-cert (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Ask clients for a certificate from these CAs (PEM) and refuse clients without one
        /// (IHE ITI-19 mutual authentication).
        #[arg(long, requires = "tls_cert")]
        tls_client_ca: Option<PathBuf>,
        /// With --tls-client-ca: accept clients that present no certificate.
        #[arg(long, requires = "tls_client_ca")]
        tls_optional_client_cert: bool,
        /// Profile pack the published manifests follow (`NAME` or `NAME@VERSION`; `ihe-harness
        /// packs` lists them) [default: the newest].
        #[arg(long)]
        pack: Option<String>,
        /// Where the XCA Initiating Gateway finds the Responding Gateways of communities A and B:
        /// the base of their `/community-a/responding-gateway/…` paths (e.g. a harness run's
        /// simulator, `http://127.0.0.1:9000/xca`) [default: the server's own simulated ones].
        #[arg(long)]
        xca_responding_gateways: Option<String>,
    },
    /// Write the feature files, fixture studies, code sets and example SUT profiles compiled into
    /// the harness under DIR (DIR/features, DIR/fixtures/...), to edit them and run with
    /// --features and --fixtures.
    Export {
        /// Folder to write into (made if missing).
        dir: PathBuf,
        /// Replace files that are already there.
        #[arg(long)]
        force: bool,
    },
    /// Retrieve one study or series with WADO-RS, streaming, judge it with the retrieve checks
    /// (DW-01, DW-02, DW-03, DW-17, DW-18) and print a summary (benchmarks, smoke tests).
    Retrieve {
        /// SUT profile (TOML) with a [dicomweb] table.
        #[arg(long)]
        sut: PathBuf,
        /// Study Instance UID.
        #[arg(long)]
        study: String,
        /// Series Instance UID.
        #[arg(long)]
        series: Option<String>,
        /// Transfer syntax to ask for (`*` for as stored); none asks for the default.
        #[arg(long, conflicts_with = "dimse")]
        transfer_syntax: Option<String>,
        /// Retrieve over DIMSE from the profile's [dimse] SCP instead: a SERIES-level C-FIND,
        /// then each series with a C-GET (--get, the default) or a C-MOVE (--move), several at
        /// once, each on an association of its own; every instance counted once.
        #[arg(long, conflicts_with = "series")]
        dimse: bool,
        /// With --dimse: C-GET each series.
        #[arg(long, requires = "dimse", conflicts_with = "move_")]
        get: bool,
        /// With --dimse: C-MOVE each series to the harness's Storage SCP, listening on the
        /// profile's [simulator] dimse_bind as [simulator] ae_title (the SUT must know it as
        /// [dimse] move_destination).
        #[arg(long = "move", requires = "dimse")]
        move_: bool,
        /// With --dimse: series retrieved at once, each on its own association.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64), requires = "dimse")]
        associations: u16,
        /// With --dimse: the folder the instances are written to (made if missing) [default: a
        /// temporary folder, removed at the end].
        #[arg(long, requires = "dimse")]
        output: Option<PathBuf>,
    },
    /// Store DICOM files with C-STORE over several associations at once, or with STOW-RS
    /// (--stow) in several requests at once, streamed from disk (benchmarks, loading a PACS).
    Store {
        /// SUT profile (TOML) with a [dimse] table ([dicomweb] with --stow).
        #[arg(long)]
        sut: PathBuf,
        /// DICOM files, or folders searched for `*.dcm`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Associations used at once, the files dealt round-robin (1: one association).
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64), conflicts_with = "stow")]
        associations: u16,
        /// Store with STOW-RS to the profile's [dicomweb] base_url instead of C-STORE: each
        /// instance judged by its entry in the Store Instances Response, each response by DW-10,
        /// DW-11 and DW-24.
        #[arg(long)]
        stow: bool,
        /// With --stow: requests in flight at once (1: one after the other).
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64), requires = "stow")]
        requests: u16,
        /// With --stow: instances per request (consecutive files in path order).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..), requires = "stow")]
        batch: u32,
    },
    /// Judge files offline with the checks of a run: DICOM KOS (XDS-I.b, MADO), DICOM JSON,
    /// XDS SOAP/ebXML messages, FHIR; or serve the Gazelle validation API v2 (--serve).
    #[command(after_help = VALIDATE_HELP)]
    Validate {
        /// Files to judge (a folder: the files in it, every level down).
        #[arg(required_unless_present = "serve")]
        files: Vec<PathBuf>,
        /// The type of every file, instead of detecting it (see the list below).
        #[arg(long = "as", value_name = "TYPE")]
        as_type: Option<String>,
        /// The responder's content (TOML) for the contextual rules (unknown repository,
        /// instance, transfer syntax, community).
        #[arg(long)]
        context: Option<PathBuf>,
        /// SHOULD breaches count as failures.
        #[arg(long)]
        strict: bool,
        /// Folder for validation.json (Gazelle validation API v2 report) and junit.xml.
        #[arg(long, default_value = "reports")]
        report_dir: PathBuf,
        /// Serve the Gazelle validation API v2 on this address instead
        /// (GET /validation/v2/profiles, POST /validation/v2/validate).
        #[arg(long, value_name = "ADDR", conflicts_with = "files")]
        serve: Option<std::net::SocketAddr>,
    },
    /// Write the qualification statement of a finished run (--statement), or check a report
    /// folder against its MANIFEST.sha256 (--verify DIR).
    #[command(after_help = "Exit codes:
  0  written; or every file matches the manifest
  1  --verify: a file changed, is missing, or is not in the manifest
  2  usage error, no results.json, no [claims], no manifest")]
    Report {
        /// Write statement.html and statement.json from the run's results.json and the claims of
        /// the SUT profile, then MANIFEST.sha256 again.
        #[arg(long, required_unless_present = "verify", conflicts_with = "verify")]
        statement: bool,
        /// The run's report folder.
        #[arg(long, default_value = "reports")]
        report_dir: PathBuf,
        /// SUT profile with the [claims] [default: the profile the run used].
        #[arg(long, requires = "statement")]
        sut: Option<PathBuf>,
        /// Recompute every SHA-256 of DIR/MANIFEST.sha256 and name what differs.
        #[arg(long, value_name = "DIR")]
        verify: Option<PathBuf>,
    },
    /// Write a commented SUT profile for the chosen protocols (every key with its meaning; the
    /// unset ones commented out), optionally probing the endpoints to fill in what they offer.
    Init {
        /// SUT name.
        #[arg(long)]
        name: Option<String>,
        /// DICOMweb service root, e.g. http://pacs:8042/dicom-web.
        #[arg(long, value_name = "URL")]
        dicomweb: Option<String>,
        /// The SUT's DICOM AE, HOST:PORT (with --called-ae).
        #[arg(long, value_name = "HOST:PORT", requires = "called_ae")]
        dimse: Option<String>,
        /// The SUT's AE title.
        #[arg(long, value_name = "AE", requires = "dimse")]
        called_ae: Option<String>,
        /// XDS Document Registry endpoint (ITI-18).
        #[arg(long, value_name = "URL")]
        xds_registry: Option<String>,
        /// XDS Document Repository endpoint (RAD-68, ITI-43).
        #[arg(long, value_name = "URL")]
        xds_repository: Option<String>,
        /// XDS Imaging Document Source endpoint (RAD-69).
        #[arg(long, value_name = "URL")]
        xds_imaging_source: Option<String>,
        /// FHIR base of an MHD Document Recipient/Responder.
        #[arg(long, value_name = "URL")]
        mhd: Option<String>,
        /// Ask each endpoint what it offers (QIDO-RS search, C-ECHO, FHIR CapabilityStatement;
        /// 3 s timeouts) and say in comments what was found and what failed.
        #[arg(long)]
        probe: bool,
        /// Write the profile here [default: standard output].
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace --output if it exists.
        #[arg(long, requires = "output")]
        force: bool,
    },
    /// Print a shell completion script (e.g. `ihe-harness completions bash > /etc/bash_completion.d/ihe-harness`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Replay the HTTP requests of the chosen scenarios with concurrent virtual users and report
    /// requests/s, errors, failures and latency percentiles per transaction (load.json).
    #[command(args_conflicts_with_subcommands = true, after_help = LOAD_HELP)]
    Load {
        /// `merge`: add the load.json files of several shards.
        #[command(subcommand)]
        merge: Option<LoadCommand>,
        /// SUT profile (TOML). Without it, the embedded reference is started for the load run.
        #[arg(long)]
        sut: Option<PathBuf>,
        /// Tag expression choosing the scenarios whose requests are replayed.
        #[arg(long)]
        tags: Option<String>,
        /// Virtual users (of all shards together).
        #[arg(long, default_value_t = 10)]
        users: u64,
        /// How long the replay lasts (`10s`, `500ms`, `2m`).
        #[arg(long, default_value = "10s", value_parser = ihe_harness::load::parse_duration)]
        duration: std::time::Duration,
        /// Play shard I of N of the users (1-based, `I/N`); merge the shards' load.json files with
        /// `load merge`.
        #[arg(long, value_parser = parse_shard)]
        shard: Option<(u32, u32)>,
        /// Folder for load.json (and the recording run's reports under recording/).
        #[arg(long, default_value = "reports/load")]
        report_dir: PathBuf,
        /// Judge every K-th answer with the checks.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
        sample: u64,
        /// Replay the stores too, each time as copies the SUT has not seen: STOW-RS as
        /// re-identified instances (new Study, Series and SOP Instance UIDs, a patient of their
        /// own), Provide and Register (ITI-41, RAD-68) as new submissions of the same documents
        /// for the same patient: the SUT keeps every copy.
        #[arg(long)]
        stores: bool,
    },
}

const LOAD_HELP: &str = "Exit codes:
  0  the replay ran, with no error and no failure
  1  a sampled answer failed a check
  2  usage error, or a request got no complete answer";

/// Subcommands of `load`.
#[derive(Subcommand, Debug)]
enum LoadCommand {
    /// Add the counts and HDR histograms of several load.json files (the shards of one load run)
    /// and print the merged table.
    Merge {
        /// The load.json files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write the merged load.json here.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

const VALIDATE_HELP: &str = "Types (--as):
  kos                XDS-I.b imaging manifest (DICOM KOS)
  mado-kos           MADO manifest with description (DICOM KOS)
  dicom-json         DICOM JSON Model (QIDO-RS / WADO-RS metadata)
  iti41, rad68       Provide and Register Document Set-b / Imaging Document Set request
  iti42, iti57       Register Document Set-b (submission metadata), Update Document Set request
  iti18-request, iti18-response, iti38-request, iti38-response
  iti43-request, iti43-response, iti39-request, iti39-response
  rad69-request, rad69-response, rad75-request, rad75-response
  registry-response  RegistryResponse (ITI-41 / ITI-42 / ITI-57 / RAD-68)
  fhir-json, fhir-xml, fsh   FHIR resources and Bundles, FHIR Shorthand

Exit codes:
  0  every file PASSED
  1  at least one file FAILED: it breaks a cited requirement
  2  usage error, unreadable file, or a file UNDEFINED (not recognised or not judged)";

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("{} is not I/N, e.g. 2/4", quote(s)))?;
    let i: u32 = i
        .trim()
        .parse()
        .map_err(|_| format!("{} is not a number", quote(i)))?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("{} is not a number", quote(n)))?;
    if n == 0 || i == 0 || i > n {
        return Err(format!("shard {i}/{n}: I must be between 1 and N"));
    }
    Ok((i, n))
}

fn parse_faults(names: &[String]) -> Result<Vec<Fault>, String> {
    names
        .iter()
        .map(|n| {
            n.parse::<Fault>().map_err(|_| {
                let known: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                format!("unknown fault {}; known: {}", quote(n), known.join(", "))
            })
        })
        .collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A single streamed retrieve runs best on one thread: the connection and the consumer of its
    // body then hand chunks over without waking another thread per chunk (hashing has threads of
    // its own). Runs and the reference server serve many exchanges at once: multi-threaded.
    let mut builder = if matches!(
        cli.command,
        Command::Retrieve { .. } | Command::Store { .. }
    ) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(async_main(cli))
}

async fn async_main(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Run {
            sut,
            tags,
            features,
            report_dir,
            concurrency,
            fail_fast,
            shard,
            strict,
            fixtures,
            faults,
            pack,
        } => {
            let faults = match parse_faults(&faults) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let opts = RunOptions {
                sut,
                tags,
                features: FeatureSource::from_option(features),
                report_dir,
                concurrency,
                fail_fast,
                shard,
                strict,
                fixtures,
                faults,
                pack,
            };
            match runner::run(opts).await {
                Ok(outcome) => ExitCode::from(outcome.exit_code()),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::List { tags, features } => {
            let features = FeatureSource::from_option(features);
            match ihe_harness::listing::scenarios(&features, tags.as_deref()) {
                Ok(list) => {
                    print!("{}", ihe_harness::listing::render(&list));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Packs => {
            let (all, default) = match (
                ihe_harness::packs::all(),
                ihe_harness::packs::Pack::resolve(None),
            ) {
                (Ok(a), Ok(d)) => (a, d),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            for p in all {
                let mark = if p.id() == default.id() {
                    " (default)"
                } else {
                    ""
                };
                println!("{}{mark}\t{}", p.id(), p.title);
                for (spec, edition) in &p.specs {
                    println!("  {spec}: {edition}");
                }
            }
            ExitCode::SUCCESS
        }
        Command::Checks => {
            for c in ihe_harness::checks::registry() {
                let level = match c.level {
                    ihe_harness::checks::Level::Shall => "SHALL",
                    ihe_harness::checks::Level::Should => "SHOULD",
                };
                println!(
                    "{}\t{level}\t{}\t{}\t{}",
                    c.id, c.requirement, c.actor, c.title
                );
            }
            ExitCode::SUCCESS
        }
        Command::Requirements {
            uncovered,
            features,
            catalogue,
        } => ExitCode::from(ihe_harness::requirements::command(
            &FeatureSource::from_option(features),
            catalogue.as_deref(),
            uncovered,
        )),
        Command::Serve {
            bind,
            fixtures,
            wado_upstream,
            dimse_bind,
            ae_title,
            move_destinations,
            faults,
            refuse_duplicates,
            tls_cert,
            tls_key,
            tls_client_ca,
            tls_optional_client_cert,
            pack,
            xca_responding_gateways,
        } => {
            let dimse = DimseServe {
                bind: dimse_bind,
                ae_title,
                move_destinations,
                tls: tls_cert.map(|cert| ihe_harness::transport::tls::TlsSettings {
                    ca_file: tls_client_ca,
                    cert_file: Some(cert),
                    key_file: tls_key,
                    server_name: None,
                    verify_server_name: true,
                    require_client_cert: !tls_optional_client_cert,
                    ca_key_file: None,
                }),
            };
            let duplicates = if refuse_duplicates {
                Duplicates::Refuse
            } else {
                Duplicates::Replace
            };
            serve(
                bind,
                fixtures,
                wado_upstream,
                dimse,
                faults,
                duplicates,
                pack,
                xca_responding_gateways,
            )
            .await
        }
        Command::Export { dir, force } => match assets::export(&dir, force) {
            Ok(n) => {
                println!(
                    "wrote {n} files under {}; run them with --features {} --fixtures {}",
                    dir.display(),
                    dir.join(assets::FEATURES).display(),
                    dir.join(assets::FIXTURE_STUDIES).display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::Store {
            sut,
            paths,
            stow: true,
            requests,
            batch,
            ..
        } => store_stow(sut, paths, requests.into(), batch as usize).await,
        Command::Store {
            sut,
            paths,
            associations,
            ..
        } => store(sut, paths, associations.into()).await,
        Command::Retrieve {
            sut,
            study,
            dimse: true,
            move_,
            associations,
            output,
            ..
        } => retrieve_dimse(sut, study, move_, associations.into(), output).await,
        Command::Retrieve {
            sut,
            study,
            series,
            transfer_syntax,
            ..
        } => retrieve(sut, study, series, transfer_syntax).await,
        Command::Validate {
            files,
            as_type,
            context,
            strict,
            report_dir,
            serve,
        } => validate(files, as_type, context, strict, report_dir, serve).await,
        Command::Report {
            statement: _,
            report_dir,
            sut,
            verify,
        } => ExitCode::from(match verify {
            Some(dir) => ihe_harness::report::manifest::command(&dir),
            None => ihe_harness::report::statement::command(&report_dir, sut.as_deref()),
        }),
        Command::Init {
            name,
            dicomweb,
            dimse,
            called_ae,
            xds_registry,
            xds_repository,
            xds_imaging_source,
            mhd,
            probe,
            output,
            force,
        } => {
            let opts = ihe_harness::init::InitOptions {
                name,
                dicomweb,
                dimse,
                called_ae,
                xds_registry,
                xds_repository,
                xds_imaging_source,
                mhd,
                probe,
            };
            ExitCode::from(ihe_harness::init::command(&opts, output.as_deref(), force).await)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            use std::io::Write as _;
            // Into memory first: clap_complete panics on a write error, and a closed pipe
            // (`ihe-harness completions bash | head`) must not panic.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ihe-harness", &mut script);
            let _ = std::io::stdout().lock().write_all(&script);
            ExitCode::SUCCESS
        }
        Command::Load {
            merge,
            sut,
            tags,
            users,
            duration,
            shard,
            report_dir,
            sample,
            stores,
        } => {
            load(
                merge,
                sut,
                tags,
                users,
                duration,
                shard,
                report_dir,
                (sample, stores),
            )
            .await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn load(
    merge: Option<LoadCommand>,
    sut: Option<PathBuf>,
    tags: Option<String>,
    users: u64,
    duration: std::time::Duration,
    shard: Option<(u32, u32)>,
    report_dir: PathBuf,
    (sample, stores): (u64, bool),
) -> ExitCode {
    use ihe_harness::load;
    let result = match merge {
        Some(LoadCommand::Merge { files, output }) => load::merge_files(&files, output.as_deref()),
        None => {
            let Some(tags) = tags else {
                eprintln!("error: load needs --tags (the scenarios whose requests are replayed)");
                return ExitCode::from(2);
            };
            load::run(load::LoadOptions {
                sut,
                tags,
                users,
                duration,
                shard,
                report_dir,
                sample,
                stores,
            })
            .await
        }
    };
    match result {
        Ok(file) => {
            use std::io::Write as _;
            let _ = write!(std::io::stdout().lock(), "{}", load::stats::table(&file));
            let (errors, failures) = file
                .transactions
                .iter()
                .fold((0, 0), |(e, f), r| (e + r.errors, f + r.failures));
            for m in &file.failure_messages {
                println!("failure: {m}");
            }
            for m in &file.error_messages {
                println!("error: {m}");
            }
            if failures > 0 {
                ExitCode::from(1)
            } else if errors > 0 {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn validate(
    files: Vec<PathBuf>,
    as_type: Option<String>,
    context: Option<PathBuf>,
    strict: bool,
    report_dir: PathBuf,
    serve: Option<std::net::SocketAddr>,
) -> ExitCode {
    use ihe_harness::validate;
    let as_type = match as_type
        .as_deref()
        .map(|t| (t, validate::FileType::parse(t)))
    {
        None => None,
        Some((_, Some(t))) => Some(t),
        Some((t, None)) => {
            eprintln!(
                "error: unknown type {} for --as\n\n{}",
                quote(t),
                validate::types_help()
            );
            return ExitCode::from(2);
        }
    };
    let context = match context.as_deref().map(validate::Context::load).transpose() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: --context {e}");
            return ExitCode::from(2);
        }
    };
    let opts = validate::Options {
        as_type,
        context,
        strict,
    };
    if let Some(addr) = serve {
        return ExitCode::from(validate::serve::command(addr, opts).await);
    }
    ExitCode::from(validate::command(&files, &opts, &report_dir))
}

/// The DICOM SCP options of `serve`.
struct DimseServe {
    bind: Option<std::net::SocketAddr>,
    ae_title: String,
    move_destinations: Vec<String>,
    /// TLS for every endpoint of the reference.
    tls: Option<ihe_harness::transport::tls::TlsSettings>,
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    bind: std::net::SocketAddr,
    fixtures: Option<PathBuf>,
    wado_upstream: Option<String>,
    dimse: DimseServe,
    faults: Vec<String>,
    duplicates: Duplicates,
    pack: Option<String>,
    xca_responding_gateways: Option<String>,
) -> ExitCode {
    let faults = match parse_faults(&faults) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let pack = match ihe_harness::packs::Pack::resolve(pack.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The compiled-in studies, written out while the server runs, unless a folder replaces them.
    let (fixtures, _materialised) = match fixtures {
        Some(dir) => (dir, None),
        None => match assets::Materialised::fixture_studies() {
            Ok(m) => (m.dir(assets::FIXTURE_STUDIES), Some(m)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut opts = ReferenceOptions::new(fixtures)
        .with_duplicates(duplicates)
        .with_mado_code_table(pack.mado_code_table);
    opts.bind = bind;
    if let Some(up) = wado_upstream {
        opts = opts.with_wado_upstream(up);
    }
    if let Some(b) = dimse.bind {
        opts = opts
            .with_dimse_bind(b)
            .with_ae_title(dimse.ae_title.clone());
    }
    for d in &dimse.move_destinations {
        let parsed = d
            .split_once('=')
            .and_then(|(ae, addr)| addr.parse::<std::net::SocketAddr>().ok().map(|a| (ae, a)));
        match parsed {
            Some((ae, addr)) => opts = opts.with_move_destination(ae, addr),
            None => {
                eprintln!("error: --move-destination {} is not AE=host:port", quote(d));
                return ExitCode::from(2);
            }
        }
    }
    for f in faults {
        opts = opts.with_fault(f);
    }
    if let Some(base) = xca_responding_gateways {
        opts = opts.with_xca_responding_gateways(base);
    }
    if let Some(t) = &dimse.tls {
        match ihe_harness::transport::tls::ServerTls::from_settings(t) {
            Ok(tls) => opts = opts.with_tls(tls),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let server = match ReferenceServer::start(opts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // A closed stdout (a test or a pipe that stopped reading) must not bring the server down.
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "DICOMweb (WADO-RS, QIDO-RS, STOW-RS): {}",
            server.dicomweb_base()
        );
        let xds = server.xds_base();
        let _ = writeln!(out, "XDS-I.b Document Registry (ITI-18): {xds}/registry");
        let _ = writeln!(
            out,
            "XDS-I.b Document Repository (RAD-68, ITI-43): {xds}/repository"
        );
        let _ = writeln!(
            out,
            "XDS-I.b Imaging Document Source (RAD-69): {xds}/imaging-source"
        );
        let xca = server.xca_base();
        let _ = writeln!(
            out,
            "XCA Responding Gateway (ITI-38, ITI-39) of community {}: {xca}/responding-gateway/query, {xca}/responding-gateway/retrieve",
            ihe_harness::config::xca::DEFAULT_HOME_COMMUNITY_ID
        );
        let _ = writeln!(
            out,
            "XCA-I Responding Imaging Gateway (RAD-75) of community {}: {}/responding-imaging-gateway",
            ihe_harness::config::xca::DEFAULT_HOME_COMMUNITY_ID,
            server.xcai_base()
        );
        let _ = writeln!(
            out,
            "XCA Initiating Gateway (ITI-18, ITI-43): {xca}/initiating-gateway/query, {xca}/initiating-gateway/retrieve"
        );
        let _ = writeln!(
            out,
            "XCA-I Initiating Imaging Gateway (RAD-69): {}/initiating-imaging-gateway",
            server.xcai_base()
        );
        let _ = writeln!(
            out,
            "XC-WADO Responding Imaging Gateway (RAD-160) of community {}: {}/homeCommunityId/{}/RetrieveLocationUID/{}/studies/...",
            ihe_harness::config::xca::DEFAULT_HOME_COMMUNITY_ID,
            server.xc_wado_base(),
            ihe_harness::config::xca::DEFAULT_HOME_COMMUNITY_ID
                .trim_start_matches("urn:oid:"),
            ihe_harness::config::xc_wado::DEFAULT_RETRIEVE_LOCATION_UID
        );
        let _ = writeln!(
            out,
            "MHD Document Recipient/Responder (ITI-65, ITI-66, ITI-67, ITI-68): {}",
            server.fhir_base()
        );
        if let Some(a) = server.dimse_addr() {
            let _ = writeln!(
                out,
                "DICOM SCP (Verification, Storage, Q/R FIND/MOVE/GET): {} at {a}",
                dimse.ae_title
            );
        }
        let _ = writeln!(out, "press Ctrl-C to stop");
        let _ = out.flush();
    }
    // Judge every message a SUT sends to the simulated XDS and MHD actors, as it arrives.
    let inbox = server.inbox();
    let watcher = tokio::spawn(async move {
        let mut next = 0;
        loop {
            while let Some(ex) = inbox.get(next) {
                next += 1;
                report_inbound(&ex);
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    });
    let _ = tokio::signal::ctrl_c().await;
    watcher.abort();
    server.shutdown().await;
    ExitCode::SUCCESS
}

/// Print an inbound exchange and the verdicts of the XDS or MHD checks on it.
fn report_inbound(ex: &ihe_harness::evidence::Exchange) {
    use std::io::Write as _;
    let verdict = ihe_harness::serve::judge_inbound(ex);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} {} {} ({} bytes): {} checks passed, {} failed",
        ex.started_at,
        ex.transaction,
        ex.operation,
        ex.request.body.size,
        verdict.passed,
        verdict.failed.len()
    );
    for f in &verdict.failed {
        let _ = writeln!(out, "  FAIL {}", f.message());
    }
    let _ = out.flush();
}

async fn store(sut: PathBuf, paths: Vec<PathBuf>, associations: usize) -> ExitCode {
    use ihe_harness::actors::dimse_scu::{self, StoreOutcome};
    let (_, d) = match profile_table(&sut, "dimse", |c| c.dimse.as_ref()) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let files = dimse_scu::dicom_files(&paths);
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        eprintln!("error: no DICOM file in {}", shown.join(", "));
        return ExitCode::from(2);
    }
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let t0 = std::time::Instant::now();
    let sent: Vec<dimse_scu::StoreFile> = files.iter().cloned().map(Into::into).collect();
    let runs = dimse_scu::DimseScu::from_config(&d)
        .store_parallel(&sent, associations)
        .await;
    let secs = t0.elapsed().as_secs_f64();
    // Every file judged by its own C-STORE-RSP; a failed association names its files.
    let mut statuses = Vec::new();
    let (mut failed_files, mut failures) = (0usize, Vec::new());
    for (share, ex) in &runs {
        let mine: Vec<PathBuf> = share.iter().map(|&i| files[i].clone()).collect();
        for (f, outcome) in mine.iter().zip(dimse_scu::store_outcomes(ex, &mine)) {
            match outcome {
                StoreOutcome::Status(0) => statuses.push(0),
                StoreOutcome::Status(st) => {
                    statuses.push(st);
                    println!("  {}: status {st:04X}", f.display());
                }
                StoreOutcome::NotSent => {
                    println!(
                        "  {}: not sent (its transfer syntax was not accepted)",
                        f.display()
                    );
                }
                StoreOutcome::NoResponse => {
                    failed_files += 1;
                    let why = ex
                        .failure
                        .as_ref()
                        .map(|f| format!("{}: {}", f.kind, f.message))
                        .or_else(|| ex.dimse.as_deref().map(|r| r.ended.clone()))
                        .unwrap_or_default();
                    println!("  {}: no C-STORE-RSP ({why})", f.display());
                }
            }
        }
        if let Some(f) = &ex.failure {
            failures.push(format!("{}: {}", f.kind, f.message));
        }
    }
    // 0000 when all are 0000, else the first failure, else the first warning.
    let category = |c: &str| {
        statuses
            .iter()
            .copied()
            .find(|s| ihe_harness::dimse::command::status::category(*s) == c)
    };
    let status = if statuses.is_empty() {
        None
    } else {
        category("failure")
            .or_else(|| category("cancel"))
            .or_else(|| category("warning"))
            .or(Some(0))
    };
    println!(
        "{} files, {bytes} bytes in {secs:.3} s ({:.1} MB/s) over {} associations, final status {}{}",
        files.len(),
        bytes as f64 / 1e6 / secs.max(1e-9),
        runs.len(),
        status
            .map(|s| format!("{s:04X}"))
            .unwrap_or_else(|| "none".into()),
        if failures.is_empty() {
            String::new()
        } else {
            format!(" ({})", failures.join("; "))
        }
    );
    match (failures.is_empty() && failed_files == 0, status) {
        (false, _) | (true, None) => ExitCode::from(2),
        (true, Some(0)) => ExitCode::SUCCESS,
        (true, Some(_)) => ExitCode::from(1),
    }
}

async fn store_stow(sut: PathBuf, paths: Vec<PathBuf>, requests: usize, batch: usize) -> ExitCode {
    let (config, endpoint) = match profile_table(&sut, "dicomweb", |c| c.dicomweb.as_ref()) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let client = match DicomwebClient::new(&endpoint, &config.limits) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let files = ihe_harness::actors::dimse_scu::dicom_files(&paths);
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        eprintln!("error: no DICOM file in {}", shown.join(", "));
        return ExitCode::from(2);
    }
    let run = match ihe_harness::transfer::stow(&client, &files, batch, requests).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let verdict = ihe_harness::transfer::judge_stow(&run);
    for line in &verdict.lines {
        println!("{line}");
    }
    let bytes: u64 = run
        .requests
        .iter()
        .map(|r| r.exchange.request.body.size)
        .sum();
    let secs = run.elapsed.as_secs_f64();
    let c = |k: &str| verdict.counts.get(k).copied().unwrap_or(0);
    println!(
        "{} files, {bytes} bytes in {secs:.3} s ({:.1} MB/s) in {} STOW-RS requests ({batch} instances each, {} at once): {} stored, {} stored with a warning, {} failed, {} refused, {} not accounted for, {} unanswered; {} check(s) failed",
        files.len(),
        bytes as f64 / 1e6 / secs.max(1e-9),
        run.requests.len(),
        run.concurrency,
        c("stored"),
        c("warned"),
        c("failed"),
        c("refused"),
        c("unlisted"),
        c("unanswered"),
        verdict.failed_checks
    );
    ExitCode::from(verdict.exit_code())
}

async fn retrieve_dimse(
    sut: PathBuf,
    study: String,
    move_: bool,
    associations: usize,
    output: Option<PathBuf>,
) -> ExitCode {
    use ihe_harness::actors::{dimse_scu::DimseScu, move_receiver::MoveReceiver};
    use ihe_harness::transfer::{self, RetrieveMode};
    let (config, d) = match profile_table(&sut, "dimse", |c| c.dimse.as_ref()) {
        Ok(x) => x,
        Err(code) => return code,
    };
    // The instances go to --output, or to a temporary folder removed at the end.
    let (_temp, dir) = match output {
        Some(dir) => match std::fs::create_dir_all(&dir) {
            Ok(()) => (None, dir),
            Err(e) => {
                eprintln!("error: cannot make {}: {e}", dir.display());
                return ExitCode::from(2);
            }
        },
        None => match tempfile::Builder::new()
            .prefix("ihe-harness-retrieve-")
            .tempdir()
        {
            Ok(t) => {
                let dir = t.path().to_path_buf();
                (Some(t), dir)
            }
            Err(e) => {
                eprintln!("error: no temporary folder: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let scu = DimseScu::from_config(&d);
    let receiver = if move_ {
        let Some(bind) = config.simulator.dimse_bind else {
            eprintln!(
                "error: --move needs the harness's Storage SCP: set [simulator] dimse_bind (and ae_title) in {}, where the SUT sends [dimse] move_destination {}",
                sut.display(),
                scu.move_destination
            );
            return ExitCode::from(2);
        };
        match MoveReceiver::start(bind, &config.simulator.ae_title, &dir, d.read_timeout).await {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("error: cannot listen on {bind}: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        None
    };
    let mode = match &receiver {
        Some(r) => RetrieveMode::Move(r),
        None => RetrieveMode::Get,
    };
    let run = transfer::retrieve_study(&scu, &study, mode, associations, &dir).await;
    let verdict = transfer::judge_retrieve(&run);
    for line in &verdict.lines {
        println!("{line}");
    }
    let secs = run.elapsed.as_secs_f64();
    println!(
        "{} of {} instances, {} bytes in {secs:.3} s ({:.1} MB/s): {} series by {} over up to {} associations at once{}",
        verdict.received,
        verdict.expected,
        verdict.bytes,
        verdict.bytes as f64 / 1e6 / secs.max(1e-9),
        run.series.len(),
        if move_ { "C-MOVE" } else { "C-GET" },
        run.associations,
        if verdict.duplicates > 0 {
            format!(", {} received more than once", verdict.duplicates)
        } else {
            String::new()
        }
    );
    ExitCode::from(verdict.exit)
}

/// The SUT profile of a command, or exit code 2 with the reason on stderr.
fn profile(sut: &std::path::Path) -> Result<Config, ExitCode> {
    Config::load(sut).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

/// The SUT profile `sut` with its `[table]` (`pick`); a profile that does not load or lacks the
/// table is said on stderr and exit code 2.
fn profile_table<T: Clone>(
    sut: &std::path::Path,
    table: &str,
    pick: impl FnOnce(&Config) -> Option<&T>,
) -> Result<(Config, T), ExitCode> {
    let config = profile(sut)?;
    match pick(&config).cloned() {
        Some(t) => Ok((config, t)),
        None => {
            eprintln!("error: {} has no [{table}] table", sut.display());
            Err(ExitCode::from(2))
        }
    }
}

async fn retrieve(
    sut: PathBuf,
    study: String,
    series: Option<String>,
    transfer_syntax: Option<String>,
) -> ExitCode {
    let (config, endpoint) = match profile_table(&sut, "dicomweb", |c| c.dicomweb.as_ref()) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let client = match DicomwebClient::new(&endpoint, &config.limits) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let target = Target {
        study,
        series,
        instance: None,
    };
    let accept = wado_rs::accept_dicom(transfer_syntax.as_deref());
    let ex = wado_rs::retrieve(
        &client,
        &target,
        &wado_rs::Resource::Instances,
        Some(&accept),
    )
    .await;
    let parts = ex.multipart.as_ref().map(|m| m.parts.len()).unwrap_or(0);
    let dicom = ex
        .multipart
        .as_ref()
        .map(|m| m.parts.iter().filter(|p| p.dicom.is_some()).count())
        .unwrap_or(0);
    let bytes = ex.response.as_ref().map(|r| r.body.size).unwrap_or(0);
    let secs = ex.elapsed.as_secs_f64();
    println!(
        "status {} parts {parts} dicom {dicom} bytes {bytes} seconds {secs:.3} MB/s {:.1}",
        ex.status()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into()),
        if secs > 0.0 {
            bytes as f64 / 1e6 / secs
        } else {
            0.0
        }
    );
    if let Some(f) = &ex.failure {
        eprintln!("error: {}", f.message);
        return ExitCode::from(2);
    }
    let mp_error = ex.multipart.as_ref().and_then(|m| m.error.clone());
    if let Some(e) = mp_error {
        eprintln!("multipart: {e}");
        return ExitCode::from(1);
    }
    if ex.status() != Some(200) {
        return ExitCode::from(1);
    }
    let findings = ihe_harness::checks::dicomweb::judge_retrieve(
        &ex,
        &target,
        transfer_syntax.as_deref(),
        false,
    );
    // 1 for a Fail, 2 for an Error of the harness only when nothing failed.
    let mut code = 0u8;
    for f in &findings {
        match f.outcome {
            Outcome::Fail if !f.advisory => {
                eprintln!("FAIL {}", f.message());
                code = 1;
            }
            Outcome::Error => {
                eprintln!("ERROR {}", f.message());
                if code == 0 {
                    code = 2;
                }
            }
            Outcome::Fail => eprintln!("warning {}", f.message()),
            _ => {}
        }
    }
    let passed = findings
        .iter()
        .filter(|f| f.outcome == Outcome::Pass)
        .count();
    println!("checks {passed} of {} pass", findings.len());
    ExitCode::from(code)
}
