// Starts `kanon lsp` for `.kanon` files and runs the server's code-lens command
// (`kanon.runTests`: a rule's fixtures) through the language client.
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const command = vscode.workspace.getConfiguration("kanon").get<string>("path") || "kanon";
  const serverOptions: ServerOptions = {
    run: { command, args: ["lsp"], transport: TransportKind.stdio },
    debug: { command, args: ["lsp"], transport: TransportKind.stdio },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "kanon" }],
    synchronize: {
      // fixtures and tables change what the server answers
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{kanon,yaml,yml}"),
    },
  };
  client = new LanguageClient("kanon", "kanon", serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand("kanon.restart", async () => {
      await client?.restart();
    }),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
    client = undefined;
  }
}
