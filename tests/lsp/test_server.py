"""`extip-lint server` driven by a real LSP client (pytest-lsp, with VS Code's capabilities) over
standard input and output. Run by tests/server.rs, which copies testdata/server/workspace to a
temporary folder (EXTIP_LINT_WORKSPACE) and gives the command README's editor set-up uses
(EXTIP_LINT_SERVER_COMMAND, a JSON list), with the binary under test first on PATH.

One server for the whole file: the tests run in order, and each leaves the workspace's buffers
as it found them."""

import asyncio
import json
import os
import pathlib

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = pathlib.Path(os.environ["EXTIP_LINT_WORKSPACE"]).resolve()
COMMAND = json.loads(os.environ["EXTIP_LINT_SERVER_COMMAND"])
TIMEOUT = 60


def uri(rel):
    return (ROOT / rel).as_uri()


WEB, API, POLICY, CONFIG = (
    uri("apps/web.yaml"),
    uri("apps/api.yaml"),
    uri("policies/shop.yaml"),
    uri(".extip-lint.yaml"),
)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=COMMAND),
    scope="module",
)
async def client(lsp_client: LanguageClient):
    # VS Code registers file watchers when a server asks (its capabilities say it does).
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams):
        registrations.extend(params.registrations)

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=uri(""),
            workspace_folders=[types.WorkspaceFolder(uri=uri(""), name="workspace")],
        )
    )
    yield
    await lsp_client.shutdown_session()


def codes(client, u):
    return sorted(d.code for d in client.diagnostics.get(u, []))


async def until(client, holds, what):
    """Waits for diagnostics until `holds()`; fails after TIMEOUT seconds (a hang, not speed)."""

    async def wait():
        while not holds():
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    try:
        await asyncio.wait_for(wait(), TIMEOUT)
    except asyncio.TimeoutError:
        pytest.fail(f"{what}: diagnostics now {client.diagnostics}")


versions = {}
registrations = []


def open_doc(client, rel):
    u = uri(rel)
    text = (ROOT / rel).read_text()
    versions[u] = 1
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=u, language_id="yaml", version=1, text=text
            )
        )
    )
    return text


def change(client, u, start, end, new_text):
    """One incremental change: (line, character) to (line, character)."""
    versions[u] += 1
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=u, version=versions[u]
            ),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(*start), end=types.Position(*end)
                    ),
                    text=new_text,
                )
            ],
        )
    )


def close_doc(client, u):
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=u)
        )
    )


def where(text, needle, nth=0):
    """(line, character) of the nth occurrence of `needle` in `text` (ASCII)."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at)
    return line, at - (text.rfind("\n", 0, at) + 1)


def apply(text, edits):
    """The text with LSP edits made (ASCII text: characters are code units)."""
    lines = text.split("\n")
    offsets = [sum(len(l) + 1 for l in lines[:i]) for i in range(len(lines))]

    def off(p):
        return offsets[p.line] + p.character

    for e in sorted(edits, key=lambda e: off(e.range.start), reverse=True):
        text = text[: off(e.range.start)] + e.new_text + text[off(e.range.end) :]
    return text


@pytest.mark.asyncio(loop_scope="module")
async def test_files_not_open_get_diagnostics_with_code_links_and_tags(client):
    await until(
        client,
        lambda: codes(client, WEB) == ["EXT007"]
        and codes(client, API) == ["EXT008", "EXT013"],
        "diagnostics of the files on disk after the first run",
    )
    (ext007,) = client.diagnostics[WEB]
    assert ext007.source == "extip-lint"
    assert ext007.severity == types.DiagnosticSeverity.Warning
    assert ext007.code_description.href.endswith("rules/EXT007-deprecated-external-ips.md")
    assert list(ext007.tags) == [types.DiagnosticTag.Deprecated]
    assert "deprecated since Kubernetes 1.36" in ext007.message
    by_code = {d.code: d for d in client.diagnostics[API]}
    assert list(by_code["EXT013"].tags) == [types.DiagnosticTag.Deprecated]
    assert by_code["EXT008"].tags is None
    # Manifests changed on disk (by git, another program) are watched for.
    (watch,) = registrations
    assert watch.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES


@pytest.mark.asyncio(loop_scope="module")
async def test_a_policy_edit_shows_the_service_it_exposes_in_another_file(client):
    text = open_doc(client, "policies/shop.yaml")
    line, col = where(text, "app: web")
    start, end = (line, col + len("app: ")), (line, col + len("app: web"))
    change(client, POLICY, start, end, "webshop")
    await until(
        client,
        lambda: "EXT003" in codes(client, WEB),
        "EXT003 on apps/web.yaml (not open) after the policy stopped selecting its pods",
    )
    ext003 = next(d for d in client.diagnostics[WEB] if d.code == "EXT003")
    assert "which no NetworkPolicy isolates" in ext003.message
    assert ext003.related_information, "the pods not isolated, as a related place"
    assert ext003.related_information[0].location.uri == WEB
    assert ext003.range.start.line == 6
    # Back as it was: the finding goes away.
    change(client, POLICY, start, (line, col + len("app: webshop")), "web")
    await until(
        client,
        lambda: codes(client, WEB) == ["EXT007"],
        "EXT003 cleared after the policy selects the pods again",
    )
    close_doc(client, POLICY)


@pytest.mark.asyncio(loop_scope="module")
async def test_code_actions_are_the_planned_fixes_and_a_suppression(client):
    text = open_doc(client, "apps/api.yaml")
    await until(client, lambda: API in client.diagnostics, "api.yaml published")
    ext008 = next(d for d in client.diagnostics[API] if d.code == "EXT008")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=API),
            range=ext008.range,
            context=types.CodeActionContext(diagnostics=[ext008]),
        )
    )
    titles = [a.title for a in actions]
    fix = next(a for a in actions if a.title.startswith("EXT008: "))
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred, titles
    (edit,) = fix.edit.changes[API]
    assert edit.new_text == "2001:db8::20"
    assert 'loadBalancerIPs: "2001:db8::20"' in apply(text, [edit])
    suppress = next(a for a in actions if a.title == "EXT008: suppress here, with a reason")
    (insert,) = suppress.edit.changes[API]
    line, _ = where(text, "metallb.universe.tf")
    assert insert.range.start == types.Position(line, 0) == insert.range.end
    assert insert.new_text == "    # extip-lint: ignore EXT008 -- <why this is accepted>\n"
    # The suppression, made in the buffer, suppresses.
    change(client, API, (line, 0), (line, 0), insert.new_text)
    await until(
        client,
        lambda: codes(client, API) == ["EXT013"],
        "EXT008 suppressed by the comment the action inserted",
    )
    change(client, API, (line, 0), (line + 1, 0), "")
    await until(client, lambda: "EXT008" in codes(client, API), "EXT008 back")

    # source.fixAll: every safe fix of the file that can be made together (as `--fix`: the
    # key's rename and the value's standard form touch one entry, so it takes two rounds).
    fixed = text
    for left in (["EXT008"], []):
        (fix_all,) = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=API),
                range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
                context=types.CodeActionContext(
                    diagnostics=[], only=[types.CodeActionKind.SourceFixAll]
                ),
            )
        )
        assert fix_all.kind == "source.fixAll.extip-lint"
        fixed = apply(fixed, fix_all.edit.changes[API])
        versions[API] += 1
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=API, version=versions[API]
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
            )
        )
        await until(client, lambda: codes(client, API) == left, f"{left} left after fix-all")
    assert 'metallb.io/loadBalancerIPs: "2001:db8::20"' in fixed, fixed
    assert (ROOT / "apps/api.yaml").read_text() == text, "the server wrote a file"
    close_doc(client, API)
    await until(client, lambda: "EXT008" in codes(client, API), "the file on disk again")

    # An unsafe fix says so.
    web = (ROOT / "apps/web.yaml").read_text()
    (ext007,) = client.diagnostics[WEB]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=WEB),
            range=ext007.range,
            context=types.CodeActionContext(diagnostics=[ext007]),
        )
    )
    migration = next(a for a in actions if a.title.startswith("EXT007: ") and "suppress" not in a.title)
    assert "unsafe: changes what the cluster does" in migration.title
    assert not migration.is_preferred
    migrated = apply(web, migration.edit.changes[WEB])
    assert "metallb.io/loadBalancerIPs" in migrated and "externalIPs" not in migrated, migrated


@pytest.mark.asyncio(loop_scope="module")
async def test_hover_explains_a_finding_and_lists_an_address(client):
    text = (ROOT / "apps/web.yaml").read_text()
    line, col = where(text, "192.0.2.10")
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=WEB),
            position=types.Position(line, col + 2),
        )
    )
    value = hover.contents.value
    assert "**`192.0.2.10`**: claimed 1 time" in value, value
    for cell in [
        "Service shop/web",
        "spec.externalIPs",
        "80/TCP",
        "192.0.2.0/24",
        "MetalLB: type LoadBalancer, metallb.io/loadBalancerIPs",
        "restricted by NetworkPolicy shop/web",
        "apps/web.yaml:12",
    ]:
        assert cell in value, (cell, value)

    line, col = where(text, "externalIPs:")
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=WEB),
            position=types.Position(line, col + 1),
        )
    )
    value = hover.contents.value
    assert value.startswith("**EXT007** `deprecated-external-ips` (warning)"), value
    # The rule's documentation, as `--explain EXT007` prints it.
    explain = os.environ["EXTIP_LINT_EXPLAIN_EXT007"]
    assert explain.strip() in value


@pytest.mark.asyncio(loop_scope="module")
async def test_config_errors_are_diagnostics_in_the_config_file(client):
    text = open_doc(client, ".extip-lint.yaml")
    line, col = where(text, "192.0.2.0/24")
    start, end = (line, col + len("192.0.2.0/")), (line, col + len("192.0.2.0/24"))
    change(client, CONFIG, start, end, "33")
    await until(client, lambda: CONFIG in client.diagnostics and client.diagnostics[CONFIG], "config error")
    (problem,) = client.diagnostics[CONFIG]
    assert problem.severity == types.DiagnosticSeverity.Error
    assert problem.range.start.line == line, problem
    assert "192.0.2.0/33" in problem.message, problem.message
    # The allowlist changes what is reported: without 2001:db8::/32, the api's address is not
    # allowed (EXT002), once the config reads again.
    change(client, CONFIG, start, (line, col + len("192.0.2.0/33")), "24")
    await until(client, lambda: not client.diagnostics.get(CONFIG), "config error cleared")
    v6_line, _ = where(text, '"2001:db8::/32"')
    change(client, CONFIG, (v6_line, 0), (v6_line + 1, 0), "")
    await until(client, lambda: "EXT002" in codes(client, API), "EXT002 with the narrower allowlist")
    change(client, CONFIG, (v6_line, 0), (v6_line, 0), text.split("\n")[v6_line] + "\n")
    await until(client, lambda: "EXT002" not in codes(client, API), "allowlist as it was")
    close_doc(client, CONFIG)


@pytest.mark.asyncio(loop_scope="module")
async def test_no_internal_error_was_shown(client):
    errors = [m for m in client.messages if m.type == types.MessageType.Error]
    assert errors == []
