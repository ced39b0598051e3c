// Starts `extip-lint server` (a language server over standard input and output) for the YAML
// and JSON files of the workspace. Everything else is the server's: it lints the whole
// workspace, publishes diagnostics for every file with findings, and answers hover and code
// actions.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("extip-lint").get("path", "extip-lint");
  client = new LanguageClient(
    "extip-lint",
    "extip-lint",
    { command, args: ["server"] },
    {
      documentSelector: [
        { scheme: "file", language: "yaml" },
        { scheme: "file", language: "json" },
      ],
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
