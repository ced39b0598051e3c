//! `extip-lint server`: a Language Server Protocol server over standard input and output
//! (`lsp-server` for the connection, `lsp-types` for the messages).
//!
//! It lints the workspace folder as the CLI would, with the editor's unsaved buffers in place
//! of the files on disk, after every change (keystrokes queued meanwhile are taken together),
//! and publishes diagnostics for every file with findings, open or not, clearing them when
//! they go away; renderers run only at the start and on save. Hover and code actions answer
//! from the last run, once it is current. The server never writes a file (code actions are
//! edits the editor applies) and never stops on a panic: the panic is caught, shown, and the
//! server goes on.

mod actions;
mod diagnostics;
mod hover;
pub mod text;
mod workspace;

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability, Diagnostic,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, HoverParams, HoverProviderCapability, InitializeParams, MessageType,
    PositionEncodingKind, PublishDiagnosticsParams, SaveOptions, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Uri, notification, request,
};

use text::Units;
use workspace::{Document, Trigger, Workspace};

use crate::error::Error;

/// Serves on standard input and output until the client says `exit` (or closes the stream).
pub fn run() -> Result<(), Error> {
    let (connection, threads) = Connection::stdio();
    let served = serve(&connection);
    drop(connection);
    let joined = threads.join();
    served.map_err(|e| Error::Usage(format!("server: {e}")))?;
    joined.map_err(|cause| Error::Io {
        path: "<stdin>".into(),
        cause,
    })
}

/// Serves on `connection`: the handshake, then every message until `exit`.
pub fn serve(connection: &Connection) -> Result<(), String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: InitializeParams = serde_json::from_value(params).map_err(|e| e.to_string())?;
    let units = if params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .is_some_and(|e| e.contains(&PositionEncodingKind::UTF8))
    {
        Units::Utf8
    } else {
        Units::Utf16
    };
    let root = root_of(&params);
    // Reports name files relative to the working folder, as a run from the folder does.
    let _ = std::env::set_current_dir(&root);
    let result = serde_json::json!({
        "capabilities": capabilities(units),
        "serverInfo": ServerInfo {
            name: "extip-lint".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        },
    });
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let mut server = Server {
        connection,
        ws: Workspace::new(root),
        units,
        published: BTreeMap::new(),
        touched: BTreeSet::new(),
        pending: Some(Trigger::Start),
        logged: Vec::new(),
    };
    if params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|w| w.dynamic_registration)
        == Some(true)
    {
        server.watch_files();
    }
    server.flush();
    server.serve()
}

fn capabilities(units: Units) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match units {
            Units::Utf8 => PositionEncodingKind::UTF8,
            Units::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::from(actions::FIX_ALL),
            ]),
            ..CodeActionOptions::default()
        })),
        ..ServerCapabilities::default()
    }
}

/// The folder to lint: the first workspace folder, else the root the client names, else the
/// working folder.
fn root_of(params: &InitializeParams) -> PathBuf {
    #[allow(deprecated)]
    let named = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| &f.uri)
        .or(params.root_uri.as_ref())
        .and_then(text::path_of);
    let root = named
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::canonicalize(&root).unwrap_or(root)
}

struct Server<'a> {
    connection: &'a Connection,
    ws: Workspace,
    units: Units,
    /// What each file's diagnostics were when last published, with the URI they went to.
    published: BTreeMap<PathBuf, (Uri, Vec<Diagnostic>)>,
    /// Open documents changed since the last publication: published again, with their version.
    touched: BTreeSet<PathBuf>,
    /// A run is due, and what started it.
    pending: Option<Trigger>,
    /// The run errors last logged, so each is logged once.
    logged: Vec<String>,
}

impl Server<'_> {
    fn serve(&mut self) -> Result<(), String> {
        loop {
            let Ok(msg) = self.connection.receiver.recv() else {
                return Ok(());
            };
            if self.handle(msg)? {
                return Ok(());
            }
            // Everything already queued (a burst of keystrokes) before the next run.
            while let Ok(msg) = self.connection.receiver.try_recv() {
                if self.handle(msg)? {
                    return Ok(());
                }
            }
            self.flush();
        }
    }

    /// Handles one message; `true` when the server is to stop.
    fn handle(&mut self, msg: Message) -> Result<bool, String> {
        match msg {
            Message::Request(req) => {
                if self
                    .connection
                    .handle_shutdown(&req)
                    .map_err(|e| e.to_string())?
                {
                    return Ok(true);
                }
                let id = req.id.clone();
                let method = req.method.clone();
                let answer = catch_unwind(AssertUnwindSafe(|| self.request(req)));
                let response = answer.unwrap_or_else(|panic| {
                    self.panicked(&method, &*panic);
                    Response::new_err(
                        id,
                        ErrorCode::InternalError as i32,
                        format!("extip-lint could not answer {method}"),
                    )
                });
                self.send(response.into());
            }
            Message::Notification(n) => {
                if n.method == notification::Exit::METHOD {
                    return Ok(true);
                }
                let method = n.method.clone();
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| self.notification(n))) {
                    self.panicked(&method, &*panic);
                }
            }
            // The only requests sent are registrations, whose answers change nothing.
            Message::Response(_) => {}
        }
        Ok(false)
    }

    fn send(&self, msg: Message) {
        let _ = self.connection.sender.send(msg);
    }

    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        self.send(Notification::new(N::METHOD.to_string(), params).into());
    }

    fn log(&self, typ: MessageType, message: String) {
        self.notify::<notification::LogMessage>(lsp_types::LogMessageParams { typ, message });
    }

    /// A panic, shown to the user; the server goes on.
    fn panicked(&self, what: &str, panic: &(dyn std::any::Any + Send)) {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        self.notify::<notification::ShowMessage>(lsp_types::ShowMessageParams {
            typ: MessageType::ERROR,
            message: format!(
                "extip-lint: internal error in {what}: {why}. The server goes on; please report it."
            ),
        });
    }

    /// Asks the client to tell about manifests changed on disk (by git, another program).
    fn watch_files(&self) {
        let options = lsp_types::DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![lsp_types::FileSystemWatcher {
                glob_pattern: lsp_types::GlobPattern::String("**/*.{yaml,yml,json}".into()),
                kind: None,
            }],
        };
        let params = lsp_types::RegistrationParams {
            registrations: vec![lsp_types::Registration {
                id: "extip-lint-watch".into(),
                method: notification::DidChangeWatchedFiles::METHOD.into(),
                register_options: serde_json::to_value(options).ok(),
            }],
        };
        self.send(
            Request::new(
                RequestId::from("extip-lint-watch".to_string()),
                request::RegisterCapability::METHOD.into(),
                params,
            )
            .into(),
        );
    }

    fn due(&mut self, trigger: Trigger) {
        self.pending = Some(match (self.pending, trigger) {
            (Some(Trigger::Start | Trigger::Save), _) | (_, Trigger::Save) => Trigger::Save,
            _ => trigger,
        });
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            notification::DidOpenTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else {
                    return;
                };
                let Some(path) = place(&p.text_document.uri) else {
                    return;
                };
                self.ws.open(
                    path.clone(),
                    Document {
                        uri: p.text_document.uri,
                        version: p.text_document.version,
                        text: p.text_document.text,
                    },
                );
                self.touched.insert(path);
                self.due(Trigger::Edit);
            }
            notification::DidChangeTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else {
                    return;
                };
                let Some(path) = place(&p.text_document.uri) else {
                    return;
                };
                let Some(doc) = self.ws.doc(&path) else {
                    return;
                };
                let mut text = doc.text.clone();
                for change in p.content_changes {
                    match change.range {
                        Some(r) => {
                            let starts = text::line_starts(&text);
                            let from = text::offset(&text, &starts, r.start, self.units);
                            let to = text::offset(&text, &starts, r.end, self.units).max(from);
                            text.replace_range(from..to, &change.text);
                        }
                        None => text = change.text,
                    }
                }
                self.ws.update(&path, p.text_document.version, text);
                self.touched.insert(path);
                self.due(Trigger::Edit);
            }
            notification::DidSaveTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidSaveTextDocumentParams>(n.params)
                    && let Some(path) = place(&p.text_document.uri)
                {
                    self.touched.insert(path);
                }
                self.due(Trigger::Save);
            }
            notification::DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params)
                    && let Some(path) = place(&p.text_document.uri)
                {
                    self.ws.close(&path);
                    // What was published with the document's URI goes to the file's.
                    if let Some((uri, _)) = self.published.remove(&path) {
                        self.clear(uri);
                    }
                }
                self.due(Trigger::Edit);
            }
            notification::DidChangeWatchedFiles::METHOD => self.due(Trigger::Edit),
            _ => {}
        }
    }

    fn request(&mut self, req: Request) -> Response {
        // Answers are about the text the editor has now.
        self.flush();
        let id = req.id.clone();
        match req.method.as_str() {
            request::HoverRequest::METHOD => {
                let Ok(p) = serde_json::from_value::<HoverParams>(req.params) else {
                    return invalid(id);
                };
                let doc = &p.text_document_position_params;
                let answer = self.current(&doc.text_document.uri).and_then(|file| {
                    hover::hover(self.ws.last.as_ref()?, file, doc.position, self.units)
                });
                Response::new_ok(id, answer)
            }
            request::CodeActionRequest::METHOD => {
                let Ok(p) = serde_json::from_value::<CodeActionParams>(req.params) else {
                    return invalid(id);
                };
                let uri = &p.text_document.uri;
                let answer = match (self.current(uri), &self.ws.last) {
                    (Some(file), Some(linted)) => actions::actions(
                        linted,
                        file,
                        uri,
                        p.range,
                        p.context.only.as_deref(),
                        self.units,
                        &|path| self.uri_of(path),
                    ),
                    _ => Vec::new(),
                };
                Response::new_ok(id, answer)
            }
            _ => Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("extip-lint does not answer {}", req.method),
            ),
        }
    }

    /// The id in the last run of the file `uri` names, when the run read the text the editor
    /// has (a config error leaves an older run, which may not have).
    fn current(&self, uri: &Uri) -> Option<crate::source::FileId> {
        let path = place(uri)?;
        let linted = self.ws.last.as_ref()?;
        let file = linted
            .report
            .files
            .iter()
            .find(|f| f.path.as_deref() == Some(path.as_path()) && !f.virtual_file)?;
        let current = match self.ws.doc(&path) {
            Some(doc) => *file.text == *doc.text,
            None => true,
        };
        current.then_some(file.id)
    }

    /// The URI diagnostics of `path` go to: the open document's, else the file's.
    fn uri_of(&self, path: &Path) -> Option<Uri> {
        self.ws
            .doc(path)
            .map(|d| d.uri.clone())
            .or_else(|| text::uri_of(path))
    }

    /// Runs when a run is due, then publishes what changed.
    fn flush(&mut self) {
        let Some(trigger) = self.pending.take() else {
            return;
        };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| self.ws.lint(trigger))) {
            self.panicked("the lint", &*panic);
            return;
        }
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| self.publish())) {
            self.panicked("publishing the diagnostics", &*panic);
        }
    }

    /// Publishes the diagnostics of every file whose diagnostics changed (cleared where they
    /// went away), then those of the documents changed since the last time.
    fn publish(&mut self) {
        let mut now = match &self.ws.last {
            Some(l) => diagnostics::of_report(&l.report, self.units, &|p| self.uri_of(p)),
            None => diagnostics::ByFile::new(),
        };
        diagnostics::add_config(&mut now, &self.ws.config, self.units);
        if let Some(l) = &self.ws.last {
            let errors: Vec<String> = l.report.errors.iter().map(ToString::to_string).collect();
            if errors != self.logged {
                for e in &errors {
                    self.log(MessageType::WARNING, format!("extip-lint: {e}"));
                }
                self.logged = errors;
            }
        }
        let gone: Vec<PathBuf> = self
            .published
            .keys()
            .filter(|p| !now.contains_key(*p))
            .cloned()
            .collect();
        let mut touched = std::mem::take(&mut self.touched);
        let mut sends: Vec<(PathBuf, Vec<Diagnostic>)> = Vec::new();
        for path in gone {
            if let Some((uri, _)) = self.published.remove(&path) {
                self.clear(uri);
            }
        }
        for (path, list) in now {
            let same = self.published.get(&path).is_some_and(|(_, l)| *l == list);
            if same && !touched.contains(&path) {
                continue;
            }
            if self.ws.doc(&path).is_some() {
                // Open documents last: when theirs arrive, the run's publication is complete.
                touched.insert(path.clone());
                sends.push((path, list));
                continue;
            }
            self.publish_one(&path, list, None);
        }
        let mut held: BTreeMap<PathBuf, Vec<Diagnostic>> = sends.into_iter().collect();
        for path in touched {
            let Some(doc) = self.ws.doc(&path) else {
                continue;
            };
            let version = Some(doc.version);
            let list = held
                .remove(&path)
                .or_else(|| self.published.get(&path).map(|(_, l)| l.clone()))
                .unwrap_or_default();
            self.publish_one(&path, list, version);
        }
    }

    fn clear(&self, uri: Uri) {
        self.notify::<notification::PublishDiagnostics>(PublishDiagnosticsParams {
            uri,
            diagnostics: Vec::new(),
            version: None,
        });
    }

    fn publish_one(&mut self, path: &Path, diagnostics: Vec<Diagnostic>, version: Option<i32>) {
        let Some(uri) = self.uri_of(path) else {
            return;
        };
        self.notify::<notification::PublishDiagnostics>(PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics: diagnostics.clone(),
            version,
        });
        if diagnostics.is_empty() {
            self.published.remove(path);
        } else {
            self.published
                .insert(path.to_path_buf(), (uri, diagnostics));
        }
    }
}

/// The place of a document in the workspace, for a `file://` URI.
fn place(uri: &Uri) -> Option<PathBuf> {
    text::path_of(uri).map(|p| workspace::place(&p))
}

fn invalid(id: RequestId) -> Response {
    Response::new_err(
        id,
        ErrorCode::InvalidParams as i32,
        "invalid parameters".into(),
    )
}
